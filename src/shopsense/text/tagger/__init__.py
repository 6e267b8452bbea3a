"""Sequence tagging of brand / product-type / model spans in product text (zh + en).

`CrfTagger` is the trained model; `conll` reads CoNLL-style files and scores spans;
`train.evaluate_files` is what `shopsense eval understand` runs.
"""

from __future__ import annotations

from shopsense.text.tagger.conll import Sentence, bio_spans, entity_scores, read_conll
from shopsense.text.tagger.crf import CrfTagger

__all__ = ["CrfTagger", "Sentence", "bio_spans", "entity_scores", "read_conll"]
