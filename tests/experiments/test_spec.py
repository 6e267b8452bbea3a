"""Experiment definitions: every bad input is refused naming its field; assignment is sticky,
follows the planned shares and traffic, and is independent across experiments; the
interleaving tag carries each position's arm."""

from __future__ import annotations

import copy

import pytest

from shopsense.pipeline.experiments import (
    arm_of,
    new_experiment,
    team_tag,
    teams_of,
    validate_spec,
)
from shopsense.pipeline.recommend import PERSONAL_SOURCES
from shopsense.pipeline.shop import InputError

GOOD = {"name": "fusion test", "kind": "ab", "surface": "for_you", "traffic": 1.0,
        "metric": "clicks",
        "arms": [{"name": "control", "share": 0.5, "overlay": {}},
                 {"name": "fusion", "share": 0.5, "overlay": {"ranker": "fusion"}}]}


def _with(path: str, value) -> dict:
    body = copy.deepcopy(GOOD)
    target, *rest = path.split(".")
    if not rest:
        body[target] = value
        return body
    index, key = int(rest[0]), rest[1:]
    node = body["arms"][index]
    for part in key[:-1]:
        node = node.setdefault(part, {})
    node[key[-1]] = value
    return body


def test_a_good_definition_is_normalised() -> None:
    spec = validate_spec({**GOOD, "arms": [{"name": "a", "share": 3},
                                           {"name": "b", "share": 1, "overlay": {
                                               "ranker": "fusion", "weights": {"sasrec": 2},
                                               "sources": ["sasrec", "covisit"],
                                               "rules": {"exclude_brands": ["X"]},
                                               "max_per_category": None}}]},
                         PERSONAL_SOURCES)
    assert [a["share"] for a in spec["arms"]] == [0.75, 0.25]
    assert spec["arms"][0]["overlay"] == {"ranker": "learned"}
    overlay = spec["arms"][1]["overlay"]
    assert overlay["weights"] == {"sasrec": 2.0} and overlay["sources"] == ["sasrec", "covisit"]
    assert overlay["rules"]["exclude_brands"] == ["X"] and overlay["max_per_category"] is None
    minimal = validate_spec({"name": "x", "arms": [{"name": "a"}, {"name": "b"}]},
                            PERSONAL_SOURCES)
    assert minimal["kind"] == "ab" and minimal["surface"] == "for_you"
    assert minimal["metric"] == "clicks" and minimal["traffic"] == 1.0


@pytest.mark.parametrize(("body", "field"), [
    ([], "body"),
    ({**GOOD, "colour": "red"}, "body"),
    (_with("name", ""), "name"),
    (_with("name", 7), "name"),
    (_with("kind", "bandit"), "kind"),
    (_with("surface", "checkout"), "surface"),
    (_with("traffic", 0), "traffic"),
    (_with("traffic", 1.5), "traffic"),
    (_with("traffic", True), "traffic"),
    (_with("metric", "happiness"), "metric"),
    (_with("arms", [{"name": "only"}]), "arms"),
    (_with("arms", "two"), "arms"),
    (_with("arms", [{"name": "a"}] * 5), "arms"),
    (_with("arms", [{"name": "a"}, {"name": "a"}]), "arms"),
    ({**GOOD, "kind": "interleaving", "arms": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
     "arms"),
    (_with("arms", [{"name": "a"}, "b"]), "arms[1]"),
    (_with("arms", [{"name": "a", "colour": 1}, {"name": "b"}]), "arms[0]"),
    (_with("arms.0.name", "has space"), "arms[0].name"),
    (_with("arms.0.name", "x" * 25), "arms[0].name"),
    (_with("arms.1.share", 0), "arms[1].share"),
    (_with("arms.1.share", "half"), "arms[1].share"),
    (_with("arms.1.overlay", []), "arms[1].overlay"),
    (_with("arms.1.overlay", {"temperature": 2}), "arms[1].overlay"),
    (_with("arms.1.overlay", {"ranker": "gpt"}), "arms[1].overlay.ranker"),
    (_with("arms.1.overlay", {"ranker": "learned", "weights": {"sasrec": 1}}),
     "arms[1].overlay.weights"),
    (_with("arms.1.overlay", {"ranker": "fusion", "weights": {"magic": 1}}),
     "arms[1].overlay.weights"),
    (_with("arms.1.overlay", {"ranker": "fusion", "weights": {"sasrec": -1}}),
     "arms[1].overlay.weights"),
    (_with("arms.1.overlay", {"ranker": "fusion", "weights": {"sasrec": 0}}),
     "arms[1].overlay.weights"),
    (_with("arms.1.overlay", {"sources": []}), "arms[1].overlay.sources"),
    (_with("arms.1.overlay", {"sources": ["sasrec", "sasrec"]}), "arms[1].overlay.sources"),
    (_with("arms.1.overlay", {"sources": ["trending"]}), "arms[1].overlay.sources"),
    (_with("arms.1.overlay", {"rules": {"boost": [{"multiply": 0.5}]}}),
     "arms[1].overlay.rules"),
    (_with("arms.1.overlay", {"rules": {"nonsense": 1}}), "arms[1].overlay.rules"),
    (_with("arms.1.overlay", {"max_per_category": 0}), "arms[1].overlay.max_per_category"),
    (_with("arms.1.overlay", {"max_per_category": "4"}), "arms[1].overlay.max_per_category"),
    ({**GOOD, "surface": "search"}, "arms[1].overlay.ranker"),
    ({**GOOD, "surface": "search", "arms": [{"name": "a"}, {"name": "b", "overlay": {
        "ranker": "blend", "rules": {}}}]}, "arms[1].overlay"),
])
def test_bad_definitions_name_the_field(body, field: str) -> None:
    with pytest.raises(InputError) as caught:
        validate_spec(body, PERSONAL_SOURCES)
    assert caught.value.field == field, caught.value
    assert caught.value.reason


def test_sources_the_shop_lacks_are_refused() -> None:
    body = _with("arms.1.overlay", {"sources": ["als"]})
    with pytest.raises(InputError):
        validate_spec(body, ("sasrec", "covisit"))
    assert validate_spec(body, PERSONAL_SOURCES)["arms"][1]["overlay"]["sources"] == ["als"]


def test_assignment_is_sticky_follows_shares_and_traffic() -> None:
    spec = validate_spec({**GOOD, "traffic": 0.6, "arms": [
        {"name": "a", "share": 0.2}, {"name": "b", "share": 0.3}, {"name": "c", "share": 0.5}]},
        PERSONAL_SOURCES)
    record = new_experiment(spec)
    actors = [f"pseudonym-{n}" for n in range(20_000)]
    arms = [arm_of(record, a) for a in actors]
    assert arms == [arm_of(record, a) for a in actors]  # sticky
    inside = [a for a in arms if a is not None]
    assert len(inside) / len(arms) == pytest.approx(0.6, abs=0.015)
    for name, share in (("a", 0.2), ("b", 0.3), ("c", 0.5)):
        assert inside.count(name) / len(inside) == pytest.approx(share, abs=0.015)
    assert arm_of(record, "") is None
    other = new_experiment(spec)  # another experiment splits independently
    same = sum(arm_of(other, a) == arm for a, arm in zip(actors, arms, strict=True)
               if arm is not None)
    assert same / len(inside) < 0.6


def test_interleaving_enrols_everyone_in_traffic() -> None:
    record = new_experiment(validate_spec({**GOOD, "kind": "interleaving"}, PERSONAL_SOURCES))
    assert {arm_of(record, f"p{n}") for n in range(500)} == {"interleaved"}


@pytest.mark.parametrize("teams", [[0, 1, 1, 0, 1], [1] * 100, [0] * 7, [None, 0, 1, None, 1],
                                   []])
def test_team_tags_round_trip(teams) -> None:
    tag = team_tag("x0000abcd", teams)
    assert tag.startswith("x0000abcd:il.") and len(tag) <= 64
    assert teams_of(tag, len(teams)) == teams


def test_a_b_tag_is_not_an_interleaving_tag() -> None:
    assert teams_of("x0000abcd:control", 3) is None
    assert teams_of("x0000abcd:il.zz", 3) is None
    assert teams_of("x0000abcd:il.1.2.3", 3) is None
