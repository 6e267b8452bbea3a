"""Behaviour analytics for the operator: what shoppers did (funnels, activity, queries,
click-through, shares), released only through differential privacy; evaluation reports and
model status for the dashboard.

    from shopsense.analytics.report import ReleaseParams, behaviour_release, open_ledger
    release = behaviour_release(store, ReleaseParams(epsilon=1.0), ledger=open_ledger(store, 1.0))
"""
