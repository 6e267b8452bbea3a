"""SASRec's serving path (one request's histories in numpy) equals the torch network."""

from __future__ import annotations

import numpy as np
import torch

from shopsense.models.sasrec import SASRec
from shopsense.models.sequences import left_pad


def _torch_states(model: SASRec, histories: list[np.ndarray]) -> np.ndarray:
    with torch.no_grad():
        net = model.net_
        net.eval()
        return net(torch.from_numpy(left_pad(histories, model.config.max_len)))[:, -1].numpy()


def test_the_numpy_forward_matches_torch_for_short_long_and_empty_histories() -> None:
    rng = np.random.default_rng(3)
    n_items = 60
    # sequences with a learnable pattern: item i is followed by i + 1
    sequences = [np.arange(s, s + 12) % n_items for s in rng.integers(0, n_items, 200)]
    model = SASRec(max_len=16, dim=32, n_blocks=2, n_heads=2, max_epochs=40, dropout=0.0, seed=1)
    model.fit(sequences, n_items)
    cases = [np.array([5]), np.arange(3, 10), rng.integers(0, n_items, 16),
             rng.integers(0, n_items, 40), np.array([], dtype=np.int64)]
    for history in cases:
        small = model.encode([history])  # the serving path (<= 4 histories)
        np.testing.assert_allclose(small, _torch_states(model, [history]), atol=1e-5)
    mixed = cases[:4]
    np.testing.assert_allclose(model.encode(mixed), _torch_states(model, mixed), atol=1e-5)
    batch = [rng.integers(0, n_items, 10) for _ in range(7)]  # the torch path
    np.testing.assert_allclose(model.encode(batch), _torch_states(model, batch), atol=1e-6)
    # the learnt pattern survives the numpy path: after 3..9 the next item is 10
    assert int(np.argmax(model.score([np.arange(3, 10)])[0])) == 10
