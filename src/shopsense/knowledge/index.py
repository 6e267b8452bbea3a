"""Hybrid retrieval over knowledge passages: the search engine's BM25F keyword index and its
text encoder, fused by reciprocal rank, with an answerability test.

A passage is a document of the keyword index (heading -> the title field, passage text ->
description, the document's title -> category) and a vector of the encoder. A question is
*answered* by the best passage only when the passage holds one of the question's content
words (its words minus question words such as 什么 / what / policy) and is semantically close
(cosine >= `min_cosine_with_words`), or, with no shared word, is very close
(cosine >= `min_cosine_alone`); else the knowledge base has no answer, and the assistant says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shopsense.index.keyword import KeywordIndex
from shopsense.index.vector import ExactVectorIndex
from shopsense.store.knowledge import Passage
from shopsense.text.encoders import Encoder
from shopsense.text.tokenize import tokenize

FIELD_WEIGHTS = {"title": 1.0, "description": 0.6, "category": 0.2}
RRF_K = 20
# Words of asking, not of the subject: they never make a passage an answer on their own.
QUESTION_WORDS = frozenset(
    "你们 你 我 我们 店 本店 贵店 是 支持 什么 多久 多少 能 能不能 可以 可不可以 吗 呢 吧 有 有没有 怎么 "
    "怎么样 怎样 如何 哪些 哪里 几天 请问 一下 的 了 要 会 政策 规定 问题 "
    "what whats is are your you do does can could how long much many when where which who "
    "i my me we our the a an of for to in on and or policy policies rule rules question "
    "tell about please there any it this that be have has take us get".split())


@dataclass(frozen=True, slots=True)
class Hit:
    passage: Passage
    score: float  # fused (reciprocal rank)
    bm25: float
    cosine: float
    shared_words: tuple[str, ...]  # content words of the question the passage holds

    def to_dict(self) -> dict[str, object]:
        return {**self.passage.to_dict(), "score": round(self.score, 5),
                "bm25": round(self.bm25, 4), "cosine": round(self.cosine, 4),
                "shared_words": list(self.shared_words)}


def content_terms(text: str) -> list[str]:
    return [t for t in dict.fromkeys(tokenize(text)) if t not in QUESTION_WORDS and
            not (len(t) == 1 and t.isascii())]


class KnowledgeIndex:
    def __init__(self, passages: Sequence[Passage], encoder: Encoder | None = None, *,
                 min_cosine_with_words: float = 0.15, min_cosine_alone: float = 0.6) -> None:
        self.passages = list(passages)
        self.encoder = encoder
        self.min_cosine_with_words = min_cosine_with_words
        self.min_cosine_alone = min_cosine_alone
        self.keyword = KeywordIndex(FIELD_WEIGHTS)
        self.keyword.add([(p.passage_id, {"title": p.heading, "description": p.text,
                                          "category": p.title}) for p in self.passages])
        self.vector: ExactVectorIndex | None = None
        if encoder is not None and self.passages:
            self.vector = ExactVectorIndex(encoder.dim)
            self.vector.add([p.passage_id for p in self.passages],
                            encoder.encode_documents([f"{p.heading}\n{p.text}"
                                                      for p in self.passages]))
        self._by_id = {p.passage_id: p for p in self.passages}

    def __len__(self) -> int:
        return len(self.passages)

    def search(self, question: str, k: int = 3, language: str | None = None) -> list[Hit]:
        """The best `k` passages for `question`, best first (passages in `language` first
        among equals)."""
        if not self.passages or not question.strip():
            return []
        terms = content_terms(question)
        matches = self.keyword.score_matches(terms)
        bm25, matched = matches.dense()
        cos = np.zeros(len(self.passages), dtype=np.float32)
        if self.vector is not None and self.encoder is not None:
            cos = self.vector.scores(self.encoder.encode_query(question))[:len(self.passages)]
        fused = _rrf(bm25, bm25 > 0) + _rrf(cos, np.ones(len(cos), dtype=bool))
        if language:
            fused = fused + np.asarray([0.002 if p.language in (language, "") else 0.0
                                        for p in self.passages], dtype=np.float32)
        order = np.argsort(-fused, kind="stable")[:k]
        return [self._hit(int(r), float(fused[r]), float(bm25[r]), float(cos[r]), terms)
                for r in order if matched[r] > 0 or cos[r] > 0]

    def _hit(self, row: int, score: float, bm25: float, cosine: float,
             terms: list[str]) -> Hit:
        passage = self.passages[row]
        held = set(tokenize(f"{passage.heading} {passage.text} {passage.title}"))
        return Hit(passage, score, bm25, cosine, tuple(t for t in terms if t in held))

    def answers(self, hit: Hit, encoder_used: bool | None = None) -> bool:
        """Does this hit answer the question? (see the module docstring)"""
        if (self.vector is None) if encoder_used is None else not encoder_used:
            return bool(hit.shared_words) and hit.bm25 > 0
        if hit.shared_words:
            return hit.cosine >= self.min_cosine_with_words
        return hit.cosine >= self.min_cosine_alone

    def get(self, passage_id: str) -> Passage | None:
        return self._by_id.get(passage_id)


def _rrf(scores: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Reciprocal-rank scores: 1 / (RRF_K + rank) for eligible rows, 0 for the rest."""
    out = np.zeros(len(scores), dtype=np.float32)
    rows = np.flatnonzero(eligible)
    if len(rows) == 0:
        return out
    ranked = rows[np.argsort(-scores[rows], kind="stable")]
    out[ranked] = 1.0 / (RRF_K + np.arange(1, len(ranked) + 1, dtype=np.float32))
    return out
