"""Team-draft interleaving (Radlinski, Kurup & Joachims 2008) of two rankings.

Each round the team with fewer picks (a coin flip on ties) adds its highest-ranked item not yet
shown; every shown item is credited to the team that picked it. A session's clicks on each
team's items decide which ranking the shopper preferred (`evaluation.experiments`). Identical
rankings split their credit by coin flips, so an A/A comparison has no preference on average.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


def team_draft(a: Sequence[str], b: Sequence[str], k: int, rng: random.Random
               ) -> tuple[list[str], list[int]]:
    """The interleaved top k and, per position, the team (0: `a`, 1: `b`) that picked it."""
    shown: list[str] = []
    teams: list[int] = []
    seen: set[str] = set()
    cursor = [0, 0]
    picks = [0, 0]
    lists = (a, b)
    while len(shown) < k:
        team = 0 if picks[0] < picks[1] else 1 if picks[1] < picks[0] else int(rng.random() < 0.5)
        item = _next_unseen(lists[team], cursor, team, seen)
        if item is None:  # that team has run out: the other one continues
            team = 1 - team
            item = _next_unseen(lists[team], cursor, team, seen)
            if item is None:
                break
        shown.append(item)
        teams.append(team)
        seen.add(item)
        picks[team] += 1
    return shown, teams


def _next_unseen(ranking: Sequence[str], cursor: list[int], team: int, seen: set[str]
                 ) -> str | None:
    while cursor[team] < len(ranking):
        item = ranking[cursor[team]]
        cursor[team] += 1
        if item not in seen:
            return item
    return None


def credit(teams: Sequence[int], clicked: Sequence[int]) -> int:
    """+1 when `b`'s items drew more of the clicks, -1 when `a`'s did, 0 on a tie."""
    b_clicks = sum(teams[p] for p in clicked)
    a_clicks = len(clicked) - b_clicks
    return (b_clicks > a_clicks) - (a_clicks > b_clicks)
