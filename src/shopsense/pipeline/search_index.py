"""The search index of one catalogue: build, update, save, load — versioned on disk.

`SearchIndex` owns the parts a search reads (product table, keyword index, vector index and
encoder, spelling, suggestions, the ranker, the retrieval backend) and their lifecycle:
`build`, `upsert`, `remove` (reflected at once, no rebuild), `save`, `load`. The stateless
pipeline over it is `pipeline.search.SearchEngine`.

On disk, every save is a new version directory under <home>/models/search/ written by one
process at a time (a lock on the folder) and switched to atomically (the `CURRENT` file names
it, replaced with os.replace), so a reader never sees a half-written index; each version
records the stamp of the catalogue it indexes, and `open_search_engine` checks it against the
store before a loaded index serves (a stale or foreign index is rebuilt).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, Self

from shopsense.config import SearchSettings, Settings
from shopsense.domain import Product, QueryReading
from shopsense.index.catalog import ProductTable, product_fields, product_text
from shopsense.index.keyword import KeywordIndex
from shopsense.index.suggest import Suggester
from shopsense.privacy.querylog import ZeroResultLog
from shopsense.rank.ltr import LambdaMartRanker, QueryBlend, SearchScorer
from shopsense.rank.personal import PersonalReranker
from shopsense.retrieve.backends import EmbeddedRetrieval, KeywordCandidates, Retrieval
from shopsense.retrieve.hybrid import HybridRetriever
from shopsense.text.encoders import Encoder, encode_cached, make_encoder
from shopsense.text.spell import SpellCorrector
from shopsense.text.tokenize import tokenize

CURRENT = "CURRENT"
PINNED = "PINNED"  # the index of the version an operator pinned (training/pin.py): kept
KEEP_VERSIONS = 2  # the current version and the one before it (a reader may still load it)


class Understander(Protocol):
    def understand(self, query: str) -> QueryReading: ...


class SearchIndex:
    """One catalogue's search indexes and their lifecycle."""

    def __init__(self, table: ProductTable, keyword: KeywordIndex,
                 vector: Any | None, encoder: Encoder | None, spell: SpellCorrector,
                 suggester: Suggester, *, ranker: SearchScorer | None = None,
                 understander: Understander | None = None,
                 settings: SearchSettings | None = None,
                 personal: PersonalReranker | None = None, n_keyword: int = 200,
                 n_vector: int = 50, zero_result_log: Path | None = None,
                 retrieval: Retrieval | None = None,
                 keyword_candidates: KeywordCandidates | None = None) -> None:
        self.table = table
        self.keyword = keyword
        self.vector = vector
        self.encoder = encoder
        self.spell = spell
        self.suggester = suggester
        self.ranker: SearchScorer = ranker or QueryBlend()
        self.understander = understander
        self.settings = settings or SearchSettings()
        self.personal = personal or PersonalReranker()
        self.retrieval = retrieval or EmbeddedRetrieval(self.settings.exact_threshold)
        self.keyword_candidates = keyword_candidates or \
            self.retrieval.keyword_candidates(keyword)
        self.retriever = HybridRetriever(keyword, spell, vector, encoder,
                                         n_keyword=n_keyword, n_vector=n_vector,
                                         keyword_candidates=self.keyword_candidates,
                                         query_vector_cache=max(4096,
                                                                self.settings.query_vectors))
        # k-anonymous (privacy.querylog): a query is written once enough shoppers searched it
        self.zero_result_log = None if zero_result_log is None else ZeroResultLog(zero_result_log)
        self.top_queries_: list[str] = []  # the shop's most searched queries, most first

    # ---- lifecycle --------------------------------------------------------------------------
    @classmethod
    def build(cls, products: Iterable[Product], settings: SearchSettings | None = None,
              encoder: Encoder | None = None, *, cache_dir: Path | None = None,
              retrieval: Retrieval | None = None, **options: Any) -> Self:
        """Index `products` (the last one wins for a repeated item_id) in the in-process
        table and keyword index, and in the candidate lists of `retrieval` (default:
        embedded); a shared backend's lists are replaced by exactly these products."""
        settings = settings or SearchSettings()
        retrieval = retrieval or EmbeddedRetrieval(settings.exact_threshold)
        unique = list({p.item_id: p for p in products}.values())
        table, keyword = ProductTable(), KeywordIndex()
        table.add(unique)
        keyword.add([(p.item_id, product_fields(p)) for p in unique])
        vector = None
        if encoder is not None:
            vectors = encode_cached(encoder, [product_text(p) for p in unique], cache_dir)
            vector = retrieval.vector_index(encoder.dim, [p.item_id for p in unique], vectors)
        candidates = retrieval.keyword_candidates(keyword, unique)
        spell = SpellCorrector().fit(spell_vocabulary(keyword))
        suggester = Suggester(min_shoppers=settings.suggest_min_shoppers).fit(unique)
        return cls(table, keyword, vector, encoder, spell, suggester, settings=settings,
                   retrieval=retrieval, keyword_candidates=candidates, **options)

    def upsert(self, products: Sequence[Product]) -> int:
        """Add or replace products; searchable at once. Returns the number written."""
        unique = list({p.item_id: p for p in products}.values())
        if not unique:
            return 0
        self.table.add(unique)
        self.keyword.add([(p.item_id, product_fields(p)) for p in unique])
        self.keyword_candidates.add(unique)
        if self.vector is not None and self.encoder is not None:
            self.vector.add([p.item_id for p in unique],
                            self.encoder.encode_documents([product_text(p) for p in unique]))
        self.spell.fit(spell_vocabulary(self.keyword))
        self._changed(catalogue=True)  # after the edit: a stage computed meanwhile is not kept
        return len(unique)

    def remove(self, item_ids: Iterable[str]) -> int:
        """Remove products; gone from results at once. Returns the number removed."""
        ids = list(item_ids)
        removed = self.table.remove(ids)
        self.keyword.remove(ids)
        self.keyword_candidates.remove(ids)
        if self.vector is not None:
            self.vector.remove(ids)
        self._changed(catalogue=True)
        return removed

    def __len__(self) -> int:
        return len(self.table)

    def set_popularity(self, item_counts: Mapping[str, float],
                       query_counts: Mapping[str, int] | None = None) -> None:
        """Item popularity (sort + ranker prior) and popular queries (autocomplete)."""
        self.table.set_popularity(dict(item_counts))
        if query_counts is not None:
            self.suggester.set_queries(query_counts)
            self.top_queries_ = [q for q, _ in sorted(query_counts.items(),
                                                      key=lambda kv: (-kv[1], kv[0]))[:100_000]]
        self._changed(catalogue=False)

    def _changed(self, catalogue: bool) -> None:
        """Hook: the catalogue (or only popularity) changed; the pipeline drops its caches."""

    def save(self, directory: Path, catalogue: str = "") -> None:
        """Write every part under `directory`; `catalogue`: the stamp of the products it
        indexes (`catalogue_stamp`), checked before a loaded index serves."""
        directory.mkdir(parents=True, exist_ok=True)
        self.table.save(directory / "catalog")
        self.keyword.save(directory / "keyword")
        self.spell.save(directory / "spell")
        self.suggester.save(directory / "suggest")
        if self.vector is not None:
            self.vector.save(directory / "vector")
        if isinstance(self.ranker, LambdaMartRanker):
            self.ranker.save(directory / "ranker")
        config = {"encoder": self.encoder.name if self.encoder else "none",
                  "retrieval": self.retrieval.name,
                  "n_keyword": self.retriever.n_keyword, "n_vector": self.retriever.n_vector,
                  "settings": self.settings.model_dump(), "catalogue": catalogue}
        (directory / "config.json").write_text(json.dumps(config))

    @classmethod
    def load(cls, directory: Path, encoder: Encoder | None = None, *,
             retrieval: Retrieval | None = None, **options: Any) -> Self:
        """`retrieval` must be the backend the engine was saved with (its shared lists are
        opened, not rebuilt); default: embedded."""
        config = json.loads((directory / "config.json").read_text())
        retrieval = retrieval or EmbeddedRetrieval(config["settings"]["exact_threshold"])
        saved = config.get("retrieval", "embedded")
        if saved != retrieval.name:
            raise ValueError(f"{directory} holds a search engine with {saved!r} retrieval; "
                             f"open it with that backend, not {retrieval.name!r}")
        if encoder is None and config["encoder"] != "none":
            encoder = make_encoder(config["encoder"])
        vector = retrieval.load_vector_index(directory / "vector") \
            if (directory / "vector").exists() else None
        ranker = _saved_ranker(directory / "ranker")
        return cls(ProductTable.load(directory / "catalog"),
                   KeywordIndex.load(directory / "keyword"), vector,
                   encoder if vector is not None else None,
                   with_asking_words(SpellCorrector.load(directory / "spell")),
                   Suggester.load(directory / "suggest"),
                   ranker=ranker, settings=SearchSettings(**config["settings"]),
                   n_keyword=config["n_keyword"], n_vector=config["n_vector"],
                   retrieval=retrieval, **options)

    def close(self) -> None:
        """Release the backend's connections (a no-op for the embedded one)."""
        self.retrieval.close()


def catalogue_stamp(products: Iterable[Product]) -> str:
    """Order-independent stamp of a catalogue (ids, titles, brands, categories, prices,
    availability): equal stamps, same searchable products."""
    rows = sorted(f"{p.item_id}\t{p.title}\t{p.brand}\t{p.category}\t{p.price}\t{p.available}"
                  for p in products)
    digest = hashlib.sha256()
    for row in rows:
        digest.update(row.encode())
        digest.update(b"\n")
    return f"{len(rows)}:{digest.hexdigest()[:16]}"


def indexed_stamp(index: SearchIndex) -> str:
    return catalogue_stamp(p for p, alive in zip(index.table.products_, index.table.alive_,
                                                 strict=True) if alive)


def search_root(settings: Settings) -> Path:
    return settings.home / "models" / "search"


def current_version(root: Path) -> Path | None:
    """The version directory `CURRENT` names; a pre-versioning index saved in `root` itself;
    None when there is none."""
    pointer = root / CURRENT
    if pointer.exists():
        current = root / pointer.read_text(encoding="utf-8").strip()
        if (current / "config.json").exists():
            return current
    return root if (root / "config.json").exists() else None


def engine_dir(settings: Settings) -> Path:
    """The directory of the index that serves now (where a new one will go when none)."""
    root = search_root(settings)
    return current_version(root) or root


@contextlib.contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """One writer of <root> at a time (across processes); released on exit or death."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def save_version(index: SearchIndex, root: Path) -> Path:
    """Save `index` as a new version under `root` and make it current, atomically."""
    name = f"v{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    with writer_lock(root):
        tmp = root / f".tmp-{name}"
        index.save(tmp, catalogue=indexed_stamp(index))
        tmp.rename(root / name)
        pointer = root / f".{CURRENT}.tmp"
        pointer.write_text(name, encoding="utf-8")
        os.replace(pointer, root / CURRENT)
        _prune(root, name)
    return root / name


def _prune(root: Path, current: str) -> None:
    pin = root / PINNED
    keep = {current, pin.read_text(encoding="utf-8").strip() if pin.exists() else current}
    versions = sorted((d for d in root.iterdir() if d.is_dir() and d.name.startswith("v")),
                      key=lambda d: d.stat().st_mtime)
    for old in [d for d in versions if d.name not in keep][:-(KEEP_VERSIONS - 1) or None]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in root.glob(".tmp-*"):  # a writer that died half-way
        if stale.stat().st_mtime < time.time() - 3600:
            shutil.rmtree(stale, ignore_errors=True)
    for legacy in ("catalog", "keyword", "spell", "suggest", "vector", "ranker", "config.json"):
        path = root / legacy  # the unversioned layout of earlier releases
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()


# The words shoppers ask with: known to the spelling corrector, so "do you sell a dishwasher?"
# is never "corrected" into a catalogue word (sell -> dell) nor told "did you mean dell".
ASKING_WORDS = ("sell", "sells", "selling", "carry", "stock", "have", "show", "want", "need",
                "looking", "please", "could", "would", "does", "there", "find", "buy", "anything")


def with_asking_words(spell: SpellCorrector) -> SpellCorrector:
    """`spell` (saved before the asking words were added) refitted with them when one is
    missing; a no-op for a corrector fitted by `spell_vocabulary`."""
    terms = {t for word in ASKING_WORDS for t in tokenize(word)}
    if spell.counts_ and not terms <= spell.counts_.keys():
        spell.fit({**dict.fromkeys(terms, 1), **spell.counts_})
    return spell


def spell_vocabulary(keyword: KeywordIndex) -> dict[str, int]:
    """Index term -> document frequency, plus the asking words (count 1 where absent)."""
    counts = {t: int(keyword.df_[i]) for t, i in keyword.vocab_.items()}
    for word in ASKING_WORDS:
        for term in tokenize(word):
            counts.setdefault(term, 1)
    return counts


def _saved_ranker(directory: Path) -> LambdaMartRanker | None:
    """The saved ranker; None (the blend serves) when there is none or it was trained on
    other features (a version before a feature was added) until `shopsense train` retrains."""
    if not directory.exists():
        return None
    try:
        return LambdaMartRanker.load(directory)
    except ValueError as exc:
        logging.getLogger(__name__).warning("search ranker not loaded, the blend serves: %s", exc)
        return None
