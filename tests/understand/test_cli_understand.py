"""`shopsense understand` over a real SQLite store in a temporary data home."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shopsense.text.understand import default_tagger


def test_understand_command_learns_from_the_store(tmp_path: Path, demo_products: list,
                                                  monkeypatch) -> None:
    from shopsense.cli import app
    from shopsense.store import open_store

    home = tmp_path / "home"
    home.mkdir()
    store = open_store(f"sqlite:///{home / 'shop.db'}")
    store.upsert_products(demo_products[:800])
    monkeypatch.setenv("SHOPSENSE_SEARCH__ENCODER", "none")  # lexical only: fast to fit
    runner = CliRunner()
    args = ["--home", str(home), "understand", "格力空调 1.5匹 3000元以下", "--no-tagger", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    reading = json.loads(first.stdout)
    assert reading["category"]["value"] == "家电 > 空调"
    assert reading["brands"][0]["value"] == ["格力", "Gree"]
    assert reading["price_max"]["value"] == 3000.0
    cache = home / "models" / "understand"
    assert (cache / "lexicon.json").exists() and (cache / "fingerprint.json").exists()
    stamp = (cache / "lexicon.json").stat().st_mtime_ns
    second = runner.invoke(app, args)  # served from the cache, not refitted
    assert json.loads(second.stdout) == reading
    assert (cache / "lexicon.json").stat().st_mtime_ns == stamp
    human = runner.invoke(app, ["--home", str(home), "understand", "red dress", "--no-tagger"])
    assert human.exit_code == 0 and "red dress" in human.output


def test_default_tagger_trains_once_then_loads(tmp_path: Path) -> None:
    train = tmp_path / "train.txt"
    lines = []
    for brand, product in [("格力", "空调"), ("美的", "冰箱"), ("海尔", "空调")] * 4:
        lines += [f"{c} {'B' if i == 0 else 'I'}-HPPX" for i, c in enumerate(brand)]
        lines += [f"{c} {'B' if i == 0 else 'I'}-HCCX" for i, c in enumerate(product)] + [""]
    train.write_text("\n".join(lines), encoding="utf-8")
    model_dir = tmp_path / "tagger"
    assert default_tagger(model_dir, tmp_path / "missing.txt") is None  # degrade: lexicon only
    trained = default_tagger(model_dir, train)
    assert trained is not None and (model_dir / "tagger.crfsuite").exists()
    loaded = default_tagger(model_dir, tmp_path / "missing.txt")  # no data needed any more
    assert loaded.predict_labels(list("格力冰箱")) == trained.predict_labels(list("格力冰箱"))
