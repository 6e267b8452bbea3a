"""The shop's rules file is cached by version: a request reads a clock, the file's version is
asked at most once a second, and the rules are re-read only when it changed."""

from __future__ import annotations

from pathlib import Path

from shopsense.memo import Versioned
from shopsense.rank.rules import Rules, load_shop_rules, save_shop_rules, shop_rules_version


def test_versioned_asks_the_version_at_most_every_check_and_reloads_on_change() -> None:
    now, version, asked, loads = [0.0], [1], [0], [0]

    def ask() -> int:
        asked[0] += 1
        return version[0]

    def load() -> str:
        loads[0] += 1
        return f"v{version[0]}"

    cache = Versioned(ask, load, check_s=1.0, clock=lambda: now[0])
    assert [cache.current() for _ in range(100)] == ["v1"] * 100
    assert (asked[0], loads[0]) == (1, 1)
    version[0] = 2
    now[0] = 0.5
    assert cache.current() == "v1"  # not asked again within the second
    now[0] = 1.5
    assert cache.current() == "v2" and (asked[0], loads[0]) == (2, 2)
    now[0] = 3.0
    assert cache.current() == "v2" and (asked[0], loads[0]) == (3, 2)  # same version: no load


def test_the_rules_file_version_changes_with_each_save(tmp_path: Path) -> None:
    assert shop_rules_version(tmp_path) is None
    save_shop_rules(tmp_path, Rules(exclude=["a"]))
    first = shop_rules_version(tmp_path)
    save_shop_rules(tmp_path, Rules(exclude=["a", "bb"]))
    assert first is not None and shop_rules_version(tmp_path) != first
    assert load_shop_rules(tmp_path).exclude == ["a", "bb"]
