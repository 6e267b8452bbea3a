"""One USE model per process: search's encoder, query understanding's centroids and SASRec's
title initialisation all use the same loaded model (#22: one encoder registry per process)."""

from __future__ import annotations

import numpy as np


def test_every_user_of_the_use_encoder_shares_one_model() -> None:
    from shopsense.models.text_init import encode_titles, text_encoder
    from shopsense.text.encoders import USEEncoder, make_encoder, use_model
    from shopsense.text.understand.encoder import load_encoder

    model = use_model(1)
    assert text_encoder() is model
    assert USEEncoder()._model is model and make_encoder("use")._model is model  # type: ignore[union-attr]
    encode = load_encoder("use")
    assert encode is not None
    cells = [c.cell_contents for c in encode.__closure__ or ()]
    assert any(c is model for c in cells)
    titles = ["格力 空调 挂机 1.5匹", "Dell XPS 13 laptop"]
    a = encode_titles(titles)
    b = encode(titles)
    c = USEEncoder().encode_documents(titles)
    assert np.allclose(a, b, atol=1e-5) and np.allclose(a, c, atol=1e-5)
