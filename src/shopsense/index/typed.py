"""The word a shopper is still typing, read as the product word it begins.

Search-as-you-type asks with every keystroke: `lapt`, `headph`, `air condi`, `空`, `笔记`, `格力空`
are the beginnings of the catalogue's product words (laptop, headphones, air conditioner, 空调,
笔记本), not words of their own, and a spelling corrector left alone turns them into other
words the catalogue happens to hold (`lapt` -> last: shampoo and lipstick). `TypedWords` knows the
words of the understander's learned product words and completes the *last* word of a query
when

- English: it has 3+ letters, the index does not know it as a word, and it is the strict
  beginning of a product word (the most frequent one in the catalogue wins), or, with 4+
  letters in a query of at most two words, one slip from such a beginning (`labt` ->
  laptop, as autocomplete reads it);
- Chinese: the segmenter's last token of the trailing Han run is the strict beginning of a
  Han product word and is not itself a product word (`空` -> 空调, but `苹果` stays 苹果), and
  does not follow another lone character other than an asking one (给我空 completes; 省电,
  which the segmenter cuts 省|电, is a word of its own, not 省 + 电视).

Suggest completes the same words (`SearchEngine.autocomplete`), so a prefix reads the same in
both. `complete(query)` answers the query with the word completed and {typed: completed}.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable

from shopsense.text.spell import damerau
from shopsense.text.tokenize import tokenize
from shopsense.text.words import PURPOSE_HAN, PURPOSE_WORDS

_LAST_LATIN = re.compile(r"([A-Za-z][A-Za-z'-]*)\s*$")
_LAST_HAN = re.compile(r"([\u4e00-\u9fff]+)\s*$")
_SPLIT = re.compile(r"[\s/&,()-]+")
MIN_LATIN = 3
_ASKING = frozenset("给买要找有卖来个台件款部双只的想求和与或")  # a lone character before the word
MIN_SLIPPED = 4  # a slip in fewer letters reads too many words
# a slip is read only in a query of at most this many words (a box being typed into: "labt",
# "cheap labt"): in a sentence the last word is more often a word of its own the index does
# not hold ("washer that doesn't cost much": much is not machine)
MAX_SLIP_WORDS = 2
_PURPOSE_HAN = re.compile(f"(?:{PURPOSE_HAN})+")


class TypedWords:
    """Completion of an unfinished last word into a learned product word."""

    def __init__(self, product_words: Iterable[str], known: Callable[[str], bool],
                 weight: Callable[[str], float]) -> None:
        """`product_words`: the understander's learned product words (phrases); `known(word)`:
        the index holds this English word as typed; `weight(word)`: how common a product word
        is in the catalogue (picks between several completions)."""
        latin: set[str] = set()
        han: set[str] = set()
        for phrase in product_words:
            for word in _SPLIT.split(str(phrase).lower()):
                if not word:
                    continue
                (latin if word.isascii() else han).add(word)
        self.latin_ = sorted(w for w in latin if w.isalpha() and len(w) > MIN_LATIN)
        self.han_ = sorted(w for w in han if all("\u4e00" <= c <= "\u9fff" for c in w))
        self.han_set_ = frozenset(self.han_)
        self.known = known
        self.weight = weight

    @staticmethod
    def _starting(words: list[str], prefix: str) -> list[str]:
        lo = bisect.bisect_left(words, prefix)
        hi = bisect.bisect_left(words, prefix + "\U0010ffff")
        return [w for w in words[lo:hi] if w != prefix]

    def _best(self, found: list[str]) -> str | None:
        if not found:
            return None
        return max(found, key=lambda w: (self.weight(w), -len(w), w))

    def word(self, query: str) -> tuple[str, str] | None:
        """(typed, completed) for the unfinished last word of `query`, or None."""
        han = _LAST_HAN.search(query)
        if han is not None:
            tokens = [t for t in tokenize(han.group(1)) if not t.isascii()]
            last = tokens[-1] if tokens and han.group(1).endswith(tokens[-1]) else ""
            if not last or last in self.han_set_ or _PURPOSE_HAN.fullmatch(last):
                return None
            if len(tokens) >= 2 and len(tokens[-2]) == 1 and tokens[-2] not in _ASKING:
                return None  # 省|电: two lone characters are a word the segmenter does not
                # know (省电, saves power), not a finished character and a word begun
            best = self._best(self._starting(self.han_, last))
            return (last, best) if best else None
        latin = _LAST_LATIN.search(query)
        if latin is None:
            return None
        typed = latin.group(1)
        lowered = typed.lower()
        if len(lowered) < MIN_LATIN or self.known(lowered) or lowered in PURPOSE_WORDS:
            return None  # "gift for mom": a whole word of whom it is for, not Momentum begun
        slips = len(query.split()) <= MAX_SLIP_WORDS
        best = self._best(self._starting(self.latin_, lowered) or
                          (self._slipped(lowered) if slips else []))
        return (typed, best) if best else None

    def _slipped(self, typed: str) -> list[str]:
        """Product words whose beginning is one slip from `typed` (4+ letters, same first
        letter: "labt" -> laptop), as autocomplete reads them (`Suggester.fuzzy_words`)."""
        if len(typed) < MIN_SLIPPED or not typed.isalpha():
            return []
        return [w for w in self._starting(self.latin_, typed[0])
                if len(w) > len(typed) and damerau(typed, w[:len(typed)], 2) <= 1]

    def complete(self, query: str) -> tuple[str, dict[str, str]]:
        """`query` with its unfinished last word completed, and {typed: completed}."""
        found = self.word(query)
        if found is None:
            return query, {}
        typed, completed = found
        stripped = query.rstrip()
        return stripped[: len(stripped) - len(typed)] + completed, {typed: completed}
