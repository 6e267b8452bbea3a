"""Per-round validation curves of one federated (or centralised) SASRec plan: the diagnosis
behind benchmarks/README.md, "Third session". Same code path as `shopsense federated
simulate` (federation.experiment), no early stop; prints one line per round / epoch.

    python benchmarks/federated_curves.py --variant central --rounds 30
    python benchmarks/federated_curves.py --server avgm --local 2 --rounds 15 --norow
    python benchmarks/federated_curves.py --server avg --local 2 --rounds 25 --title-init \
        --norow --split dirichlet:0.1 --personalise     # what each client would serve
    python benchmarks/federated_curves.py --variant local --rounds 8 --title-init --norow \
        --split dirichlet:0.1 [--sparse-items]          # each client alone, from epoch 0
    python benchmarks/federated_curves.py --server avg --local 2 --rounds 10 --title-init \
        --norow --split dirichlet:0.1 --title-term [--mu 0.1] [--client-lr-scale 0.25]

Centralised and local-only curves print, per epoch (0 = the untrained start), each client's
validation and test NDCG@10 (test only to diagnose; every report keeps epochs by validation).
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
    from shopsense.federated.experiment import RecsPlan, federated
    from shopsense.federated.personalise import RoundKeeper
    from shopsense.federated.recs import Holdout
    from shopsense.federated.simulate import load_input, title_init
    from shopsense.federated.splits import SplitSpec, make_clients

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variant", choices=("fed", "central", "local"), default="fed")
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
    p.add_argument("--sparse-items", action="store_true", help="a step moves only the item "
                   "rows its batch used (federated/recs.py)")
    p.add_argument("--freeze-items", action="store_true", help="title vectors fixed")
    p.add_argument("--title-term", action="store_true", help="SASRec + the learned title "
                   "term (models/sasrec_net.py); curves then also print the body gate g "
                   "and the title scale s of the (global) weights")
    p.add_argument("--mu", type=float, default=0.0, help="FedProx's proximal term")
    p.add_argument("--parts", action="store_true", help="with --title-term: also the "
                   "NDCG@10 of the body's scores alone on client 0's validation")
    p.add_argument("--freeze-title-scale", action="store_true", help="with --title-term: "
                   "the title scale s stays at its start (only the body and gate train)")
    p.add_argument("--client-lr-scale", type=float, default=1.0, help="every participant's "
                   "Adam rate x this (restart_optimiser)")
    p.add_argument("--personalise", action="store_true", help="after the rounds: each "
                   "client's own best round, local adaptation (lr scales 0.25 / 1), and "
                   "mixtures with its local-only model, per client, valid and test")
    a = p.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    global PARTS
    PARTS = a.parts
    plan = RecsPlan(rounds=a.rounds, local_epochs=a.local, dim=a.dim, batch_size=a.bs,
                    server=a.server, server_lr=a.lr, server_momentum=a.mom, patience=0,
                    row_weighted=not a.norow, title_init=a.title_init,
                    sparse_items=a.sparse_items, freeze_items=a.freeze_items,
                    title_term=a.title_term, mu=a.mu)
    data = load_input(Path(a.data), max_users=a.users, seed=0)
    clients = make_clients(SplitSpec.parse(a.split), data.users, data.sequences, 3,
                           platforms=data.platforms, n_items=len(data.items), seed=0)
    holdouts = [Holdout.of(c.sequences) for c in clients]
    init = title_init(Path(a.data), None, data.items, a.dim) if a.title_init else None
    if a.variant != "fed":
        _alone(plan, len(data.items), holdouts, init, a.rounds, a.variant == "central",
               a.client_lr_scale, a.freeze_title_scale)
        return
    if a.title_term:
        _fed_gated(plan, len(data.items), holdouts, init, a.client_lr_scale,
                   a.freeze_title_scale)
        return
    keeper = RoundKeeper(len(clients)) if a.personalise else None
    out, participants = federated(clients, holdouts, len(data.items), plan, item_init=init,
                                  keeper=keeper)
    for row in out["round_log"]:
        print(row, flush=True)
    print("test", out["ndcg@10"], out["ndcg@10_ci"], "best round", out["best_round"],
          {k: v["ndcg@10"] for k, v in out["per_client"].items()})
    if keeper is not None:
        _personalise(plan, participants, holdouts, keeper, init)


def _gate(model, holdout=None) -> str:
    """With the title term: the body gate g, the title scale s, the body's share of the
    scores on `holdout`'s validation histories (std over items of g h.E_i against
    s t.t_i, mean over 200 shoppers), and `--parts`' NDCG@10 of the body's scores alone
    on all of them (the titles' alone is the title neighbour)."""
    net = model.net
    if not net.title_term:
        return ""
    out = f"gate {net.body_gate.item():.4f} scale {net.title_log_scale.exp().item():.2f}"
    if holdout is not None:
        from shopsense.federated.recs import ranking_per_user

        est, d = model.estimator(), net.item_emb.embedding_dim
        table = est.item_vectors()
        enc = est.encode(holdout.valid_histories[:200])
        body = (enc[:, :d] @ table[:, :d].T).std(axis=1)
        title = (enc[:, d:] @ table[:, d:].T).std(axis=1)
        out += f" body/title score std {float((body / title).mean()):.3f}"
        if PARTS:
            alone = ranking_per_user(lambda h: est.encode(h)[:, :d] @ table[:, :d].T,
                                     holdout.valid_histories, holdout.valid_targets)[0]
            out += f" body-alone valid {float(alone.mean()):.4f}"
    return out


PARTS = False  # --parts


def _fed_gated(plan, n_items, holdouts, init, lr_scale, fixed_scale=False) -> None:
    """Federated rounds with the title term, one line a round: loss, pooled validation,
    pooled test (diagnosis only), and the global gate / scale."""
    import numpy as np

    from shopsense.federated.rounds import run_rounds

    parts = [plan.participant(n_items, "all", i, init) for i in range(len(holdouts))]
    for p in parts:
        p.load(parts[0].weights())
        _restart(p, lr_scale, fixed_scale)

    def pooled(ps, valid=True):
        cases = [m.per_user(h.valid_histories if valid else h.test_histories,
                            h.valid_targets if valid else h.test_targets)[0]
                 for m, h in zip(ps, holdouts, strict=True)]
        return float(np.concatenate(cases).mean())

    probe = holdouts[0]
    print("round 0 valid", round(pooled(parts), 4), "test", round(pooled(parts, False), 4),
          _gate(parts[0], probe), flush=True)

    def validate(ps):
        value = pooled(ps)
        print("valid", round(value, 4), "test", round(pooled(ps, False), 4),
              _gate(ps[0], probe), flush=True)
        return value

    log = run_rounds(parts, [h.train for h in holdouts], rounds=plan.rounds,
                     local_epochs=plan.local_epochs, validate=validate,
                     server=plan.server_opt(init is not None))
    for row in log.rows:
        print(row, flush=True)


def _restart(model, lr_scale, fixed_scale) -> None:
    if fixed_scale:
        model.net.title_log_scale.requires_grad_(False)
    model.restart_optimiser(lr_scale)


def _alone(plan, n_items, holdouts, init, epochs, central, lr_scale=1.0,
           fixed_scale=False) -> None:
    """Centralised training on the union of the clients' parts, or each client alone; one
    line per epoch (0: the start) with each client's validation and test NDCG@10."""
    def scores(model, parts):
        return [[round(float(model.per_user(h.valid_histories, h.valid_targets)[0].mean()), 4)
                 for h in parts],
                [round(float(model.per_user(h.test_histories, h.test_targets)[0].mean()), 4)
                 for h in parts]]

    groups = [("central", holdouts)] if central else [(f"client {i}", [h]) for i, h in
                                                         enumerate(holdouts)]
    for name, parts in groups:
        model = plan.participant(n_items, "all", 0 if central else int(name.split()[1]),
                                 item_init=init)
        _restart(model, lr_scale, fixed_scale)
        union = [s for h in parts for s in h.train]
        started = time.time()
        for epoch in range(epochs + 1):
            loss = model.fit_round(union, 1)["loss"] if epoch else float("nan")
            valid, test = scores(model, parts)
            print(name, "epoch", epoch, "loss", round(loss, 3), "valid", valid, "test", test,
                  _gate(model, parts[0]), f"{time.time() - started:.0f}s",
                  flush=True)


def _personalise(plan, participants, holdouts, keeper, init) -> None:
    """The options of federated/personalise.py, and a mixture with the local-only model
    (softmax probabilities, lambda on the global one), each client on its own cases."""
    import numpy as np

    from shopsense.federated.experiment import _valid
    from shopsense.federated.personalise import AdaptPlan, personalise
    from shopsense.federated.recs import ranking_per_user
    from shopsense.federated.rounds import train_alone

    def test(m, h):
        return round(float(m.per_user(h.test_histories, h.test_targets)[0].mean()), 4)

    pooled = [w.copy() for w in participants[0].weights()]
    valids = [lambda m, h=h: _valid([h])([m]) for h in holdouts]
    for own in (True, False):
        for scale in (0.25, 1.0):
            for p in participants:
                p.load(pooled)
            rows = personalise(participants, [h.train for h in holdouts], valids,
                               AdaptPlan(8, 3, scale, own), keeper)
            print("own round", own, "lr scale", scale, "test per client",
                  [test(p, h) for p, h in zip(participants, holdouts, strict=True)], rows, flush=True)
    for i, p in enumerate(participants):
        p.load(keeper.weights(i))

    def softmax(x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    for i, (g, h) in enumerate(zip(participants, holdouts, strict=True)):
        alone = plan.participant(g.n_items, "all", i, init)
        epoch = train_alone(alone, h.train, epochs=plan.rounds * plan.local_epochs,
                            validate=valids[i])
        for lam in (0.0, 0.25, 0.5, 0.75, 1.0):
            def mix(hist, lam=lam, g=g, alone=alone):
                return lam * softmax(g.estimator().score(hist)) + \
                    (1 - lam) * softmax(alone.estimator().score(hist))
            v = ranking_per_user(mix, h.valid_histories, h.valid_targets)[0].mean()
            t = ranking_per_user(mix, h.test_histories, h.test_targets)[0].mean()
            print("client", i, "local best epoch", epoch, "lambda(global)", lam,
                  "valid", round(float(v), 4), "test", round(float(t), 4), flush=True)


if __name__ == "__main__":
    main()
