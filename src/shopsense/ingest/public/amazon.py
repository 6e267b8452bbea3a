"""Amazon 5-core sequence files (S3-Rec / P5 preprocessing) as purchase events and products.

Input: one line per user, `user item item …`, items in time order (no timestamps), e.g.
`sequential_data.txt` (P5) or `Beauty.txt` / `Sports_and_Outdoors.txt` / `Toys_and_Games.txt`
(S3-Rec). Optional titles CSV `item_id, asin, title` (P5 ids) -> products.

Timestamps are synthetic but keep each user's order: the item at position p (0-based) of any
user's line gets `SEQUENCE_EPOCH + p * SECONDS_PER_POSITION` (2014-01-01T00:00:00Z plus one day
per position). Only the order within a user means anything; times across users do not.
Event ids are `"amazon:{user}-{position}"`, so a re-conversion yields identical ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from shopsense.ingest.public.common import (
    ConvertOptions,
    Layout,
    Row,
    clean,
    find_file,
    require_file,
)
from shopsense.ingest.readers import iter_rows, open_text

SEQUENCE_EPOCH = 1_388_534_400  # 2014-01-01T00:00:00Z
SECONDS_PER_POSITION = 86_400  # one day per position
SEQUENCE_FILES = ("sequential_data.txt", "Beauty.txt", "Sports_and_Outdoors.txt",
                  "Toys_and_Games.txt")
TITLE_FILES = ("items_with_titles.derived.csv", "items_with_titles.csv")


def iter_sequences(path: Path | str) -> Iterator[tuple[str, list[str]]]:
    """Yield `(user_id, [item_id, …])` per non-empty line, items in the file's (time) order."""
    with open_text(path) as lines:
        for line_no, line in enumerate(lines, start=1):
            tokens = line.split()
            if not tokens:
                continue
            if len(tokens) < 2:
                raise ValueError(f"{path}:{line_no}: expected 'user item item …', got {line!r}")
            yield tokens[0], tokens[1:]


def amazon_5core_events(path: Path | str, *, event_type: str = "purchase",
                        epoch: int = SEQUENCE_EPOCH,
                        step_s: int = SECONDS_PER_POSITION) -> Iterator[Row]:
    """Event rows, one per (user, position); synthetic timestamps keep each user's order."""
    for user, items in iter_sequences(path):
        for position, item in enumerate(items):
            yield {
                "event_id": f"amazon:{user}-{position}",
                "user_id": user,
                "item_id": item,
                "event_type": event_type,
                "timestamp": epoch + position * step_s,
                "platform": "other",
            }


def amazon_5core_products(titles_path: Path | str) -> Iterator[Row]:
    """Product rows from `item_id, asin, title`; an empty title falls back to the ASIN."""
    for _line, row in iter_rows(titles_path, format="csv"):
        item_id = clean(row.get("item_id"))
        if not item_id:
            continue
        asin = clean(row.get("asin"))
        title = clean(row.get("title")) or asin or f"item {item_id}"
        product: Row = {"item_id": item_id, "title": title, "locale": "en-US"}
        if asin:
            product["attributes"] = {"asin": asin}
        yield product


def _sequence_file_in(folder: Path) -> Path:
    """The one sequence file of a folder; several (Beauty + Sports + Toys) must be chosen."""
    from shopsense.ingest.public.detect import detect_layout

    found = [p for p in (find_file(folder, (name,)) for name in SEQUENCE_FILES) if p]
    if not found:
        found = [p for p in sorted(folder.glob("*.txt*"))
                 if p.is_file() and detect_layout(p) == "amazon-5core"]
    if not found:
        raise FileNotFoundError(f"{folder}: no sequence file ({', '.join(SEQUENCE_FILES)}, "
                                "or any `user item item …` .txt)")
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise ValueError(f"{folder}: several sequence files ({names}); pass one of them as SRC")
    return found[0]


def _outputs(src: Path, options: ConvertOptions) -> dict[str, Iterator[Row]]:
    if src.is_dir():
        sequences = _sequence_file_in(src)
        titles = options.titles or find_file(src, TITLE_FILES)
    else:
        sequences = require_file(src, "sequence file")
        titles = options.titles or find_file(src.parent, TITLE_FILES)
    outputs: dict[str, Iterator[Row]] = {"events": amazon_5core_events(sequences)}
    if titles is not None:
        outputs["products"] = amazon_5core_products(require_file(titles, "titles file"))
    return outputs


LAYOUT = Layout(
    name="amazon-5core",
    description="`user item item …` sequence files (S3-Rec / P5) [+ item_id,asin,title CSV]",
    outputs=_outputs,
)
