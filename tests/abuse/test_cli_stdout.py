"""Every CLI command prints its result on stdout and its progress and logs on stderr, so
`KEY=$(shopsense keys create --scope search)` and `shopsense stats --json | jq` work
(issue #15, item 12). Each command runs as a real subprocess over a small demo home."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import load_small_demo


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli-stdout")
    load_small_demo(home)
    return home


def run(home: Path, *args: str, stdin: str | None = None,
        ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "60"}
    done = subprocess.run([sys.executable, "-m", "shopsense.cli", "--home", str(home), *args],
                          capture_output=True, text=True, env=env, input=stdin, timeout=900)
    assert (done.returncode == 0) == ok, done.stderr[-2000:]
    return done


def test_an_error_goes_to_stderr_and_leaves_stdout_empty(home: Path) -> None:
    """`recommend` on a home nobody trained: a non-zero exit, the reason on stderr only."""
    done = run(home, "recommend", "--surface", "trending", ok=False)
    assert done.stdout == ""
    assert "shopsense train" in done.stderr


def test_a_created_key_is_the_whole_of_stdout(home: Path) -> None:
    done = run(home, "keys", "create", "--scope", "search")
    assert re.fullmatch(r"ssk_\w+_[\w-]+\n", done.stdout), done.stdout  # KEY=$(...) works
    assert "ssk_" not in done.stderr
    key_id = done.stdout.split("_")[1]
    revoked = run(home, "keys", "revoke", key_id)
    assert key_id in revoked.stdout or "revoked" in revoked.stdout.lower()
    as_json = json.loads(run(home, "keys", "create", "--scope", "admin", "--json").stdout)
    assert as_json["scope"] == "admin" and as_json["key"].startswith("ssk_")


_MODEL_BUILDING = pytest.mark.slow  # builds the index / reader from the store (minutes)


@pytest.mark.parametrize("args, expect", [
    (("stats",), "products"),
    (("rules", "show"), "{"),
    (("users", "forget", "nobody-at-all"), "0"),
    pytest.param(("search", "空调"), "空调", marks=_MODEL_BUILDING),
    pytest.param(("suggest", "空"), "空", marks=_MODEL_BUILDING),
    # --no-tagger: the CRF tagger trains on first use (90 s); this test is about stdout
    pytest.param(("understand", "格力空调 1.5匹 不要美的", "--no-tagger"), "格力",
                 marks=_MODEL_BUILDING),
])
def test_human_results_go_to_stdout(home: Path, args: tuple[str, ...], expect: str) -> None:
    done = run(home, *args)
    assert expect in done.stdout, (done.stdout, done.stderr[-500:])
    long_line = max(done.stdout.splitlines(), key=len, default="")
    assert "\n" not in long_line  # a result line is never wrapped at the terminal width


@pytest.mark.parametrize("args", [
    ("stats", "--json"), ("users", "forget", "nobody-at-all", "--json"),
    pytest.param(("search", "空调", "--json"), marks=_MODEL_BUILDING),
    pytest.param(("suggest", "空", "--json"), marks=_MODEL_BUILDING),
    pytest.param(("understand", "华为手机 不要苹果", "--no-tagger", "--json"),
                 marks=_MODEL_BUILDING),
])
def test_json_results_are_the_whole_of_stdout(home: Path, args: tuple[str, ...]) -> None:
    done = run(home, *args)
    json.loads(done.stdout)  # nothing else on stdout: `| jq` works


def test_ingest_progress_goes_to_stderr_and_the_summary_to_stdout(home: Path,
                                                                  tmp_path: Path) -> None:
    events = tmp_path / "more.jsonl"
    events.write_text(json.dumps({"user_id": "cli-u", "item_id": "zz9", "event_type": "view",
                                  "timestamp": "2026-01-01T00:00:00Z"}) + "\n")
    done = run(home, "ingest", "events", str(events), "--json")
    assert json.loads(done.stdout)["accepted"] == 1
    human = run(home, "ingest", "events", str(events))
    assert "accepted" in human.stdout


def test_errors_go_to_stderr_with_a_failing_status(home: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "shopsense.cli", "--home", str(home), "keys",
                           "create", "--scope", "root[bold]"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode != 0 and done.stdout == ""
    assert "--scope must be one of" in done.stderr
