"""Bilingual relevance suite on the demo shop: pass rate per property.

    python benchmarks/relevance.py [--products 3200] [--json benchmarks/results/relevance.json]

Generates the seeded demo shop (seed 7), fits query understanding and the search engine on its
catalogue (the real USE encoder), runs `shopsense.evaluation.relevance` (checks derived from
the catalogue: absent types, every leaf in zh and en, parity, value words, ceilings below a
leaf's cheapest item, negation, brand aliases, typos, mixed language) and prints the rate of
each property, plus the failures.
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
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from shopsense.demo.generate import generate_demo
    from shopsense.evaluation.relevance import pass_rates, relevance_checks, run_checks
    from shopsense.evaluation.search import load_catalog
    from shopsense.pipeline.search import SearchEngine
    from shopsense.text.encoders import USEEncoder
    from shopsense.text.understand import QueryUnderstander

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate_demo(Path(tmp), seed=7, n_products=args.products, n_users=10, days=3)
        products, _ = load_catalog(paths.products)
    engine = SearchEngine.build(products, encoder=USEEncoder(threads=1))
    engine.understander = QueryUnderstander().fit(products)
    checks = relevance_checks(products)
    built = time.perf_counter() - started
    outcomes = run_checks(lambda q, **kw: engine.search(q, **kw), checks)
    rates = pass_rates(outcomes)
    print(f"demo shop: {len(products)} products, {len(checks)} checks "
          f"(zh {sum(c.lang == 'zh' for c in checks)}, en {sum(c.lang == 'en' for c in checks)},"
          f" mixed {sum(c.lang == 'mixed' for c in checks)}); built in {built:.0f} s")
    for prop, row in sorted(rates.items(), key=lambda kv: kv[0] == "all"):
        print(f"  {prop:24} {int(row['passed']):4d} / {int(row['of']):4d}  {row['rate']:.1%}")
    failed = [o for o in outcomes if not o.passed]
    for o in failed:
        print(f"  FAIL {o.check.prop:22} {o.check.lang:5} {o.check.query!r}: {o.detail}")
    if args.json:
        args.json.write_text(json.dumps({"products": len(products), "rates": rates,
                                         "failed": [[o.check.prop, o.check.query, o.detail]
                                                    for o in failed]},
                                        ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
