"""The character CRF tagger: training, tagging, persistence, and its quality on Taobao NER."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopsense.text.tagger import CrfTagger, Sentence
from shopsense.text.tagger.evaluate import evaluate_files

REPO = Path(__file__).resolve().parents[2]
TAOBAO = REPO / ".." / "shared" / "data" / "chinese-ecommerce-ner-taobao"


def _sentence(parts: list[tuple[str, str]]) -> Sentence:
    chars, labels = [], []
    for text, kind in parts:
        for i, ch in enumerate(text):
            chars.append(ch)
            labels.append("O" if kind == "O" else ("B-" if i == 0 else "I-") + kind)
    return Sentence(tuple(chars), tuple(labels))


TOY = [_sentence(p) for p in [
    [("格力", "HPPX"), ("变频", "O"), ("空调", "HCCX"), ("白色", "O")],
    [("美的", "HPPX"), ("空调", "HCCX"), ("包邮", "O")],
    [("海尔", "HPPX"), ("冰箱", "HCCX"), ("双门", "O")],
    [("新款", "O"), ("美的", "HPPX"), ("冰箱", "HCCX")],
    [("格力", "HPPX"), ("冰箱", "HCCX")],
    [("海尔", "HPPX"), ("空调", "HCCX"), ("挂机", "O")],
] * 3]


def write_conll(path: Path, sentences: list[Sentence]) -> None:
    lines = []
    for s in sentences:
        lines += [f"{c} {label}" for c, label in zip(s.chars, s.labels, strict=True)] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")


def test_toy_tagger_learns_and_round_trips(tmp_path: Path) -> None:
    tagger = CrfTagger(max_iterations=50, seed=0).fit(TOY, tmp_path / "m")
    spans = [span for span, _ in tagger.predict("格力冰箱")]
    assert spans == [("HPPX", 0, 2), ("HCCX", 2, 4)]
    copy = tmp_path / "copy"
    tagger.save(copy)
    loaded = CrfTagger.load(copy)
    assert loaded.predict_labels(list("美的空调")) == tagger.predict_labels(list("美的空调"))
    assert all(0.0 <= p <= 1.0 for _, p in loaded.predict("海尔空调"))
    assert json.loads((copy / "config.json").read_text())["kind"] == "crf"


def test_fit_validation(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        CrfTagger().fit([], tmp_path)
    with pytest.raises(ValueError):
        CrfTagger(max_iterations=0).fit(TOY, tmp_path)
    with pytest.raises(ValueError):
        CrfTagger().fit([Sentence(("a",), ())], tmp_path)


def test_eval_command_on_any_conll_files(tmp_path: Path) -> None:
    from shopsense.cli import app

    train, test = tmp_path / "train.txt", tmp_path / "test.txt"
    write_conll(train, TOY)
    write_conll(test, TOY[:6])
    result = CliRunner().invoke(app, ["eval", "understand", "--train", str(train), "--test",
                                      str(test), "--iterations", "30", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    for key in ("brand", "product_type", "overall"):
        assert set(scores[key]) == {"precision", "recall", "f1"}
    assert scores["overall"]["f1"] == 1.0
    missing = CliRunner().invoke(app, ["eval", "understand", "--train", str(tmp_path / "no.txt"),
                                       "--test", str(test)])
    assert missing.exit_code != 0


@pytest.mark.slow
def test_taobao_dev_f1_floor() -> None:
    """Train on train.txt, score dev.txt (never trained on). Measured: overall F1 0.846 at 100
    iterations, 0.844 at 50 (benchmarks/README.md); 50 keeps this test near 30 s of CPU."""
    if not (TAOBAO / "train.txt").exists():
        pytest.skip("../shared/data/chinese-ecommerce-ner-taobao is not present")
    result = evaluate_files(TAOBAO / "train.txt", TAOBAO / "dev.txt", max_iterations=50)
    assert result["n_test"] == 998
    assert result["overall"]["f1"] >= 0.83
    assert result["product_type"]["f1"] >= 0.83
    assert result["brand"]["f1"] >= 0.76


def test_tagging_from_many_threads_agrees(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    tagger = CrfTagger(max_iterations=30).fit(TOY, tmp_path / "m")
    texts = ["格力冰箱", "美的空调白色", "新款海尔空调"] * 20
    expected = [tagger.predict(t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(tagger.predict, texts)) == expected
