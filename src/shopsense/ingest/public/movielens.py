"""MovieLens ratings and movies as `rate` events and products.

Ratings: `u.data` (ml-100k: tab, no header, `user item rating unix_ts`), `ratings.csv`
(ml-latest / 20m / 25m: `userId,movieId,rating,timestamp`) or `ratings.dat` (ml-1m / 10m:
`UserID::MovieID::Rating::Timestamp`). Each rating -> a `rate` event with `value` = the rating
and event id `"movielens:{user}-{item}-{timestamp}"`.

Movies: `u.item` (Latin-1, `|`: id|title|release date|video date|IMDb URL|19 genre flags),
`movies.csv` (`movieId,title,genres` with `|`-joined genres) or `movies.dat`
(`MovieID::Title::Genres`). Category = the first listed genre (u.item: in u.genre order), all
genres in `attributes.genres`; the year from the title in `attributes.year`; u.item's release
date becomes `created_at` as ISO 8601 (`1995-01-01T00:00:00Z`; unix seconds cannot hold the
pre-1970 films) and `attributes.release_date` (`1995-01-01`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from shopsense.ingest.public.common import (
    ConvertOptions,
    Layout,
    Row,
    clean,
    find_file,
    require_file,
    some_outputs,
    to_number,
)
from shopsense.ingest.readers import iter_rows, open_text

# u.genre, in flag order.
ML100K_GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)
RATING_FILES = ("u.data", "ratings.csv", "ratings.dat")
MOVIE_FILES = ("u.item", "movies.csv", "movies.dat")
_NO_GENRE = frozenset({"unknown", "(no genres listed)", ""})
_ML100K_RATINGS = re.compile(r"^u[1-5ab]?\.(data|base|test)")  # u.data and its split files
_YEAR = re.compile(r"\((\d{4})\)\s*$")


def _rating_event(user: str, item: str, rating: str, ts: str) -> Row:
    value = to_number(rating)
    return {
        "event_id": f"movielens:{user}-{item}-{ts}",
        "user_id": user,
        "item_id": item,
        "event_type": "rate",
        "value": value,
        "timestamp": int(ts),
        "platform": "other",
    }


def movielens_events(path: Path | str) -> Iterator[Row]:
    """`rate` events from u.data, ratings.csv or ratings.dat (chosen by file name)."""
    name = Path(path).name.lower()
    if _ML100K_RATINGS.match(name):
        for _line, row in iter_rows(path, format="tsv",
                                    fieldnames=("user", "item", "rating", "ts")):
            yield _rating_event(row["user"], row["item"], row["rating"], row["ts"])
    elif ".dat" in name:
        with open_text(path, encoding="latin-1") as lines:
            for line in lines:
                parts = line.rstrip("\r\n").split("::")
                if len(parts) >= 4:
                    yield _rating_event(parts[0], parts[1], parts[2], parts[3])
    else:
        for _line, row in iter_rows(path, format="csv"):
            yield _rating_event(row["userId"], row["movieId"], row["rating"], row["timestamp"])


def _movie(item_id: str, title: str, genres: list[str]) -> Row:
    genres = [g for g in genres if g not in _NO_GENRE]
    attributes: dict[str, object] = {"genres": genres}
    year = _YEAR.search(title)
    if year:
        attributes["year"] = int(year.group(1))
    return {"item_id": item_id, "title": title, "category": genres[0] if genres else "",
            "attributes": attributes, "locale": "en-US"}


def _u_item_products(path: Path | str) -> Iterator[Row]:
    with open_text(path, encoding="latin-1") as lines:
        for line_no, line in enumerate(lines, start=1):
            parts = line.rstrip("\r\n").split("|")
            if len(parts) < 5 + len(ML100K_GENRES):
                if line.strip():
                    raise ValueError(f"{path}:{line_no}: expected {5 + len(ML100K_GENRES)} "
                                     f"'|'-separated fields, got {len(parts)}")
                continue
            flags = parts[-len(ML100K_GENRES):]
            genres = [g for g, flag in zip(ML100K_GENRES, flags, strict=True) if flag == "1"]
            product = _movie(parts[0], clean(parts[1]), genres)
            released = _iso_date(parts[2])
            if released:
                product["created_at"] = released
                product["attributes"]["release_date"] = released[:10]
            if parts[4].strip():
                product["attributes"]["imdb_url"] = parts[4].strip()
            yield product


def _iso_date(day: str) -> str:
    """`'01-Jan-1995'` -> `'1995-01-01T00:00:00Z'` (ISO, since many films predate 1970)."""
    try:
        return datetime.strptime(day.strip(), "%d-%b-%Y").strftime("%Y-%m-%dT00:00:00Z")
    except ValueError:
        return ""


def movielens_products(path: Path | str) -> Iterator[Row]:
    """Products from u.item, movies.csv or movies.dat (chosen by file name)."""
    name = Path(path).name.lower()
    if name.startswith("u.item"):
        yield from _u_item_products(path)
    elif ".dat" in name:
        with open_text(path, encoding="latin-1") as lines:
            for line in lines:
                parts = line.rstrip("\r\n").split("::")
                if len(parts) >= 3:
                    yield _movie(parts[0], clean(parts[1]), parts[2].split("|"))
    else:
        for _line, row in iter_rows(path, format="csv"):
            yield _movie(clean(row["movieId"]), clean(row["title"]),
                         clean(row.get("genres")).split("|"))


def _outputs(src: Path, options: ConvertOptions) -> dict[str, Iterator[Row]]:
    directory = src if src.is_dir() else src.parent
    ratings = find_file(src, RATING_FILES) if src.is_dir() else None
    movies = options.products or find_file(directory, MOVIE_FILES)
    if src.is_file():
        if src.name.lower().startswith(("u.item", "movies.")):
            movies = src
        else:
            ratings = src
    outputs: dict[str, Iterator[Row]] = {}
    if ratings is not None:
        outputs["events"] = movielens_events(ratings)
    if movies is not None:
        outputs["products"] = movielens_products(require_file(movies, "movies file"))
    return some_outputs(outputs, src, "no MovieLens ratings or movies file "
                        f"({', '.join(RATING_FILES + MOVIE_FILES)})")


LAYOUT = Layout(
    name="movielens",
    description="MovieLens u.data/ratings.csv/ratings.dat -> rate events; "
                "u.item/movies.csv/movies.dat -> products",
    outputs=_outputs,
)
