"""Does the shop sell what a query asks for? The in-catalogue test, in zh and en.

A category reading may only become a hard filter when the product type the shopper named is
one the catalogue sells; otherwise the closest leaf would be forced onto an unknown type
(剃须刀 / shaver read as shampoo). `catalogue_sells(reading, understander, keyword)` answers with
`None` (the catalogue sells it, or the query names no product type) or a `NoExactMatch`
naming the words the shop has no product for. The type words are the query minus what the
reading explained (brands, attributes, prices, value words, exclusions, intent cues, filler),
and in English only those before a preposition (tent *for 4 people*, phone *with a big
screen*: the qualifier is no type); product words of two leaves joined into one compound no
title holds (mouse pad: a pad for a mouse) are not sold; otherwise they are sold when
1. learned product words of the catalogue cover them (空调, air conditioner, laptop), or
2. one product's title holds every one of them (keyword index; "down jacket"), or
3. their meaning is close to a learned product word (index/near_words.py: the encoder;
   earbuds -> headphones, 尿不湿 -> 纸尿裤), cosine >= `SYNONYM_COSINE`, unless they use a
   product word only as the modifier of a head no product word explains (跑步机, 婴儿车, baby stroller: compounds are
   head-final, so these name other things). Shared writing inflates the encoder's
   similarity: when a type's closest word is a *lexical neighbour* of the phrase (shares a
   character, or four letters, without being the phrase's head: 洗碗机 / 洗衣机, 床垫 / 床品,
   冰柜 / 冰箱, dishwasher / washing machine, necktie / crew neck; but also 耳麦 / 耳机,
   headset / headphones) the type counts only when the category classifier (trained on the
   catalogue's titles) also gives the phrase that leaf (p >= `NEIGHBOUR_CLASS`) or the
   cosine reaches `NEIGHBOUR_COSINE` (earphones / headphones 0.93), but never when the
   characters it does not share are another leaf's writing (衣 of 睡衣 / 睡袋), and its
   other-language words (washing machine for 洗碗机) are echoes of the same closeness, not
   separate evidence; below that cosine, a Chinese compound that differs from a product word
   in one modifier character only (洗碗机 / 洗衣机, 0.80) is another type of the same head
   whatever the classifier says (洗头水 / 洗发水, 0.87, is the same thing); or
4. they are the start of a learned product word still being typed ("air condi", "lapt",
   "空"): search-as-you-type asks with every keystroke; or
5. they follow a product word and say how it should be, not what other thing it is for
   (空调 静音, 手机 大屏, 冰箱 省电; not 空调 遥控器, 手机 支架, laptop bag: `_describe_the_type`).
Search, the assistant and any other caller use this one function (see docs/API.md,
`no_exact_match`). `read_type_words` also says *which* leaf sold words no product word
covers point at (the leaf of the titles holding them: washer, lip colour; or of the closest
product word: earbuds), so search can read them as that product type (`TypeReading`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from shopsense.domain import QueryReading, Slot
from shopsense.index.near_words import close_to_product_word
from shopsense.text.tokenize import tokenize
from shopsense.text.understand.gazetteer import compact
from shopsense.text.words import PURPOSE_HAN, PURPOSE_WORDS

TITLE_PURITY = 0.8  # share of the titles holding the words that sit in one leaf, to read it
_STOP = frozenset(
    "for with the and or of to in on from me my some any is are what which that this it you "
    "your very more less than good best new nice please show want need get do does sell sells "
    "have has got there i we a an buy find looking can could would like any thing things "
    "one ones not no without except excluding other than but".split()) | PURPOSE_WORDS | frozenset(
    # a model's suffixes name a version of a product line, never a type (iphone 16 pro max)
    "pro max ultra plus mini lite se neo prime edge fold flip".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|[\u4e00-\u9fff]+")
_CHAT = (r"帮我找|给我找|帮我|找一下|推荐一款|推荐一个|推荐一下|求推荐|推荐|想买个|想买|买个|来个|"
         r"我想|我要|一下|一款|一个|一台|一件|一双|一部|个")  # asking, not naming a type
_HAN_STOP = re.compile(r"^(?:有|卖|不|吗|呢|么|吧|有没有|你们|你家|这里|请问|哪些|什么|买|要|想|"
                       r"一下|商品|东西|产品|的|不要|不想要|别|除了|除去|没有|不含|不带|以外|之外|"
                       r"不是|排除|去掉|" + _CHAT + "|" + PURPOSE_HAN + r")+$")
_HAN_EDGES = re.compile(r"^(?:有没有|你们有|不想要|不要|除了|没有|不含|不带|" + _CHAT +
                        r"|有|卖|买|要|别|的)+|(?:以外|之外|吗|呢|么|吧|的)+$")


@dataclass(frozen=True)
class NoExactMatch:
    """The shop sells nothing of the type the query names; results are alternatives."""

    requested: str  # the type words as the shopper typed them
    language: str  # zh | en | mixed: the shopper's language

    def to_dict(self, alternatives: bool = True) -> dict[str, str]:
        """The API's `no_exact_match`; `alternatives`: whether the page shows any (nothing
        near enough: the message says only what the shop does not sell)."""
        zh = f"本店没有“{self.requested}”" + ("，以下是相近的其他商品" if alternatives else "")
        en = f"We don't sell “{self.requested}”" + (
            "; these are the closest alternatives" if alternatives else "")
        label = ("相近的其他商品" if self.language != "en" else "Closest alternatives"
                 ) if alternatives else ""
        return {"requested": self.requested, "alternatives": label,
                "message_zh": zh, "message_en": en}


def type_words(reading: QueryReading) -> tuple[str, list[tuple[int, int]]]:
    """The query with every span the reading explained blanked out (except product words),
    and the spans of the product words."""
    query = reading.query
    explained: list[tuple[int, int]] = []
    for slot in (*reading.brands, *reading.attributes, *reading.model_numbers,
                 *reading.exclusions, reading.price_min, reading.price_max,
                 reading.value_preference, reading.intent):
        if slot is not None and slot.span is not None:
            explained.append(slot.span)
    masked = "".join(" " if any(a <= i < b for a, b in explained) else ch
                     for i, ch in enumerate(query))
    terms = [s.span for s in reading.product_terms if s.span is not None]
    return masked, terms


def _content_words(masked: str) -> list[tuple[int, int]]:
    """The spans of the words that may name a type: English words but stop words, Chinese
    runs split at the attributive 的 (最贵的手机: 最贵 / 手机) less their asking edges."""
    out = []
    for m in _WORD.finditer(masked):
        word = m.group()
        if word.isascii():
            if len(word) >= 2 and word.lower() not in _STOP:
                out.append((m.start(), m.end()))
            continue
        for piece in re.finditer(r"[^的]+", word):
            part = piece.group()
            if _HAN_STOP.fullmatch(part):
                continue
            stripped = _HAN_EDGES.sub("", part)
            if stripped:
                begin = m.start() + piece.start() + part.index(stripped)
                out.append((begin, begin + len(stripped)))
    return out


# a word right after an amount with a unit (16gb ram, 55 inch screen), or the rest of a unit
# glued to it (5000m|ah), is what the amount measures: a part or a spec of the product named,
# not another thing ("laptop 2 bags" counts things: no unit)
_MEASURED = re.compile(r"\d(?:[.,]\d+)?(?:[a-z]*|\s*[a-z]+\s+)$", re.IGNORECASE)


def _modifies(query: str, span: tuple[int, int], term_spans: list[tuple[int, int]]) -> bool:
    """Whether the words at `span` only modify the product word(s) at `term_spans`: a lone
    Chinese character left over (士 of 男士, 款, 版); a Chinese compound ending in a product
    word, a kind of its head (新款手机, 儿童手表); the A of "A的B" with B a product word, how it
    is or whom it is for (最贵的手机, 送女朋友的口红); or what an amount measures."""
    a, b = span
    if not query[a].isascii() and (b - a == 1 or any(s > a and e == b for s, e in term_spans)):
        return True
    joined = re.match(r"\s*的\s*", query[b:])
    if joined is not None and any(s == b + joined.end() for s, _ in term_spans):
        return True
    return bool(_MEASURED.search(query[:a]))


@dataclass(frozen=True)
class TypeReading:
    """Sold type words no learned product word covers, and the leaf they point at (None:
    sold, but no one leaf: a word still being typed, titles spread over leaves)."""

    phrase: str
    span: tuple[int, int]
    category: str | None = None
    confidence: float = 0.0


Leaves = Callable[[np.ndarray], Sequence[str]]  # keyword-index rows -> their categories


def catalogue_sells(reading: QueryReading, understander: Any, keyword: Any,
                    correct: Callable[[str], str] | None = None) -> NoExactMatch | None:
    """None when the catalogue sells the product type `reading` names (or it names none);
    else the words it does not sell. `understander`: a fitted `QueryUnderstander` (its
    learned product words and encoder); `keyword`: the catalogue's `KeywordIndex`;
    `correct`: a spelling corrector of index terms (typos: "lapop" is a laptop)."""
    found = read_type_words(reading, understander, keyword, correct)
    return found if isinstance(found, NoExactMatch) else None


def read_type_words(reading: QueryReading, understander: Any, keyword: Any,
                    correct: Callable[[str], str] | None = None, leaves: Leaves | None = None,
                    names_a_node: Callable[[str], bool] | None = None
                    ) -> NoExactMatch | TypeReading | None:
    """`catalogue_sells`, saying more: None when product words cover the type words (or there
    are none), a `NoExactMatch` when the shop does not sell them, else a `TypeReading` with
    the leaf they point at (`leaves` gives the categories of index rows; without it, the
    leaf only comes from the closest product word). None too when `names_a_node(phrase)`: the
    words name a category above several leaves (鞋 of 鞋靴, shoes of Shoes & Boots), which one
    leaf's titles must not narrow to that leaf (boots are shoes too)."""
    masked, term_spans = type_words(reading)
    term_spans = _learned_spans(reading, understander, term_spans)
    words = _before_qualifier(masked, _content_words(masked))
    unknown = [(a, b) for a, b in words if not any(s <= a and b <= e for s, e in term_spans)]
    if term_spans:  # a product word names the type; what modifies it names none
        unknown = [(a, b) for a, b in unknown if not _modifies(reading.query, (a, b), term_spans)]
    if not unknown:
        return _joined_types(reading, understander, keyword, correct)
    query = reading.query
    start, end = min(a for a, _ in words), max(b for _, b in words)
    phrase = re.sub(r"\s+", " ", query[start:end]).strip()
    if names_a_node is not None and names_a_node(phrase):
        return None
    if _begins_a_product_word(phrase, understander):
        return TypeReading(phrase, (start, end))
    rows = _title_rows(phrase, keyword, correct)
    if len(rows):
        leaf, share = _purest_leaf(leaves(rows) if leaves is not None else [])
        return TypeReading(phrase, (start, end), leaf if share >= TITLE_PURITY else None,
                           share)
    if term_spans and _describe_the_type(query, unknown, term_spans, understander, keyword,
                                         correct):
        return None
    if not _product_word_as_modifier(phrase, understander):
        near = close_to_product_word(phrase, understander)
        if near is not None:
            return TypeReading(phrase, (start, end), *near)
    return NoExactMatch(phrase, reading.language)


def _learned_spans(reading: QueryReading, understander: Any, spans: list[tuple[int, int]]
                   ) -> list[tuple[int, int]]:
    """The spans of `reading`'s product words the catalogue taught the understander (not
    those its tagger only found *shaped* like a product word: 睡衣 is tagged as one, and
    sold only if titles or meaning say so)."""
    learned = getattr(understander, "learned_keys_", None)
    if learned is None:
        words = [*(getattr(understander, "terms_", {}) or {}),
                 *(getattr(understander, "node_words_", {}) or {})]
        learned = understander.learned_keys_ = {compact(str(w))[0] for w in words}
    return [(a, b) for a, b in spans if compact(reading.query[a:b])[0] in learned]


# prepositions that start a qualifier of the type named before them ("in" / "on" are left
# out: "in stock", "on sale" ask about the offer, not the type)
_QUALIFIER = re.compile(r"\b(?:for|with|without|that|which|under|over|from|by)\b",
                        re.IGNORECASE)


def _before_qualifier(masked: str, words: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """English names the type first and qualifies it after a preposition (tent for 4 people,
    phone with a big screen, laptop for students): the words after it are no type words."""
    for m in _QUALIFIER.finditer(masked):
        if masked[:m.start()].isascii() and any(b <= m.start() for _, b in words):
            return [(a, b) for a, b in words if b <= m.start()]
    return words


def _joined_types(reading: QueryReading, understander: Any, keyword: Any,
                  correct: Callable[[str], str] | None) -> NoExactMatch | None:
    """Product words of different leaves written as one compound that no title holds name a
    third thing (compounds are head-final: a mouse pad is a pad for a mouse, neither a mouse
    nor the tablet the catalogue calls a pad): not sold. Words a title holds together (phone
    case, 跑步鞋) and words of one leaf (sneakers running shoes) are read as usual."""
    spans = sorted({s.span for s in reading.product_terms if s.span is not None})
    spans = [a for a in spans if not any(b != a and b[0] <= a[0] and a[1] <= b[1]
                                         for b in spans)]  # the longest words only
    if len(spans) < 2:
        return None
    query = reading.query
    for a, b in itertools.pairwise(spans):
        gap = query[a[1]:b[0]]
        if gap.strip() or (gap and not (query[a[0]:a[1]] + query[b[0]:b[1]]).isascii()):
            return None  # two wishes ("phone and tablet", 鼠标 平板), not one compound
    terms = getattr(understander, "terms_", {}) or {}
    leaves = set()
    for a, b in spans:
        shares = terms.get(query[a:b].lower()) or terms.get(query[a:b])
        if not shares:
            return None
        leaves.add(max(shares, key=lambda c: shares[c]))
    head = query[spans[-1][0]:spans[-1][1]]
    if not head.isascii() and len(head) >= 2 and \
            len({leaf.split(" > ")[0] for leaf in leaves}) == 1:
        return None  # a Chinese compound is a kind of its head when its words are of one
        # department: 婴儿纸尿裤 is a diaper, 手机耳机 earphones (a lone head character, 垫 or
        # 包, may be another thing's: 鼠标垫 is no yoga mat; 唇膏 + 笔记本 is no laptop)
    phrase = query[spans[0][0]:spans[-1][1]]
    if len(leaves) < 2 or len(_title_rows(phrase, keyword, correct)):
        return None
    return NoExactMatch(phrase, reading.language)


def _purest_leaf(categories: Sequence[str]) -> tuple[str | None, float]:
    if not categories:
        return None, 0.0
    counts: dict[str, int] = {}
    for c in categories:
        counts[c] = counts.get(c, 0) + 1
    leaf = max(counts, key=lambda c: counts[c])
    return leaf, counts[leaf] / len(categories)


def _product_word_as_modifier(phrase: str, understander: Any) -> bool:
    """`phrase` names another thing *for* a product word: compounds are head-final in both
    languages, so a product word followed by a head no product word explains is a different
    type (跑步机 treadmill is not 跑步鞋, 婴儿车 is not 婴儿奶粉, 空调遥控器, baby stroller), however
    close its meaning; a product word at the end is a kind of it (变频空调, wireless headphones)."""
    terms = [str(t).lower() for t in getattr(understander, "terms_", {}) or {}]
    lowered = phrase.lower().strip()
    if lowered.isascii():
        words = lowered.split()
        term_words = {w for t in terms if t.isascii() for w in t.split()}
        if len(words) == 1:  # a closed compound: bookshelf is a shelf, not a book
            return not any(lowered.endswith(w) for w in term_words) and any(
                len(w) >= 4 and lowered.startswith(w) and len(lowered) > len(w) + 2
                for w in term_words)
        return words[-1] not in term_words and any(w in term_words for w in words[:-1])
    han = [t for t in terms if not t.isascii()]
    ends = any(lowered.endswith(t) for t in han)
    return not ends and any(lowered.startswith(t) and len(lowered) > len(t) for t in han)


def _begins_a_product_word(phrase: str, understander: Any) -> bool:
    """`phrase` is how a learned product word begins (at least 3 letters, or one Han
    character): the shopper is still typing it."""
    lowered = phrase.lower()
    if len(lowered) < (3 if lowered.isascii() else 1):
        return False
    return any(str(term).lower().startswith(lowered)
               for term in getattr(understander, "terms_", {}) or {})


def _title_rows(phrase: str, keyword: Any, correct: Callable[[str], str] | None,
                titles: bool = True) -> np.ndarray:
    """Index rows of the live products whose title (`titles=False`: whose text, any field)
    holds every term of `phrase` (spelling corrected; at most 2,000 looked at)."""
    none = np.zeros(0, dtype=np.int64)
    terms = list(dict.fromkeys(correct(t) if correct else t for t in tokenize(phrase)))
    ids = keyword.query_term_ids(terms)
    if not terms or len(ids) < len({t for t in terms if t}):
        return none
    matches = keyword.score_matches(terms)
    rows = matches.rows[matches.matched >= len(ids)][:2000]
    if rows.size == 0 or not titles:
        return np.asarray(rows)
    counts = keyword.term_counts("title", rows, ids)
    return np.asarray(rows[(counts > 0).all(axis=1)])


# Chinese compounds are head-final, and the head of a word that names a *thing* is one of a
# fairly closed set of characters (tools, parts, covers, containers, machines, cosmetics,
# garments, vehicles): 遥控器, 清洗剂, 收纳盒, 支架, 贴膜, 挡风板, 保护套, 防尘罩, 电脑包, 数据线,
# 烘干机, 运动裤, 婴儿车. A describing word
# ends otherwise: 静音, 大屏, 省电, 拍照, 续航, 大容量, 双开门, 轻薄, 家用.
_THING_HEADS = frozenset("器剂盒架膜板套罩包袋箱柜灯柄壳垫座夹扣链绳管刷杯瓶壶锅铲勺碗盘桶篮筐伞"
                         "镜仪椅凳桌枕毯帘巾纸笔卡棒钉锁泵扇炉线网件机具霜露液膏乳车衣裤裙鞋袜帽衫靴")
_WITH = ("带", "配", "含", "附", "送")  # comes with: 带遥控器 describes, it names no other thing
_AGAINST = frozenset("无免防抗耐省保补控降护去除祛透")  # 无线, 防水, 补水: "without / against X"


def _names_a_thing(word: str) -> bool:
    """A Chinese word after a product word names another thing (bought *for* it), not how
    the product is: 空调 遥控器 is a remote, 空调 静音 a quiet air conditioner."""
    if word.startswith(_WITH):
        return False
    if len(word) == 2 and word[0] in _AGAINST:
        return False
    return word[-1] in _THING_HEADS


def _describe_the_type(query: str, unknown: list[tuple[int, int]],
                       term_spans: list[tuple[int, int]], understander: Any, keyword: Any,
                       correct: Callable[[str], str] | None) -> bool:
    """Every word no product word covers follows the product word and says how its type is
    (a wish to rank by, found or not, not a type), so the shop sells what the query asks
    for: in Chinese a word, or the rest of a compound, that names no thing (空调 静音, 空调静音,
    手机 大屏, 冰箱 省电; not 空调 遥控器, 婴儿车); in English a word that a product holding the
    product word also holds (laptop lightweight, where laptops are described so; laptop bag
    and laptop stand are other things); or a word ending in a product word of the same leaf
    (冰箱 双开门). Words before the product word are left to the other tests (a modifier of
    the head: 静音空调, or a compound's first part: ice cream)."""
    def leaf(span: tuple[int, int]) -> str | None:
        shares = terms.get(query[span[0]:span[1]].lower()) or terms.get(query[span[0]:span[1]])
        return max(shares, key=lambda c: shares[c]) if shares else None

    terms = getattr(understander, "terms_", {}) or {}
    for a, b in unknown:
        inner = [t for t in term_spans if a <= t[0] and t[1] <= b]
        before = [t for t in term_spans if t[1] <= a] or [t for t in inner if t[0] == a]
        if not before:
            return False  # no product word before it: a modifier, or a compound's first part
        cut = max((e for _, e in inner), default=a)
        if cut == b:  # ends in a product word (冰箱 双开门: 开门, learned from fridge titles)
            if leaf(inner[-1]) != leaf(before[0]) or leaf(inner[-1]) is None:
                return False
            continue
        rest = query[cut:b]
        if rest.isascii():
            named = " ".join(query[s:e] for s, e in term_spans)
            if not len(_title_rows(f"{named} {rest}", keyword, correct, titles=False)):
                return False
        elif _names_a_thing(rest):
            return False
    return True


def with_type_reading(reading: QueryReading, found: NoExactMatch | TypeReading | None
                      ) -> QueryReading:
    """`reading` with sold type words read as the product type of the leaf they point at
    (washer -> 家电 > 洗衣机), as a product word would be; unchanged otherwise."""
    if not isinstance(found, TypeReading) or found.category is None:
        return reading
    slot = Slot(found.category, found.confidence, found.span, found.phrase)
    return replace(reading, category=slot, product_terms=(
        *reading.product_terms, Slot(found.phrase, found.confidence, found.span, found.phrase)))
