"""A real `shopsense serve --no-train` on loopback: retention runs on its own schedule (shown on
/readyz), the public key reads nothing personal, and a CLI erasure reaches the running
server's memory through the change feed within seconds, leaving nothing under the home."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from privacy_helpers import traces

from shopsense.ids import Pseudonymizer

RAW = "sam.server@example.com"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 300.0) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server exited")
        try:
            reply = httpx.get(url + "/readyz", timeout=2)
            if reply.status_code == 200:
                return reply.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError("server not ready")


def test_no_train_server_retention_tokens_and_cli_erasure(home: Path) -> None:
    port = _port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "SHOPSENSE_PRIVACY__RETENTION_DAYS": "20"}
    proc = subprocess.Popen([sys.executable, "-m", "shopsense.cli", "--home", str(home), "serve",
                             "--port", str(port), "--no-train"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        ready = _wait_ready(url, proc)
        retention = ready["retention"]  # ran at start, though this server never trains
        assert retention["finished"] >= retention["started"] > time.time() - 600
        assert retention["removed"]["events"] > 0 and retention["retention_days"] == 20
        public = {"X-API-Key": (home / "public-key.txt").read_text().strip()}
        admin = {"X-API-Key": (home / "admin-key.txt").read_text().strip()}
        models = httpx.get(url + "/v1/admin/models", headers=admin).json()
        assert models["retention"]["last_run"]["removed"]["events"] > 0
        item = "P00003"  # a demo product
        assert httpx.get(url + f"/v1/items/{item}", headers=public).status_code == 200
        posted = httpx.post(url + "/v1/events", headers=public, json=[
            {"user_id": RAW, "session_id": "web-sam-00001", "item_id": item,
             "event_type": "view"}])
        assert posted.json()["accepted"] == 1
        assert httpx.get(url + "/v1/recommend", params={"user": RAW},
                         headers=admin).json()["surface"] == "for_you"
        withheld = httpx.get(url + "/v1/recommend", params={"user": RAW}, headers=public).json()
        assert withheld["surface"] == "trending"  # the public key alone: a visitor's list
        assert withheld["personalisation_withheld"]["code"] == "shopper_token_required"
        denied = httpx.get(url + f"/v1/users/{RAW}/profile", headers=public)
        assert denied.status_code == 401 and "error" in denied.json()
        with httpx.Client(base_url=url, headers=public) as browser:  # the storefront's cookie
            assert browser.post("/web/session", json={"session_id": "web-sam-00001"}
                                ).status_code == 200
            assert browser.get("/v1/explain", params={"item": item, "session": "web-sam-00001"}
                               ).status_code in (200, 404)
        erased = subprocess.run([sys.executable, "-m", "shopsense.cli", "--home", str(home),
                                 "users", "forget", RAW, "--json"], capture_output=True,
                                text=True, check=True, env=env)
        assert json.loads(erased.stdout)["rows_removed"] == 2  # the event, the link
        deadline, surface = time.time() + 15, "for_you"
        while surface == "for_you" and time.time() < deadline:
            time.sleep(0.3)
            surface = httpx.get(url + "/v1/recommend", params={"user": RAW},
                                headers=admin).json()["surface"]
        assert surface != "for_you"  # the server heard the CLI's erasure
        assert httpx.get(url + f"/v1/users/{RAW}/profile", headers=admin).json()["events"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    pseudonyms = Pseudonymizer.from_home(home)
    assert traces(home, RAW, pseudonyms.user(RAW), pseudonyms.session("web-sam-00001")) == []
