"""Query understanding, zh + en: a query -> `QueryReading` in the catalogue's vocabulary.

`QueryUnderstander(...).fit(products, queries)` learns brand / attribute lexicons (with zh/en
aliases), product words and a category model from the shop's own catalogue;
`.understand(query)` reads one query; `build_understander(products, settings)` is the
one-call convenience for search, recommendations and the assistant.
"""

from __future__ import annotations

from shopsense.text.understand.build import (
           build_understander,
           default_tagger,
           understander_for_home,
)
from shopsense.text.understand.price import PriceParser, PriceReading
from shopsense.text.understand.rules import detect_language
from shopsense.text.understand.understander import QueryUnderstander

__all__ = ["PriceParser", "PriceReading", "QueryUnderstander", "build_understander",
           "default_tagger", "detect_language", "understander_for_home"]
