"""Reasons a shopper can read (zh + en), rendered only from signals recorded while ranking.

Each reason names the signal it comes from and that signal's contribution to the score.
A signal that did not contribute (zero, or absent) is never cited: additive adjustments
(personal boost, dismissal penalty, intent boost, rules) carry their exact contribution; for
fused recommendation lists the contribution is the source's reciprocal-rank term; with a
learned ranker it is the ranker's per-feature contribution (SHAP / θ·x) recorded as evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from shopsense.domain import Product, Reason, Result

RECS_SOURCES = ("sasrec", "covisit", "bought_together", "als", "content", "trending", "popular")
RRF_K = 60.0


def _title(products: Mapping[str, Product], item_id: Any) -> str:
    product = products.get(str(item_id)) if item_id else None
    return product.title[:40] if product else str(item_id)


def _terms(evidence: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    matched = evidence.get("matched") or {}
    terms: list[str] = []
    fields: list[str] = []
    for field_name, hits in matched.items():
        if hits:
            fields.append(field_name)
            for term in hits if isinstance(hits, (list, tuple)) else [hits]:
                if str(term) not in terms:
                    terms.append(str(term))
    return terms[:4], fields


_FIELD_ZH = {"title": "标题", "brand": "品牌", "category": "类目", "description": "描述",
             "attributes": "属性"}


# per source: (en, zh) naming its subject `{0}` (the item it comes from; trending: the
# category), then (en, zh) without one
_SOURCE_TEXTS: dict[str, tuple[str, str, str, str]] = {
    "sasrec": ("Often chosen next after what you just viewed", "与您刚浏览的商品常被接着选购") * 2,
    "covisit": ("Because you viewed {0}", "因为您浏览过 {0}",
                "Viewed together with your items", "常与您浏览的商品一起被浏览"),
    "bought_together": ("Often bought together with {0}", "常与 {0} 一起购买",
                        "Often bought together", "常被一起购买"),
    "als": ("Shoppers with tastes like yours liked it", "与您口味相近的顾客喜欢") * 2,
    "content": ("Similar to {0}", "与 {0} 相似", "Similar to items you like", "与您喜欢的商品相似"),
    "trending": ("Trending in {0}", "{0} 热门上升", "Trending now", "正在流行"),
    "popular": ("Popular with shoppers", "热销商品") * 2,
}


def _source_reason(source: str, contribution: float, evidence: Mapping[str, Any],
                   products: Mapping[str, Product], product: Product | None) -> Reason | None:
    texts = _SOURCE_TEXTS.get(source)
    if texts is None:
        return None
    because = _title(products, evidence.get("because_item")) if evidence.get("because_item") else ""
    subject = (product.category if product else "") if source == "trending" else because
    en, zh = (texts[0].format(subject), texts[1].format(subject)) if subject else texts[2:]
    cite = {"because_item": evidence.get("because_item")} if because else {}
    return Reason(source, en, zh, contribution, f"{source}.score", cite)


def _recs_contributions(signals: Mapping[str, float], evidence: Mapping[str, Any]
                        ) -> dict[str, float]:
    ranker = evidence.get("ranker_top_features")
    out: dict[str, float] = {}
    if isinstance(ranker, Mapping):
        for feature, value in ranker.items():
            source = str(feature).split(".")[0]
            if source in RECS_SOURCES and f"{source}.rank" in signals:
                out[source] = out.get(source, 0.0) + float(value)
        return out
    for source in RECS_SOURCES:
        rank = signals.get(f"{source}.rank")
        if rank is not None:
            out[source] = 1.0 / (RRF_K + float(rank))
    return out


_KEYWORD_PARTS = frozenset({
    "keyword", "phrase", "bm25f", "bm25f_rel", "bm25f_rank", "bm25.title", "bm25.brand",
    "bm25.category", "bm25.description", "bm25.attributes", "matched_terms", "coverage",
    "idf_coverage", "all_terms", "title_coverage", "phrase_longest", "bigram_frac",
    "head_in_title", "head_position", "first_in_title", "numbers_matched", "numbers_missing",
    "prf_terms"})
_MEANING_PARTS = frozenset({"meaning", "semantic", "semantic_rel", "semantic_rank",
                            "prf_semantic"})


class Contributions(dict):  # type: ignore[type-arg]
    """A result's score contributions (name -> value), written as a plain JSON object;
    `grouped`, when set, is `group_parts` of them computed ahead (a search computes the
    ranker's part once per cached query stage, not once per result shown)."""

    __slots__ = ("grouped",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grouped: dict[str, float] | None = None


def group_parts(contributions: Iterable[tuple[str, float]],
                into: dict[str, float] | None = None) -> dict[str, float]:
    """Contributions summed by group (keyword, meaning, each intent / adjustment), in order,
    added to `into` (a grouping of the contributions before them) when given."""
    out = {} if into is None else into
    for name, value in contributions:
        group = ("keyword" if name in _KEYWORD_PARTS else "meaning" if name in _MEANING_PARTS
                 else str(name))
        out[group] = out.get(group, 0.0) + float(value)
    return out


def _parts(evidence: Mapping[str, Any]) -> dict[str, float] | None:
    """The score's contributions grouped: keyword, meaning, and each intent / adjustment;
    None when the result carries none (then raw signals are cited)."""
    contributions = evidence.get("contributions")
    if not isinstance(contributions, Mapping):
        return None
    grouped = getattr(contributions, "grouped", None)
    return dict(grouped) if grouped is not None else group_parts(contributions.items())


def _search_reasons(result: Result, products: Mapping[str, Product]) -> list[Reason]:
    """Search reasons; with recorded contributions each cites its share of the shown score
    (the serving ranker's own scale), else the raw signal."""
    s, ev, reasons = result.signals, result.evidence, []
    parts = _parts(ev)
    terms, fields = _terms(ev)
    if terms and s.get("bm25f", 0.0) > 0:
        joined = "、".join(terms)
        where_zh = "、".join(_FIELD_ZH.get(f, f) for f in fields)
        share = parts.get("keyword", 0.0) if parts is not None else float(s["bm25f"])
        reasons.append(Reason("matched_terms", f"Matches {', '.join(terms)} in the {', '.join(fields)}",
                              f"{where_zh}匹配 {joined}", share, "bm25f",
                              {"terms": terms, "fields": fields}))
    if s.get("semantic", 0.0) >= 0.35 and not terms:
        share = parts.get("meaning", 0.0) if parts is not None else float(s["semantic"])
        reasons.append(Reason("semantic", "Close in meaning to your search", "与搜索词语义相近",
                              share, "semantic", {}))
    asked = [name for name in _INTENTS if s.get(name, 0.0) > 0]
    if asked:
        reasons += _intent_reasons(result, asked, parts)
    value = parts.get("intent.value", 0.0) if parts is not None else s.get("intent.value", 0.0)
    if value > 0:
        reasons.append(Reason("value", "Its price fits the value you asked for",
                              "价格符合您要的价位偏好", value, "intent.value", {}))
    return reasons


_INTENTS = ("intent.category", "intent.brand", "intent.price", "intent.attribute")


def _intent_reasons(result: Result, asked: list[str], parts: dict[str, float] | None
                    ) -> list[Reason]:
    """The reasons of the intents `asked` (their signals are positive), in `_INTENTS` order."""
    s, ev, reasons = result.signals, result.evidence, []
    product = result.product
    leaf = product.category if product else ""
    intent_text = {
        # an alternative to a type the shop does not sell (laptop bag, 手机 支架) is in the
        # category of a word searched (laptop, 手机), not in the one asked for
        "intent.category": (f"In the category of a word you searched ({leaf})",
                            f"属于您搜索词中的类目（{leaf}）") if ev.get("alternative") else
        (f"In the category you asked for ({leaf})", f"符合您要的类目（{leaf}）"),
        "intent.brand": (f"The brand you asked for ({product.brand if product else ''})",
                         f"符合您要的品牌（{product.brand if product else ''}）"),
        "intent.price": ("Within the price you asked for", "在您要求的价格范围内"),
        "intent.attribute": ("Has the attributes you asked for", "符合您要求的属性"),
    }
    for name in asked:
        en, zh = intent_text[name]
        share = (parts.get(name, 0.0) + parts.get("intent.boost", 0.0)) if parts is not None \
            else float(s.get("intent.boost", s[name]))
        reasons.append(Reason("intent", en, zh, share, name, {}))
    return reasons


def _personal_reasons(result: Result, products: Mapping[str, Product]) -> list[Reason]:
    s, reasons = result.signals, []
    personal = result.evidence.get("personal") or {}
    boost = s.get("personal.boost", 0.0)
    affinity = personal.get("affinity") or {}
    if boost > 0 and affinity:
        if "category" in affinity:
            reasons.append(Reason("affinity", f"You often browse {affinity['category']}",
                                  f"您常浏览 {affinity['category']}", boost, "personal.boost",
                                  {"category": affinity["category"]}))
        elif "brand" in affinity:
            reasons.append(Reason("affinity", f"You like {affinity['brand']}",
                                  f"您偏好 {affinity['brand']}", boost, "personal.boost",
                                  {"brand": affinity["brand"]}))
        elif "price_band" in affinity:
            reasons.append(Reason("price_fit", "Fits your usual price range", "符合您常买的价位",
                                  boost, "personal.boost", {"price_band": affinity["price_band"]}))
    penalty = s.get("personal.dismiss_penalty", 0.0) + s.get("dismiss_penalty", 0.0)
    cause = personal.get("variant_of_dismissed") or personal.get("dismissed") or \
        result.evidence.get("dismissed_item")
    if penalty < 0 and cause:
        title = _title(products, cause)
        reasons.append(Reason("dismissed", f"Shown lower: like {title}, which you dismissed",
                              f"排序靠后：与您不感兴趣的 {title} 相似", penalty, "dismiss_penalty",
                              {"dismissed_item": cause}))
    if s.get("rule", 0.0) != 0 or result.evidence.get("pinned_position") is not None:
        reasons.append(Reason("rule", "Featured by the shop", "店铺推荐",
                              s.get("rule", 0.0), "rule", {"rules": result.evidence.get("rules")}))
    return reasons


def reasons_for(result: Result, products: Mapping[str, Product], *, limit: int = 3
                ) -> tuple[Reason, ...]:
    """The strongest reasons for one result, traced to its recorded signals."""
    reasons = _search_reasons(result, products) + _personal_reasons(result, products)
    for source, contribution in _recs_contributions(result.signals, result.evidence).items():
        if contribution > 0:
            reason = _source_reason(source, contribution, result.evidence, products,
                                    result.product)
            if reason is not None:
                reasons.append(reason)
    positive = sorted((r for r in reasons if r.contribution > 0), key=lambda r: -r.contribution)
    negative = [r for r in reasons if r.contribution < 0]
    return tuple(positive[:limit] + negative[:1])


def reason_dict(reason: Reason) -> dict[str, Any]:
    return {"code": reason.code, "text_en": reason.text_en, "text_zh": reason.text_zh,
            "contribution": round(reason.contribution, 6), "signal": reason.signal,
            "evidence": reason.evidence}


Renderer = Callable[[Result, Mapping[str, Product]], tuple[Reason, ...]]


PROFILE_CODES = ("affinity", "price_fit", "dismissed")  # they name the shopper's own data
