"""CoNLL reading, BIO spans and the entity-level metric against hand-computed counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopsense.text.tagger.conll import bio_spans, entity_scores, prf, read_conll


def test_bio_spans() -> None:
    labels = ["B-HPPX", "I-HPPX", "O", "B-HCCX", "I-HCCX", "I-HCCX", "B-HCCX", "I-XH"]
    assert bio_spans(labels) == [("HPPX", 0, 2), ("HCCX", 3, 6), ("HCCX", 6, 7), ("XH", 7, 8)]
    # An I- tag with no open span (or of another type) opens a new one (conlleval).
    assert bio_spans(["I-HCCX", "I-HPPX", "O"]) == [("HCCX", 0, 1), ("HPPX", 1, 2)]
    assert bio_spans(["O", "O"]) == []


def test_entity_scores_hand_computed() -> None:
    gold = [["B-HPPX", "I-HPPX", "O", "B-HCCX", "I-HCCX"],
            ["B-HCCX", "I-HCCX", "O", "B-HPPX", "B-XH"]]
    pred = [["B-HPPX", "I-HPPX", "O", "B-HCCX", "O"],      # brand right, product cut short
            ["B-HCCX", "I-HCCX", "O", "O", "B-XH"]]        # product right, brand missed
    scores = entity_scores(gold, pred, ["HPPX", "HCCX"])
    # brand: 1 right of 1 predicted, 2 gold -> P 1, R 0.5, F1 2/3
    assert scores["HPPX"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3})
    # product: 1 right of 2 predicted, 2 gold -> P R F1 all 0.5
    assert scores["HCCX"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5})
    # overall (XH ignored): 2 right, 3 predicted, 4 gold
    overall = prf(2, 3, 4)
    assert scores["overall"] == pytest.approx(overall)
    assert overall["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))


def test_entity_scores_rejects_length_mismatch() -> None:
    with pytest.raises(ValueError):
        entity_scores([["O", "O"]], [["O"]], ["HPPX"])


def test_read_conll(tmp_path: Path) -> None:
    path = tmp_path / "tiny.txt"
    path.write_text("格 B-HPPX\n力 I-HPPX\n空 B-HCCX\n调 I-HCCX\n\n  O\nA B-XH\n", encoding="utf-8")
    sentences = read_conll(path)
    assert [s.text for s in sentences] == ["格力空调", " A"]
    assert sentences[0].labels == ("B-HPPX", "I-HPPX", "B-HCCX", "I-HCCX")
    bad = tmp_path / "bad.txt"
    bad.write_text("格\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.txt:1"):
        read_conll(bad)
