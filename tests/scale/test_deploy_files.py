"""deploy/ stays consistent with the tested configuration: every SHOPSENSE_* variable the
compose file and the chart set is a real setting, and every command they run exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shopsense.config import Settings
from shopsense.scale.settings import ScaleSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
FILES = [DEPLOY / "compose.yaml", *sorted((DEPLOY / "helm").rglob("*.yaml"))]


def _known(name: str) -> bool:
    if name.startswith("SHOPSENSE_SCALE_"):
        return name.removeprefix("SHOPSENSE_SCALE_").lower() in ScaleSettings.model_fields
    section, _, key = name.removeprefix("SHOPSENSE_").lower().partition("__")
    field = Settings.model_fields.get(section)
    if field is None:
        return False
    return not key or key in type(field.default).model_fields


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_environment_names_are_settings(path: Path) -> None:
    names = set(re.findall(r"\b(SHOPSENSE_[A-Z_]+)\b", path.read_text()))
    assert all(_known(n) for n in names), sorted(n for n in names if not _known(n))


def test_commands_exist() -> None:
    text = "\n".join(p.read_text() for p in FILES)
    used = set(re.findall(r"shopsense,? scale,? (\w+)", text))
    assert used >= {"serve", "worker"}
    cli = (ROOT / "src" / "shopsense" / "cli" / "scale.py").read_text()
    defined = set(re.findall(r'@scale_app\.command\("(\w+)"\)', cli))
    assert used <= defined, used - defined
    assert "shopsense.cli.scale" in (ROOT / "src" / "shopsense" / "cli" / "__init__.py").read_text()
    assert not _known("SHOPSENSE_SCALE_NOSUCH") and not _known("SHOPSENSE_STORE__NOSUCH")
