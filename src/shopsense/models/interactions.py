"""Which events count as interactions, and how a file or a store becomes per-user sequences.

Accepted inputs: interchange-format events (CSV / JSONL / Parquet with at least `item_id` and
`user_id` or `session_id`; optional `timestamp`, `event_type`) and raw sequence files
(`user item item ...` per line, already in time order, as in the S3-Rec / P5 releases).
A directory is searched for `events.*` (or `sequential_data.txt`).

Interactions: every item event except `dismiss` and `search` (view, click, cart, purchase,
rate and unknown types all count). Order: by timestamp, ties by file order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from shopsense.domain import Event, Product

NON_INTERACTIONS: frozenset[str] = frozenset({"dismiss", "search"})
_TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".ndjson", ".parquet", ".pq")


@dataclass
class Interactions:
    """Per-user item-id sequences in time order (`users[i]` owns `sequences[i]`)."""

    users: list[str]
    sequences: list[list[str]]
    timestamps: list[list[float]] | None = None
    kinds: list[list[str]] | None = None  # event types; None = plain interactions
    sessions: list[list[str]] | None = None  # session ids; None = one session per user

    def truncated(self, keep: list[int]) -> Interactions:
        """The first `keep[i]` interactions of each user (for time-respecting splits)."""
        def cut(rows: list[list]) -> list[list]:  # type: ignore[type-arg]
            return [row[:n] for row, n in zip(rows, keep, strict=True)]
        return Interactions(self.users, cut(self.sequences),
                            cut(self.timestamps) if self.timestamps is not None else None,
                            cut(self.kinds) if self.kinds is not None else None,
                            cut(self.sessions) if self.sessions is not None else None)

    @property
    def n_events(self) -> int:
        return sum(len(s) for s in self.sequences)

    def item_ids(self) -> list[str]:
        """Distinct item ids in first-seen order."""
        return list(dict.fromkeys(i for seq in self.sequences for i in seq))


def resolve_input(path: Path, stems: tuple[str, ...]) -> Path:
    """A file path, or the first `stem.*` table inside a directory."""
    if path.is_dir():
        for stem in stems:
            for candidate in sorted(path.glob(f"{stem}*")):
                if candidate.is_file():
                    return candidate
        raise FileNotFoundError(f"no {'/'.join(stems)} file in {path}")
    if not path.exists():
        raise FileNotFoundError(path)
    return path


def is_sequence_file(path: Path) -> bool:
    """True for `user item item ...` lines: whitespace-separated tokens, no header delimiter."""
    suffix = _format_suffix(path)
    if suffix in _TABLE_SUFFIXES and suffix != ".tsv":
        return False
    if path.suffix.lower() in _COMPRESSED:
        return False
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                return ("," not in line and "\t" not in line and "{" not in line
                        and len(line.split()) >= 2)
    return False


_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip")


def _format_suffix(path: Path) -> str:
    """The format suffix, looking past a compression suffix (events.jsonl.gz -> .jsonl)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def read_table(path: Path) -> pd.DataFrame:
    suffix = _format_suffix(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return pd.read_json(path, lines=suffix != ".json", dtype=False)
    sep = "\t" if suffix == ".tsv" else None
    return pd.read_csv(path, sep=sep, engine="python" if sep is None else "c", dtype=str,
                       keep_default_na=False)


def load_interactions(path: Path) -> Interactions:
    """Read an events file (or directory, or raw sequence file) into per-user sequences."""
    path = resolve_input(Path(path), ("events", "sequential_data", "interactions"))
    if is_sequence_file(path):
        return _read_sequence_file(path)
    return interactions_from_frame(read_table(path))


def _read_sequence_file(path: Path) -> Interactions:
    users: list[str] = []
    sequences: list[list[str]] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2:
                users.append(parts[0])
                sequences.append(parts[1:])
    return Interactions(users, sequences)


def _timestamps(column: pd.Series) -> np.ndarray:
    """Unix seconds from numbers or ISO 8601 strings (NaN where unparseable)."""
    numeric = pd.to_numeric(column, errors="coerce")
    if numeric.notna().all():
        return numeric.to_numpy(dtype=np.float64)
    parsed = pd.to_datetime(column.astype(str), errors="coerce", utc=True, format="ISO8601")
    seconds = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=np.float64)
    return np.where(numeric.notna(), numeric.to_numpy(dtype=np.float64), seconds)


def interactions_from_frame(frame: pd.DataFrame) -> Interactions:
    """Events table -> sequences, keyed by user_id (session_id where the user is unknown)."""
    if "item_id" not in frame.columns:
        raise ValueError("events need an item_id column")
    actor = _actor_column(frame)
    keep = frame["item_id"].astype(str).str.len() > 0
    if "event_type" in frame.columns:
        keep &= ~frame["event_type"].astype(str).str.lower().isin(NON_INTERACTIONS)
    keep &= actor.str.len() > 0
    table = pd.DataFrame({"actor": actor[keep], "item": frame.loc[keep, "item_id"].astype(str)})
    table["kind"] = (frame.loc[keep, "event_type"].astype(str).str.lower()
                     if "event_type" in frame.columns else "interaction")
    table["session"] = (frame.loc[keep, "session_id"].astype(str)
                        if "session_id" in frame.columns else table["actor"])
    if "timestamp" in frame.columns:
        table["ts"] = _timestamps(frame.loc[keep, "timestamp"])
        table["ts"] = table["ts"].fillna(0.0)
    else:
        table["ts"] = 0.0
    table["row"] = np.arange(len(table))
    table = table.sort_values(["ts", "row"], kind="stable")
    out = Interactions([], [], [], [], [])
    for user, group in table.groupby("actor", sort=False):
        out.users.append(str(user))
        out.sequences.append(group["item"].tolist())
        out.timestamps.append(group["ts"].tolist())  # type: ignore[union-attr]
        out.kinds.append(group["kind"].tolist())  # type: ignore[union-attr]
        out.sessions.append(group["session"].tolist())  # type: ignore[union-attr]
    return out


def _actor_column(frame: pd.DataFrame) -> pd.Series:
    empty = pd.Series([""] * len(frame), index=frame.index)
    user = frame["user_id"].astype(str) if "user_id" in frame.columns else empty
    session = frame["session_id"].astype(str) if "session_id" in frame.columns else empty
    user = user.where(~user.isin(["", "nan", "None"]), "")
    session = session.where(~session.isin(["", "nan", "None"]), "")
    if "user_id" not in frame.columns and "session_id" not in frame.columns:
        raise ValueError("events need a user_id or session_id column")
    return user.where(user.str.len() > 0, "s:" + session).where(
        (user.str.len() > 0) | (session.str.len() > 0), "")


def interactions_from_events(events: Iterable[Event]) -> Interactions:
    """Store events (already in timestamp order) -> sequences keyed by `Event.actor`."""
    by_actor: dict[str, tuple[list[str], list[float], list[str], list[str]]] = {}
    for event in events:
        if not event.item_id or event.event_type in NON_INTERACTIONS or not event.actor:
            continue
        items, stamps, kinds, sessions = by_actor.setdefault(event.actor, ([], [], [], []))
        items.append(event.item_id)
        stamps.append(event.timestamp)
        kinds.append(event.event_type)
        sessions.append(event.session_id or event.actor)
    users = list(by_actor)
    return Interactions(users, [by_actor[u][0] for u in users], [by_actor[u][1] for u in users],
                        [by_actor[u][2] for u in users], [by_actor[u][3] for u in users])


def load_catalog(path: Path) -> list[Product]:
    """Products from a CSV / JSONL / Parquet catalogue (item_id and title; other fields optional)."""
    frame = read_table(resolve_input(Path(path), ("products", "catalog", "items")))
    if "item_id" not in frame.columns:
        raise ValueError("catalogue needs an item_id column")
    products = []
    for row in frame.to_dict("records"):
        price = pd.to_numeric(row.get("price"), errors="coerce")
        created = row.get("created_at")
        created_s = float(_timestamps(pd.Series([created]))[0]) if created not in (None, "") \
            else float("nan")
        products.append(Product(
            item_id=str(row["item_id"]), title=str(row.get("title") or row.get("name") or ""),
            description=str(row.get("description") or ""), category=str(row.get("category") or ""),
            brand=str(row.get("brand") or ""),
            price=None if price is None or pd.isna(price) else float(price),
            available=str(row.get("available", True)).lower() not in ("false", "0", "no"),
            created_at=None if np.isnan(created_s) else created_s))
    return products
