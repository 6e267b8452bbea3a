"""One home's side of a federation: its data, its participant, its report, its adoption.

A home joins with the events of its store (erased shoppers' events are already gone from
it, so an erasure leaves the shopper out of the home's next round) or with an events file;
the item index is its catalogue, sorted, so the platforms of one shop agree on it.
After the run the home personalises (its own best round, local adaptation: personalise.py),
trains a local-only model with the same epochs, and reports the global, personalised and
local-only models on its own held-out events (last event of each shopper; never sent).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shopsense.domain import Event, Product
from shopsense.federated.dp import DPSettings
from shopsense.federated.experiment import summarise
from shopsense.federated.personalise import AdaptPlan, RoundKeeper, personalise
from shopsense.federated.recs import Holdout, LocalSASRec, fed_config
from shopsense.federated.rounds import train_alone
from shopsense.federated.transport import FederatedClient, Link, join
from shopsense.models.sasrec import SASRecConfig
from shopsense.models.sequences import ItemIndex


@dataclass(frozen=True)
class JoinPlan:
    model: str = "sasrec"  # sasrec | propensity
    local_epochs: int = 1
    dim: int = 64
    dp_epsilon: float = 0.0
    expected_rounds: int = 10  # sizes the DP noise for the whole run
    share: str = "all"  # sasrec: all | body
    seed: int = 0
    batch_size: int = SASRecConfig.batch_size  # sasrec: the home's step (fed_config)
    title_init: bool | None = None  # sasrec: seed the item table from catalogue titles
    # (None: where the catalogue has titles, as the home's own SASRec does; True: insist)
    sparse_items: bool = False  # sasrec: a step moves only the item rows its batch used
    title_term: bool = False  # sasrec: + a learned title-cosine term (models/sasrec_net.py)
    adapt: AdaptPlan = field(default_factory=AdaptPlan)  # sasrec: what the home serves
    # after the last round (federated/personalise.py: its own best round, then local
    # epochs kept by its validation; never under DP-SGD)


def home_events(settings: Any) -> tuple[list[Event], list[str]]:
    """The store's events (time order) and its catalogue ids (sorted)."""
    from shopsense.store import open_store

    store = open_store(settings.store_url)
    events = sorted(store.iter_events(), key=lambda e: e.timestamp)
    return events, sorted(p.item_id for p in store.iter_products())


def catalogue_products(settings: Any, events: Path | None, catalog: Path | None
                       ) -> list[Product]:
    """The products whose titles may seed the item table: `catalog`'s, else (no events
    file) the store's; an events file alone has none."""
    if catalog is not None:
        from shopsense.evaluation.propensity import load_products

        return list(load_products(catalog).values())
    if events is not None:
        return []
    from shopsense.store import open_store

    store = open_store(settings.store_url)
    try:
        return list(store.iter_products())
    finally:
        store.close()


def item_table(products: Sequence[Product], item_ids: list[str], plan: JoinPlan
               ) -> tuple[np.ndarray | None, str]:
    """(title vectors or None, how the model card names the table): see JoinPlan.title_init.
    Every home of one catalogue computes the same vectors; the coordinator's first weights
    come from one of them anyway."""
    titled = any(p.title.strip() for p in products)
    if plan.title_init is False or (plan.title_init is None and not titled):
        return None, "random"
    if not titled:
        raise ValueError("--title-init needs a catalogue with titles (--catalog, or the "
                         "home's products)")
    from shopsense.models.text_init import title_vectors

    return title_vectors(products, item_ids, plan.dim), "seeded from catalogue titles, trained"


def file_events(events: Path, catalog: Path | None) -> tuple[list[Event], list[str]]:
    from shopsense.evaluation.propensity import load_events, load_products

    loaded = load_events(events)
    ids = sorted(load_products(catalog)) if catalog is not None else sorted(
        {e.item_id for e in loaded if e.item_id})
    return loaded, ids


def sequences(events: list[Event], items: ItemIndex) -> list[np.ndarray]:
    by_actor: dict[str, list[str]] = {}
    for e in events:
        if e.item_id and e.item_id in items and e.event_type not in ("search", "dismiss"):
            by_actor.setdefault(e.actor, []).append(e.item_id)
    return [items.encode(s) for s in by_actor.values()]


def _sasrec_client(events: list[Event], item_ids: list[str], plan: JoinPlan,
                   item_init: np.ndarray | None, keeper: RoundKeeper
                   ) -> tuple[FederatedClient, Holdout, LocalSASRec]:
    items = ItemIndex(item_ids)
    holdout = Holdout.of(sequences(events, items))
    if not len(holdout.test_targets):
        raise ValueError("no shopper has three or more events; nothing to learn or evaluate")
    dp = DPSettings(plan.dp_epsilon, unit="user") if plan.dp_epsilon > 0 else None
    participant = LocalSASRec(len(items), fed_config(dim=plan.dim, batch_size=plan.batch_size,
                                                     title_term=plan.title_term),
                              shared=plan.share, dp=dp,
                              total_epochs=plan.expected_rounds * plan.local_epochs,
                              seed=plan.seed, item_init=item_init,
                              sparse_items=plan.sparse_items and dp is None)

    def evaluate() -> dict[str, float]:  # each round's global weights, on this home's own
        ndcg = participant.per_user(holdout.valid_histories, holdout.valid_targets)[0]
        keeper.next_round()
        keeper.observe(0, participant.weights, float(ndcg.mean()))
        return {"score": float(ndcg.mean()), "valid_ndcg@10": float(ndcg.mean())}

    return FederatedClient(participant, holdout.train, evaluate, plan.local_epochs), holdout, \
        participant


def run_join(coordinator: str, events: list[Event], item_ids: list[str], plan: JoinPlan, *,
             timeout_s: float = 3600.0, secagg: bool = True, link: Link | None = None,
             products: Sequence[Product] = ()) -> dict[str, Any]:
    """Take part in one run; then the local-only baseline (from the same starting item
    table); both scored on this home's test. `products`: titles for the item table."""
    if plan.model == "propensity":
        from shopsense.federated.propensity_home import run_join_propensity

        return run_join_propensity(coordinator, events, plan, timeout_s=timeout_s,
                                   secagg=secagg, link=link)
    if plan.model != "sasrec":
        raise ValueError(f"model must be sasrec or propensity, got {plan.model!r}")
    item_init, table = item_table(products, item_ids, plan)
    keeper = RoundKeeper(1)
    client, holdout, participant = _sasrec_client(events, item_ids, plan, item_init, keeper)
    started = time.perf_counter()
    log = join(coordinator, client, timeout_s=timeout_s, secagg=secagg, link=link)
    federated_s = time.perf_counter() - started

    def valid(m: LocalSASRec) -> float:
        return float(m.per_user(holdout.valid_histories, holdout.valid_targets)[0].mean())

    def test(m: LocalSASRec) -> dict[str, Any]:
        return summarise(*m.per_user(holdout.test_histories, holdout.test_targets))

    fed, valid_global = test(participant), valid(participant)  # the last round's weights
    served = _personalise(participant, holdout, plan, keeper)
    local = LocalSASRec(participant.n_items, participant.config, seed=plan.seed,
                        item_init=item_init, sparse_items=participant.sparse_items)
    train_alone(local, holdout.train, epochs=max(1, len(log["rounds"])) * plan.local_epochs,
                validate=valid)
    alone = test(local)
    report = {**log, "model": "sasrec", "federated": fed, "local_only": alone,
              "global_beats_local": fed["ndcg@10"] > alone["ndcg@10"],
              "adoption": adoption_check(valid(participant), valid_global, valid(local)),
              "wall_s": round(federated_s, 1), "privacy": participant.privacy(),
              "shoppers": len(holdout.train), "items": participant.n_items,
              "item_table": table, "_model": participant}
    if served is not None:
        report["personalised"] = {**test(participant), **served}
        report["personalised_beats_local"] = report["personalised"]["ndcg@10"] > \
            alone["ndcg@10"]
    return report


def adoption_check(served: float, global_: float, local: float) -> dict[str, Any]:
    """Whether the model the home would serve may replace what it has: not worse, on the
    home's own validation events (never its test ones), than the global model as it came
    and than a model trained on the home's events alone. Personalisation keeps the global
    weights where adapting does not gain (personalise.py), so the first holds by
    construction; the second is where a federation can lose for a home unlike the rest."""
    ok = served >= global_ and served >= local
    why = "not worse than the global and the local-only model on this home's validation" \
        if ok else ("the local-only model scores higher on this home's validation"
                    if local > served else "the global model scores higher on this home's "
                                           "validation")
    return {"valid_ndcg@10": {"served": round(served, 4), "global": round(global_, 4),
                              "local_only": round(local, 4)}, "adopt": ok, "why": why}


def _personalise(participant: LocalSASRec, holdout: Holdout, plan: JoinPlan,
                 keeper: RoundKeeper) -> dict[str, Any] | None:
    """The home's own best round, then local adaptation (federated/personalise.py); None
    (the global weights served as they are) without either, or under DP-SGD."""
    if not plan.adapt.active or plan.dp_epsilon > 0:
        return None
    def cases(m: LocalSASRec) -> Any:  # per case: adaptation keeps only a clear gain
        return m.per_user(holdout.valid_histories, holdout.valid_targets)[0]

    return personalise([participant], [holdout.train], [cases], plan.adapt, keeper)[0]
