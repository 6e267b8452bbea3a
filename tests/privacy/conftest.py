"""A small demo home (the real generator and ingest path), copied fresh for each test."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from privacy_helpers import load_small_demo


@pytest.fixture(scope="session")
def demo_home_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("privacy-template") / "home"
    load_small_demo(home)
    return home


@pytest.fixture
def home(demo_home_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "home"
    shutil.copytree(demo_home_template, target)
    return target


