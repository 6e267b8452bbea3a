"""An event observed after training pairs with the shopper's items before it, as a fit on
all the events would pair them: the served engine replays its held-out events this way, and
a shopper's next event after a retrain continues their session."""

from __future__ import annotations

import numpy as np
import pytest

from shopsense.domain import Event
from shopsense.models.context import RecContext
from shopsense.models.interactions import Interactions
from shopsense.models.sequences import ItemIndex
from shopsense.retrieve.covisit import CovisitRetriever


def _plain(n_users: int = 40, seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    return Interactions([f"u{u}" for u in range(n_users)],
                        [[f"i{j}" for j in rng.integers(0, 30, size=rng.integers(3, 12))]
                         for _ in range(n_users)])


@pytest.mark.parametrize("by_session", [True, False])
def test_replayed_last_events_equal_a_fit_on_everything(by_session: bool) -> None:
    data = _plain()
    items = ItemIndex(sorted({i for s in data.sequences for i in s}))
    whole = CovisitRetriever(by_session=by_session).fit(data, items)
    online = CovisitRetriever(by_session=by_session).fit(
        data.truncated([len(s) - 1 for s in data.sequences]), items)
    for u, seq in enumerate(data.sequences):
        online.observe(Event(f"e{u}", "view", 0.0, user_id=data.users[u], item_id=seq[-1]))
    assert np.allclose(online._with_live().toarray(), whole.matrix_.toarray())
    assert np.array_equal(online.item_counts_, whole.item_counts_)
    for seq in data.sequences[:10]:
        ctx = RecContext(recent_items=tuple(seq))
        assert np.allclose(online.score_all(ctx), whole.score_all(ctx))


def test_a_new_session_does_not_pair_with_the_last_one() -> None:
    data = Interactions(["u1"], [["a", "b", "c"]], sessions=[["s1", "s1", "s2"]])
    items = ItemIndex(["a", "b", "c", "d"])
    source = CovisitRetriever().fit(data, items)
    assert source.sessions_["s2"] == [items.index("c")] and "s1" not in source.sessions_
    source.observe(Event("e", "view", 0.0, user_id="u1", session_id="s2", item_id="d"))
    live = source._with_live().toarray()
    assert live[items.index("d"), items.index("c")] == 1.0
    assert live[items.index("d"), items.index("b")] == 0.0
