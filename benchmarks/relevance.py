"""Bilingual relevance suite on the demo shop: pass rate per property.

    python benchmarks/relevance.py [--products 3200] [--suite first|held-out|words|shapes|both|all]
                                   [--json benchmarks/results/relevance.json]

Generates the seeded demo shop (seed 7), fits query understanding and the search engine on its
catalogue (the real USE encoder), runs `shopsense.evaluation.relevance` (checks derived from
the catalogue: absent types, every leaf in zh and en, parity, value words, ceilings below a
leaf's cheapest item, negation, brand aliases, typos, mixed language) and prints the rate of
each property, plus the failures. `--suite held-out` runs the second suite
(`shopsense.evaluation.relevance_heldout`: the same properties asked with other words and
phrasings); `--suite words` the third (`shopsense.evaluation.relevance_words`: look-alike
absent types such as 洗碗机 / dishwasher beside 洗衣机 / washer, and other words for sold types
such as cell phone, earphones, 耳麦); `--suite shapes` the fourth
(`shopsense.evaluation.relevance_shapes`: query shapes none of the others asks: ceilings the
shop can meet, ranges, floors, colloquial wishes, a brand in the other language with a value
word, misspelt brands, colour + negated brand, absent types in chat); `both` runs the first
two, `all` all four.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=3200)
    parser.add_argument("--suite", choices=("first", "held-out", "words", "shapes", "both", "all"),
                        default="both")
    parser.add_argument("--home", type=Path, default=None,
                        help="a demo home (shopsense demo run): use its saved search index")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from shopsense.demo.generate import generate_demo
    from shopsense.evaluation.relevance import relevance_checks
    from shopsense.evaluation.relevance_heldout import held_out_checks
    from shopsense.evaluation.relevance_shapes import shape_checks
    from shopsense.evaluation.relevance_words import word_checks
    from shopsense.evaluation.search import load_catalog
    from shopsense.pipeline.search import SearchEngine
    from shopsense.text.encoders import USEEncoder
    from shopsense.text.understand import QueryUnderstander

    started = time.perf_counter()
    if args.home is not None:
        engine, products = _home_engine(args.home)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            paths = generate_demo(Path(tmp), seed=7, n_products=args.products, n_users=10,
                                  days=3)
            products, _ = load_catalog(paths.products)
        engine = SearchEngine.build(products, encoder=USEEncoder(threads=1))
        engine.understander = QueryUnderstander().fit(products)
    built = time.perf_counter() - started
    print(f"demo shop: {len(products)} products; built in {built:.0f} s")
    suites = {"first": relevance_checks, "held-out": held_out_checks, "words": word_checks,
              "shapes": shape_checks}
    chosen = {"both": ("first", "held-out"), "all": tuple(suites)}.get(args.suite,
                                                                        (args.suite,))
    report = {}
    for name, make in suites.items():
        if name in chosen:
            report[name] = _run_suite(name, make(products), engine)
    if args.json:
        args.json.write_text(json.dumps({"products": len(products), "suites": report},
                                        ensure_ascii=False, indent=1))
    return 0


def _home_engine(home: Path) -> tuple[object, list]:
    from shopsense.config import Settings
    from shopsense.pipeline.search_open import open_search_engine
    from shopsense.text.understand import understander_for_home

    cfg = Settings(home=home)
    engine = open_search_engine(cfg)
    products = [p for r, p in enumerate(engine.table.products_) if engine.table.alive_[r]]
    engine.understander = understander_for_home(cfg, products=products, with_tagger=False)
    return engine, products


def _run_suite(name: str, checks: list, engine: object) -> dict:
    from shopsense.evaluation.relevance import pass_rates, run_checks

    started = time.perf_counter()
    outcomes = run_checks(lambda q, **kw: engine.search(q, **kw), checks)  # type: ignore[attr-defined]
    rates = pass_rates(outcomes)
    print(f"suite {name}: {len(checks)} checks (zh {sum(c.lang == 'zh' for c in checks)}, "
          f"en {sum(c.lang == 'en' for c in checks)}, mixed "
          f"{sum(c.lang == 'mixed' for c in checks)}) in {time.perf_counter() - started:.0f} s")
    for prop, row in sorted(rates.items(), key=lambda kv: kv[0] == "all"):
        print(f"  {prop:24} {int(row['passed']):4d} / {int(row['of']):4d}  {row['rate']:.1%}")
    failed = [o for o in outcomes if not o.passed]
    for o in failed:
        print(f"  FAIL {o.check.prop:22} {o.check.lang:5} {o.check.query!r}: {o.detail}")
    return {"rates": rates, "failed": [[o.check.prop, o.check.query, o.detail] for o in failed]}


if __name__ == "__main__":
    sys.exit(main())
