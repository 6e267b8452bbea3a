"""Shopping assistant benchmark: the scripted dialogue suite, seeded random dialogues, turn
latency per act, and the guarded generator's fallback rate, on a demo store.

    python benchmarks/assistant.py                 # small demo (600 products), ~1 min
    python benchmarks/assistant.py --size full     # the full demo store (3,200 products)

Prints a table and writes benchmarks/results/assistant[-full].json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
DIALOGUES = REPO / "tests" / "assistant" / "dialogues.jsonl"
SIZES = {"small": {"n_products": 600, "n_users": 150, "days": 30},
         "full": {"n_products": 3200, "n_users": 1200, "days": 60}}


def build_shop(home: Path, size: dict[str, int], seed: int) -> Any:
    from shopsense.config import Settings
    from shopsense.demo import generate_demo
    from shopsense.ids import Pseudonymizer, ensure_secret
    from shopsense.ingest.pipeline import ingest_file
    from shopsense.pipeline.shop import Shop
    from shopsense.store import open_store
    from shopsense.training.lifecycle import quick_models

    paths = generate_demo(home / "demo", seed=seed, **size)
    ensure_secret(home)
    store = open_store(f"sqlite:///{home / 'shop.db'}")
    ingest_file(paths.products, "catalog", catalog=store, rejects_dir=home / "rejects")
    ingest_file(paths.events, "events", events=store, pseudonyms=Pseudonymizer.from_home(home),
                rejects_dir=home / "rejects")
    store.close()
    shop = Shop(Settings(home=home))
    shop.swap_models(quick_models(shop))
    from shopsense.demo.policy import POLICY_DOCUMENT
    from shopsense.knowledge import KnowledgeBase
    from shopsense.store.knowledge import knowledge_repository

    KnowledgeBase(knowledge_repository(shop.store)).load_file(POLICY_DOCUMENT)  # as demo run
    return shop


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def random_walks(assistant: Any, pool: list[str], n: int, seed: int) -> dict[str, Any]:
    from shopsense.assistant.suite import check_turn

    rng = random.Random(seed)
    timings: dict[str, list[float]] = {}
    bad = turns = 0
    for d in range(n):
        conversation = None
        for _ in range(rng.randint(2, 5)):
            start = time.perf_counter()
            reply = assistant.chat(rng.choice(pool), conversation_id=conversation,
                                   session=f"walk-{d}")
            timings.setdefault(reply["act"], []).append((time.perf_counter() - start) * 1000)
            conversation = reply["conversation_id"]
            problems, invented = check_turn(assistant, reply)
            bad += bool(problems or invented or reply["source"] != "template")
            turns += 1
    every = [t for values in timings.values() for t in values]
    return {"dialogues": n, "turns": turns, "failed_checks": bad,
            "latency_ms": {"p50": round(percentile(every, 0.5), 1),
                           "p95": round(percentile(every, 0.95), 1),
                           "max": round(max(every), 1)},
            "by_act": {act: {"turns": len(v), "p50_ms": round(percentile(v, 0.5), 1),
                             "p95_ms": round(percentile(v, 0.95), 1)}
                       for act, v in sorted(timings.items())}}


class _Inventing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        draft = body["messages"][-1]["content"].split("Draft:\n", 1)[1]
        text = draft + "\n限时直降 200元！"
        out = json.dumps({"choices": [{"message": {"content": text}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: Any) -> None:
        pass


def generator_fallback(shop: Any, messages: list[str]) -> dict[str, Any]:
    """An OpenAI-compatible fake that appends an invented price: how often is it caught?"""
    from shopsense.assistant import Assistant, OpenAICompatibleGenerator

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Inventing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    assistant = Assistant(shop, generator=OpenAICompatibleGenerator(url, timeout_s=5))
    sources = [assistant.chat(m, session="gen")["source"] for m in messages]
    server.shutdown()
    server.server_close()
    return {"turns": len(sources), "fell_back": sources.count("template_fallback"),
            "shown_from_generator": sources.count("openai")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--walks", type=int, default=200)
    args = parser.parse_args()
    from shopsense.assistant import Assistant
    from shopsense.assistant.suite import load_dialogues, run_suite

    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        start = time.perf_counter()
        shop = build_shop(Path(tmp), SIZES[args.size], args.seed)
        build_s = time.perf_counter() - start
        assistant = Assistant(shop, generator=None)
        assistant.chat("warm up", session="warm")  # loads the understander's encoder once
        dialogues = load_dialogues(DIALOGUES)
        suite = run_suite(assistant, dialogues).to_dict()
        pool = [t["say"] for d in dialogues for t in d["turns"]]
        walks = random_walks(assistant, pool, args.walks, args.seed)
        generator = generator_fallback(shop, pool[:30])
    result = {"size": args.size, "seed": args.seed, "products": SIZES[args.size]["n_products"],
              "build_seconds": round(build_s, 1), "suite": suite, "random_walks": walks,
              "generator_inventing_fake": generator}
    print(f"| demo | dialogues | turns | pass rate | invented | random turns | failed checks "
          f"| p50 ms | p95 ms | fake-LLM caught |\n|---|---|---|---|---|---|---|---|---|---|\n"
          f"| {args.size} | {suite['dialogues']} | {suite['turns']} | {suite['pass_rate']:.1%} "
          f"| {suite['invented_facts']} | {walks['turns']} | {walks['failed_checks']} "
          f"| {walks['latency_ms']['p50']} | {walks['latency_ms']['p95']} "
          f"| {generator['fell_back']}/{generator['turns']} |")
    for act, row in walks["by_act"].items():
        print(f"  {act:10s} {row['turns']:5d} turns  p50 {row['p50_ms']:7.1f} ms  "
              f"p95 {row['p95_ms']:7.1f} ms")
    name = "assistant.json" if args.size == "small" else f"assistant-{args.size}.json"
    out = REPO / "benchmarks" / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
