"""Hand-written cues that need no catalogue: language, intent words and negation cues.

Answers: is a query zh, en or mixed; does it ask to buy, browse, compare, ask a question or
go to a brand / product; where do "不要", "除了", "without", "not" start an exclusion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"(?<![0-9A-Za-z.])[A-Za-z][A-Za-z'’-]*")

def detect_language(query: str, neutral: frozenset[str] | set[str] = frozenset()) -> str:
    """zh | en | mixed by script: Chinese with any Latin word (a brand, an English word) is
    mixed; units after numbers (256GB, 4K) and `neutral` codes (sizes: XL, NB) count for neither.
    """
    han = len(_HAN.findall(query))
    if han == 0:
        return "en"
    words = [w.lower().strip("'’-") for w in _LATIN_WORD.findall(query)]
    latin = [w for w in words if len(w) > 1 and w not in neutral]
    return "mixed" if latin else "zh"


@dataclass(frozen=True, slots=True)
class Cue:
    start: int
    end: int
    text: str
    postfix: bool = False  # "红色以外的": negates what comes before it


_NEGATION_ZH = re.compile(r"不想要|不要|别要|不需要|不喜欢|不用|除了|除去|排除|去掉|不含|不带|不是|"
                          r"(?<!有)没有|拒绝|非(?!常)|别(?!的)|无")
_NEGATION_EN = re.compile(r"\b(?:don'?t want|do not want|anything but|other than|but not|"
                          r"not|no|without|except(?: for)?|excluding|exclude|w/o|avoid)\b",
                          re.IGNORECASE)
_NEGATION_POSTFIX = re.compile(r"以外|之外|\bexcluded\b", re.IGNORECASE)
# Where a negation's scope stops.
SCOPE_END = re.compile(r"[,，;；。!！?？]|\bbut\b|\bonly\b|只要|但是|但|而是|要|以外|之外|的",
                       re.IGNORECASE)
# What may join two excluded things: "不要苹果和三星", "not nike or adidas".
SCOPE_JOIN = re.compile(r"^\s*(?:和|或|或者|、|跟|与|及|/|,|，|or|and|nor|&)\s*(?:the\s)?$",
                        re.IGNORECASE)


def negation_cues(query: str) -> list[Cue]:
    """Negation cues, left to right (the caller drops cues that sit inside a known word)."""
    cues = [Cue(m.start(), m.end(), m.group()) for m in _NEGATION_ZH.finditer(query)]
    cues += [Cue(m.start(), m.end(), m.group()) for m in _NEGATION_EN.finditer(query)]
    cues += [Cue(m.start(), m.end(), m.group(), postfix=True)
             for m in _NEGATION_POSTFIX.finditer(query)]
    return sorted(cues, key=lambda c: c.start)


_COMPARE = re.compile(r"\bvs\.?\b|\bversus\b|\bcompare\b|\bcomparison\b|\bdifference between\b|"
                      r"\bwhich is better\b|\bor\b.*\bbetter\b|对比|比较|哪个好|哪款好|区别|还是.*好|"
                      r"\bbetter than\b|和.*哪个", re.IGNORECASE)
_QUESTION = re.compile(r"[?？]|吗|怎么|如何|是否|能不能|可不可以|多久|多少钱|为什么|什么时候|"
                       r"退货|退款|保修|售后|发货|运费|包邮吗|几天|^\s*(?:how|what|when|why|where|"
                       r"does|do|is|are|can|will|should)\b|\breturn policy\b|\bwarranty\b|"
                       r"\bshipping\b|\brefund\b|\bdelivery\b", re.IGNORECASE)
_BUY = re.compile(r"买|购买|下单|入手|求购|想要|我要|\bbuy\b|\bpurchase\b|\border\b|"
                  r"\bshop for\b|\bwant\b|\bneed\b", re.IGNORECASE)
_BROWSE = re.compile(r"推荐|有哪些|看看|新品|热销|排行|榜|\bideas?\b|\brecommend|\bnew arrivals?\b|"
                     r"\bbest\b|\btop\b|\bbrowse\b|\bgifts?\b|\bshow me\b", re.IGNORECASE)


def intent_cue(query: str) -> tuple[str, float, tuple[int, int] | None]:
    """(intent, confidence, span of the cue) from wording alone; browse when nothing is said."""
    for intent, pattern, confidence in (("compare", _COMPARE, 0.9), ("question", _QUESTION, 0.85),
                                        ("buy", _BUY, 0.85), ("browse", _BROWSE, 0.75)):
        match = pattern.search(query)
        if match:
            return intent, confidence, (match.start(), match.end())
    return "browse", 0.5, None


_FILLER = re.compile(r"我想买|我想要|想买|我要|帮我找|给我找|求推荐|推荐一下|推荐|有没有|请问|一款|一台|一个|"
                     r"一双|一件|一部|的|\bi want\b|\bi need\b|\blooking for\b|\bshow me\b|"
                     r"\bplease\b|\bsome\b|\bany\b|\bfind\b|\bbuy\b|\ba\b|\ban\b|\bthe\b|\bfor\b",
                     re.IGNORECASE)


def strip_filler(text: str) -> str:
    """Drop words that carry no product meaning ("我想买", "looking for")."""
    return re.sub(r"\s+", " ", _FILLER.sub(" ", text)).strip()
