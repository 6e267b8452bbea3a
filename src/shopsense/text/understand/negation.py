"""Negation scopes of a query (text/understand/parse.py): which lexicon matches a cue such as
不要 / 以外 / "not" / "without" negates, and the plain word after a cue when no match follows."""

from __future__ import annotations

import re

from shopsense.text.understand.gazetteer import Match
from shopsense.text.understand.rules import SCOPE_END, SCOPE_JOIN, Cue, negation_cues

# What may stand between a negation cue and the thing it negates ("不要苹果", "not from Nike").
CUE_GAP = re.compile(r"^\s*(?:的|要|买|是|用|含|带|any|the|a|an|from|by|made by|in)?\s*$",
                      re.IGNORECASE)
WORD_AFTER = re.compile(r"^\s*([A-Za-z][A-Za-z0-9'-]*|[\u4e00-\u9fff]{1,4})")


def inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def scopes(query: str, cues: list[Cue], matches: list[Match],
            ) -> tuple[dict[int, Cue], list[tuple[Cue, int, int]]]:
    """(match index -> its negation cue, [(cue, start, end) of cues that negate a plain word])."""
    negated: dict[int, Cue] = {}
    words: list[tuple[Cue, int, int]] = []
    for cue in cues:
        if cue.postfix:
            negated.update({i: cue for i in before(query, cue, matches) if i not in negated})
            continue
        last_end, found, kind = cue.end, False, ""
        for i, match in enumerate(matches):
            if match.start < cue.end:
                continue
            gap = query[last_end:match.start]
            if not found:
                if not CUE_GAP.match(gap):
                    break
                kind = match.entries[0].kind
            elif not SCOPE_JOIN.match(gap) or match.entries[0].kind != kind:
                break
            negated[i], last_end, found = cue, match.end, True
        if not found:
            span = word_after(query, cue.end)
            if span is not None:
                words.append((cue, *span))
    return negated, words


def before(query: str, cue: Cue, matches: list[Match]) -> list[int]:
    """The matches a postfix cue negates: the one right before it ("红色以外"), and those
    joined to it by 和 / 、 / or."""
    chosen: list[int] = []
    end = cue.start
    for i in range(len(matches) - 1, -1, -1):
        match = matches[i]
        if match.end > end:
            continue
        gap = query[match.end:end]
        if not (CUE_GAP.match(gap) if not chosen else SCOPE_JOIN.match(gap)):
            break
        if chosen and match.entries[0].kind != matches[chosen[0]].entries[0].kind:
            break
        chosen.append(i)
        end = match.start
    return chosen


def word_after(query: str, start: int) -> tuple[int, int] | None:
    """The word right after a negation cue: an English word, or the next rjieba word."""
    match = WORD_AFTER.match(query[start:])
    if match is None or SCOPE_END.fullmatch(match.group(1)):
        return None
    begin = start + match.start(1)
    if match.group(1).isascii():
        return begin, start + match.end(1)
    import rjieba

    word = next(iter(rjieba.cut(query[begin:])), "")
    return (begin, begin + len(word)) if word and not SCOPE_END.fullmatch(word) else None


def live_cues(query: str, matches: list[Match], blocked: list[tuple[int, int]]) -> list[Cue]:
    spans = [(m.start, m.end) for m in matches] + blocked
    return [c for c in negation_cues(query) if not overlaps(c.start, c.end, spans)]
