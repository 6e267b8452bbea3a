"""Stored experiments end to end on the demo, through the API of a live server.

    python benchmarks/experiments_e2e.py [--home shopsense-data/xdemo] [--port 8701]
        [--sessions 3000] [--variant-sources popular]

1. the small demo (seed 7, 600 products, 150 shoppers, 30 days) is generated and loaded into
   `--home` (once; `shopsense demo run --no-serve --no-train`);
2. `shopsense serve --no-train` runs on 127.0.0.1:`--port` with an admin and a search key;
3. per kind (interleaving, then A/B): `POST /v1/admin/experiments` creates it on `for_you`
   (arm `learned`: what serves; arm `variant`: reciprocal-rank fusion over
   `--variant-sources`, a known-worse ranker), `shopsense demo simulate --experiment ID
   --sessions N` replays the demo's shoppers against the two live arms (a second process on
   the same store, through the same serving code), `GET …/report` reads the result from the
   server, `POST …/stop` stops it;
4. `GET /v1/admin/experiments` and `/admin` show both (the Experiments tab draws them).

Prints one JSON document: per experiment the simulation's counts and the report's verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

SHOPSENSE = [sys.executable, "-m", "shopsense.cli"]


def _cli(home: Path, *args: str) -> dict:
    out = subprocess.run([*SHOPSENSE, "--home", str(home), *args, "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"shopsense {' '.join(args)} failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(report: dict) -> dict:
    if report["kind"] == "interleaving":
        keys = ("lists", "lists_with_clicks", "wins", "ties", "preference", "preference_ci",
                "p_value", "significant", "detected_at", "winner", "balance")
        return {k: report[k] for k in keys}
    arms = {a: {k: s[k] for k in ("visitors", "lists", "ctr", "ctr_ci", "clicks", "clicks_ci",
                                   "conversion", "revenue")}
            for a, s in report["arms"].items()}
    return {"arms": arms, "sample_ratio": report["sample_ratio"],
            "comparisons": report["comparisons"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=Path("shopsense-data/xdemo"))
    parser.add_argument("--port", type=int, default=8701)
    parser.add_argument("--sessions", type=int, default=3000)
    parser.add_argument("--variant-sources", default="popular")
    args = parser.parse_args()
    home = args.home
    if not (home / "shop.db").exists():
        _cli(home, "demo", "run", "--products", "600", "--users", "150", "--days", "30",
             "--no-serve", "--no-train")
    admin = _cli(home, "keys", "create", "--scope", "admin")["key"]
    server = subprocess.Popen([*SHOPSENSE, "--home", str(home), "serve", "--no-train",
                               "--host", "127.0.0.1", "--port", str(args.port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
    out: dict = {"home": str(home), "sessions": args.sessions, "experiments": []}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=120,
                          headers={"X-API-Key": admin}) as http:
            for _ in range(600):
                try:
                    if http.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(1)
            for kind in ("interleaving", "ab"):
                out["experiments"].append(_run(http, home, kind, args))
            out["listed"] = [{k: x[k] for k in ("id", "kind", "status", "visitors")}
                             for x in http.get("/v1/admin/experiments").json()["experiments"]]
            page = http.get("/admin").text
            out["admin_page_has_tab"] = "/static/experiments.js" in page
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(out, ensure_ascii=False, indent=1))


def _run(http: httpx.Client, home: Path, kind: str, args: argparse.Namespace) -> dict:
    sources = args.variant_sources.split(",")
    body = {"name": f"learned vs fusion({'+'.join(sources)}) [{kind}]", "kind": kind,
            "surface": "for_you", "metric": "clicks",
            "arms": [{"name": "learned", "overlay": {}},
                     {"name": "variant", "overlay": {"ranker": "fusion", "sources": sources}}]}
    created = http.post("/v1/admin/experiments", json=body)
    created.raise_for_status()
    xid = created.json()["id"]
    started = time.perf_counter()
    sim = _cli(home, "demo", "simulate", "--experiment", xid, "--sessions",
               str(args.sessions), "--seed", "1")
    report = http.get(f"/v1/admin/experiments/{xid}/report").json()
    http.post(f"/v1/admin/experiments/{xid}/stop").raise_for_status()
    return {"id": xid, "kind": kind, "simulation": sim,
            "seconds": round(time.perf_counter() - started, 1), "report": _summary(report)}


if __name__ == "__main__":
    main()
