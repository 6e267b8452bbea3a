"""Online experiments at serving: which arm a shopper is in, and that arm's configuration.

An experiment (stored by `store.experiments`) is one of
- `ab`: 2-4 arms, each with a traffic `share` and a configuration `overlay`; a shopper is
  assigned by a hash of the experiment id and their pseudonym (user, else session), so the
  arm is sticky without storing anything first; `traffic` (0-1] of shoppers enter at all;
- `interleaving`: two arms (two rankers); every entering shopper gets a team-draft
  interleaving of both arms' lists (`pipeline.interleave`), each result marked with its team.

Overlays (validated here, applied per request):
- `for_you`: `ranker` ("learned" | "fusion"), `weights` ({source: weight >= 0} of the fusion:
  weighted reciprocal-rank fusion, needs ranker "fusion"), `sources` (a subset of the personal
  sources), `rules` (`rank.rules.Rules`, layered over the shop's), `max_per_category`;
- `search`: `ranker` ("learned" | "blend" | "bm25f").

An answer inside an experiment says so: `experiment` {id, arm, tag}; `tag` is what the client
reports as the impression's `arm` ("<id>:<arm>" for A/B, "<id>:il.<hex>" for interleaving:
bit p of the hex set = position p came from arm B), so the report can credit every click.
At most one experiment runs per surface; the running set is re-read every `REFRESH_S`, so
every worker serving the store follows a create / stop within seconds.
"""

from __future__ import annotations

import copy
import hashlib
import random
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from shopsense.pipeline.shop import InputError
from shopsense.rank.rules import Rules
from shopsense.store.experiments import ExperimentRecord, ExperimentRepository, StoreExperiments

KINDS = ("ab", "interleaving")
SURFACES = ("for_you", "search")
METRICS = ("clicks", "add_to_cart", "conversion", "revenue")
FOR_YOU_RANKERS = ("learned", "fusion")
SEARCH_RANKERS = ("learned", "blend", "bm25f")
OVERLAY_KEYS = {"for_you": {"ranker", "weights", "sources", "rules", "max_per_category"},
                "search": {"ranker"}}
ARM_NAME = r"^[A-Za-z0-9_-]{1,24}$"
REFRESH_S = 2.0


def _need(ok: bool, field: str, reason: str) -> None:
    if not ok:
        raise InputError(field, reason)


def _overlay(surface: str, raw: Any, index: int, personal: tuple[str, ...]) -> dict[str, Any]:
    where = f"arms[{index}].overlay"
    _need(isinstance(raw, dict), where, "must be an object")
    unknown = set(raw) - OVERLAY_KEYS[surface]
    _need(not unknown, where, f"unknown keys {sorted(unknown)} for surface {surface!r}; "
          f"allowed: {', '.join(sorted(OVERLAY_KEYS[surface]))}")
    rankers = FOR_YOU_RANKERS if surface == "for_you" else SEARCH_RANKERS
    ranker = raw.get("ranker", "learned")
    _need(ranker in rankers, f"{where}.ranker", f"must be one of {', '.join(rankers)}")
    out: dict[str, Any] = {"ranker": ranker}
    if "sources" in raw:
        sources = raw["sources"]
        _need(isinstance(sources, list) and sources and all(s in personal for s in sources)
              and len(set(sources)) == len(sources), f"{where}.sources",
              f"a non-empty list of distinct sources among {', '.join(personal)}")
        out["sources"] = list(sources)
    if "weights" in raw:
        weights = raw["weights"]
        _need(ranker == "fusion", f"{where}.weights", "weights apply to ranker 'fusion'")
        _need(isinstance(weights, dict) and weights and all(
            s in personal and isinstance(w, int | float) and not isinstance(w, bool)
            and 0 <= w <= 100 for s, w in weights.items()) and any(
            w > 0 for w in weights.values()), f"{where}.weights",
            f"{{source: weight in [0, 100]}} over {', '.join(personal)}, one above 0")
        out["weights"] = {s: float(w) for s, w in weights.items()}
    if "rules" in raw:
        extra = set(raw["rules"]) - set(Rules.model_fields) if isinstance(raw["rules"], dict) \
            else set()
        _need(not extra, f"{where}.rules", f"unknown rule fields {sorted(extra)}")
        try:
            out["rules"] = Rules.model_validate(raw["rules"]).model_dump(mode="json")
        except ValueError as exc:
            raise InputError(f"{where}.rules", str(exc).splitlines()[-1][:300]) from None
    if "max_per_category" in raw:
        cap = raw["max_per_category"]
        _need(cap is None or (isinstance(cap, int) and not isinstance(cap, bool)
                              and 1 <= cap <= 100), f"{where}.max_per_category",
              "an integer 1-100, or null for no cap")
        out["max_per_category"] = cap
    return out


def validate_spec(body: Any, personal: tuple[str, ...]) -> dict[str, Any]:
    """A create request -> the stored definition; any fault is an `InputError` naming the
    field."""
    import re

    _need(isinstance(body, dict), "body", "must be a JSON object")
    unknown = set(body) - {"name", "kind", "surface", "traffic", "metric", "arms"}
    _need(not unknown, "body", f"unknown fields {sorted(unknown)}")
    name = body.get("name")
    _need(isinstance(name, str) and 1 <= len(name.strip()) <= 120, "name", "1-120 characters")
    kind, surface = body.get("kind", "ab"), body.get("surface", "for_you")
    _need(kind in KINDS, "kind", f"must be one of {', '.join(KINDS)}")
    _need(surface in SURFACES, "surface", f"must be one of {', '.join(SURFACES)}")
    traffic = body.get("traffic", 1.0)
    _need(isinstance(traffic, int | float) and not isinstance(traffic, bool)
          and 0 < traffic <= 1, "traffic", "a share in (0, 1]")
    metric = body.get("metric", "clicks")
    _need(metric in METRICS, "metric", f"must be one of {', '.join(METRICS)}")
    arms = body.get("arms")
    limits = (2, 2) if kind == "interleaving" else (2, 4)
    _need(isinstance(arms, list) and limits[0] <= len(arms) <= limits[1], "arms",
          f"{'exactly 2' if kind == 'interleaving' else '2 to 4'} arms for {kind}")
    out_arms = []
    for n, arm in enumerate(arms):
        _need(isinstance(arm, dict) and not set(arm) - {"name", "share", "overlay"},
              f"arms[{n}]", "an object with name, share, overlay")
        arm_name = arm.get("name")
        _need(isinstance(arm_name, str) and re.match(ARM_NAME, arm_name) is not None,
              f"arms[{n}].name", "1-24 letters, digits, _ or -")
        share = arm.get("share", 1.0 / len(arms))
        _need(isinstance(share, int | float) and not isinstance(share, bool)
              and 0 < share <= 100, f"arms[{n}].share",
              "a relative share in (0, 100] (shares are normalised to sum to 1)")
        out_arms.append({"name": arm_name, "share": float(share),
                         "overlay": _overlay(surface, arm.get("overlay", {}), n, personal)})
    names = [a["name"] for a in out_arms]
    _need(len(set(names)) == len(names), "arms", "arm names must differ")
    total = sum(a["share"] for a in out_arms)
    for arm in out_arms:  # shares are relative: normalised to sum to 1
        arm["share"] = round(arm["share"] / total, 6)
    return {"name": name.strip(), "kind": kind, "surface": surface, "traffic": float(traffic),
            "metric": metric, "arms": out_arms}


def new_experiment(spec: dict[str, Any], now: float | None = None) -> ExperimentRecord:
    return ExperimentRecord(f"x{secrets.token_hex(4)}", spec["name"], spec["kind"],
                            spec["surface"], "running", time.time() if now is None else now,
                            spec)


def _unit(experiment_id: str, actor: str, salt: str) -> float:
    digest = hashlib.blake2b(f"{experiment_id}:{salt}:{actor}".encode(),
                             digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0 ** 64


def arm_of(record: ExperimentRecord, actor: str) -> str | None:
    """The actor's arm (None: outside the experiment's traffic), from the hash alone."""
    if not actor or _unit(record.id, actor, "traffic") >= record.spec["traffic"]:
        return None
    arms = record.spec["arms"]
    if record.kind == "interleaving":
        return "interleaved"
    u, edge = _unit(record.id, actor, "arm"), 0.0
    for arm in arms:
        edge += arm["share"]
        if u < edge:
            return str(arm["name"])
    return str(arms[-1]["name"])


def overlay_of(record: ExperimentRecord, arm: str) -> dict[str, Any]:
    for entry in record.spec["arms"]:
        if entry["name"] == arm:
            return dict(entry["overlay"])
    raise KeyError(arm)


def team_tag(experiment_id: str, teams: Sequence[int | None]) -> str:
    """`<id>:il.<hexB>[.<hexN>]`: bit p of hexB set = position p was picked by arm B; of
    hexN = position p belongs to neither arm (a merchandising pin), credited to nobody."""
    bits = sum(1 << p for p, team in enumerate(teams) if team == 1)
    none = sum(1 << p for p, team in enumerate(teams) if team is None)
    return f"{experiment_id}:il.{bits:x}" + (f".{none:x}" if none else "")


def teams_of(tag: str, n: int) -> list[int | None] | None:
    """Inverse of `team_tag` for a list of n positions (None: not an interleaving tag)."""
    _, _, rest = tag.partition(":")
    if not rest.startswith("il."):
        return None
    try:
        masks = [int(part, 16) for part in rest[3:].split(".")]
    except ValueError:
        return None
    if not 1 <= len(masks) <= 2:
        return None
    bits, none = masks[0], masks[1] if len(masks) > 1 else 0
    return [None if (none >> p) & 1 else (bits >> p) & 1 for p in range(n)]


@dataclass
class Exposure:
    """What serving needs for one request inside an experiment."""

    record: ExperimentRecord
    arm: str

    def body(self, tag: str | None = None) -> dict[str, Any]:
        return {"id": self.record.id, "name": self.record.name, "kind": self.record.kind,
                "arm": self.arm, "tag": tag or f"{self.record.id}:{self.arm}"}


class ExperimentRegistry:
    """The running experiments of a store, re-read every `REFRESH_S`; records first
    exposures (once per actor and experiment, remembered in memory)."""

    def __init__(self, repo: ExperimentRepository) -> None:
        self.repo = repo
        self._lock = threading.Lock()
        self._running: dict[str, ExperimentRecord] = {}
        self._read_at = float("-inf")
        self._seen: set[tuple[str, str]] = set()
        self.variants: dict[tuple[str, str, int], Any] = {}

    def running(self, surface: str) -> ExperimentRecord | None:
        now = time.monotonic()
        if now - self._read_at > REFRESH_S:
            with self._lock:
                self._running = {r.surface: r for r in self.repo.list("running")}
                self._read_at = now
        return self._running.get(surface)

    def refresh(self) -> None:
        self._read_at = float("-inf")

    def forget(self, actor: str) -> None:
        """Drop an erased pseudonym from memory (its stored rows go with the erasure)."""
        self._seen = {pair for pair in self._seen if pair[1] != actor}

    def expose(self, surface: str, actor: str | None, record_it: bool = True
               ) -> Exposure | None:
        """The actor's exposure to the surface's running experiment (None: outside it);
        `record_it=False` (cache warming) computes it without counting a visitor."""
        record = self.running(surface)
        if record is None or not actor:
            return None
        arm = arm_of(record, actor)
        if arm is None:
            return None
        if record_it and (record.id, actor) not in self._seen:
            self.repo.assign(record.id, actor, arm, time.time())
            self._seen.add((record.id, actor))
            if len(self._seen) > 1_000_000:  # a bound on memory; the store ignores repeats
                self._seen.clear()
        return Exposure(record, arm)


def registry_of(shop: Any) -> ExperimentRegistry:
    """The shop's registry (made on first use, one per store)."""
    current = getattr(shop, "_experiments", None)
    if current is None or current.repo.store is not shop.store:
        current = ExperimentRegistry(StoreExperiments(shop.store))
        shop._experiments = current
        listeners = getattr(shop, "erasure_listeners", None)
        if listeners is not None:
            listeners.append(current.forget)
    return current


def recs_variant(engine: Any, overlay: Mapping[str, Any], cache: dict[Any, Any], key: Any
                 ) -> Any:
    """The recommendation engine as the overlay configures it (sources, histories and models
    shared; only the ranker and the engine's settings differ)."""
    found = cache.get((key, id(engine)))
    if found is not None:
        return found
    variant = copy.copy(engine)
    if overlay.get("ranker") == "fusion":
        variant.ranker = None
    changes: dict[str, Any] = {}
    if "sources" in overlay:
        changes["sources"] = tuple(overlay["sources"])
    if "weights" in overlay:
        changes["source_weights"] = dict(overlay["weights"])
    if "max_per_category" in overlay:
        changes["max_per_category"] = overlay["max_per_category"]
    if changes:
        variant.config = replace(engine.config, **changes)
    cache[(key, id(engine))] = variant
    return variant


def search_variant(engine: Any, overlay: Mapping[str, Any], cache: dict[Any, Any], key: Any
                   ) -> Any:
    """The search engine with the overlay's ranker (indexes and caches shared)."""
    ranker = overlay.get("ranker", "learned")
    if ranker == "learned":
        return engine
    found = cache.get((key, id(engine)))
    if found is None:
        from shopsense.rank.ltr import KeywordOrder, QueryBlend

        found = copy.copy(engine)
        found.ranker = QueryBlend() if ranker == "blend" else KeywordOrder()
        cache[(key, id(engine))] = found
    return found


def interleave_rng(request_id: str) -> random.Random:
    return random.Random(int(request_id, 16))


class Conflict(ValueError):
    """The request contradicts a stored experiment (409 at the API)."""


def personal_sources(shop: Any) -> tuple[str, ...]:
    from shopsense.pipeline.recommend import PERSONAL_SOURCES

    engine = shop.models.recs
    if engine is None:
        return PERSONAL_SOURCES
    return tuple(n for n in PERSONAL_SOURCES if n in engine.sources)


def create(shop: Any, body: Any, now: float | None = None) -> ExperimentRecord:
    """Validate and store a new running experiment (one per surface at a time)."""
    spec = validate_spec(body, personal_sources(shop))
    registry = registry_of(shop)
    clash = [r for r in registry.repo.list("running") if r.surface == spec["surface"]]
    if clash:
        raise Conflict(f"experiment {clash[0].id} ({clash[0].name!r}) already runs on "
                       f"{spec['surface']}; stop it first")
    record = new_experiment(spec, now)
    registry.repo.create(record)
    registry.refresh()
    return record


def stop(shop: Any, experiment_id: str, now: float | None = None) -> ExperimentRecord:
    registry = registry_of(shop)
    record = registry.repo.stop(experiment_id, time.time() if now is None else now)
    if record is None:
        raise KeyError(experiment_id)
    registry.refresh()
    return record


def summary(record: ExperimentRecord, visitors: int | None = None) -> dict[str, Any]:
    out = {"id": record.id, "name": record.name, "kind": record.kind, "surface": record.surface,
           "status": record.status, "created_at": record.created_at,
           "stopped_at": record.stopped_at, "traffic": record.spec["traffic"],
           "metric": record.spec["metric"], "arms": record.spec["arms"]}
    if visitors is not None:
        out["visitors"] = visitors
    return out
