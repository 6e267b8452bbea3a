"""pipeline/warm_keys.py: which searches are answered from the stage cache (and so run on the
event loop)."""

from __future__ import annotations

import time

from shopsense.pipeline.warm_keys import MAX_KEYS, WarmKeys, search_key


def test_a_plain_search_has_one_key_however_no_filter_is_spelt() -> None:
    plain = search_key("tent")
    assert search_key("tent", {"category": None, "brand": [], "attributes": {}}) == plain
    assert search_key("tent", {"brand": ["Acme"]}) != plain
    assert search_key("tent", understand=False) != plain
    assert search_key("tent", drops=["brands:0"]) != plain
    assert search_key("Tent") != plain  # the typed query as asked


def test_noted_keys_are_fresh_for_the_stage_caches_time_to_live(monkeypatch) -> None:
    keys = WarmKeys(ttl_s=60)
    key = search_key("tent")
    assert not keys.fresh(key)
    keys.note(key, keys.generation)
    assert keys.fresh(key)
    later = time.monotonic() + 61
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert not keys.fresh(key)  # its stage has expired from the cache too


def test_a_search_that_ran_across_a_clear_is_not_noted() -> None:
    keys = WarmKeys(ttl_s=60)
    before = keys.generation
    keys.clear()  # a catalogue edit while the search ran: its stage was not kept
    keys.note(search_key("tent"), before)
    assert not keys.fresh(search_key("tent")) and len(keys) == 0
    keys.note(search_key("tent"), keys.generation)
    assert keys.fresh(search_key("tent"))
    keys.clear()
    assert not keys.fresh(search_key("tent"))


def test_no_stage_cache_means_no_warm_search_and_the_notes_are_bounded() -> None:
    off = WarmKeys(ttl_s=0)
    off.note(search_key("tent"), off.generation)
    assert not off.fresh(search_key("tent"))
    keys = WarmKeys(ttl_s=60)
    for i in range(MAX_KEYS + 5):
        keys.note(search_key(f"q{i}"), keys.generation)
    assert len(keys) <= MAX_KEYS
