"""CoNLL-style character files and entity-level (exact span) scoring.

Answers: how to read `char label` files (BIO tags, blank line between texts), how to turn a
label sequence into typed spans, and what entity-level precision / recall / F1 two span
sets give.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

Span = tuple[str, int, int]  # (entity type, start, end) with end exclusive


@dataclass(frozen=True, slots=True)
class Sentence:
    """One text of a CoNLL file: its characters and their BIO labels (same length)."""

    chars: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.chars)


def read_conll(path: str | Path) -> list[Sentence]:
    """Read a `char label` file; a line whose char is a space reads as `' '`.

    Raises ValueError (with the line number) on a line that has no label.
    """
    sentences: list[Sentence] = []
    chars: list[str] = []
    labels: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip():
                if chars:
                    sentences.append(Sentence(tuple(chars), tuple(labels)))
                    chars, labels = [], []
                continue
            head, sep, label = line.rpartition(" ")
            if not sep:
                head, sep, label = line.rpartition("\t")
            if not sep or not label:
                raise ValueError(f"{path}:{number}: expected 'char label', got {line!r}")
            chars.append(head[:1] if head else " ")
            labels.append(label)
    if chars:
        sentences.append(Sentence(tuple(chars), tuple(labels)))
    return sentences


def bio_spans(labels: Sequence[str]) -> list[Span]:
    """Typed spans of a BIO (or BIOES / IOB1-tolerant) label sequence.

    An I- tag whose type differs from the open span (or with no open span) starts a new span,
    the usual conlleval convention.
    """
    spans: list[Span] = []
    kind: str | None = None
    start = 0
    for i, label in enumerate(labels):
        prefix, _, tag = label.partition("-")
        if label == "O" or not tag:
            if kind is not None:
                spans.append((kind, start, i))
            kind = None
            continue
        if prefix in ("B", "S") or tag != kind:
            if kind is not None:
                spans.append((kind, start, i))
            kind, start = tag, i
        if prefix in ("E", "S"):
            spans.append((kind, start, i + 1))
            kind = None
    if kind is not None:
        spans.append((kind, start, len(labels)))
    return spans


def prf(n_correct: int, n_pred: int, n_gold: int) -> dict[str, float]:
    """Precision, recall and F1 from counts; 0.0 where a denominator is 0."""
    precision = n_correct / n_pred if n_pred else 0.0
    recall = n_correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def entity_scores(
    gold: Iterable[Sequence[str]],
    pred: Iterable[Sequence[str]],
    types: Sequence[str],
) -> dict[str, dict[str, float]]:
    """Exact-span scores per type and micro-averaged over `types` (key "overall").

    gold / pred: label sequences of the same texts, pairwise of equal length.
    """
    wanted = set(types)
    counts = {t: [0, 0, 0] for t in types}  # correct, predicted, gold
    for gold_labels, pred_labels in zip(gold, pred, strict=True):
        if len(gold_labels) != len(pred_labels):
            raise ValueError("gold and predicted label sequences differ in length")
        gold_spans = {s for s in bio_spans(gold_labels) if s[0] in wanted}
        pred_spans = {s for s in bio_spans(pred_labels) if s[0] in wanted}
        for span in pred_spans:
            counts[span[0]][1] += 1
            if span in gold_spans:
                counts[span[0]][0] += 1
        for span in gold_spans:
            counts[span[0]][2] += 1
    scores = {t: prf(*counts[t]) for t in types}
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    scores["overall"] = prf(*total)
    return scores
