"""`shopsense analytics release|ledger`: differentially private behaviour aggregates from the
command line (the same release and ledger as the dashboard)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopsense.cli.common import emit, fail, settings, sub_app

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    analytics_app = sub_app(app, "analytics", "Differentially private behaviour analytics.")

    @analytics_app.command("release")
    def release_cmd(
        ctx: typer.Context,
        epsilon: Annotated[float, typer.Option("--epsilon", help="Epsilon per aggregate "
                                               "(default: privacy.dp_epsilon).")] = 0.0,
        mechanism: Annotated[str, typer.Option("--mechanism", help="laplace | gaussian")] = "laplace",
        delta: Annotated[float, typer.Option("--delta")] = 1e-5,
        days: Annotated[int, typer.Option("--days", help="Whole days up to the newest event.")] = 90,
        cap: Annotated[int, typer.Option("--cap", help="Per-shopper contribution cap "
                                         "(default: privacy.per_user_cap).")] = 0,
        refresh: Annotated[bool, typer.Option("--refresh", help="Fresh noise even if the data "
                                              "did not change (spends budget).")] = False,
        csv_out: Annotated[Path | None, typer.Option("--csv", help="Also write the counts here.")] = None,
        as_json: AsJson = False,
    ) -> None:
        """Release every behaviour aggregate with DP noise; record the spend in the ledger."""
        from shopsense.analytics.aggregates import read_zero_result_log
        from shopsense.analytics.report import (
            ReleaseParams,
            behaviour_release,
            open_ledger,
            release_csv,
        )
        from shopsense.cli.home import open_home
        from shopsense.privacy.dp import BudgetExceeded

        cfg = settings(ctx)
        store = open_home(cfg)
        try:
            params = ReleaseParams(epsilon=epsilon or cfg.privacy.dp_epsilon, mechanism=mechanism,
                                   delta=delta, days=days,
                                   per_user_cap=cap or cfg.privacy.per_user_cap)
            body = behaviour_release(
                store, params, ledger=open_ledger(store, cfg.privacy), refresh=refresh,
                zero_result_queries=read_zero_result_log(cfg.home / "logs" / "zero_results.jsonl"),
                entities_file=cfg.home / "entities.json")
        except (ValueError, BudgetExceeded) as exc:
            fail(str(exc))
            return
        if csv_out is not None:
            csv_out.write_text(release_csv(body), encoding="utf-8")
        p, d = body["privacy"], body["derived"]
        human = (f"release #{p['seq']} ({'cached, no budget spent' if body['cached'] else 'new'}): "
                 f"{p['mechanism']}, epsilon {p['epsilon']:g} (per aggregate "
                 f"{p['epsilon_per_aggregate']:g}), delta {p['delta']:.1e}; spent "
                 f"{p['spent_epsilon_total']:g} of {p['budget']:g}\n"
                 f"view->cart {d['view_to_cart']}, cart->purchase {d['cart_to_purchase']}, "
                 f"search CTR {d['search_ctr']}, new shoppers {d['new_share']}")
        emit(body, as_json, human)

    @analytics_app.command("ledger")
    def ledger_cmd(ctx: typer.Context, limit: Annotated[int, typer.Option("--limit")] = 20,
                   as_json: AsJson = False) -> None:
        """Every DP release so far with its epsilon and delta, and the total spent."""
        from shopsense.analytics.report import open_ledger
        from shopsense.cli.home import open_home

        cfg = settings(ctx)
        ledger = open_ledger(open_home(cfg), cfg.privacy)
        eps, delta = ledger.spent()
        entries = [e.to_dict() for e in ledger.entries(limit)]
        lines = [f"#{e['seq']}  {e['release']}  {e['mechanism']}  eps {e['epsilon']:g}  "
                 f"delta {e['delta']:.1e}" for e in entries]
        emit({**ledger.describe(), "entries": entries}, as_json,
             "\n".join([f"spent epsilon {eps:g} of {ledger.budget:g}, delta {delta:.1e} of "
                        f"{ledger.delta_budget:.1e} in the last {ledger.window_days:g} days",
                        *lines]))
