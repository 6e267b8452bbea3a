"""Experiments at serving, on a real demo shop: each shopper gets their arm's configuration
(ranker, sources, weights, rules, variety cap) through the same code `/v1/recommend` and
`/v1/search` run, the answer names the experiment and arm, interleaved answers mark each
result's arm, first exposures are stored once, and a stopped experiment serves nobody."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace

import pytest

from shopsense.models.context import RecContext
from shopsense.pipeline import experiments
from shopsense.pipeline.surfaces import recommend_actor, search, shop_rules
from shopsense.rank.rules import Rules


def _actors(shop, n: int = 60) -> list[str]:
    return sorted(shop.models.recs.histories)[:n]


def _ids(answer) -> list[str]:
    return [r["item_id"] for r in answer["results"]]


def _create(shop, b_overlay: dict, kind: str = "ab", surface: str = "for_you", **kw):
    return experiments.create(shop, {"name": f"test {kind}", "kind": kind, "surface": surface,
                                     "arms": [{"name": "control", "overlay": {}},
                                              {"name": "variant", "overlay": b_overlay}], **kw})


VARIANT = {"ranker": "fusion", "sources": ["covisit", "popular"]}


def _variant_engine(shop):
    engine = copy.copy(shop.models.recs)
    engine.ranker = None
    engine.config = replace(engine.config, sources=("covisit", "popular"))
    return engine


def _expected(shop, actor: str, engine, rules: Rules | None = None) -> list[str]:
    standing = shop_rules(shop)
    depth = max(10, shop.settings.serve.answer_depth)  # answers are prefixes of this depth
    found = engine.for_you(actor, k=depth, context=RecContext(),
                           profile=shop.profile_of(actor),
                           rules=standing.merged(rules) if rules else standing,
                           repurchase=shop.models.repurchase,
                           half_life_days=shop.settings.recs.dismiss_half_life_days)
    return [r.item_id for r in found][:10]


def test_ab_arms_serve_their_configuration(clean) -> None:
    shop = clean
    actors = _actors(shop)
    before = {a: _ids(recommend_actor(shop, a, k=10)) for a in actors}
    record = _create(shop, VARIANT)
    fusion = _variant_engine(shop)
    arms = Counter()
    for actor in actors:
        answer = recommend_actor(shop, actor, k=10)
        x = answer["experiment"]
        assert x["id"] == record.id and x["arm"] == experiments.arm_of(record, actor)
        assert x["tag"] == f"{record.id}:{x['arm']}" and x["kind"] == "ab"
        arms[x["arm"]] += 1
        if x["arm"] == "control":
            assert _ids(answer) == before[actor]
        else:
            assert _ids(answer) == _expected(shop, actor, fusion)
        assert recommend_actor(shop, actor, k=10)["experiment"]["arm"] == x["arm"]  # sticky
    assert set(arms) == {"control", "variant"}
    assert sum(before[a] != _ids(recommend_actor(shop, a, k=10)) for a in actors) > 0
    stored = experiments.registry_of(shop).repo.assignments(record.id)
    assert sorted(a.actor for a in stored) == sorted(actors)  # each first exposure, once
    warmed = shop.actor("never-seen-shopper")  # warming the cache is not an exposure
    assert "experiment" in recommend_actor(shop, warmed, k=10, warm=True)
    assert warmed not in {a.actor for a in experiments.registry_of(shop).repo.assignments(
        record.id)}
    experiments.stop(shop, record.id)
    assert all("experiment" not in recommend_actor(shop, a, k=10) for a in actors[:10])
    assert all(_ids(recommend_actor(shop, a, k=10)) == before[a] for a in actors[:10])


def test_overlay_rules_sources_weights_and_cap(clean) -> None:
    shop = clean
    actors = _actors(shop, 40)
    top_category = Counter(shop.products[i].category for a in actors
                           for i in _ids(recommend_actor(shop, a, k=10))).most_common(1)[0][0]
    rules = {"exclude_categories": [top_category]}
    overlay = {"ranker": "fusion", "sources": ["covisit", "content"],
               "weights": {"covisit": 3.0}, "rules": rules, "max_per_category": 2}
    record = _create(shop, overlay)
    engine = copy.copy(shop.models.recs)
    engine.ranker = None
    engine.config = replace(engine.config, sources=("covisit", "content"),
                            source_weights={"covisit": 3.0}, max_per_category=2)
    seen = 0
    for actor in actors:
        answer = recommend_actor(shop, actor, k=10)
        if answer["experiment"]["arm"] != "variant":
            continue
        seen += 1
        ids = _ids(answer)
        assert ids == _expected(shop, actor, engine, Rules.model_validate(rules))
        assert not any(shop.products[i].category.startswith(top_category) for i in ids)
    assert seen >= 5
    experiments.stop(shop, record.id)


def test_interleaving_drafts_both_arms_and_marks_teams(clean) -> None:
    shop = clean
    actors = _actors(shop, 30)
    lists = {a: _ids(recommend_actor(shop, a, k=10)) for a in actors}
    record = _create(shop, VARIANT, kind="interleaving")
    fusion = _variant_engine(shop)
    firsts = Counter()
    for actor in actors:
        answer = recommend_actor(shop, actor, k=10)
        x = answer["experiment"]
        assert answer["policy"] == "interleaved" and x["arm"] == "interleaved"
        teams = experiments.teams_of(x["tag"], len(answer["results"]))
        assert [r["team"] for r in answer["results"]] == [
            ["control", "variant"][t] for t in teams]
        a, b = lists[actor], _expected(shop, actor, fusion)
        for r in answer["results"]:
            assert r["item_id"] in (a if r["team"] == "control" else b)
        picks = Counter(teams)
        assert abs(picks[0] - picks[1]) <= 1 or len(set(a) | set(b)) < 2 * len(answer["results"])
        firsts[teams[0]] += 1
    assert set(firsts) == {0, 1}  # the coin decides who picks first
    experiments.stop(shop, record.id)


def test_search_experiments(clean) -> None:
    shop = clean
    record = _create(shop, {"ranker": "bm25f"}, surface="search")
    rankers = {}
    for n in range(30):
        answer = search(shop, "空调", session=f"s-{n}", k=8)
        x = answer["experiment"]
        rankers[x["arm"]] = answer["ranker"]
    assert rankers["variant"] == "bm25f" and rankers["control"] != "bm25f"
    assert "experiment" not in search(shop, "", session="s-0", k=8)  # browsing is not a query
    experiments.stop(shop, record.id)
    record = _create(shop, {"ranker": "bm25f"}, kind="interleaving", surface="search")
    answer = search(shop, "air conditioner", session="s-1", k=8)
    teams = experiments.teams_of(answer["experiment"]["tag"], len(answer["results"]))
    assert [r["team"] for r in answer["results"]] == [["control", "variant"][t] for t in teams]
    assert "experiment" not in recommend_actor(shop, _actors(shop, 1)[0], k=5)  # other surface
    experiments.stop(shop, record.id)


def test_traffic_share_and_one_experiment_per_surface(clean) -> None:
    shop = clean
    record = _create(shop, {"ranker": "fusion"}, traffic=0.3)
    actors = [shop.actor(None, f"visitor-{n}") for n in range(400)]
    inside = sum("experiment" in recommend_actor(shop, a, k=3) for a in actors)
    assert inside / len(actors) == pytest.approx(0.3, abs=0.08)
    with pytest.raises(experiments.Conflict):
        _create(shop, {"ranker": "fusion"})
    other = _create(shop, {"ranker": "bm25f"}, surface="search")  # another surface may run
    experiments.stop(shop, record.id)
    experiments.stop(shop, other.id)
    with pytest.raises(KeyError):
        experiments.stop(shop, "x00000000")


def test_a_running_experiment_is_seen_by_another_worker_on_the_store(clean) -> None:
    """A second registry over the same store (another worker) follows create and stop."""
    from shopsense.store.experiments import StoreExperiments

    shop = clean
    other = experiments.ExperimentRegistry(StoreExperiments(shop.store))
    assert other.running("for_you") is None
    record = _create(shop, {"ranker": "fusion"})
    other.refresh()  # stands in for the REFRESH_S re-read
    assert other.running("for_you").id == record.id
    experiments.stop(shop, record.id)
    other.refresh()
    assert other.running("for_you") is None
