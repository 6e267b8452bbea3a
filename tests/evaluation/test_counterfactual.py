"""IPS / SNIPS recover a new policy's true click rate from another policy's logs."""

from __future__ import annotations

import numpy as np
import pytest

from shopsense.evaluation.counterfactual import Impression, estimate, ips, snips


def _simulate(n: int, seed: int = 0) -> tuple[list[Impression], float]:
    rng = np.random.default_rng(seed)
    click_rate = np.array([0.05, 0.10, 0.30, 0.02])  # true reward of each of 4 items
    logging = np.array([0.4, 0.3, 0.1, 0.2])  # the old ranker rarely shows the best item
    new = np.array([0.1, 0.2, 0.6, 0.1])  # the new ranker prefers it
    shown = rng.choice(4, size=n, p=logging)
    clicks = rng.random(n) < click_rate[shown]
    logs = [Impression(float(c), float(logging[a]), float(new[a])) for a, c in zip(shown, clicks,
                                                                                   strict=True)]
    return logs, float(new @ click_rate)


def test_estimators_recover_the_new_policy_value() -> None:
    logs, truth = _simulate(40_000)
    assert ips(logs) == pytest.approx(truth, rel=0.08)
    assert snips(logs) == pytest.approx(truth, rel=0.08)
    report = estimate(logs, n_resamples=200)
    low, high = report["snips_ci95"]
    assert low <= truth <= high
    assert report["effective_sample_size"] < len(logs)


def test_rejects_bad_propensities() -> None:
    with pytest.raises(ValueError):
        ips([Impression(1.0, 0.0, 0.5)])
    with pytest.raises(ValueError):
        snips([])


def _simulated_lists(n: int, epsilon: float = 0.3, pool: int = 8, k: int = 4, seed: int = 1):
    """Lists logged by epsilon-greedy exploration over a pool whose greedy order is NOT the
    best one; clicks = examination(position) x attraction(item). Returns the records and the
    true clicks per list of the greedy and the uniform policies."""
    from shopsense.pipeline.explore import Exploration, explore
    from shopsense.store.impressions import ImpressionRecord

    rng = np.random.default_rng(seed)
    attraction = np.array([0.10, 0.35, 0.05, 0.25, 0.15, 0.02, 0.30, 0.08])
    examine = 1.0 / (1.0 + np.arange(k)) ** 0.8
    pool_items = [{"item_id": f"i{j}"} for j in range(pool)]
    records = []
    for n_ in range(n):
        rid = f"{n_:016x}"
        shown, label = explore(pool_items, k, rid, Exploration(epsilon, pool))
        clicks = {p for p, r in enumerate(shown)
                  if rng.random() < examine[p] * attraction[int(r["item_id"][1:])]}
        records.append(ImpressionRecord(rid, float(n_), "a", "for_you",
                                        tuple(r["item_id"] for r in shown),
                                        tuple(r["propensity"] for r in shown), label,
                                        clicks=frozenset(clicks)))
    truth = {"greedy": float(examine @ attraction[:k]),
             "uniform": float(examine.sum() * attraction.mean())}
    return records, truth


def test_list_estimators_recover_known_policy_values() -> None:
    from shopsense.evaluation.counterfactual import counterfactual_report

    records, truth = _simulated_lists(20_000)
    report = counterfactual_report(records, depth=4)["for_you"]
    for policy, value in truth.items():
        for estimator in ("ips", "snips", "dr"):
            got = report[policy][estimator]
            low, high = report[policy][f"{estimator}_ci"]
            assert got == pytest.approx(value, rel=0.1), (policy, estimator, got, value)
            assert low <= value <= high, (policy, estimator, low, high, value)
    # on-policy: the logging estimate is the observed mean
    assert report["logging"]["ips"] == pytest.approx(report["observed_clicks_per_list"])
    # the doubly-robust interval is no wider than the IPS one (same logs)
    width = {e: np.diff(report["uniform"][f"{e}_ci"])[0] for e in ("ips", "dr")}
    assert width["dr"] <= width["ips"] * 1.05


def test_greedy_logs_give_no_off_policy_estimate() -> None:
    from shopsense.evaluation.counterfactual import counterfactual_report, parse_policy
    from shopsense.store.impressions import ImpressionRecord

    greedy = [ImpressionRecord(f"{n:016x}", 0.0, "a", "for_you", ("x", "y")) for n in range(5)]
    assert counterfactual_report(greedy) == {}
    assert parse_policy("eps=0.25;pool=12") == (0.25, 12)
    with pytest.raises(ValueError):
        parse_policy("softmax")
