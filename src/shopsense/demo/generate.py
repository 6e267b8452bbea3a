"""`generate_demo`: write the whole demo shop (catalogue, events, categories, queries) to a folder.

Same seed -> byte-identical files. Files are UTF-8 JSON Lines (one object a line, keys in a
fixed order, `\\n` endings) plus one JSON document for the category tree.
"""

from __future__ import annotations

import os
import random
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import orjson

from shopsense.demo.brands import BRANDS
from shopsense.demo.catalog import END_TS, DemoItem, build_catalogue, iso, leaf_slug
from shopsense.demo.glossary import demo_glossary
from shopsense.demo.queries import demo_judgments, demo_queries
from shopsense.demo.sessions import Simulator
from shopsense.demo.shoppers import PLATFORMS, make_shopper, make_shoppers
from shopsense.demo.taxonomy import INNER_NODES, LEAVES, english_path

GENERATOR_VERSION = 6  # bump whenever the same seed would give different files
MANIFEST = "manifest.json"
SESSIONS_PER_USER_DAY = 0.55
GUESTS_PER_USER = 2.5
GUEST_SESSIONS = 1.3


@dataclass(frozen=True, slots=True)
class DemoPaths:
    products: Path
    events: Path
    categories: Path
    queries: Path

    @property
    def judgments(self) -> Path:
        """Graded (query, item) judgments of the demo queries, next to the other files."""
        return self.queries.parent / "judgments.jsonl"

    @property
    def shoppers(self) -> Path:
        """The registered shoppers' latent tastes: ground truth for profiles (not for ingest)."""
        return self.queries.parent / "shoppers_truth.jsonl"


def simulate(items: list[DemoItem], seed: int, n_users: int, days: int) -> list[dict[str, Any]]:
    """Every event of the demo shop, oldest first, with deterministic event ids."""
    sim = Simulator(items, seed, days)
    for shopper in make_shoppers(seed, n_users, SESSIONS_PER_USER_DAY * days):
        sim.run_shopper(shopper)
    guest_rng = random.Random(f"shopsense-demo-guests-{seed}")
    for _ in range(round(n_users * GUESTS_PER_USER)):
        sim.run_shopper(make_shopper(guest_rng, None, GUEST_SESSIONS * days / 60))
    rows = []
    for n, (ts, _, kind, user, sid, item, query, value, platform) in enumerate(sorted(sim.events)):
        rows.append({
            "event_id": f"e{n + 1:07d}", "event_type": kind, "timestamp": iso(ts), "user_id": user,
            "session_id": sid, "item_id": None if item is None else items[item].item_id,
            "query": query, "value": value, "platform": platform,
        })
    return rows


def iter_demo_events(seed: int = 7, n_products: int = 3200, n_users: int = 1200,
                     days: int = 60) -> Iterator[dict[str, Any]]:
    """The events.jsonl rows of the demo shop, as dicts, oldest first."""
    yield from simulate(build_catalogue(seed, n_products), seed, n_users, days)


def shopper_truth(seed: int, n_users: int, days: int) -> Iterator[dict[str, Any]]:
    """shoppers_truth.jsonl rows: what each registered shopper really likes."""
    for shopper in make_shoppers(seed, n_users, SESSIONS_PER_USER_DAY * days):
        yield {
            "user_id": shopper.user_id, "lang": shopper.lang, "price_band": shopper.band,
            "categories": [LEAVES[i].path for i in shopper.leaves],
            "category_weights": [round(w, 4) for w in shopper.leaf_weights],
            "favourite_brands": sorted(list(BRANDS[k].aliases()) for k in shopper.favourites),
            "disliked_brands": sorted(list(BRANDS[k].aliases()) for k in shopper.disliked),
            "platforms": {p: round(w / sum(shopper.platforms), 4)
                          for p, w in zip(PLATFORMS, shopper.platforms, strict=True)},
        }


def category_tree(items: list[DemoItem]) -> dict[str, Any]:
    """categories.json: every node with zh and en names, and facts about each leaf."""
    counts = Counter(item.leaf for item in items)
    nodes: dict[str, dict[str, Any]] = {}
    for path in INNER_NODES:
        nodes[path] = _node(path, leaf=False)
    for idx, leaf in enumerate(LEAVES):
        node = _node(leaf.path, leaf=True)
        node.update({"consumable": leaf.consumable, "repurchase_days": leaf.repurchase_days,
                     "price_min": leaf.price[0], "price_max": leaf.price[1],
                     "complements": list(leaf.complements), "n_products": counts.get(idx, 0)})
        nodes[leaf.path] = node
    for path, node in nodes.items():
        if node["parent"]:
            nodes[node["parent"]]["children"].append(path)
    return {"separator": " > ", "language": "zh", "currency": "CNY",
            "roots": [p for p, n in nodes.items() if n["parent"] is None],
            "nodes": dict(sorted(nodes.items()))}


def _node(path: str, *, leaf: bool) -> dict[str, Any]:
    parts = path.split(" > ")
    en = english_path(path)
    return {"path": path, "path_en": en, "zh": parts[-1], "en": en.split(" > ")[-1],
            "parent": " > ".join(parts[:-1]) or None, "depth": len(parts), "leaf": leaf,
            "children": []}


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    with path.open("wb") as fh:
        for row in rows:
            fh.write(orjson.dumps(row) + b"\n")
            n += 1
    return n


def generate_demo(out_dir: Path, *, seed: int = 7, n_products: int = 3200, n_users: int = 1200,
                  days: int = 60) -> DemoPaths:
    """Write products.jsonl, events.jsonl, categories.json, queries.jsonl (plus judgments.jsonl
    and manifest.json, the settings that made them)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    items = build_catalogue(seed, n_products)
    paths = DemoPaths(products=out_dir / "products.jsonl", events=out_dir / "events.jsonl",
                      categories=out_dir / "categories.json", queries=out_dir / "queries.jsonl")
    _write_jsonl(paths.products, (item.record for item in items))
    _write_jsonl(paths.events, simulate(items, seed, n_users, days))
    paths.categories.write_bytes(orjson.dumps(category_tree(items), option=orjson.OPT_INDENT_2) + b"\n")
    (out_dir / "glossary.json").write_bytes(orjson.dumps(demo_glossary(), option=orjson.OPT_INDENT_2) + b"\n")
    queries = demo_queries()
    _write_jsonl(paths.queries, queries)
    _write_jsonl(paths.judgments, demo_judgments(queries, items))
    _write_jsonl(paths.shoppers, shopper_truth(seed, n_users, days))
    write_placeholder_images(out_dir / "images")
    manifest = {"generator": GENERATOR_VERSION, "seed": seed, "n_products": n_products,
                "n_users": n_users, "days": days, "end": iso(END_TS)}
    (out_dir / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
    return paths


def write_placeholder_images(folder: Path) -> list[Path]:
    """One small SVG per leaf, named as the products' `image_url` ends (/static/demo/<slug>.svg)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for n, leaf in enumerate(LEAVES):
        hue = (n * 137) % 360
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="320" height="320" viewBox="0 0 320 320">'
               f'<rect width="320" height="320" fill="hsl({hue},45%,88%)"/>'
               f'<text x="160" y="150" font-size="36" text-anchor="middle" fill="hsl({hue},40%,30%)">'
               f'{leaf.name}</text><text x="160" y="195" font-size="20" text-anchor="middle" '
               f'fill="hsl({hue},40%,30%)">{escape(leaf.en)}</text></svg>\n')
        path = folder / f"{leaf_slug(leaf)}.svg"
        path.write_text(svg, encoding="utf-8")
        written.append(path)
    return written


def ensure_demo(out_dir: Path, *, seed: int = 7, n_products: int = 3200, n_users: int = 1200,
                days: int = 60) -> tuple[DemoPaths, bool]:
    """The demo in `out_dir`, generated only if missing or made with other settings.

    Safe as a cache shared by test sessions: files are written beside `out_dir` and moved in,
    manifest.json last, so a folder whose manifest matches is complete.
    Returns (paths, generated_now)."""
    out_dir = Path(out_dir)
    wanted = {"generator": GENERATOR_VERSION, "seed": seed, "n_products": n_products,
              "n_users": n_users, "days": days, "end": iso(END_TS)}
    paths = DemoPaths(products=out_dir / "products.jsonl", events=out_dir / "events.jsonl",
                      categories=out_dir / "categories.json", queries=out_dir / "queries.jsonl")
    manifest = out_dir / MANIFEST
    files = (paths.products, paths.events, paths.categories, paths.queries, paths.judgments,
             paths.shoppers)
    if manifest.exists() and all(f.exists() for f in files):
        if orjson.loads(manifest.read_bytes()) == wanted:
            return paths, False
    staging = out_dir.parent / f".{out_dir.name}.{os.getpid()}.partial"
    try:
        generate_demo(staging, seed=seed, n_products=n_products, n_users=n_users, days=days)
        (out_dir / "images").mkdir(parents=True, exist_ok=True)
        manifest.unlink(missing_ok=True)
        moved = sorted(p for p in staging.rglob("*") if p.is_file() and p.name != MANIFEST)
        for path in [*moved, staging / MANIFEST]:
            os.replace(path, out_dir / path.relative_to(staging))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return paths, True


def summarize(paths: DemoPaths) -> dict[str, Any]:
    """Paths and row counts of a generated demo (what `shopsense demo generate` prints)."""
    files = {"products": paths.products, "events": paths.events, "categories": paths.categories,
             "queries": paths.queries, "judgments": paths.judgments, "shoppers": paths.shoppers}
    counts = {}
    for name, path in files.items():
        if name == "categories":
            tree = orjson.loads(path.read_bytes())
            counts["categories"] = sum(1 for node in tree["nodes"].values() if node["leaf"])
        else:
            with path.open("rb") as fh:
                counts[name] = sum(1 for _ in fh)
    return {"out": str(paths.products.parent), "paths": {k: str(v) for k, v in files.items()},
            "counts": counts}


__all__ = ["END_TS", "DemoPaths", "ensure_demo", "generate_demo", "iter_demo_events", "summarize"]
