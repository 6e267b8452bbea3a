"""A linear-chain CRF tagger over character features (python-crfsuite, one thread).

Answers: how to train a BIO tagger on CoNLL-style texts, tag new text into typed spans, and
save / load it as a crfsuite model file plus a config.json (no pickle).
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Sequence
from pathlib import Path

import pycrfsuite

from shopsense.text.tagger.conll import Sentence, Span, bio_spans
from shopsense.text.tagger.features import sentence_features

MODEL_FILE = "tagger.crfsuite"
CONFIG_FILE = "config.json"


class CrfTagger:
    """Character CRF for brand / product-type / model spans.

    c1, c2: L1 / L2 penalties; max_iterations: L-BFGS iterations; min_freq: drop features
    seen fewer times; seed: shuffles the training order (crfsuite itself is deterministic).
    """

    def __init__(self, c1: float = 0.05, c2: float = 0.02, max_iterations: int = 150,
                 min_freq: int = 1, seed: int = 0) -> None:
        self.c1 = c1
        self.c2 = c2
        self.max_iterations = max_iterations
        self.min_freq = min_freq
        self.seed = seed

    def fit(self, sentences: Sequence[Sentence], model_dir: str | Path) -> CrfTagger:
        """Train on `sentences`, writing the model into `model_dir` (crfsuite trains to disk)."""
        if not sentences:
            raise ValueError("no training sentences")
        if self.max_iterations < 1:
            raise ValueError("max_iterations must be >= 1")
        for s in sentences:
            if len(s.chars) != len(s.labels):
                raise ValueError("a sentence has chars and labels of different lengths")
        order = list(range(len(sentences)))
        random.Random(self.seed).shuffle(order)
        trainer = pycrfsuite.Trainer(verbose=False)
        for k in order:
            s = sentences[k]
            trainer.append(sentence_features(s.chars), list(s.labels))
        trainer.set_params({"c1": self.c1, "c2": self.c2, "max_iterations": self.max_iterations,
                            "feature.minfreq": self.min_freq,
                            "feature.possible_transitions": True})
        directory = Path(model_dir)
        directory.mkdir(parents=True, exist_ok=True)
        trainer.train(str(directory / MODEL_FILE))
        self._write_config(directory)
        self._open(directory)
        return self

    def _write_config(self, directory: Path) -> None:
        config = {"kind": "crf", "c1": self.c1, "c2": self.c2,
                  "max_iterations": self.max_iterations, "min_freq": self.min_freq,
                  "seed": self.seed}
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")

    def _open(self, directory: Path) -> None:
        tagger = pycrfsuite.Tagger()
        tagger.open(str(directory / MODEL_FILE))
        self.tagger_ = tagger
        self.lock_ = threading.Lock()  # a crfsuite tagger keeps per-call state: one at a time
        self.labels_ = tuple(tagger.labels())
        self.model_dir_ = directory

    @classmethod
    def load(cls, model_dir: str | Path) -> CrfTagger:
        directory = Path(model_dir)
        config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        if config.get("kind") != "crf":
            raise ValueError(f"{directory} does not hold a CRF tagger")
        tagger = cls(c1=config["c1"], c2=config["c2"], max_iterations=config["max_iterations"],
                     min_freq=config["min_freq"], seed=config["seed"])
        tagger._open(directory)
        return tagger

    def save(self, model_dir: str | Path) -> None:
        """Copy the trained model into `model_dir` (no-op when it already lives there)."""
        directory = Path(model_dir)
        directory.mkdir(parents=True, exist_ok=True)
        if directory.resolve() != self.model_dir_.resolve():
            (directory / MODEL_FILE).write_bytes((self.model_dir_ / MODEL_FILE).read_bytes())
        self._write_config(directory)

    def predict_labels(self, chars: Sequence[str]) -> list[str]:
        """BIO labels for one text."""
        if not chars:
            return []
        features = sentence_features(chars)
        with self.lock_:
            return list(self.tagger_.tag(features))

    def predict(self, text: str) -> list[tuple[Span, float]]:
        """Typed spans of `text`, each with the marginal probability of its first label."""
        if not text:
            return []
        features = sentence_features(list(text))
        with self.lock_:
            labels = self.tagger_.tag(features)
            spans = bio_spans(labels)
            return [(span, float(self.tagger_.marginal(labels[span[1]], span[1])))
                    for span in spans]
