"""A field-weighted BM25 (BM25F) inverted index that takes additions and removals in place.

Scoring: for each query term t, `idf(t) * tf~ / (k1 + tf~)` with
`tf~ = sum_f w_f * tf_f / (1 - b + b * len_f / avglen_f)` over the fields (title, brand, category,
description, attributes). The saturated part depends only on the document, so it is stored as a
sparse docs x terms matrix per segment; idf is applied at query time from live document
frequencies, so additions and removals change scores at once without a rebuild.

Documents live in append-only segments; an upsert tombstones the old row and appends the new one
to a small tail segment, which is merged into the main one once it grows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from shopsense.index.field_counts import FieldCounts
from shopsense.index.grams import trigram_ids
from shopsense.index.keyword_matches import KeywordMatches
from shopsense.index.keyword_matches import top_k as top_k  # re-exported
from shopsense.index.ragged import Ragged
from shopsense.text.tokenize import tokenize

FIELDS: tuple[str, ...] = ("title", "brand", "category", "description", "attributes")
DEFAULT_FIELD_WEIGHTS: dict[str, float] = {
    "title": 1.0, "brand": 0.8, "category": 0.6, "description": 0.25, "attributes": 0.4,
}


@dataclass
class _Segment:
    """Rows [start, start + n) of the index; matrices are n x vocab-size-at-build."""

    start: int
    saturated: sp.csc_matrix  # BM25F saturated tf, for scoring
    field_tf: dict[str, sp.csr_matrix]  # raw term counts per field, for features / evidence

    def __post_init__(self) -> None:  # the fields' counts in one buffer (read in one pass)
        self.counts = FieldCounts(self.field_tf)
        self.field_tf = self.counts.tf

    @property
    def n(self) -> int:
        return int(self.saturated.shape[0])


class KeywordIndex:
    """BM25F over product fields. Terms are `text.tokenize` terms."""

    def __init__(self, field_weights: Mapping[str, float] | None = None, *, k1: float = 1.2,
                 b: float = 0.75, merge_fraction: float = 0.05,
                 analyzer: Callable[[str], list[str]] | None = None) -> None:
        weights = dict(DEFAULT_FIELD_WEIGHTS if field_weights is None else field_weights)
        unknown = set(weights) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}; known: {FIELDS}")
        if k1 <= 0 or not 0 <= b <= 1:
            raise ValueError("need k1 > 0 and 0 <= b <= 1")
        self.field_weights = weights
        self.k1 = k1
        self.b = b
        self.merge_fraction = merge_fraction
        self.analyzer = analyzer or tokenize  # a custom analyzer is not saved
        self.vocab_: dict[str, int] = {}
        self.terms_: list[str] = []  # id -> term
        self.df_ = np.zeros(0, dtype=np.int64)
        self.item_ids_: list[str] = []
        self.row_of_: dict[str, int] = {}
        self.alive_ = np.zeros(0, dtype=bool)
        self._n_alive = 0  # alive_.sum(), kept current (idf needs it on every query)
        self.field_len_: dict[str, np.ndarray] = {f: np.zeros(0, np.float32) for f in weights}
        self.avglen_: dict[str, float] = {}
        self.segments_: list[_Segment] = []
        self.title_seq_ = Ragged()  # title term ids in order, per row
        self.title_grams_ = Ragged()  # hashed title character trigrams, per row

    # ---- building -------------------------------------------------------------------------
    @property
    def n_alive(self) -> int:
        return self._n_alive

    def _term_ids(self, terms: Iterable[str], grow: bool) -> list[int]:
        ids = []
        for t in terms:
            i = self.vocab_.get(t)
            if i is None and grow:
                i = self.vocab_[t] = len(self.vocab_)
                self.terms_.append(t)
            if i is not None:
                ids.append(i)
        return ids

    def add(self, docs: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        """Add or replace documents: `(item_id, {field: text})`; unknown fields are ignored."""
        if not docs:
            return
        if "title" not in self.field_weights:
            raise ValueError("the title field is required")
        self.remove([item_id for item_id, _ in docs])
        start = len(self.item_ids_)
        field_rows: dict[str, tuple[list[int], list[int], list[float]]] = {
            f: ([], [], []) for f in self.field_weights
        }
        lengths: dict[str, list[float]] = {f: [] for f in self.field_weights}
        for r, (item_id, fields) in enumerate(docs):
            self.row_of_[item_id] = start + r
            self.item_ids_.append(item_id)
            for f in self.field_weights:
                text = fields.get(f, "") or ""
                ids = self._term_ids(self.analyzer(text), grow=True) if text else []
                if f == "title":
                    self.title_seq_.append(np.asarray(ids, dtype=np.int32))
                    self.title_grams_.append(trigram_ids(text))
                counts = Counter(ids)
                lengths[f].append(float(sum(counts.values())))
                rows, cols, vals = field_rows[f]
                rows.extend([r] * len(counts))
                cols.extend(counts.keys())
                vals.extend(counts.values())
        n, vocab = len(docs), len(self.vocab_)
        field_tf = {f: sp.csr_matrix((v, (r, c)), shape=(n, vocab), dtype=np.float32)
                    for f, (r, c, v) in field_rows.items()}
        for f in self.field_weights:
            self.field_len_[f] = np.concatenate([self.field_len_[f],
                                                 np.asarray(lengths[f], np.float32)])
        self.alive_ = np.concatenate([self.alive_, np.ones(n, dtype=bool)])
        self._n_alive += n
        if not self.avglen_ or start == 0:
            self._set_avglen()
        self.df_ = np.concatenate([self.df_, np.zeros(vocab - len(self.df_), np.int64)])
        present = sum((m > 0).astype(np.int8) for m in field_tf.values())
        self.df_ += np.asarray((present > 0).sum(axis=0)).ravel().astype(np.int64)
        self.segments_.append(_Segment(start, self._saturate(field_tf, start), field_tf))
        self._maybe_merge()

    def _set_avglen(self) -> None:
        alive = self.alive_
        self.avglen_ = {f: float(lens[alive].mean()) if alive.any() and lens[alive].mean() > 0
                        else 1.0 for f, lens in self.field_len_.items()}

    def _saturate(self, field_tf: Mapping[str, sp.csr_matrix], start: int) -> sp.csc_matrix:
        total: sp.csr_matrix | None = None
        for f, tf in field_tf.items():
            lens = self.field_len_[f][start:start + tf.shape[0]]
            norm = self.field_weights[f] / (1 - self.b + self.b * lens / self.avglen_[f])
            part = sp.diags(norm.astype(np.float32)) @ tf
            total = part if total is None else total + part
        assert total is not None
        total = total.tocsr()
        total.data = total.data / (self.k1 + total.data)
        return total.tocsc()

    def remove(self, item_ids: Iterable[str]) -> int:
        """Tombstone documents; their terms stop counting in df at once. Returns rows removed."""
        removed = 0
        for item_id in item_ids:
            row = self.row_of_.pop(item_id, None)
            if row is None or not self.alive_[row]:
                continue
            self.alive_[row] = False
            self._n_alive -= 1
            seg = self._segment_of(row)
            local = row - seg.start
            cols = set()
            for tf in seg.field_tf.values():
                cols.update(tf.indices[tf.indptr[local]:tf.indptr[local + 1]].tolist())
            self.df_[list(cols)] -= 1
            removed += 1
        return removed

    def _segment_of(self, row: int) -> _Segment:
        for seg in reversed(self.segments_):
            if row >= seg.start:
                return seg
        raise IndexError(row)

    def _maybe_merge(self, force: bool = False) -> None:
        if len(self.segments_) < 2:
            return
        tail = sum(s.n for s in self.segments_[1:])
        if not force and tail < max(1000, self.merge_fraction * self.segments_[0].n):
            return
        vocab = len(self.vocab_)

        def widen(m: sp.spmatrix) -> sp.csr_matrix:
            m = m.tocsr()
            m.resize((m.shape[0], vocab))
            return m

        saturated = sp.vstack([widen(s.saturated) for s in self.segments_]).tocsc()
        field_tf = {f: sp.vstack([widen(s.field_tf[f]) for s in self.segments_]).tocsr()
                    for f in self.field_weights}
        self.segments_ = [_Segment(0, saturated, field_tf)]

    # ---- querying -------------------------------------------------------------------------
    def idf(self, term_ids: np.ndarray) -> np.ndarray:
        n = max(self.n_alive, 1)
        df = self.df_[term_ids].astype(np.float64)
        return np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)

    def query_term_ids(self, terms: Iterable[str]) -> np.ndarray:
        """Distinct known term ids of a query, in first-seen order."""
        seen: dict[int, None] = {}
        for i in self._term_ids(terms, grow=False):
            seen.setdefault(i, None)
        return np.fromiter(seen, dtype=np.int64, count=len(seen))

    def score_matches(self, terms: Sequence[str]) -> KeywordMatches:
        """BM25F of the live rows holding at least one query term, read from the terms'
        postings only: the cost follows those postings, not the catalogue size."""
        ids = self.query_term_ids(terms)
        if ids.size == 0:
            return KeywordMatches.none(len(self.item_ids_))
        rows_parts, score_parts = [], []
        for seg in self.segments_:
            sat = seg.saturated
            for term, weight in zip(ids.tolist(), self.idf(ids).tolist(), strict=True):
                if term < sat.shape[1]:
                    a, b = sat.indptr[term], sat.indptr[term + 1]
                    rows_parts.append(sat.indices[a:b].astype(np.int64) + seg.start)
                    score_parts.append(sat.data[a:b] * np.float32(weight))
        if not rows_parts:
            return KeywordMatches.none(len(self.item_ids_))
        if len(rows_parts) == 1:  # one posting list: already ascending, one term a row
            rows, scores = rows_parts[0], score_parts[0]
            matched = np.ones(len(rows), dtype=np.int32)
        else:
            rows, scores, matched = _sum_postings(rows_parts, score_parts,
                                                  len(self.item_ids_))
        live = self.alive_[rows]
        return KeywordMatches(rows[live], scores[live].astype(np.float32), matched[live],
                              len(self.item_ids_))

    def score_all(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """BM25F score and number of matched query terms of every row (dead rows score 0).

        Returns two arrays of shape (n_rows,)."""
        return self.score_matches(terms).dense()

    def search(self, terms: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` rows by BM25F (only rows matching a term), best first: (rows, scores)."""
        return self.score_matches(terms).top(k)

    def term_counts(self, field: str, rows: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Dense (len(rows), len(ids)) counts of terms `ids` in `field` of `rows`."""
        return self.field_counts(rows, ids, (field,))[0]

    def field_counts(self, rows: np.ndarray, ids: np.ndarray,
                     fields: Sequence[str] | None = None) -> np.ndarray:
        """Dense (len(fields), len(rows), len(ids)) counts of the distinct terms `ids` in each
        of `fields` (default: every field, in `self.field_weights` order) of `rows`."""
        names = list(self.field_weights if fields is None else fields)
        out = np.zeros((len(names), len(rows), len(ids)), dtype=np.float32)
        for seg in self.segments_:
            in_seg = np.flatnonzero((rows >= seg.start) & (rows < seg.start + seg.n))
            if in_seg.size and ids.size:
                field, found, col, count = seg.counts.entries(
                    rows[in_seg] - seg.start, ids, [seg.counts.fields.index(f) for f in names])
                out[field, in_seg[found], col] = count
        return out

    def field_features(self, terms: Sequence[str], rows: Sequence[int] | np.ndarray,
                       with_evidence: bool = True
                       ) -> tuple[np.ndarray, list[dict[str, list[str]]]]:
        """Per-field plain BM25 of `rows` for the query (shape (len(rows), n_fields), fields in
        `self.field_weights` order) and, per row, the query terms matched in each field."""
        rows = np.asarray(rows, dtype=np.int64)
        ids = self.query_term_ids(terms)
        out = np.zeros((len(rows), len(self.field_weights)), dtype=np.float32)
        evidence: list[dict[str, list[str]]] = [{} for _ in range(len(rows))]
        if ids.size == 0 or rows.size == 0:
            return out, evidence
        idf = self.idf(ids)
        counts = self.field_counts(rows, ids)  # (fields, rows, ids)
        fields = list(self.field_weights)
        lengths = np.stack([self.field_len_[f][rows] for f in fields])
        avglen = np.asarray([self.avglen_[f] for f in fields], dtype=lengths.dtype)[:, None]
        norm = 1 - self.b + self.b * lengths / avglen
        sat = np.nan_to_num(counts * (self.k1 + 1) / (counts + self.k1 * norm[:, :, None]))
        for fi in np.flatnonzero(counts.any(axis=(1, 2))).tolist():
            out[:, fi] = (sat[fi] * idf).sum(axis=1)  # per row: no BLAS blocking by row count
        if with_evidence:
            evidence = self._matched(counts, ids)
        return out, evidence

    def field_matches(self, terms: Sequence[str], rows: Sequence[int] | np.ndarray
                      ) -> list[dict[str, list[str]]]:
        """`field_features`' evidence alone: per row, the query terms matched in each field."""
        rows = np.asarray(rows, dtype=np.int64)
        ids = self.query_term_ids(terms)
        if ids.size == 0 or rows.size == 0:
            return [{} for _ in range(len(rows))]
        return self._matched(self.field_counts(rows, ids), ids)

    def _matched(self, counts: np.ndarray, ids: np.ndarray) -> list[dict[str, list[str]]]:
        fields = list(self.field_weights)
        evidence: list[dict[str, list[str]]] = [{} for _ in range(counts.shape[1])]
        for fi, j, c in zip(*np.nonzero(counts), strict=True):
            evidence[j].setdefault(fields[fi], []).append(self.terms_[ids[c]])
        return evidence

    # ---- persistence ----------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write config.json, vocab.json and .npz/.npy arrays (no pickle)."""
        directory.mkdir(parents=True, exist_ok=True)
        self._maybe_merge(force=True)
        config = {"field_weights": self.field_weights, "k1": self.k1, "b": self.b,
                  "merge_fraction": self.merge_fraction, "avglen": self.avglen_}
        (directory / "config.json").write_text(json.dumps(config))
        (directory / "vocab.json").write_text(json.dumps(
            {"vocab": self.terms_, "item_ids": self.item_ids_}, ensure_ascii=False))
        np.save(directory / "df.npy", self.df_)
        np.save(directory / "alive.npy", self.alive_)
        for f, lens in self.field_len_.items():
            np.save(directory / f"len_{f}.npy", lens)
        lengths = np.asarray([len(t) for t in self.title_seq_], dtype=np.int64)
        np.save(directory / "title_seq.npy", np.concatenate(self.title_seq_)
                if self.title_seq_ else np.zeros(0, np.int32))
        np.save(directory / "title_seq_len.npy", lengths)
        _save_ragged(directory, "title_grams", self.title_grams_)
        if self.segments_:
            seg = self.segments_[0]
            sp.save_npz(directory / "saturated.npz", seg.saturated)
            for f, tf in seg.field_tf.items():
                sp.save_npz(directory / f"tf_{f}.npz", tf)

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        config = json.loads((directory / "config.json").read_text())
        index = cls(config["field_weights"], k1=config["k1"], b=config["b"],
                    merge_fraction=config["merge_fraction"])
        names = json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
        index.terms_ = list(names["vocab"])
        index.vocab_ = {t: i for i, t in enumerate(index.terms_)}
        index.item_ids_ = list(names["item_ids"])
        index.df_ = np.load(directory / "df.npy")
        index.alive_ = np.load(directory / "alive.npy")
        index._n_alive = int(index.alive_.sum())
        index.row_of_ = {i: r for r, i in enumerate(index.item_ids_) if index.alive_[r]}
        index.field_len_ = {f: np.load(directory / f"len_{f}.npy") for f in index.field_weights}
        index.avglen_ = config["avglen"]
        index.title_seq_ = Ragged.from_flat(np.load(directory / "title_seq.npy"),
                                            np.load(directory / "title_seq_len.npy"))
        index.title_grams_ = _load_ragged(directory, "title_grams", len(index.item_ids_))
        if (directory / "saturated.npz").exists():
            field_tf = {f: sp.load_npz(directory / f"tf_{f}.npz").tocsr()
                        for f in index.field_weights}
            saturated = sp.load_npz(directory / "saturated.npz").tocsc()
            saturated.sort_indices()  # score_matches reads a posting list as ascending rows
            index.segments_ = [_Segment(0, saturated, field_tf)]
        return index


def _save_ragged(directory: Path, name: str, arrays: Ragged) -> None:
    np.save(directory / f"{name}.npy", np.concatenate(arrays) if arrays else
            np.zeros(0, np.int32))
    np.save(directory / f"{name}_len.npy", np.asarray([len(a) for a in arrays], np.int64))


def _load_ragged(directory: Path, name: str, rows: int) -> Ragged:
    """The arrays `_save_ragged` wrote; empty ones for an index saved before they existed."""
    if not (directory / f"{name}.npy").exists():
        return Ragged(np.zeros(0, np.int32) for _ in range(rows))
    return Ragged.from_flat(np.load(directory / f"{name}.npy"),
                            np.load(directory / f"{name}_len.npy"))


DENSE_POSTINGS = 1 / 32  # postings per index row above which a query sums over every row


def _sum_postings(rows_parts: list[np.ndarray], score_parts: list[np.ndarray], n_rows: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of several ascending posting lists (ascending), the sum of their scores and how
    many lists hold each. Lists are added one after another in float32, the sums a sparse
    matrix-vector product gives to the last bit. Long lists add into a dense row array (a
    binary search per posting into the union costs more than one pass over every row)."""
    if sum(len(r) for r in rows_parts) > DENSE_POSTINGS * n_rows:
        dense_scores = np.zeros(n_rows, dtype=np.float32)
        dense_matched = np.zeros(n_rows, dtype=np.int32)
        for part_rows, part_scores in zip(rows_parts, score_parts, strict=True):
            dense_scores[part_rows] += part_scores  # a row appears once per list
            dense_matched[part_rows] += 1
        rows = np.flatnonzero(dense_matched)
        return rows, dense_scores[rows], dense_matched[rows]
    rows = np.sort(np.concatenate(rows_parts), kind="stable")  # merges the sorted lists
    rows = rows[np.concatenate([[True], rows[1:] != rows[:-1]])]
    scores = np.zeros(len(rows), dtype=np.float32)
    matched = np.zeros(len(rows), dtype=np.int32)
    for part_rows, part_scores in zip(rows_parts, score_parts, strict=True):
        at = np.searchsorted(rows, part_rows)
        scores[at] += part_scores
        matched[at] += 1
    return rows, scores, matched
