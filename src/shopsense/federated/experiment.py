"""Centralised / federated / personalised / local-only SASRec on one split, with intervals
(simulate, bench).

Every variant is scored on the same test cases: each client's shoppers' last event, ranked
over the full catalogue from the history that client holds (history items excluded). The
centralised model trains on the union of the clients' training parts; federated clients
train on their own; personalised clients serve the federation's weights chosen and adapted
on their own validation (personalise.py); local-only clients train alone. Each keeps its
best epoch / round by the clients' validation targets, never the test ones. Intervals: 95 %
bootstrap over test cases.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopsense.evaluation.metrics import bootstrap_ci, bootstrap_means
from shopsense.federated.dp import DPSettings
from shopsense.federated.personalise import AdaptPlan, RoundKeeper, personalise
from shopsense.federated.recs import Holdout, LocalSASRec, fed_config, ranking_per_user
from shopsense.federated.report import VARIANTS
from shopsense.federated.rounds import ServerOpt, payload_bytes, run_rounds, train_alone
from shopsense.federated.splits import Client
from shopsense.models.sasrec import SASRecConfig

PAIRS = (("federated", "centralised"), ("federated", "local_only"),
         ("personalised", "local_only"), ("personalised", "federated"),
         ("centralised", "local_only"), ("federated", "title_neighbour"),
         ("local_only", "title_neighbour"))


@dataclass(frozen=True)
class RecsPlan:
    rounds: int = 10
    local_epochs: int = 1
    mu: float = 0.0  # > 0: FedProx
    dim: int = 64
    dp_epsilon: float = 0.0  # > 0: DP-SGD in every variant at this budget
    seed: int = 0
    batch_size: int = SASRecConfig.batch_size  # the home's (fed_config: its step too)
    server: str = "auto"  # avg (FedAvg) | avgm (server momentum) | adam (FedAdam) | auto:
    # avg over title-seeded item tables (momentum kicks a good start away), else avgm
    server_lr: float = 1.0
    server_momentum: float = 0.9
    patience: int = 0  # > 0: stop rounds / epochs once validation flattens (every variant)
    max_len: int = 50  # SASRec's history window (DP-SGD runs use a shorter one: cost)
    loss: str = "auto"  # full | sampled | auto: by catalogue size, as the home chooses
    row_weighted: bool = False  # item-table rows averaged over the clients that used them
    title_init: bool | None = None  # seed item tables from catalogue titles (simulate's
    # catalogue): None where one with titles is found (the home's SASRec does the same),
    # True always (an error without titles), False never
    sparse_items: bool = False  # a step moves only the item rows its batch used (recs.py)
    title_term: bool = False  # SASRec scores + a learned title-cosine term, the body gated
    # from 0: every variant's epoch 0 is the title neighbour (models/sasrec_net.py)
    freeze_items: bool = False  # keep those title vectors fixed: only the body trains (and,
    # under DP-SGD, only the body is noised; the titles are public, the table is not sent)
    dp_batch_size: int = 64  # DP-SGD's expected (Poisson) batch of shoppers
    adapt_epochs: int = AdaptPlan.epochs  # personalisation after the rounds
    adapt_lr_scale: float = AdaptPlan.lr_scale  # (federated/personalise.py): local epochs,
    own_round: bool = AdaptPlan.own_round  # kept by each client's validation; and each
    # client's own best global round
    adapt_mu: float = AdaptPlan.mu  # > 0: the adaptation stays near the global (Ditto)
    adapt_clear_gain: bool = AdaptPlan.clear_gain  # adapted only on a gain clear of noise

    def adapt_plan(self) -> AdaptPlan:
        return AdaptPlan(self.adapt_epochs, max(self.patience, 2), self.adapt_lr_scale,
                         self.own_round, self.adapt_mu, self.adapt_clear_gain)

    @property
    def personalises(self) -> bool:
        """Whether a `personalised` variant runs: adaptation asked for, and no DP-SGD (a
        non-private fine-tune would void the served model's (epsilon, delta))."""
        return self.adapt_plan().active and self.dp_epsilon <= 0

    def server_opt(self, seeded: bool = False) -> ServerOpt:
        """The coordinator's step; `seeded`: the item tables start from titles (for auto)."""
        kind = ("avg" if seeded else "avgm") if self.server == "auto" else self.server
        return ServerOpt(kind, self.server_lr, self.server_momentum)

    def participant(self, n_items: int, shared: str, seed_offset: int = 0,
                    item_init: np.ndarray | None = None) -> LocalSASRec:
        dp = (DPSettings(self.dp_epsilon, batch_size=self.dp_batch_size, unit="user")
              if self.dp_epsilon > 0 else None)
        return LocalSASRec(n_items, fed_config(dim=self.dim, batch_size=self.batch_size,
                                               max_len=self.max_len, loss=self.loss,
                                               title_term=self.title_term),
                           shared=shared, mu=self.mu,
                           dp=dp, total_epochs=self.rounds * self.local_epochs,
                           seed=self.seed + seed_offset, row_weighted=self.row_weighted,
                           item_init=item_init, freeze_items=self.freeze_items,
                           sparse_items=self.sparse_items and dp is None)


def _valid(holdouts: Sequence[Holdout], keeper: RoundKeeper | None = None
           ) -> Callable[[Sequence[LocalSASRec]], float]:
    """The pooled validation NDCG@10 of the participants' weights; with `keeper`, each
    client's own score is also handed to it (each home's own best round)."""
    def score(participants: Sequence[LocalSASRec]) -> float:
        values = []
        if keeper is not None:
            keeper.next_round()
        for i, (p, h) in enumerate(zip(participants, holdouts, strict=True)):
            if not len(h.valid_targets):
                continue
            values.append(p.per_user(h.valid_histories, h.valid_targets)[0])
            if keeper is not None:
                keeper.observe(i, p.weights, float(values[-1].mean()))
        return float(np.concatenate(values).mean()) if values else 0.0
    return score


def summarise(ndcg: np.ndarray, hit: np.ndarray) -> dict[str, Any]:
    return {"ndcg@10": round(float(ndcg.mean()), 4) if ndcg.size else 0.0,
            "ndcg@10_ci": [round(v, 4) for v in bootstrap_ci(ndcg)],
            "hr@10": round(float(hit.mean()), 4) if hit.size else 0.0,
            "hr@10_ci": [round(v, 4) for v in bootstrap_ci(hit)], "test_cases": int(ndcg.size)}


def _score(models: Sequence[LocalSASRec], holdouts: Sequence[Holdout]
           ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The overall row (with the per-case NDCG@10 under `_cases`, for paired comparisons;
    `compare` takes it out) and one row per client."""
    parts = [m.per_user(h.test_histories, h.test_targets) for m, h in
             zip(models, holdouts, strict=True)]
    ndcg = np.concatenate([p[0] for p in parts])
    overall = summarise(ndcg, np.concatenate([p[1] for p in parts]))
    return {**overall, "_cases": ndcg}, [summarise(*p) for p in parts]


def paired_gap(a: np.ndarray, b: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Variant a against variant b on the same test cases (same order): the NDCG@10
    difference and the relative gap a / b - 1, each with a paired 95 % bootstrap interval
    (one resampling of the cases for both), far tighter than comparing two intervals."""
    if a.shape != b.shape or a.size == 0:
        raise ValueError("a paired comparison needs the same, non-empty test cases")
    means = bootstrap_means(np.column_stack([a, b]), seed=seed)
    diff = means[:, 0] - means[:, 1]
    ratio = means[:, 0] / np.maximum(means[:, 1], 1e-12) - 1.0
    return {"ndcg@10_diff": round(float(a.mean() - b.mean()), 4),
            "ndcg@10_diff_ci": [round(float(v), 4) for v in np.quantile(diff, [0.025, 0.975])],
            "relative": round(float(a.mean() / max(b.mean(), 1e-12) - 1.0), 4),
            "relative_ci": [round(float(v), 4) for v in np.quantile(ratio, [0.025, 0.975])]}


def centralised(clients: Sequence[Client], holdouts: Sequence[Holdout], n_items: int,
                plan: RecsPlan, item_init: np.ndarray | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    model = plan.participant(n_items, "all", item_init=item_init)
    union = [s for h in holdouts for s in h.train]
    epoch = train_alone(model, union, epochs=plan.rounds * plan.local_epochs,
                        validate=lambda m: _valid(holdouts)([m] * len(holdouts)),
                        patience=plan.patience * plan.local_epochs)
    overall, per_client = _score([model] * len(holdouts), holdouts)
    return {**overall, "best_epoch": epoch, "wall_s": round(time.perf_counter() - started, 1),
            "per_client": _named(clients, per_client), "privacy": model.privacy()}


def federated(clients: Sequence[Client], holdouts: Sequence[Holdout], n_items: int,
              plan: RecsPlan, shared: str = "all", item_init: np.ndarray | None = None,
              keeper: RoundKeeper | None = None) -> tuple[dict[str, Any], list[LocalSASRec]]:
    """The global model (each participant ends holding the best round's weights by the
    pooled validation); `keeper` also records each client's own best round."""
    participants = [plan.participant(n_items, shared, i, item_init)
                    for i in range(len(clients))]
    start = participants[0].weights()
    for p in participants[1:]:  # one shared starting point, as a coordinator would send
        p.load(start)
    log = run_rounds(participants, [h.train for h in holdouts], rounds=plan.rounds,
                     local_epochs=plan.local_epochs, validate=_valid(holdouts, keeper),
                     server=plan.server_opt(item_init is not None), patience=plan.patience)
    overall, per_client = _score(participants, holdouts)
    privacy = [p.privacy() for p in participants]
    return {**overall, "rounds": len(log.rows), "best_round": log.best_round,
            "stopped_by": log.stopped_by,
            "algorithm": "fedprox" if plan.mu > 0 else "fedavg", "mu": plan.mu,
            "server": plan.server_opt(item_init is not None).__dict__,
            "shared": shared, "bytes_per_client_per_round":
                2 * payload_bytes(participants[0].weights()),
            "wall_s": log.wall_s, "round_log": log.rows, "per_client": _named(clients,
                                                                             per_client),
            "privacy": privacy[0] if privacy[0] else None}, participants


def personalised(clients: Sequence[Client], holdouts: Sequence[Holdout],
                 participants: Sequence[LocalSASRec], plan: RecsPlan,
                 keeper: RoundKeeper | None) -> dict[str, Any]:
    """What each home would adopt: the federation's weights, personalised on its own
    validation (federated/personalise.py). Changes `participants` in place."""
    started = time.perf_counter()
    rows = personalise(participants, [h.train for h in holdouts],
                       [lambda m, h=h: m.per_user(h.valid_histories, h.valid_targets)[0]
                        for h in holdouts], plan.adapt_plan(),
                       keeper)
    overall, per_client = _score(participants, holdouts)
    named = _named(clients, per_client)
    for row, name in zip(rows, named, strict=True):
        named[name]["adaptation"] = row
    return {**overall, "adapt": plan.adapt_plan().__dict__, "per_client": named,
            "wall_s": round(time.perf_counter() - started, 1)}


def local_only(clients: Sequence[Client], holdouts: Sequence[Holdout], n_items: int,
               plan: RecsPlan, item_init: np.ndarray | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    models, kept = [], []
    for i, h in enumerate(holdouts):
        model = plan.participant(n_items, "all", i, item_init)
        kept.append(train_alone(model, h.train, epochs=plan.rounds * plan.local_epochs,
                                validate=lambda m, h=h: _valid([h])([m]),
                                patience=plan.patience * plan.local_epochs))
        models.append(model)
    overall, per_client = _score(models, holdouts)
    return {**overall, "wall_s": round(time.perf_counter() - started, 1),
            "per_client": _named(clients, [{**row, "best_epoch": epoch} for row, epoch
                                           in zip(per_client, kept, strict=True)])}


def title_neighbour(clients: Sequence[Client], holdouts: Sequence[Holdout],
                    item_init: np.ndarray) -> dict[str, Any]:
    """A reference without training: every item ranked by the cosine of its title vector
    with the history's last item's (the start every variant's item table is seeded from).
    A trained variant below it has learnt less from its shoppers than it unlearnt of the
    titles (docs/FEDERATED.md, "Why local-only won")."""
    unit = item_init / np.maximum(np.linalg.norm(item_init, axis=1, keepdims=True), 1e-12)

    def score(histories: list[np.ndarray]) -> np.ndarray:
        return unit[[int(h[-1]) for h in histories]] @ unit.T

    parts = [ranking_per_user(score, h.test_histories, h.test_targets) for h in holdouts]
    ndcg = np.concatenate([p[0] for p in parts])
    overall = summarise(ndcg, np.concatenate([p[1] for p in parts]))
    return {**overall, "_cases": ndcg, "trained": False,
            "per_client": _named(clients, [summarise(*p) for p in parts])}


def _named(clients: Sequence[Client], rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {c.name: {**r, "shoppers": len(c.users), "events": c.n_events}
            for c, r in zip(clients, rows, strict=True)}


def compare(clients: Sequence[Client], n_items: int, plan: RecsPlan, *,
            shared: str = "all", variants: Sequence[str] = ("centralised", "federated",
                                                             "local_only"),
            item_init: np.ndarray | None = None) -> dict[str, Any]:
    """Every requested variant on the same clients; plus, per client, whether the federated
    model beat that client's local-only one. `item_init` (n_items, dim): the title vectors
    every variant's item table starts from (RecsPlan.title_init; frozen with freeze_items);
    with them, the untrained `title_neighbour` reference is scored too."""
    holdouts = [Holdout.of(c.sequences) for c in clients]
    out: dict[str, Any] = {}
    if "centralised" in variants and shared == "all":
        out["centralised"] = centralised(clients, holdouts, n_items, plan, item_init)
    if "federated" in variants:
        keeper = RoundKeeper(len(clients)) if plan.personalises else None
        out["federated"], trained = federated(clients, holdouts, n_items, plan, shared,
                                              item_init, keeper)
        if plan.personalises:
            out["personalised"] = personalised(clients, holdouts, trained, plan, keeper)
    if "local_only" in variants:
        out["local_only"] = local_only(clients, holdouts, n_items, plan, item_init)
    if item_init is not None:
        out["title_neighbour"] = title_neighbour(clients, holdouts, item_init)
    for fed in ("federated", "personalised"):
        if fed in out and "local_only" in out:
            out[f"{fed}_beats_local"] = {
                name: out[fed]["per_client"][name]["ndcg@10"] > row["ndcg@10"]
                for name, row in out["local_only"]["per_client"].items()}
    cases = {name: out[name].pop("_cases") for name in VARIANTS if name in out}
    out["paired"] = {f"{a}_vs_{b}": paired_gap(cases[a], cases[b], plan.seed)
                     for a, b in PAIRS if a in cases and b in cases}
    out["paired_per_client"] = _per_client_gaps(clients, holdouts, cases, plan.seed)
    return out


def _per_client_gaps(clients: Sequence[Client], holdouts: Sequence[Holdout],
                     cases: dict[str, np.ndarray], seed: int) -> dict[str, Any]:
    """Federated and personalised against each client's own local-only model, on that
    client's test cases (paired): whether a client's deficit is larger than its noise."""
    bounds = np.cumsum([0] + [len(h.test_targets) for h in holdouts])
    out: dict[str, Any] = {}
    for fed in ("federated", "personalised"):
        if fed not in cases or "local_only" not in cases:
            continue
        out[f"{fed}_vs_local_only"] = {
            c.name: paired_gap(cases[fed][lo:hi], cases["local_only"][lo:hi], seed)
            for c, lo, hi in zip(clients, bounds[:-1], bounds[1:], strict=True) if hi > lo}
    return out
