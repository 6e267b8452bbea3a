"""Personalisation: the model each home adopts after a federation.

The global model is fitted to every client's shoppers at once. A client whose shoppers differ
from the rest (a shop selling other things, the Dirichlet split at small alpha) can be served
better by a model that leans towards its own data, and a home should never adopt a model that
does worse on its own shoppers than what it had. Two steps, both decided on the client's own
validation targets (never its test ones; nothing here is sent anywhere):

1. **Its own best round.** Every round's global weights reach each client for evaluation
   (Flower's evaluate); the client keeps the round that scored best on *its* validation,
   which may differ from the round the pooled validation picks (`RoundKeeper`).
2. **Local adaptation.** From those weights, up to `epochs` epochs on the client's own
   training sequences (fresh optimiser at `lr_scale` x the model's rate), keeping the best
   epoch by its validation, with epoch 0 = the global weights unchanged: adaptation replaces
   the global model only where the client's own shoppers say it is better (`adapt`). With
   `mu` > 0 each epoch's loss also pays mu/2 ||w - w_global||^2 (Ditto, Li et al. 2021:
   the personal model is pulled towards the global one, not only started from it).
   With `own_round` off this is FedAvg + local fine-tuning (FedAvg-FT) from the round the
   pooled validation kept, which is what the global model serves.
   With `clear_gain` (default) an adapted epoch is served only if its paired gain over
   the start on the client's validation cases has a 95 % bootstrap interval above 0: at
   ~500 cases a shop, the best of a few epochs by validation alone was an epoch that
   tested worse (benchmarks/README.md, "Eighth session").

Under DP-SGD neither step runs: the adopted model's (epsilon, delta) covers only DP-trained
weights, and a non-private fine-tune on the home's shoppers would void it for that home.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI reads AdaptPlan's defaults: no numpy at its start-up
    import numpy as np

Validate = Callable[[Any], Any]  # a model's validation: its mean, or per-case scores


@dataclass(frozen=True)
class AdaptPlan:
    epochs: int = 3  # 0: serve the global weights as they are (after step 1, if `own_round`)
    patience: int = 2  # epochs without a 1 % gain on the client's validation, then stop
    lr_scale: float = 0.25  # of the model's learning rate: a fine-tune, not a restart
    own_round: bool = True  # step 1: each client keeps its own best global round
    mu: float = 0.0  # > 0: Ditto's proximal term, mu/2 ||w - w_global||^2, on every
    # adaptation epoch (the fine-tune stays near the weights it started from)
    clear_gain: bool = True  # keep an adapted epoch only where its paired gain over the
    # start on the client's validation cases is clear of noise (95 % bootstrap interval
    # above 0; needs per-case validation scores); else the start is served

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.patience < 0:
            raise ValueError("adaptation epochs and patience must be >= 0")
        if not 0 < self.lr_scale <= 10:
            raise ValueError("adaptation lr_scale must be in (0, 10]")
        if self.mu < 0:
            raise ValueError("adaptation mu must be >= 0")

    @property
    def active(self) -> bool:
        return self.epochs > 0 or self.own_round


class RoundKeeper:
    """Remembers, per client, the global weights of the round that scored best on that
    client's own validation. `observe(i, weights, score)` once per client and round."""

    def __init__(self, n_clients: int) -> None:
        self.best: list[tuple[float, int, list[np.ndarray] | None]] = [(-1.0, 0, None)] * \
            n_clients
        self.round = 0

    def next_round(self) -> None:
        self.round += 1

    def observe(self, client: int, weights: Callable[[], list[np.ndarray]],
                score: float) -> None:
        if score > self.best[client][0]:
            self.best[client] = (score, self.round, [w.copy() for w in weights()])

    def weights(self, client: int) -> list[np.ndarray] | None:
        return self.best[client][2]

    def best_round(self, client: int) -> int:
        return self.best[client][1]


def adapt(participant: Any, data: Any, validate: Validate, plan: AdaptPlan) -> dict[str, Any]:
    """Fine-tune `participant` (holding the weights it would otherwise serve) on `data`;
    keeps the best epoch by `validate`, epoch 0 (no change) included, and with
    `plan.clear_gain` (and per-case scores from `validate`) only if its gain over epoch 0
    is clear of the noise of the client's validation cases. Returns what happened:
    validation before / after, the epoch kept (0: the start), epochs run, and where an
    epoch was reverted as noise, its validation and the gain's interval."""
    from shopsense.federated.rounds import train_alone

    curve: list[float] = []
    cases: list[np.ndarray] = []

    def scored(model: Any) -> float:
        import numpy as np

        values = np.asarray(validate(model), np.float64)
        cases.append(values)
        curve.append(float(values.mean()) if values.size else 0.0)
        return curve[-1]

    before = scored(participant)
    if plan.epochs == 0:
        return {"valid_global": round(before, 4), "valid_served": round(before, 4),
                "epoch_kept": 0, "epochs_run": 0}
    # every tensor, not only the shared weights: with shared="body" the item table is the
    # home's own, and adaptation trains it too
    start = {k: v.clone() for k, v in participant.net.state_dict().items()}
    participant.restart_optimiser(plan.lr_scale)
    mu = participant.mu
    participant.hold_near(plan.mu)
    try:
        kept = train_alone(participant, data, epochs=plan.epochs, validate=scored,
                           patience=plan.patience, start_score=before)
    finally:
        participant.hold_near(0.0)
        participant.mu = mu  # the rounds' FedProx term, as it was
    row = {"valid_global": round(before, 4), "valid_served": round(curve[kept], 4),
           "epoch_kept": kept, "epochs_run": len(curve) - 1}
    if kept and plan.clear_gain and cases[0].ndim == 1 and cases[0].size > 1:
        low, high = gain_interval(cases[kept], cases[0])
        if low <= 0:  # a gain the client's validation cannot tell from noise
            participant.net.load_state_dict(start)
            row.update(valid_served=round(before, 4), epoch_kept=0,
                       reverted={"epoch": kept, "valid": round(curve[kept], 4),
                                 "gain_ci": [round(low, 4), round(high, 4)]})
    return row


def gain_interval(after: np.ndarray, before: np.ndarray, seed: int = 0
                  ) -> tuple[float, float]:
    """95 % paired bootstrap interval of mean(after) - mean(before) over the same cases."""
    import numpy as np

    from shopsense.evaluation.metrics import bootstrap_means

    means = bootstrap_means(np.column_stack([after, before]), seed=seed)
    low, high = np.quantile(means[:, 0] - means[:, 1], [0.025, 0.975])
    return float(low), float(high)


def personalise(participants: Sequence[Any], datas: Sequence[Any],
                validates: Sequence[Validate], plan: AdaptPlan,
                keeper: RoundKeeper | None = None) -> list[dict[str, Any]]:
    """Steps 1 and 2 for every client (each participant ends holding what it would serve)."""
    rows = []
    for i, (p, data, validate) in enumerate(zip(participants, datas, validates, strict=True)):
        row: dict[str, Any] = {}
        if plan.own_round and keeper is not None and keeper.weights(i) is not None:
            p.load(keeper.weights(i))
            row["own_best_round"] = keeper.best_round(i)
        rows.append({**row, **adapt(p, data, validate, plan)})
    return rows
