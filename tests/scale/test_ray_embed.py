"""Ray (local mode) embeds a catalogue in parallel shards with the same rows as the serial
encoder, in input order."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("ray", reason="ray (scale extra) not installed")

from shopsense.scale.ray_embed import embed_catalogue
from shopsense.text.encoders import make_encoder

pytestmark = pytest.mark.slow


def test_parallel_embedding_matches_serial() -> None:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    titles = [f"{w} {n}" for n in range(60) for w in ("格力空调", "running shoes", "小米手机")]
    try:
        parallel = embed_catalogue(titles, "use", workers=2, shard_size=25)
    finally:
        ray.shutdown()
    serial = make_encoder("use").encode_documents(titles)
    assert parallel.shape == (180, 512)
    np.testing.assert_allclose(parallel, serial, atol=1e-5)
    with pytest.raises(ValueError):
        embed_catalogue(titles, workers=0)
