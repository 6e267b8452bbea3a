"""CPU of one for-you recommendation miss, in process, over a demo home with trained models
(no HTTP), against a baseline checkout in the same run.

A miss is what the service benchmark's events cause (benchmarks/serve.py): a shopper acts,
their cached list is dropped, and their next `/v1/recommend` recomputes it (every source,
the ranker's features, feedback, rules, variety, the answer's items). Each measurement
process loads the home as `shopsense serve` does, warms the models' lazy parts with 50
misses, then times `--n` misses (on a copy of the home: the events it records stay there) of shoppers drawn from the demo's (`time.process_time()`):
`surfaces.recommend` after `shop.invalidate`, and (`event + miss`) the same after the
shopper's view event is recorded through `shop.record_events` (the profile rebuilt too).
With `--baseline-src DIR` (the `src/` of another checkout, e.g. `git archive BASE src | tar
-x -C /tmp/base`) the rounds alternate between that code and this one in fresh processes, so
both see the same machine load; the table gives each round and the ratio of the medians.

    python benchmarks/recs_request_cpu.py [--home benchmarks/.serve-home] [--n 600]
        [--rounds 3] [--baseline-src /tmp/base/src] [--out results/recs_request_cpu.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def measure(home: Path, n: int, seed: int = 1) -> dict[str, float]:
    """CPU ms per miss in this process (the code on `sys.path`)."""
    sys.path.insert(0, str(HERE))
    from request_cpu import open_shop

    with tempfile.TemporaryDirectory(prefix="recs-request-cpu-") as scratch:
        copy = Path(scratch) / "home"  # the events recorded below must not change the home
        shutil.copytree(home, copy)
        return _measure(open_shop(copy), copy, n, seed)


def _measure(shop: Any, home: Path, n: int, seed: int) -> dict[str, float]:
    from serve import workload

    from shopsense.pipeline import surfaces

    users = workload(home, "demo")["users"][:300]
    items = sorted(shop.products)
    rng = random.Random(seed)
    out = {}
    for case in ("miss", "event + miss"):
        spent = 0.0
        for i in range(n + 50):  # the first 50 warm the models' lazy parts
            user = rng.choice(users)
            started = time.process_time()
            if case == "miss":
                shop.invalidate([shop.actor(user, None)])
                started = time.process_time()
            else:
                shop.record_events([{"event_type": "view", "user_id": user,
                                     "item_id": rng.choice(items), "timestamp": time.time()}])
            surfaces.recommend(shop, user=user, session=None, k=10)
            if i >= 50:
                spent += time.process_time() - started
        out[case] = round(spent * 1000 / n, 3)
    return out


def _child(src: Path | None, args: argparse.Namespace) -> dict[str, float]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--home", str(args.home), "--n", str(args.n)],
        env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=HERE / ".serve-home")
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "recs_request_cpu.json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.home, args.n)))
        return
    this = Path(os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or HERE.parent / "src")
    codes: dict[str, Path | None] = {"this": this}
    if args.baseline_src is not None:
        codes = {"baseline": args.baseline_src.resolve(), **codes}
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in codes}
    for r in range(args.rounds):
        for name, src in codes.items():
            rounds[name].append(_child(src, args))
            print(f"round {r + 1} {name}: {rounds[name][-1]}", file=sys.stderr)
    report = _report(rounds)
    out = {"cpu_ms_per_call": rounds, "median": report, "load_avg": os.getloadavg(),
           "config": {k: str(v) for k, v in vars(args).items() if k != "child"},
           "codes": {k: str(v) for k, v in codes.items()},
           "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


def _report(rounds: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    """Print the table: each case's CPU ms per call in every round, medians, ratio."""
    cases = list(next(iter(rounds.values()))[0])
    medians = {name: {c: statistics.median(r[c] for r in runs) for c in cases}
               for name, runs in rounds.items()}
    print(f"{'case':<14}" + "".join(f"{name + ' (rounds)':>30}{'median':>9}" for name in rounds)
          + ("   this / baseline" if "baseline" in rounds else ""))
    for case in cases:
        line = f"{case:<14}"
        for name, runs in rounds.items():
            line += f"{', '.join(f'{r[case]:.2f}' for r in runs):>30}{medians[name][case]:>9.2f}"
        if "baseline" in rounds:
            line += f"   {medians['this'][case] / medians['baseline'][case]:.2f}"
        print(line)
    return medians


if __name__ == "__main__":
    main()
