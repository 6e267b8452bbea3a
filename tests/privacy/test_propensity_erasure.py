"""The propensity model's event frames forget an erased shopper at once (not at the next
retrain): /v1/propensity then knows nothing of them."""

from __future__ import annotations

from shopsense.models.propensity_store import shopper_report


def test_propensity_frames_drop_an_erased_shopper(demo_shop) -> None:
    shop = demo_shop
    model = shop.models.propensity
    known = [a for a in model.history_.actors if a.startswith("u_")]
    raw = next(f"u{n:05d}" for n in range(150, 0, -1) if shop.ids.user(f"u{n:05d}") in known)
    pseudonym = shop.ids.user(raw)
    assert shopper_report(model, pseudonym)["known_shopper"]
    shop.forget(raw, actor="test")
    assert pseudonym not in shop.models.propensity.history_.actor_index
    report = shopper_report(shop.models.propensity, pseudonym)
    assert not report["known_shopper"] and report["raised_by"] == report["lowered_by"] == []
