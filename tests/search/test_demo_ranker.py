"""The ranker that serves the demo is the one training produced: `shopsense train --all` (what
the demo's background trainer runs) trains the search ranker from the demo's click log, a real
server over that home answers with `ranker: "lambdamart"`, and /v1/admin/models carries the
held-out figures of the trained ranker and of the blend (the /admin models tab shows them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.conftest import load_small_demo
from tests.service.conftest import Server

pytestmark = pytest.mark.long  # a full `train --all` of the demo: minutes (make test-long)


@pytest.fixture(scope="module")
def trained_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    home = tmp_path_factory.mktemp("demo-ranker")
    load_small_demo(home)
    done = subprocess.run(
        [sys.executable, "-m", "shopsense.cli", "--home", str(home), "train", "--all",
         "--json", "--max-minutes", "0.2"],
        env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
        timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return home, json.loads(done.stdout)


@pytest.mark.slow
def test_training_reports_both_held_out_figures_and_keeps_the_winner(trained_home) -> None:  # type: ignore[no-untyped-def]
    _, summary = trained_home
    search = summary["search"]
    figures = search["held_out_ndcg10"]
    assert search["logged_queries"] >= 30 and search["queries_used"] >= 30
    assert {"model", "blend", "bm25f"} <= set(figures)
    assert search["serving"] == "lambdamart", search  # the demo's log teaches the ranker
    assert figures["model"] >= figures["blend"]


@pytest.mark.slow
def test_the_server_answers_with_the_trained_ranker(trained_home) -> None:  # type: ignore[no-untyped-def]
    home, summary = trained_home
    server = Server(home, args=("--no-train",)).start(timeout=300)
    key = {"X-API-Key": (home / "admin-key.txt").read_text().strip()}  # written by serve
    try:
        deadline = time.time() + 600  # /healthz answers at once; the models load after
        while httpx.get(server.url + "/readyz", timeout=30).status_code != 200:
            assert time.time() < deadline, "the server never became ready"
            time.sleep(2)
        for query in ("空调", "laptop", "便宜的耳机"):
            answer = httpx.get(server.url + "/v1/search", params={"q": query}, headers=key,
                               timeout=60)
            assert answer.status_code == 200, answer.text
            assert answer.json()["ranker"] == "lambdamart", (query, answer.json()["ranker"])
        models = httpx.get(server.url + "/v1/admin/models", headers=key, timeout=60).json()
        assert models["search_ranker"] == "lambdamart"
        held_out = models["info"]["search"]["held_out_ndcg10"]
        assert held_out == summary["search"]["held_out_ndcg10"]
        assert held_out["model"] >= held_out["blend"] > 0
    finally:
        server.stop()
