"""Commands: `shopsense search`, `shopsense suggest`, `shopsense search-index`,
`shopsense eval search`."""

from __future__ import annotations

from pathlib import Path

import typer

from shopsense.cli.common import emit, fail, settings


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    @app.command("search")
    def search(
        ctx: typer.Context,
        query: str = typer.Argument(..., help="What the shopper typed (zh or en)."),
        user: str = typer.Option(None, "--user", help="Raw user id: personalise with history."),
        k: int = typer.Option(10, "--k", min=1, max=1000, help="Results per page."),
        page: int = typer.Option(1, "--page", min=1),
        sort: str = typer.Option("relevance", "--sort",
                                 help="relevance | price_asc | price_desc | popularity | newest"),
        category: str = typer.Option(None, "--category", help="Category path filter."),
        brand: list[str] = typer.Option(None, "--brand", help="Brand filter (repeatable)."),
        price_min: float = typer.Option(None, "--price-min"),
        price_max: float = typer.Option(None, "--price-max"),
        in_stock: bool = typer.Option(False, "--in-stock", help="Only available products."),
        rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild the index first."),
        understand: bool = typer.Option(True, "--understand/--no-understand",
                                        help="Read filters / boosts from the query."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Search the catalogue in the data home (index built from the store when missing)."""
        from shopsense.pipeline.search_open import open_search_engine, shopper_profile
        from shopsense.rank.filters import user_clauses

        cfg = settings(ctx)
        engine = open_search_engine(cfg, rebuild=rebuild)
        if understand:
            _attach_understander(engine, cfg)
        profile = shopper_profile(engine, cfg, user) if user else None
        clauses = user_clauses(category=category, brand=brand or None, price_min=price_min,
                               price_max=price_max, available_only=in_stock)
        try:
            response = engine.search(query, k=k, page=page, sort=sort, filters=clauses,
                                     profile=profile)
        except ValueError as exc:
            fail(str(exc))
        lines = [f"{i + 1 + (page - 1) * k:>3}. {r.item_id}  {r.product.title if r.product else ''}"
                 f"  ({r.score:.3f})" for i, r in enumerate(response.results)]
        if response.did_you_mean:
            lines.insert(0, f"did you mean: {response.did_you_mean}")
        lines.append(f"{response.total} matches, {response.latency_ms:.1f} ms")
        emit(response.to_dict(), as_json, "\n".join(lines))

    @app.command("suggest")
    def suggest(
        ctx: typer.Context,
        prefix: str = typer.Argument(...),
        k: int = typer.Option(10, "--k", min=1, max=100),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Autocomplete from the catalogue and popular queries."""
        from shopsense.pipeline.search_open import open_search_engine

        found = open_search_engine(settings(ctx)).autocomplete(prefix, k)
        emit({"prefix": prefix, "suggestions": found}, as_json,
             "\n".join(str(s["text"]) for s in found) or "(none)")

    @app.command("search-index")
    def search_index(
        ctx: typer.Context,
        train_judgments: Path = typer.Option(None, "--train-judgments", exists=True,
                                             dir_okay=False, help="Train the ranker on these."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """(Re)build the search index from the store, optionally training the ranker."""
        from shopsense.evaluation.search import load_judgments, train_from_judgments
        from shopsense.pipeline.search_open import open_search_engine, save_search_engine

        cfg = settings(ctx)
        engine = open_search_engine(cfg, rebuild=True)
        info: dict[str, object] = {"products": len(engine), "ranker": "blend"}
        if train_judgments is not None:
            judged, _ = load_judgments(train_judgments)
            trained = train_from_judgments(engine, judged)
            save_search_engine(engine, cfg)
            info.update(ranker=trained["serving"], validation=trained["validation_ndcg@10"])
        emit(info, as_json)

    @eval_app.command("search")
    def eval_search(
        ctx: typer.Context,
        catalog: Path = typer.Option(..., "--catalog", exists=True, dir_okay=False),
        judgments: Path = typer.Option(..., "--judgments", exists=True, dir_okay=False),
        train_judgments: Path = typer.Option(None, "--train-judgments", exists=True,
                                             dir_okay=False),
        k: int = typer.Option(10, "--k", min=1, max=100),
        encoder: str = typer.Option(None, "--encoder", help="use | e5 | none (default: settings)."),
        seed: int = typer.Option(0, "--seed"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """nDCG@k, recall@100, MRR@k, latency: shopsense vs plain BM25, on a fresh index."""
        from shopsense.evaluation.search import evaluate_search, load_catalog, load_judgments
        from shopsense.text.encoders import make_encoder

        cfg = settings(ctx)
        try:
            products, notes = load_catalog(catalog)
            judged, judged_notes = load_judgments(judgments)
            train, train_notes = load_judgments(train_judgments) if train_judgments else ([], [])
        except (ValueError, KeyError) as exc:
            fail(str(exc))
        report = evaluate_search(products, judged, train,
                                 encoder=make_encoder(encoder or cfg.search.encoder), k=k,
                                 settings=cfg.search, seed=seed,
                                 cache_dir=Path.home() / ".cache" / "shopsense" / "embeddings")
        report["notes"] = [*notes, *judged_notes, *train_notes, *report["notes"]]
        key = f"ndcg@{k}"
        emit(report, as_json,
             f"shopsense {key}={report[key]:.4f} recall@100={report['recall@100']:.4f} "
             f"p99={report['p99_ms']:.1f}ms (CPU {report['p99_cpu_ms']:.1f}ms) | "
             f"BM25 {key}={report['baseline_bm25'][key]:.4f} | ranker "
             f"{report['ranker'].get('serving', report['ranker']['mode'])}")


def _attach_understander(engine: object, cfg: object) -> None:
    """Inject the home's query understander (lexicon reading) into the engine."""
    from shopsense.text.understand import understander_for_home

    products = [p for r, p in enumerate(engine.table.products_)  # type: ignore[attr-defined]
                if engine.table.alive_[r]]  # type: ignore[attr-defined]
    engine.understander = understander_for_home(cfg, products=products,  # type: ignore[attr-defined]
                                                with_tagger=False)
