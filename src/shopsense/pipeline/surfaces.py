"""Every shopper-facing surface over a `Shop`: search, suggest, recommendations, explain,
propensity. Order per surface: understand -> retrieve -> rank (feedback, rules) -> explain.

Results leave here as plain dicts in the shape of docs/API.md ("item shape").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from shopsense.domain import Candidate, QueryReading, Result
from shopsense.explain.reasons import reason_dict, reasons_for
from shopsense.models.context import RecContext
from shopsense.pipeline.experiments import (
    Exposure,
    interleave_rng,
    overlay_of,
    recs_variant,
    registry_of,
    search_variant,
    team_tag,
)
from shopsense.pipeline.explore import Exploration, explore, new_request_id
from shopsense.pipeline.interleave import team_draft
from shopsense.pipeline.merch import (  # noqa: F401 (shop_rules, file_rules: used from here)
    file_rules,
    merchandise_page,
    shop_merch,
    shop_rules,
    unread_synonyms,
)
from shopsense.pipeline.shop import InputError, Shop
from shopsense.rank.feedback import apply_feedback
from shopsense.rank.filters import Clause
from shopsense.rank.rules import Rules, apply_rules

SORTS = ("relevance", "price_asc", "price_desc", "popularity", "newest")


class NotReady(RuntimeError):
    """A model the request needs is still being built."""


def item_dict(shop: Shop, result: Result) -> dict[str, Any]:
    product = result.product or shop.products.get(result.item_id)
    reasons = result.reasons or reasons_for(result, shop.products)
    out: dict[str, Any] = {"item_id": result.item_id}
    if product is not None:
        out.update(title=product.title, category=product.category, brand=product.brand,
                   price=product.price, currency=product.currency, image_url=product.image_url,
                   available=product.available, attributes=product.attributes,
                   locale=product.locale, description=product.description)
    out.update(score=round(float(result.score), 6),
               signals={k: round(float(v), 6) for k, v in result.signals.items()},
               reasons=[reason_dict(r) for r in reasons])
    return out


def _drop(reading: QueryReading, drops: Sequence[str]) -> QueryReading:
    """Remove the parts of a reading the shopper took away (chips)."""
    changes: dict[str, Any] = {}
    for drop in drops:
        name, _, index = drop.partition(":")
        if name in ("category", "price_min", "price_max", "value_preference", "intent"):
            changes[name] = None
        elif name in ("brands", "brand", "attributes", "attribute", "exclusions", "exclusion"):
            field = {"brand": "brands", "attribute": "attributes",
                     "exclusion": "exclusions"}.get(name, name)
            current = changes.get(field, getattr(reading, field))
            if index.isdigit():
                current = tuple(s for i, s in enumerate(getattr(reading, field))
                                if i != int(index) and s in current)
            else:
                current = ()
            changes[field] = current
        else:
            raise InputError("drop", f"unknown reading part {drop!r}")
    return replace(reading, **changes) if changes else reading


def search_clauses(params: dict[str, Any]) -> list[Clause]:
    clauses = []
    if params.get("category"):
        clauses.append(Clause("category", params["category"]))
    if params.get("brand"):
        clauses.append(Clause("brand", tuple(params["brand"])))
    low, high = params.get("price_min"), params.get("price_max")
    if low is not None or high is not None:
        if low is not None and high is not None and low > high:
            raise InputError("price_min", "must not exceed price_max")
        clauses.append(Clause("price", (low, high)))
    if params.get("available") is not None:
        clauses.append(Clause("available", bool(params["available"])))
    for key, value in params.get("attributes", {}).items():  # several values: any of them
        values = (value,) if isinstance(value, str) else tuple(value)
        clauses.append(Clause("attribute", (key, values)))
    return clauses


def search(shop: Shop, q: str, *, user: str | None = None, session: str | None = None,
           k: int = 10, page: int = 1, sort: str = "relevance", understand: bool = True,
           drops: Sequence[str] = (), params: dict[str, Any] | None = None,
           lang: str | None = None, merch: Any = None) -> dict[str, Any]:
    """One search page; `merch`: merchandising to apply instead of the stored one (preview)."""
    engine = shop.models.search
    if engine is None:
        raise NotReady("search index is being built")
    if sort not in SORTS:
        raise InputError("sort", f"must be one of {', '.join(SORTS)}")
    reading = None
    merch = merch if merch is not None else shop_merch(shop)[1]
    read, synonyms = query_reader(shop.models, merch)
    if understand and read is not None and q.strip():
        reading = _drop(read(q), drops)
    elif not understand:
        reading = QueryReading(query=q, residual=q)
    actor = shop.actor(user, session)
    profile = shop.profile_of(actor)
    filters = search_clauses(params or {})
    request_id = new_request_id()
    exposure = registry_of(shop).expose("search", actor) if q.strip() else None
    response, team_of = _search_arms(shop, engine, exposure, request_id, q, k=k, page=page,
                                     sort=sort, filters=filters, reading=reading,
                                     profile=profile, synonyms=synonyms)
    data = response.to_dict(with_products=False, with_results=False)  # items: item_dict
    data["understood"] = data.pop("reading")
    data["k"] = data.pop("page_size")
    data["relaxed"] = data.pop("relaxed_filters")
    results, redirect = merchandise_page(shop, q, page, list(response.results), merch)
    data["results"] = [item_dict(shop, r) for r in results]
    if exposure is not None:
        data["experiment"] = exposure.body(_search_tag(exposure, results, team_of, data))
    if redirect:
        data["redirect"] = redirect
    for item, r in zip(data["results"], results, strict=True):
        if "contributions" in r.evidence:  # the score's parts on the serving ranker's scale
            item["contributions"] = r.evidence["contributions"]
            item["unexplained"] = r.evidence["unexplained"]
    if response.no_exact_match is not None:  # not what was asked for: labelled as alternatives,
        for item in data["results"]:  # and the nearest leaf it was read as is not named
            item["alternative"] = True
        data["understood"] = data["understood"] and {**data["understood"], "category": None}
    if lang is None:  # the shopper's language: the query's
        lang = "en" if (reading.language if reading is not None else
                        "zh" if any("\u4e00" <= c <= "\u9fff" for c in q) else "en") == "en" \
            else "zh"
    data["facets"] = engine.facet_view(data["facets"], lang, filters)
    data["lang"] = lang
    data["request_id"] = request_id
    return data


def query_reader(models: Any, merch: Any) -> tuple[Any, Any]:
    """How `search` reads a query (`merch`'s synonyms unread), and those synonyms (warming's)."""
    synonyms, understander = merch.synonym_set(), models.understander
    return (None if understander is None else
            lambda q: unread_synonyms(understander.understand(q), synonyms)), synonyms


def _search_arms(shop: Shop, engine: Any, exposure: Exposure | None, request_id: str, q: str,
                 **kw: Any) -> tuple[Any, dict[str, int]]:
    """The search response in the shopper's arm; in an interleaving both arms' pages
    team-drafted (and which arm, 0 or 1, picked each item)."""
    if exposure is None:
        return engine.search(q, **kw), {}
    registry, record = registry_of(shop), exposure.record
    if record.kind == "ab":
        variant = search_variant(engine, overlay_of(record, exposure.arm), registry.variants,
                                 (record.id, exposure.arm))
        return variant.search(q, **kw), {}
    arms = [a["name"] for a in record.spec["arms"]]
    responses = [search_variant(engine, overlay_of(record, arm), registry.variants,
                                (record.id, arm)).search(q, **kw) for arm in arms]
    by_id = {r.item_id: r for resp in responses for r in resp.results}
    shown, teams = team_draft([r.item_id for r in responses[0].results],
                              [r.item_id for r in responses[1].results], kw["k"],
                              interleave_rng(request_id))
    return replace(responses[0], results=[by_id[i] for i in shown]), dict(
        zip(shown, teams, strict=True))


def _search_tag(exposure: Exposure, results: Sequence[Result], team_of: dict[str, int],
                data: dict[str, Any]) -> str | None:
    """The impression tag of a search answer; in an interleaving each result names its arm."""
    if exposure.record.kind != "interleaving":
        return None
    arms = [a["name"] for a in exposure.record.spec["arms"]]
    teams = [team_of.get(r.item_id) for r in results]
    for item, team in zip(data["results"], teams, strict=True):
        item["team"] = arms[team] if team is not None else None
    return team_tag(exposure.record.id, teams)


def _personalise(shop: Shop, results: list[Result], actor: str | None, k: int,
                 rules: Rules | None) -> list[Result]:
    """Feedback (dismissals never return, variants sink; durables not re-sold) + rules."""
    cands = [Candidate(r.item_id, r.score, dict(r.signals), dict(r.evidence)) for r in results]
    profile = shop.profile_of(actor)
    if profile is not None and cands:
        cands = apply_feedback(cands, profile, shop.products, time.time(),
                               half_life_days=shop.settings.recs.dismiss_half_life_days,
                               repurchase=shop.models.repurchase)
    standing = shop_rules(shop)
    rules = standing.merged(rules) if rules is not None else standing
    if cands:
        cands = apply_rules(cands, rules, shop.products)
    return [Result(c.item_id, c.score, shop.products.get(c.item_id), c.signals,
                   evidence=c.evidence) for c in cands[:k]]


def _recs(shop: Shop) -> Any:
    if shop.models.recs is None:
        raise NotReady("recommendation models are being built")
    return shop.models.recs


def recommend(shop: Shop, *, user: str | None, session: str | None, k: int = 10,
              category: str | None = None, rules: Rules | None = None,
              cached_only: bool = False) -> dict[str, Any] | None:
    """For you (trending for a visitor with no history), with the shopper's feedback, the
    shop's and the request's rules and the variety cap applied. `cached_only`: None unless
    the list is cached (a miss costs ~6-8 ms of CPU: the API runs it in its expensive lane)."""
    return recommend_actor(shop, shop.actor(user, session), k=k, category=category,
                           rules=rules, cached_only=cached_only)


def recommend_actor(shop: Shop, actor: str | None, *, k: int = 10, category: str | None = None,
                    rules: Rules | None = None, exploration: Exploration | None = None,
                    warm: bool = False, cached_only: bool = False) -> dict[str, Any] | None:
    """`recommend` for a pseudonymised actor. The list is computed `serve.answer_depth` deep
    (or k, if more) and cached for the actor until they act, so pages of another size (the
    storefront's 12, the API's 10) are prefixes of one answer. The shown list explores as
    the settings (or `exploration`) say; each result carries its propensity. A shopper in a
    running for-you experiment gets their arm's configuration (or, in an interleaving, both
    arms' lists team-drafted) and the answer says which (`experiment`); `warm` (filling the
    cache before anyone asks) does not count the shopper as a visitor of the experiment."""
    registry = registry_of(shop)
    exposure = registry.expose("for_you", actor, record_it=not (warm or cached_only))
    if cached_only:  # a miss records nothing: the call that computes it does
        if (exposure is not None and exposure.record.kind == "interleaving") or \
                _cached(shop.answers.get(actor or "", count=False) or {},
                        answer_key(shop, actor, category, rules, exposure)[0], k) is None:
            return None
        registry.expose("for_you", actor)
    request_id = new_request_id()
    if exposure is not None and exposure.record.kind == "interleaving":
        return _interleaved(shop, actor, exposure, k, category, rules, request_id)
    answer = _for_you_answer(shop, actor, k, category, rules, exposure)
    shown, policy = explore(answer["results"], k, request_id, exploration or Exploration(
        shop.settings.recs.explore_epsilon, shop.settings.recs.explore_pool))
    body = {"surface": answer["surface"], "request_id": request_id, "policy": policy,
            "results": shown}
    if exposure is not None:
        body["experiment"] = exposure.body()
    return body


def _for_you_answer(shop: Shop, actor: str | None, k: int, category: str | None,
                    rules: Rules | None, exposure: Exposure | None,
                    arm: str | None = None) -> dict[str, Any]:
    """The cached for-you list (see `recommend_actor`), in `arm`'s (or the exposure's)
    configuration when the shopper is in an experiment."""
    recs = _recs(shop)
    since = shop.stamp()
    key, standing, arm, overlay = answer_key(shop, actor, category, rules, exposure, arm)
    answers = shop.answers.get(actor or "") or {}
    answer = _cached(answers, key, k)
    if answer is None:
        sharing = [(s, s.begin(actor, key, category, exposure)) for s in shop.list_sharers]
        depth = max(k, shop.settings.serve.answer_depth)
        engine = recs if exposure is None else recs_variant(
            recs, overlay, registry_of(shop).variants, (exposure.record.id, arm))
        results = engine.for_you(actor, k=depth, context=RecContext(category=category),
                                 profile=shop.profile_of(actor),
                                 rules=standing.merged(rules) if rules is not None else standing,
                                 repurchase=shop.models.repurchase,
                                 half_life_days=shop.settings.recs.dismiss_half_life_days)
        answer = {"surface": "for_you" if recs.histories.get(actor or "") else "trending",
                  "results": [item_dict(shop, r) for r in results], "depth": depth}
        if shop.still_fresh(actor, since):  # nothing this actor did landed meanwhile
            shop.answers.put(actor or "", {**answers, key: answer})
            for sharer, begun in sharing:  # the siblings adopt it (pipeline/recompute.py)
                sharer.computed(actor, answer, begun)
    return answer


def default_for_you(shop: Shop, actor: str, adopt: dict[str, Any] | None = None
                    ) -> dict[str, Any] | None:
    """`actor`'s default for-you list (`/v1/recommend` without filters, as warming asks),
    computed and cached unless cached; with `adopt` (a sibling's list, pipeline/recompute.py)
    that one is cached unless one is. None when nothing was done or the shopper is in a
    for-you experiment (their arm's list waits for their request)."""
    if registry_of(shop).expose("for_you", actor, record_it=False) is not None:
        return None
    if adopt is None:
        return _for_you_answer(shop, actor, 0, None, Rules(), None)
    key = answer_key(shop, actor, None, Rules(), None)[0]
    answers = shop.answers.get(actor, count=False) or {}
    if key not in answers:
        shop.answers.put(actor, {**answers, key: adopt})
    return None if key in answers else adopt


def answer_key(shop: Shop, actor: str | None, category: str | None, rules: Rules | None,
                exposure: Exposure | None, arm: str | None = None
                ) -> tuple[tuple[Any, ...], Rules, str | None, dict[str, Any]]:
    """The cache key of an actor's for-you answer, with the rules, arm and overlay it uses."""
    standing = base = shop_rules(shop)
    arm = arm or (exposure.arm if exposure is not None else None)
    overlay = overlay_of(exposure.record, arm) if exposure is not None and arm else {}
    if overlay.get("rules"):
        standing = standing.merged(Rules.model_validate(overlay["rules"]))
    key = (category, rules.model_dump_json() if rules is not None else "", id(base),
           id(shop.models), exposure.record.id if exposure is not None else "", arm or "")
    return key, standing, arm, overlay


def _cached(answers: dict[Any, Any], key: tuple[Any, ...], k: int) -> dict[str, Any] | None:
    answer = answers.get(key)
    return answer if answer is not None and answer["depth"] >= k else None


def _interleaved(shop: Shop, actor: str | None, exposure: Exposure, k: int,
                 category: str | None, rules: Rules | None, request_id: str
                 ) -> dict[str, Any]:
    """Team-draft interleaving of the experiment's two arms (no exploration: the draw is the
    interleaving's own, seeded by the request id); each result names its arm (`team`)."""
    arms = [a["name"] for a in exposure.record.spec["arms"]]
    lists = [_for_you_answer(shop, actor, k, category, rules, exposure, arm) for arm in arms]
    by_id = {r["item_id"]: r for answer in lists for r in answer["results"]}
    shown, teams = team_draft([r["item_id"] for r in lists[0]["results"]],
                              [r["item_id"] for r in lists[1]["results"]], k,
                              interleave_rng(request_id))
    results = [{**by_id[i], "team": arms[t], "propensity": 1.0}
               for i, t in zip(shown, teams, strict=True)]
    return {"surface": lists[0]["surface"], "request_id": request_id, "policy": "interleaved",
            "results": results, "experiment": exposure.body(team_tag(exposure.record.id, teams))}


def item_surface(shop: Shop, surface: str, item_id: str, *, k: int = 10,
                 user: str | None = None, session: str | None = None) -> dict[str, Any]:
    recs = _recs(shop)
    if item_id not in shop.products:
        raise KeyError(item_id)
    method = {"similar": recs.similar, "bought-together": recs.bought_together}[surface]
    raw = method(item_id, k=3 * k + 10)
    if surface == "similar" and not raw:
        raw = recs.new_item(item_id, k=3 * k + 10)
    results = _personalise(shop, raw, shop.actor(user, session), k, None)
    return {"item_id": item_id, "surface": surface, "request_id": new_request_id(),
            "results": [item_dict(shop, r) for r in results]}


def trending(shop: Shop, *, category: str | None, k: int = 10) -> dict[str, Any]:
    results = _recs(shop).trending(category=category, k=k)
    return {"category": category, "request_id": new_request_id(),
            "results": [item_dict(shop, r) for r in results]}


def next_items(shop: Shop, *, items: Sequence[str], user: str | None, session: str | None,
               k: int = 10) -> dict[str, Any]:
    unknown = [i for i in items if i not in shop.products]
    if unknown:
        raise InputError("items", f"unknown item ids: {', '.join(unknown[:5])}")
    raw = _recs(shop).next_in_session(list(items), k=3 * k + 10)
    results = _personalise(shop, raw, shop.actor(user, session), k, None)
    return {"request_id": new_request_id(), "results": [item_dict(shop, r) for r in results]}


def suggest(shop: Shop, q: str, k: int = 8, lang: str | None = None) -> dict[str, Any]:
    engine = shop.models.search
    if engine is None:
        raise NotReady("search index is being built")
    return {"suggestions": engine.autocomplete(q, k=k, lang=lang)}


def explain(shop: Shop, *, item_id: str, context: str, user: str | None,
            session: str | None) -> dict[str, Any]:
    """Re-run the surface named by `context` and report the item's rank, score and reasons."""
    kind, _, arg = context.partition(":")
    if kind == "search":
        found = search(shop, arg, user=user, session=session, k=100)["results"]
    elif kind == "recommend":
        found = recommend(shop, user=user, session=session, k=100)["results"]
    elif kind in ("similar", "bought-together"):
        found = item_surface(shop, kind, arg, k=100, user=user, session=session)["results"]
    else:
        raise InputError("context", "must be search:<query>, recommend, similar:<item> or "
                         "bought-together:<item>")
    for rank, item in enumerate(found, start=1):
        if item["item_id"] == item_id:
            out = {"item_id": item_id, "context": context, "rank": rank, "score": item["score"],
                   "reasons": item["reasons"], "signals": item["signals"]}
            if "contributions" in item:
                out.update(contributions=item["contributions"], unexplained=item["unexplained"])
            return out
    raise KeyError(item_id)
