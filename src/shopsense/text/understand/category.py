"""Which catalogue category a query asks for: product words and a linear classifier.

Answers: the product-type words of each category (空调, 变频空调, air conditioner), learned from
titles by how purely they point at one category, and a probability over the catalogue's leaf
categories for any short text (character n-grams + words, logistic regression trained on the
catalogue's titles, its product words and confidently read logged queries). The model is
stored as JSON + .npy; prediction is a few dictionary look-ups and one small matrix sum.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from shopsense.domain import Product
from shopsense.text.understand.gazetteer import compact, fold
from shopsense.text.understand.lexicon import has_han

_EN_WORD = re.compile(r"[a-z][a-z0-9'&.]*")
_EN_STOP = frozenset("a an and or of for to in on with by the at from up is are it its this that "
                     "your you all any new set long no not per".split())


def _zh_words(text: str) -> list[str]:
    import rjieba

    return [w for w in rjieba.cut(text) if has_han(w)]


def _en_words(text: str) -> list[str]:
    return [w.replace("'", "").rstrip(".") for w in _EN_WORD.findall(fold(text))]


def features(text: str) -> list[str]:
    """Character 1–3-grams of the compacted text plus lower-cased English words."""
    key, _ = compact(text)
    grams = [key[i:i + n] for n in (1, 2, 3) for i in range(len(key) - n + 1)]
    return grams + ["w:" + w for w in _en_words(text)]


def candidate_phrases(title: str) -> set[str]:
    """Phrases of a title that may name a product type: zh words and pairs, en 1–3-grams."""
    phrases: set[str] = set()
    if has_han(title):
        phrases.update(w for w in _zh_words(title) if len(w) >= 2 or w in "裙鞋")
    for words in _alpha_runs(title):
        for n in (1, 2, 3):
            for i in range(len(words) - n + 1):
                gram = words[i:i + n]
                if gram[0] not in _EN_STOP and gram[-1] not in _EN_STOP and len(gram[-1]) > 1:
                    phrases.add(" ".join(gram))
    return phrases


def _alpha_runs(title: str) -> list[list[str]]:
    """Runs of purely alphabetic English words; a token with a digit ("8mm", "5G") breaks a run."""
    runs: list[list[str]] = [[]]
    for token in re.split(r"[\s,/()|+]+", fold(title)):
        token = token.strip(".:;!?'\"")
        if not token:
            continue
        parts = [t.replace("'", "") for t in token.split("-")]
        if all(t.isascii() and t.isalpha() for t in parts):
            runs[-1].extend(parts)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def learn_terms(products: Sequence[Product], excluded: set[str], inner: set[str] = frozenset(),
                min_purity: float = 0.6, min_coverage: float = 0.04,
                ) -> dict[str, dict[str, float]]:
    """Product words -> their category shares, for words that point mostly at one category.

    `excluded`: compact forms of brand / attribute surfaces (and their words), which are never
    product words; `inner`: Chinese attribute surfaces that may not sit inside a product word
    ("男士" holds 男, so it is left to the attribute). Every leaf's own name ("空调", "T恤") is a product word of that leaf. A word
    is not counted where a longer product word holds it ("phone" inside "phone case"), as the
    longest match wins at query time too.
    """
    titled = [(p.category, candidate_phrases(p.title)) for p in products if p.category]
    per_category = Counter(c for c, _ in titled)
    per_script = Counter((p.category, has_han(p.title)) for p in products if p.category)
    titled = [(c, {p for p in phrases if not any(s in p for s in inner)})
              for c, phrases in titled]
    terms = _pure_phrases(titled, per_script, excluded, min_purity, min_coverage, set())
    terms = _pure_phrases(titled, per_script, excluded, min_purity, min_coverage, set(terms))
    terms = _pure_as_written(terms, products, min_purity)
    for category in per_category:
        leaf = category.rsplit(">", 1)[-1].strip()
        if leaf and compact(leaf)[0] not in excluded:
            terms[leaf] = {category: 1.0}
    return terms


WRITTEN_SAMPLE = 50_000  # titles read by `_pure_as_written` (a sample past that)


def _pure_as_written(terms: dict[str, dict[str, float]], products: Sequence[Product],
                     min_purity: float) -> dict[str, dict[str, float]]:
    """The Chinese product words that stay pure where titles *write* them, not only where the
    segmenter cut them out: rjieba keeps 笔记本电脑 whole but cuts 平板电脑 into 平板 / 电脑,
    so 电脑 looked like a tablet word (0.84) although 52 laptop titles write it too. A word
    written at the end of a title's longer product word is that word's head (电脑 of
    笔记本电脑) and counts; written before it, a modifier (手机 of 手机壳) does not."""
    han = [t for t in terms if has_han(t) and len(t) >= 2]
    if not han:
        return terms
    containers = {t: [w for w in terms if w != t and t in w] for t in han}
    written: dict[str, Counter[str]] = {t: Counter() for t in han}
    titled = [p for p in products if p.category]
    if len(titled) > WRITTEN_SAMPLE:  # purity is a share: a sample estimates it
        titled = random.Random(0).sample(titled, WRITTEN_SAMPLE)
    for p in titled:
        key = compact(p.title)[0]
        for term in han:
            if term not in key:
                continue
            held = [w for w in containers[term] if w in key]
            if held and all(not w.endswith(term) for w in held) and \
                    key.count(term) <= sum(key.count(w) for w in held):
                continue  # only ever inside a longer word, as its modifier
            written[term][p.category] += 1
    out = dict(terms)
    for term, counts in written.items():
        total = sum(counts.values())
        if total and counts.most_common(1)[0][1] / total < min_purity:
            del out[term]
    return out


def node_words(terms: dict[str, dict[str, float]], leaves: Iterable[str]
               ) -> dict[str, str]:
    """Product words that name a category node above two or more leaves -> that node.

    A word learned from titles points at the leaf whose titles write it most (鞋 -> 运动鞋, as
    boots are written 靴), but a shopper typing it asks for the whole node (鞋靴: sneakers and
    boots alike). A word names a node when it is part of the node's Chinese name, or all its
    English words are in the node's English name, and the leaf it points at lies below that
    node; a leaf's own name (手机 of 手机数码 > 手机) stays that leaf's. The deepest node wins.
    """
    paths = [[s.strip() for s in leaf.split(">")] for leaf in set(leaves) if leaf]
    below: Counter[str] = Counter()
    for parts in paths:
        for i in range(1, len(parts)):
            below[" > ".join(parts[:i])] += 1
    inner = [node for node, n in below.items() if n >= 2]
    own = {parts[-1].lower() for parts in paths}
    out: dict[str, str] = {}
    for phrase, shares in terms.items():
        if not shares or phrase.lower() in own:
            continue
        top = max(shares, key=lambda c: shares[c])
        named = [n for n in inner if top.startswith(n + " > ") and _names(phrase, n)]
        if named:
            out[phrase] = max(named, key=lambda n: n.count(">"))
    return out


def _names(phrase: str, node: str) -> bool:
    name = node.rsplit(">", 1)[-1].strip().lower()
    text = phrase.strip().lower()
    if not text.isascii():
        return compact(text)[0] in compact(name)[0]
    words = {_stem(w) for w in _en_words(text)}
    return bool(words) and words <= {_stem(w) for w in _en_words(name)}


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _pure_phrases(titled: list[tuple[str, set[str]]], per_script: Counter[tuple[str, bool]],
                  excluded: set[str], min_purity: float, min_coverage: float,
                  longer: set[str]) -> dict[str, dict[str, float]]:
    doc_freq: dict[str, Counter[str]] = defaultdict(Counter)
    for category, phrases in titled:
        holders = [q for q in phrases if q in longer]
        for phrase in phrases:
            if any(phrase != q and phrase in q for q in holders):
                continue
            doc_freq[phrase][category] += 1
    terms: dict[str, dict[str, float]] = {}
    for phrase, counts in doc_freq.items():
        total = sum(counts.values())
        category, n = counts.most_common(1)[0]
        key = compact(phrase)[0]
        if key in excluded or any(compact(part)[0] in excluded for part in phrase.split()):
            continue
        base = per_script[(category, has_han(phrase))]
        if n / total < min_purity or n < max(3, min_coverage * base):
            continue
        terms[phrase] = {c: round(k / total, 4) for c, k in counts.most_common(3)}
    return terms


class CategoryClassifier:
    """Multinomial logistic regression over `features`, stored without pickle."""

    def __init__(self, c: float = 20.0, max_iter: int = 300, seed: int = 0) -> None:
        self.c = c
        self.max_iter = max_iter
        self.seed = seed

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> CategoryClassifier:
        from scipy.sparse import csr_matrix
        from sklearn.linear_model import LogisticRegression

        if len(texts) != len(labels) or not texts:
            raise ValueError("texts and labels must be non-empty and of equal length")
        if len(set(labels)) < 2:
            raise ValueError("need at least two categories to train a classifier")
        vocabulary: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            feats = set(features(text))
            weight = 1.0 / max(1, len(feats)) ** 0.5
            for f in feats:
                rows.append(r)
                cols.append(vocabulary.setdefault(f, len(vocabulary)))
                vals.append(weight)
        matrix = csr_matrix((vals, (rows, cols)), shape=(len(texts), len(vocabulary)))
        model = LogisticRegression(C=self.c, max_iter=self.max_iter, random_state=self.seed)
        model.fit(matrix, list(labels))
        self.vocabulary_ = vocabulary
        self.classes_ = [str(c) for c in model.classes_]
        self.coef_ = np.ascontiguousarray(model.coef_.T, dtype=np.float32)  # (n_features, n_classes)
        self.intercept_ = model.intercept_.astype(np.float32)
        if len(self.classes_) == 2:  # sklearn keeps one column for two classes
            self.coef_ = np.hstack([-self.coef_ / 2, self.coef_ / 2])
            self.intercept_ = np.array([-self.intercept_[0] / 2, self.intercept_[0] / 2],
                                       dtype=np.float32)
        return self

    def predict_proba(self, text: str) -> np.ndarray:
        """(n_classes,) probabilities; the prior when no feature of `text` is known."""
        idx = [self.vocabulary_[f] for f in set(features(text)) if f in self.vocabulary_]
        logits = self.intercept_.astype(np.float64).copy()
        if idx:
            logits += self.coef_[idx].sum(axis=0) / len(idx) ** 0.5
        logits -= logits.max()
        probs = np.exp(logits)
        return probs / probs.sum()


    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"c": self.c, "max_iter": self.max_iter, "seed": self.seed,
                "classes": self.classes_, "vocabulary": self.vocabulary_}
        (directory / "category.json").write_text(json.dumps(meta, ensure_ascii=False),
                                                 encoding="utf-8")
        np.save(directory / "category_coef.npy", self.coef_)
        np.save(directory / "category_intercept.npy", self.intercept_)

    @classmethod
    def load(cls, directory: Path) -> CategoryClassifier:
        meta = json.loads((directory / "category.json").read_text(encoding="utf-8"))
        model = cls(c=meta["c"], max_iter=meta["max_iter"], seed=meta["seed"])
        model.classes_ = list(meta["classes"])
        model.vocabulary_ = dict(meta["vocabulary"])
        model.coef_ = np.load(directory / "category_coef.npy", allow_pickle=False)
        model.intercept_ = np.load(directory / "category_intercept.npy", allow_pickle=False)
        return model


def node_probabilities(classes: Sequence[str], probs: np.ndarray) -> dict[str, float]:
    """Leaf probabilities summed up the tree: "家电" gets the mass of every "家电 > …" leaf."""
    nodes: dict[str, float] = defaultdict(float)
    for path, p in zip(classes, probs, strict=True):
        parts = [s.strip() for s in path.split(">")]
        for i in range(1, len(parts) + 1):
            nodes[" > ".join(parts[:i])] += float(p)
    return dict(nodes)


def deepest_confident(nodes: dict[str, float], threshold: float) -> tuple[str, float] | None:
    """The deepest category whose probability reaches `threshold` (ties: the likelier)."""
    best: tuple[int, float, str] | None = None
    for path, p in nodes.items():
        if p >= threshold:
            rank = (path.count(">"), p, path)
            if best is None or rank[:2] > best[:2]:
                best = rank
    return None if best is None else (best[2], best[1])


def training_texts(products: Iterable[Product], terms: dict[str, dict[str, float]],
                   brand_names: dict[str, str]) -> tuple[list[str], list[str]]:
    """Titles, product words and "brand + word" snippets, each with its leaf category."""
    texts, labels = [], []
    for p in products:
        if p.category:
            texts.append(p.title)
            labels.append(p.category)
    for phrase, shares in terms.items():
        category = max(shares, key=lambda c: shares[c])
        texts.append(phrase)
        labels.append(category)
    for name, category in brand_names.items():
        texts.append(name)
        labels.append(category)
    return texts, labels
