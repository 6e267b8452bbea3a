"""Federated vs centralised vs local-only, and DP-SGD budgets: a table and results/federated.json.

Beauty (../shared/data/amazon-beauty-p5-titles, docs/PUBLIC_DATA.md; synthetic platforms,
see federated/splits.py) and the demo store (real platforms, timestamps and purchases, so
propensity too). Shoppers are subsampled (--beauty-users, --demo-users) to keep a run on the
shared 2-core machine within tens of minutes; the report says so. Every figure comes from
`shopsense.federated.simulate`, the code path of `shopsense federated simulate`.

    python benchmarks/federated.py --out benchmarks/results/federated.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
BEAUTY = ROOT.parent / "shared" / "data" / "amazon-beauty-p5-titles" / "sequential_data.txt"


def _demo_events(folder: Path, users: int) -> Path:
    """The demo store's events (and, beside them, its products: titles for title-seeded
    item tables)."""
    from shopsense.demo.catalog import build_catalogue
    from shopsense.demo.generate import iter_demo_events

    path = folder / f"demo-{users}" / "events.jsonl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w") as handle:
            for row in iter_demo_events(n_users=users):
                handle.write(json.dumps(row) + "\n")
        with (path.parent / "products.jsonl").open("w") as handle:
            for item in build_catalogue():
                handle.write(json.dumps(item.record, default=str) + "\n")
    return path


def run(args: argparse.Namespace) -> dict[str, Any]:
    from shopsense.federated.experiment import RecsPlan
    from shopsense.federated.report import recs_table
    from shopsense.federated.simulate import simulate

    plan = RecsPlan(rounds=args.rounds, local_epochs=args.local_epochs, dim=args.dim, seed=0,
                    batch_size=args.batch_size, loss=args.loss, server=args.server,
                    patience=args.patience,
                    server_lr=args.server_lr, server_momentum=args.server_momentum,
                    row_weighted=args.row_weighted, title_init=args.title_init,
                    sparse_items=args.sparse_items, title_term=args.title_term,
                    freeze_items=args.freeze_items,
                    adapt_epochs=args.adapt_epochs, adapt_lr_scale=args.adapt_lr_scale,
                    own_round=args.own_round, adapt_mu=args.adapt_mu, mu=args.mu,
                    adapt_clear_gain=args.adapt_clear_gain)
    demo = _demo_events(Path(args.cache), args.demo_users)
    runs: list[tuple[str, Path, str, RecsPlan, int]] = []
    if not args.skip_plain:
        for split in args.splits:
            runs.append((f"beauty {split}", BEAUTY, split, plan, args.beauty_users))
        runs.append(("demo platform", demo, "platform", plan, 0))
    # DP-SGD runs per-sample gradients (~8x the cost of a plain step for SASRec): a smaller
    # subsample, fewer rounds, a narrower model, and the same without DP as their baseline.
    # Private runs start their item tables from catalogue titles by default (--dp-items
    # titles; frozen-titles: only the body trains and is noised).
    frozen = args.dp_items == "frozen-titles"
    dp_plan = replace(plan, rounds=args.dp_rounds, dim=args.dp_dim, max_len=args.dp_max_len,
                      patience=0, title_init=args.dp_items != "trained", freeze_items=frozen,
                      dp_batch_size=args.dp_batch_size)
    runs.append(("demo platform dp baseline (no DP, trained items)", demo, "platform",
                 replace(dp_plan, title_init=False, freeze_items=False), args.dp_users))
    for epsilon in [0.0, *args.epsilons]:
        runs.append((f"demo platform dp eps={epsilon:g}" if epsilon else
                     "demo platform dp baseline (no DP)", demo, "platform",
                     replace(dp_plan, dp_epsilon=epsilon), args.dp_users))
    out: dict[str, Any] = {"machine": f"{os.cpu_count()} cores, load avg "
                                      f"{os.getloadavg()[0]:.1f} at start",
                           "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           "runs": {}}
    runs = [r for r in runs if not args.only or r[0] in args.only]
    for name, path, split, run_plan, users in runs:
        started = time.perf_counter()
        report = simulate(path, n_clients=args.clients, split=split, plan=run_plan,
                          variants=tuple(args.variants), with_propensity=not args.no_propensity,
                          max_users=users)
        report["load_avg_after"] = round(os.getloadavg()[0], 1)
        out["runs"][name] = report
        print(recs_table(report, f"{name}  ({time.perf_counter() - started:.0f} s)"),
              flush=True)
        Path(args.out).write_text(json.dumps(out, indent=1, default=str))
    return out


def main() -> None:
    from shopsense.federated.personalise import AdaptPlan
    from shopsense.models.sasrec import SASRecConfig

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" /
                                             "federated.json"))
    parser.add_argument("--cache", default="/tmp/shopsense-bench-federated")
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--dp-rounds", type=int, default=3)
    parser.add_argument("--dp-users", type=int, default=150)
    parser.add_argument("--skip-plain", action="store_true", help="Only the DP runs.")
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=SASRecConfig.batch_size,
                        help="SASRec sequences a local step (default: the home's; before "
                             "the ninth session's change the default was 32).")
    parser.add_argument("--loss", choices=("auto", "full", "sampled"), default="auto",
                        help="SASRec's loss (auto: by catalogue size, as the home's).")
    parser.add_argument("--local-epochs", type=int, default=2,
                        help="Local epochs a round (centralised / local-only get rounds x "
                             "this many epochs).")
    parser.add_argument("--server", default="auto", help="auto (avg over title-seeded "
                        "item tables, avgm over random ones) | avg | avgm | adam")
    parser.add_argument("--title-init", action=argparse.BooleanOptionalAction, default=None,
                        help="Plain runs: item tables from catalogue titles (default: where "
                             "the data has a catalogue with titles).")
    parser.add_argument("--patience", type=int, default=3,
                        help="Rounds / epochs without a 1 %% gain before a variant stops "
                             "(--rounds is the cap).")
    parser.add_argument("--server-lr", type=float, default=1.0)
    parser.add_argument("--server-momentum", type=float, default=0.9)
    parser.add_argument("--row-weighted", action=argparse.BooleanOptionalAction,
                        default=False, help="Average item-table rows over the clients that "
                                            "used them (federated/rounds.row_weighted_mean).")
    parser.add_argument("--sparse-items", action=argparse.BooleanOptionalAction,
                        default=False, help="A step moves only the item-table rows its batch "
                                            "used (federated/recs.py; not under DP-SGD).")
    parser.add_argument("--freeze-items", action="store_true",
                        help="Plain runs: the item table stays the title vectors (only the "
                             "body trains and is sent; needs titles).")
    parser.add_argument("--title-term", action=argparse.BooleanOptionalAction, default=False,
                        help="SASRec scores + a learned title-cosine term, the transformer "
                             "gated from 0 (models/sasrec_net.py): epoch 0 is the title "
                             "neighbour.")
    parser.add_argument("--adapt-epochs", type=int, default=AdaptPlan.epochs,
                        help="Personalised variant: local epochs after the rounds, kept by "
                             "each client's validation (federated/personalise.py).")
    parser.add_argument("--adapt-lr-scale", type=float, default=AdaptPlan.lr_scale)
    parser.add_argument("--adapt-mu", type=float, default=AdaptPlan.mu,
                        help="Personalised variant: > 0, each adaptation epoch pays "
                             "mu/2 ||w - w_global||^2 (Ditto's proximal term).")
    parser.add_argument("--adapt-clear-gain", action=argparse.BooleanOptionalAction,
                        default=AdaptPlan.clear_gain,
                        help="Personalised variant: keep an adapted epoch only where its "
                             "paired validation gain's 95 %% interval is above 0.")
    parser.add_argument("--mu", type=float, default=0.0,
                        help="FedProx's proximal term in the rounds (0: FedAvg).")
    parser.add_argument("--own-round", action=argparse.BooleanOptionalAction,
                        default=AdaptPlan.own_round,
                        help="Personalised variant: each client's own best global round.")
    parser.add_argument("--dp-items", choices=("frozen-titles", "titles", "trained"),
                        default="titles", help="Item tables of the DP runs: title "
                        "vectors frozen, title-seeded and trained, or random and trained.")
    parser.add_argument("--dp-batch-size", type=int, default=64,
                        help="DP-SGD's expected batch of shoppers (Poisson sampling).")
    parser.add_argument("--dp-dim", type=int, default=16)
    parser.add_argument("--dp-max-len", type=int, default=20)
    parser.add_argument("--variants", nargs="+", default=["centralised", "federated",
                                                          "local_only"],
                        help="Which variants to train (separate processes can split a run).")
    parser.add_argument("--no-propensity", action="store_true")
    parser.add_argument("--only", nargs="*", default=[],
                        help="Only the runs of these names ('beauty platform', 'demo platform dp eps=8', ...).")
    parser.add_argument("--beauty-users", type=int, default=4000)
    parser.add_argument("--demo-users", type=int, default=400)
    parser.add_argument("--splits", nargs="+", default=["platform", "dirichlet:0.1",
                                                        "dirichlet:1.0"])
    parser.add_argument("--epsilons", type=float, nargs="*", default=[1.0, 4.0, 8.0])
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    run(args)


if __name__ == "__main__":
    main()
