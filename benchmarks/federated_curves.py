"""Per-round validation curves of one federated (or centralised) SASRec plan: the diagnosis
behind benchmarks/README.md, "Third session". Same code path as `shopsense federated
simulate` (federation.experiment), no early stop; prints one line per round / epoch.

    python benchmarks/federated_curves.py --variant central --rounds 30
    python benchmarks/federated_curves.py --server avgm --local 2 --rounds 15 --norow
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
BEAUTY = ROOT.parent / "shared" / "data" / "amazon-beauty-p5-titles" / "sequential_data.txt"


def main() -> None:
    from shopsense.federated.experiment import RecsPlan, _score, _valid, federated
    from shopsense.federated.recs import Holdout
    from shopsense.federated.simulate import load_input, title_init
    from shopsense.federated.splits import SplitSpec, make_clients

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variant", choices=("fed", "central"), default="fed")
    p.add_argument("--server", default="avgm")
    p.add_argument("--lr", type=float, default=1.0, help="server lr")
    p.add_argument("--mom", type=float, default=0.9, help="server momentum")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--local", type=int, default=1, help="local epochs a round")
    p.add_argument("--users", type=int, default=1500)
    p.add_argument("--split", default="platform")
    p.add_argument("--data", default=str(BEAUTY))
    p.add_argument("--norow", action="store_true", help="plain (not row-weighted) mean")
    p.add_argument("--dim", type=int, default=32)
    p.add_argument("--bs", type=int, default=32)
    p.add_argument("--title-init", action="store_true", help="item tables from titles")
    a = p.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    plan = RecsPlan(rounds=a.rounds, local_epochs=a.local, dim=a.dim, batch_size=a.bs,
                    server=a.server, server_lr=a.lr, server_momentum=a.mom, patience=0,
                    row_weighted=not a.norow, title_init=a.title_init)
    data = load_input(Path(a.data), max_users=a.users, seed=0)
    clients = make_clients(SplitSpec.parse(a.split), data.users, data.sequences, 3,
                           platforms=data.platforms, n_items=len(data.items), seed=0)
    holdouts = [Holdout.of(c.sequences) for c in clients]
    init = title_init(Path(a.data), None, data.items, a.dim) if a.title_init else None
    started = time.time()
    if a.variant == "central":
        model = plan.participant(len(data.items), "all", item_init=init)
        union = [s for h in holdouts for s in h.train]
        valid = _valid(holdouts)
        best = (-1.0, 0, model.weights())
        for epoch in range(1, a.rounds + 1):
            loss = model.fit_round(union, 1)["loss"]
            value = valid([model] * len(holdouts))
            if value > best[0]:
                best = (value, epoch, model.weights())
            print(epoch, round(loss, 3), round(value, 4), round(time.time() - started),
                  flush=True)
        model.load(best[2])
        test = _score([model] * len(holdouts), holdouts)[0]
        print("test", test["ndcg@10"], test["ndcg@10_ci"], "best epoch", best[1])
        return
    out, _ = federated(clients, holdouts, len(data.items), plan, item_init=init)
    for row in out["round_log"]:
        print(row, flush=True)
    print("test", out["ndcg@10"], out["ndcg@10_ci"], "best round", out["best_round"])


if __name__ == "__main__":
    main()
