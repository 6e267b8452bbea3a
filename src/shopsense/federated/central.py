"""Central DP-SGD: SASRec trained on the home's own events with Opacus, adopted with its
model card (the accountant's (epsilon, delta), user-level: one sample per shopper)."""

from __future__ import annotations

from typing import Any

from shopsense.federated.adopt import adopt_sasrec, model_card
from shopsense.federated.dp import DPSettings
from shopsense.federated.experiment import summarise
from shopsense.federated.homes import (
    JoinPlan,
    catalogue_products,
    home_events,
    item_table,
    sequences,
)
from shopsense.federated.recs import Holdout, LocalSASRec, fed_config
from shopsense.federated.rounds import train_alone
from shopsense.models.sequences import ItemIndex


def train_private_sasrec(settings: Any, *, epsilon: float, epochs: int = 10,
                         seed: int = 0, title_init: bool = False,
                         freeze_titles: bool = False) -> dict[str, Any]:
    """`title_init`: the item table starts from the catalogue's title vectors (the best
    private model measured); `freeze_titles`: and stays fixed, so DP-SGD trains (and noises)
    only the transformer body (docs/FEDERATED.md, DP-SGD)."""
    from shopsense.pipeline.recommend import load_current

    if epochs < 1:
        raise ValueError("epochs must be >= 1")
    dim = load_current(settings.home).sources["sasrec"].config.dim
    events, ids = home_events(settings)
    items = ItemIndex(ids)
    holdout = Holdout.of(sequences(events, items))
    if not len(holdout.test_targets):
        raise ValueError("no shopper has three or more events")
    item_init = _title_table(settings, ids, dim) if title_init or freeze_titles else None
    model = LocalSASRec(len(items), fed_config(dim=dim), dp=DPSettings(epsilon, unit="user"),
                        total_epochs=epochs, seed=seed, item_init=item_init,
                        freeze_items=freeze_titles)
    best = train_alone(model, holdout.train, epochs=epochs,
                       validate=lambda m: float(m.per_user(holdout.valid_histories,
                                                           holdout.valid_targets)[0].mean()))
    test = summarise(*model.per_user(holdout.test_histories, holdout.test_targets))
    card = model_card("central DP-SGD (opacus)", privacy=model.privacy(), epochs=epochs,
                      best_epoch=best, test_ndcg_at_10=test["ndcg@10"],
                      item_table="catalogue title vectors, frozen (public; not trained)"
                      if freeze_titles else "seeded from catalogue titles, trained under "
                      "DP-SGD" if title_init else "trained under DP-SGD")
    return {**adopt_sasrec(settings.home, model.estimator(), ids, card), "test": test}


def _title_table(settings: Any, ids: list[str], dim: int) -> Any:
    """The store's title vectors in `ids` order (an error where no product has a title)."""
    vectors, _ = item_table(catalogue_products(settings, None, None), ids,
                            JoinPlan(dim=dim, title_init=True))
    return vectors
