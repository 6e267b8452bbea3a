"""Incremental SASRec: a new version continues from the serving version's weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shopsense.domain import Event, Product
from shopsense.models.incremental import (
    WarmStart,
    carry_weights,
    incremental_sequences,
    item_map,
)
from shopsense.models.interactions import interactions_from_events
from shopsense.models.sasrec import SASRec, SASRecNet
from shopsense.models.sequences import ItemIndex
from shopsense.pipeline.recommend import RecommendationEngine
from shopsense.retrieve.sequential import SequentialRetriever
from shopsense.training.recs import Incremental, changed_shoppers, train_all

from .conftest import SMALL, make_events


def test_item_map_follows_ids_not_positions() -> None:
    old, new = ItemIndex(["a", "b", "c"]), ItemIndex(["c", "x", "a", "b"])
    assert item_map(old, new).tolist() == [2, -1, 0, 1]


def _fitted(n_items: int, dim: int = 8) -> SASRec:
    model = SASRec(dim=dim, max_len=6, n_blocks=1, max_epochs=1, batch_size=8, loss="full")
    rng = np.random.default_rng(0)
    return model.fit([rng.integers(0, n_items, 5) for _ in range(20)], n_items)


def test_carried_weights_keep_layers_and_known_rows_and_place_new_items_by_title() -> None:
    old = _fitted(12)
    rng = np.random.default_rng(1)
    titles_old = rng.standard_normal((12, 8)).astype(np.float32)
    w_true = rng.standard_normal((8, 8)).astype(np.float32)
    with torch.no_grad():  # make the trained rows an exact linear function of the titles
        old.net_.item_emb.weight[1:] = torch.from_numpy(titles_old @ w_true)
    mapping = np.array([3, -1, 0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, -1, -1])
    titles = np.zeros((15, 8), np.float32)
    titles[mapping >= 0] = titles_old[mapping[mapping >= 0]]
    titles[1] = rng.standard_normal(8)
    titles[13] = rng.standard_normal(8)  # item 14 has no title: keeps its random start
    net = SASRecNet(15, old.config)
    before = net.item_emb.weight[15].detach().clone()
    placed = carry_weights(WarmStart(old, mapping), net, titles)
    assert placed == 2
    table, old_table = net.item_emb.weight[1:].detach(), old.net_.item_emb.weight[1:].detach()
    for new, was in enumerate(mapping):
        if was >= 0:
            assert torch.equal(table[new], old_table[was])
    assert np.allclose(table[1].numpy(), titles[1] @ w_true, atol=0.05)
    assert np.allclose(table[13].numpy(), titles[13] @ w_true, atol=0.05)
    assert torch.equal(net.item_emb.weight[15].detach(), before)
    for name, value in old.net_.state_dict().items():
        if name != "item_emb.weight":
            assert torch.equal(net.state_dict()[name], value), name


def test_carry_rejects_a_model_of_another_shape() -> None:
    old = _fitted(4, dim=8)
    other = SASRecNet(4, SASRec(dim=16, max_len=6, n_blocks=1).config)
    with pytest.raises((ValueError, RuntimeError)):
        carry_weights(WarmStart(old, np.arange(4)), other, None)
    with pytest.raises(ValueError, match="one entry per item"):
        carry_weights(WarmStart(old, np.arange(3)), SASRecNet(4, old.config), None)
    with pytest.raises(ValueError, match="past the previous"):
        carry_weights(WarmStart(old, np.array([0, 1, 2, 9])), SASRecNet(4, old.config), None)


def test_incremental_sequences_keep_every_changed_shopper_and_a_replay_share() -> None:
    sequences = [np.array([i, i + 1]) for i in range(2000)]
    changed = np.zeros(2000, bool)
    changed[:100] = True
    picked = incremental_sequences(sequences, changed, 0.25, seed=3)
    firsts = {int(s[0]) for s in picked}
    assert set(range(100)) <= firsts
    assert 0.2 * 1900 < len(firsts - set(range(100))) < 0.3 * 1900
    assert len(incremental_sequences(sequences, changed, 0.0)) == 100
    with pytest.raises(ValueError):
        incremental_sequences(sequences, changed[:5], 0.1)


def _later_events(products: list[Product], start_ts: float) -> list[Event]:
    """New shoppers walking kind-0 items, some of them new items, after the first version."""
    events = []
    for u in range(40):
        for step in range(6):
            item = f"k0i{(u + step) % 12}" if step % 2 else f"k0new{(u + step) % 4}"
            events.append(Event(event_id=f"n{u}-{step}", event_type="view",
                                timestamp=start_ts + 100 * u + step, user_id=f"new{u}",
                                session_id=f"new{u}", item_id=item))
    return events


def test_train_all_continues_the_serving_version(engine: RecommendationEngine,
                                                 products: list[Product]) -> None:
    events = make_events()
    since = max(e.timestamp for e in events)
    new_products = [*products, *(Product(item_id=f"k0new{j}", title=f"new running shoes {j}",
                                         category="Sports > Running Shoes") for j in range(4))]
    data = interactions_from_events([*events, *_later_events(new_products, since + 10)])
    previous = engine.sources["sasrec"]
    assert isinstance(previous, SequentialRetriever)
    assert changed_shoppers(data, since).sum() == 40
    warm = train_all(data, new_products, SMALL, warm=Incremental(previous, since, "v1"))
    info = warm.info["sasrec"]["incremental"]
    assert warm.info["training"] == "incremental" and info["from_version"] == "v1"
    assert info["new_items"] == 4 and info["new_items_from_titles"] == 4
    assert info["changed_shoppers"] == 40
    assert info["training_sequences"] < len(data.users)
    assert warm.info["sasrec"]["convergence"]["curve"][0][1] >= 0  # epoch rows were kept
    curve = [v for _, v in warm.info["sasrec"]["convergence"]["curve"]]
    assert max([*curve, info["start_valid_ndcg@10"]]) == pytest.approx(
        warm.info["sasrec"]["convergence"]["best_valid_ndcg@10"], abs=1e-5)
    model = warm.sources["sasrec"].model_
    items = warm.items
    history = [items.index(i) for i in ("k0i3", "k0new0", "k0i5")]
    assert model.score([np.array(history)]).shape == (1, len(items))


def test_cli_trains_incrementally_from_the_serving_version(tmp_path, products: list[Product]
                                                           ) -> None:  # type: ignore[no-untyped-def]
    import json
    from dataclasses import asdict

    from typer.testing import CliRunner

    from shopsense.cli import app

    runner, home = CliRunner(), tmp_path / "home"

    def ingest(kind: str, rows: list[dict], name: str) -> None:
        path = tmp_path / name
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        out = runner.invoke(app, ["--home", str(home), "ingest", kind, str(path), "--json"])
        assert out.exit_code == 0, out.output

    def train(*flags: str) -> dict:
        out = runner.invoke(app, ["--home", str(home), "train", "--recs-only", "--json",
                                  "--max-minutes", "1", *flags])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout.strip().splitlines()[-1])

    def rows(events: list[Event]) -> list[dict]:
        return [{**{k: v for k, v in asdict(e).items() if v is not None},
                 "timestamp": int(e.timestamp)} for e in events]

    new_products = [*products, *(Product(item_id=f"k0new{j}", title=f"new running shoes {j}")
                                 for j in range(4))]
    ingest("catalog", [{"item_id": p.item_id, "title": p.title} for p in new_products], "p.jsonl")
    events = make_events()
    ingest("events", rows(events), "e1.jsonl")
    first = train("--incremental")  # nothing serves yet: from scratch, and it says so
    assert first["training"] == "full" and "no serving version" in first["incremental_skipped"]
    assert first["sasrec"]["convergence"]["stopped_by"] in ("converged", "budget", "epochs")
    ingest("events", rows(_later_events(new_products, max(e.timestamp for e in events) + 10)),
           "e2.jsonl")
    second = train("--incremental")
    assert second["training"] == "incremental"
    assert second["sasrec"]["incremental"]["from_version"] == first["version"]
    assert second["sasrec"]["incremental"]["changed_shoppers"] >= 30
    assert (home / "models" / "recs" / "current").read_text().strip() == second["version"]
