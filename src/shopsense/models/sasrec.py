"""SASRec-style next-item model trained with softmax cross-entropy.

The recipe of Klenitskiy & Vasilev (RecSys 2023, "Turning Dross Into Gold Loss"): a causal
transformer over the last `max_len` items, output tied to the item embedding table, and a
softmax instead of the original one-negative BCE: over every item while the catalogue is small,
sampled with log-Q correction above `full_max_items` (models.sasrec_loss). Training stops when
the validation curve flattens (models.convergence) or the CPU budget ends, and says which.
Early stopping uses the validation targets only (never the test item). Serving (states,
scores, the large-catalogue paths) is the base class, models.sasrec_serve.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shopsense.models.convergence import Convergence, summary
from shopsense.models.incremental import WarmStart, carry_weights
from shopsense.models.parallel import GradientSync, LocalSync, _threads
from shopsense.models.sasrec_ivf import ItemPartition
from shopsense.models.sasrec_loss import batch_loss, choose_loss, make_loss, make_optimiser
from shopsense.models.sasrec_net import SASRecNet
from shopsense.models.sasrec_serve import SASRecServing
from shopsense.models.schedule import LRSchedule, training_schedule
from shopsense.models.sequences import (
    length_buckets,
    ndcg10_sum_by_rank,
    next_item_pairs,
)


@dataclass(frozen=True)
class SASRecConfig:
    """Hyper-parameters. One default for every data set (no per-data-set tuning)."""

    max_len: int = 50
    dim: int = 64
    n_blocks: int = 2
    n_heads: int = 1
    dropout: float = 0.3
    lr: float = 2e-3
    lr_schedule: str = "none"  # none | cosine (warm-up, cosine decay fitted to the budget)
    warmup_steps: int = 100
    schedule_epochs: int = 12  # the decay's horizon, or fewer epochs if the budget is short
    lr_floor: float = 0.05  # the rate after the horizon, as a share of `lr`
    warm_lr_scale: float = 0.25  # continuing a serving model: peak rate = lr x this, then
    warm_schedule_epochs: int = 4  # cosine decay over these epochs (always, whatever lr_schedule)
    weight_decay: float = 0.0
    batch_size: int = 256
    max_positions: int = 4096  # caps the (positions x catalogue) logits of one step (memory)
    max_epochs: int = 200
    patience: int = 3  # epochs without a `min_delta` relative gain: the curve has flattened
    min_delta: float = 0.01
    time_budget_s: float = 900.0  # CPU seconds of this process (load-independent); then stop
    seed: int = 0
    threads: int = 1
    bf16: bool = False  # no bf16 units on AVX2 CPUs: autocast only adds casts there
    loss: str = "auto"  # full | sampled | auto (full softmax up to full_max_items)
    full_max_items: int = 8192
    negatives: int = 1024  # uniform negatives per batch of the sampled softmax (+ in-batch)
    sparse_items_above: int = 200_000  # sampled, one process: update only the touched rows
    ivf_min_items: int = 0  # > 0: two-stage serving scores from this size (sasrec_ivf; off:
    # the exact top 10's recall was 0.92 at a quarter of the lists, for 1.2-1.7x less CPU)
    scan_min_items: int = 200_000  # from this size a request's scores are a quantised scan
    # + exact scores of its best `scan_candidates` (sasrec_scan; 0: exact at every size)
    scan_candidates: int = 2048
    sparse_item_lr_scale: float = 10.0  # the sparse item table's rate, x lr (a row moves
    # only on the few steps that touch it: ~3 an epoch at 1M items; benchmarks/README.md)
    title_term: bool = False  # scores + a learned scale x title cosine with the last item,
    # the transformer's share gated from `title_gate` (sasrec_net; needs title vectors)
    title_scale: float = 10.0  # the title term's starting scale (learned, in log space)
    title_gate: float = 0.0  # the transformer's starting share: 0 = epoch 0 is the title
    # neighbour


EpochHook = Callable[[dict[str, float]], None]


def titled_config(config: SASRecConfig, item_init: np.ndarray | None) -> SASRecConfig:
    """`config`, with the title term off where there are no title vectors to give it."""
    if config.title_term and (item_init is None or not np.any(item_init)):
        return replace(config, title_term=False)
    return config


class SASRec(SASRecServing):
    """Estimator wrapper: `fit(sequences, n_items, valid=...)`, `score(histories)`, save/load."""

    def __init__(self, config: SASRecConfig | None = None, **overrides: float | int) -> None:
        base = asdict(config or SASRecConfig())
        unknown = set(overrides) - set(base)
        if unknown:
            raise TypeError(f"unknown SASRec settings: {sorted(unknown)}")
        self.config = SASRecConfig(**{**base, **overrides})
        self.n_items_: int = 0
        self.net_: SASRecNet | None = None
        self.history_: list[dict[str, float]] = []
        self.best_epoch_: int = 0
        self.info_: dict[str, Any] = {}  # how it was trained (loss, convergence, workers)
        self._numpy_: tuple[SASRecNet, dict[str, Any]] | None = None  # _numpy_weights
        self._ivf_: tuple[SASRecNet, ItemPartition, np.ndarray] | None = None  # _two_stage
        self._scan_ = None  # _scanned
        self._loss_fn: Any = None  # training only: full or sampled softmax

    # ------------------------------------------------------------------ training
    def fit(self, sequences: Sequence[np.ndarray], n_items: int, *,
            valid: tuple[Sequence[np.ndarray], np.ndarray] | None = None,
            item_init: np.ndarray | None = None,
            on_epoch: EpochHook | None = None, sync: GradientSync | None = None,
            warm_start: WarmStart | None = None) -> SASRec:
        """Train on dense-index sequences (time order). `valid` = (histories, targets) for
        early stopping on NDCG@10; without it the model trains for `max_epochs`/budget.
        `item_init` (n_items, dim), e.g. title vectors, seeds the item embeddings (zero rows
        keep their random start). `sync` makes this one of several data-parallel processes
        (models.parallel): each trains on its share of every epoch's batches and validation
        users, gradients are averaged every step, and all stop at the same epoch with the
        same weights. `warm_start` continues from a serving model (models.incremental): its
        weights are epoch 0, and are kept unless training beats them on `valid`."""
        cfg = self.config
        sync = sync or LocalSync()
        if n_items <= 0:
            raise ValueError("n_items must be positive")
        if any(len(s) and (np.min(s) < 0 or np.max(s) >= n_items) for s in sequences):
            raise ValueError("sequence contains an item index outside [0, n_items)")
        inputs, targets = next_item_pairs(sequences, cfg.max_len)
        if len(inputs) == 0:
            raise ValueError("no sequence has two or more items; nothing to learn")
        torch.manual_seed(cfg.seed)
        if cfg.title_term:  # asked for: said in the report, on or off (no titles)
            self.config = cfg = titled_config(cfg, item_init)
            self.info_["title_term"] = cfg.title_term
        self._build(n_items, item_init, warm_start, sync)
        self._loss_fn = self._make_loss(targets, n_items,
                                        np.random.default_rng([cfg.seed, sync.rank]))
        tracker = Convergence(cfg.patience, cfg.min_delta)
        with _threads(cfg.threads):
            best_state, stopped_by = self._train(inputs, targets, valid, tracker, sync,
                                                 on_epoch, warm_start is not None)
        self._finish(best_state, tracker, stopped_by, len(inputs))
        return self

    def _build(self, n_items: int, item_init: np.ndarray | None,
               warm_start: WarmStart | None, sync: GradientSync) -> None:
        """A fresh network: title-seeded items, or the serving model's weights carried over."""
        self.n_items_ = n_items
        self.net_ = SASRecNet(n_items, self.config)
        if item_init is not None:
            self._seed_items(item_init)
        if warm_start is not None:
            placed = carry_weights(warm_start, self.net_, item_init)
            self.info_["incremental"] = {"new_items": int((warm_start.item_map < 0).sum()),
                                         "new_items_from_titles": placed}
        sync.broadcast_parameters(self.net_)
        if sync.world_size > 1:
            torch.manual_seed(self.config.seed + 7919 * sync.rank)  # distinct dropout masks

    def _train(self, inputs: np.ndarray, targets: np.ndarray,
               valid: tuple[Sequence[np.ndarray], np.ndarray] | None, tracker: Convergence,
               sync: GradientSync, on_epoch: EpochHook | None, warm: bool
               ) -> tuple[dict[str, torch.Tensor] | None, str]:
        """Epochs until the validation curve flattens, the CPU budget or max_epochs ends;
        returns the best epoch's weights and what stopped training."""
        assert self.net_ is not None
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)  # batch order: the same on every rank
        optimiser = self._optimiser(sync)
        schedule = training_schedule(optimiser, cfg, warm)
        self.info_["lr_schedule"] = schedule.settings
        best_state, started, cpu_started = None, time.perf_counter(), time.process_time()
        if warm and valid is not None:  # the serving weights are epoch 0
            start = self._valid_ndcg(*valid, sync=sync)
            tracker.update(0, start)
            best_state = {k: v.clone() for k, v in self.net_.state_dict().items()}
            self.info_["incremental"]["start_valid_ndcg@10"] = round(start, 5)
        for epoch in range(1, cfg.max_epochs + 1):
            row = {"epoch": float(epoch),
                   "loss": self._epoch(inputs, targets, optimiser, rng, sync, schedule),
                   "lr": schedule.lr}
            if valid is not None:
                row["valid_ndcg@10"] = self._valid_ndcg(*valid, sync=sync)
                if tracker.update(epoch, row["valid_ndcg@10"]):
                    best_state = {k: v.clone() for k, v in self.net_.state_dict().items()}
            row.update(seconds=time.perf_counter() - started,  # validation included
                       cpu_seconds=sync.max(time.process_time() - cpu_started))
            schedule.end_epoch(epoch, row["cpu_seconds"], cfg.time_budget_s)
            self.history_.append(row)
            if on_epoch is not None:
                on_epoch(row)
            if tracker.flattened:
                return best_state, "converged"
            if row["cpu_seconds"] > cfg.time_budget_s:
                return best_state, "budget"
        return best_state, "epochs"

    def _optimiser(self, sync: GradientSync) -> Any:
        assert self.net_ is not None
        sparse = (self.info_.get("loss") == "sampled" and sync.world_size == 1
                  and self.n_items_ > self.config.sparse_items_above)
        self.info_["sparse_item_updates"] = sparse
        return make_optimiser(self.net_, self.config.lr, self.config.weight_decay, sparse,
                              self.config.sparse_item_lr_scale)

    def _make_loss(self, targets: np.ndarray, n_items: int, rng: np.random.Generator) -> Any:
        self.info_["loss"] = choose_loss(self.config.loss, n_items, self.config.full_max_items)
        return make_loss(self.info_["loss"], targets, n_items, self.config.negatives, rng)

    def _finish(self, best_state: dict[str, torch.Tensor] | None, tracker: Convergence,
                stopped_by: str, n_sequences: int) -> None:
        """Keep the best epoch's weights; record how training ended and what it cost."""
        assert self.net_ is not None
        if best_state is not None:
            self.net_.load_state_dict(best_state)
            self.best_epoch_ = tracker.best_epoch
            if "incremental" in self.info_:  # trained weights only if not worse than serving
                self.info_["incremental"]["trained_weights_kept"] = tracker.best_epoch > 0
        else:
            self.best_epoch_ = len(self.history_)
        self.net_.eval()
        self.net_.item_emb.sparse = False  # serving and later warm starts use dense tensors
        self._numpy_ = self._scan_ = None
        self._scanned()  # a large table's quantised scan, built with it
        two_stage = self._two_stage()  # a million-item table's partition, built with it
        if two_stage is not None:
            self.info_["two_stage_serving"] = {"lists": len(two_stage[0].centroids),
                                               "probed": two_stage[0].n_probe}
        cpu = self.history_[-1]["cpu_seconds"] if self.history_ else 0.0
        self.info_["convergence"] = summary(self.history_, tracker,
                                            budget_s=self.config.time_budget_s,
                                            stopped_by=stopped_by)
        self.info_["cpu_seconds"] = round(cpu, 1)
        self.info_["cpu_seconds_per_epoch"] = round(cpu / max(len(self.history_), 1), 2)
        self.info_["training_sequences"] = n_sequences

    def training_report(self, n_events: int) -> dict[str, Any]:
        """How training went, for reports and /admin: loss, epochs, CPU cost, convergence."""
        report: dict[str, Any] = {k: v for k, v in self.info_.items() if k != "digests"}
        report.update(epochs=len(self.history_), best_epoch=self.best_epoch_)
        if n_events > 0 and "cpu_seconds" in report:
            report["cpu_seconds_per_1k_events_epoch"] = round(
                1000.0 * float(report["cpu_seconds_per_epoch"]) / n_events, 3)
        return report

    def _seed_items(self, item_init: np.ndarray) -> None:
        assert self.net_ is not None
        if item_init.shape != (self.n_items_, self.config.dim):
            raise ValueError(f"item_init must be ({self.n_items_}, {self.config.dim}), "
                             f"got {item_init.shape}")
        init = torch.from_numpy(np.ascontiguousarray(item_init, dtype=np.float32))
        rows = init.abs().sum(dim=1) > 0
        with torch.no_grad():
            weight = self.net_.item_emb.weight
            weight[1:][rows] = init[rows] * self.config.dim ** -0.5
        if self.net_.title_term:
            self.net_.set_titles(init)

    def _epoch(self, inputs: np.ndarray, targets: np.ndarray,
               optimiser: Any, rng: np.random.Generator,
               sync: GradientSync, schedule: LRSchedule | None = None) -> float:
        """One pass; the mean loss per target over every process's batches."""
        assert self.net_ is not None
        self.net_.train()
        total, count = 0.0, 0
        for rows in sync.shard(length_buckets(targets, self.config.batch_size,
                                               self.config.max_positions, rng)):
            # bf16 autocast roughly halves the cost of the logits on CPUs with bf16 units
            # (not on AVX2 ones); the softmax itself runs in float32.
            loss, _, tgt = batch_loss(self.net_, self._loss_fn, inputs, targets, rows,
                                      self.config.bf16)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            sync.average_gradients(self.net_.parameters())
            if schedule is not None:
                schedule.step()
            optimiser.step()
            positions = int((tgt > 0).sum())
            total += float(loss.detach()) * positions
            count += positions
        total, count = sync.sum([total, float(count)])
        return total / max(count, 1)

    def _valid_ndcg(self, histories: Sequence[np.ndarray], targets: np.ndarray,
                    sync: GradientSync | None = None) -> float:
        """Mean NDCG@10 of the validation targets (each process scores its share). The
        target's rank is the number of non-history items scoring above it (no top-k sort)."""
        sync = sync or LocalSync()
        total = len(histories)
        histories, targets = sync.shard(histories), np.asarray(sync.shard(list(targets)))
        scores_sum, table = 0.0, self._require().item_weights().detach()
        step = max(1, min(1024, 2 ** 26 // max(self.n_items_, 1)))  # <= 256 MB of scores
        for start in range(0, len(histories), step):
            hist = histories[start:start + step]
            scores = torch.from_numpy(self.encode(hist)) @ table.T
            scores_sum += ndcg10_sum_by_rank(scores, hist, targets[start:start + step])
        if sync.world_size > 1:  # the shards leave out fewer than world_size users
            scores_sum, total = sync.sum([scores_sum, float(len(histories))])
        return scores_sum / max(total, 1)

    # ------------------------------------------------------------------ persistence
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        config = {**asdict(self.config), "n_items": self.n_items_, "best_epoch": self.best_epoch_}
        (directory / "config.json").write_text(json.dumps(config, indent=2))
        torch.save(self._require().state_dict(), directory / "weights.pt")
        two_stage = self._two_stage()
        if two_stage is not None:
            two_stage[0].save(directory / "ivf.npz")

    @classmethod
    def load(cls, directory: Path) -> SASRec:
        config = json.loads((directory / "config.json").read_text())
        n_items, best_epoch = config.pop("n_items"), config.pop("best_epoch")
        model = cls(SASRecConfig(**config))
        model.n_items_, model.best_epoch_ = n_items, best_epoch
        model.net_ = SASRecNet(n_items, model.config)
        state = torch.load(directory / "weights.pt", weights_only=True)
        model.net_.load_state_dict(state)
        model.net_.eval()
        saved = directory / "ivf.npz"
        model._two_stage(ItemPartition.load(saved) if saved.exists() else None)
        return model
