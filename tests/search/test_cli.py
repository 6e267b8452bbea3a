"""`shopsense search` over a data home and `shopsense eval search` on small real files."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from shopsense.cli import app
from shopsense.domain import Event, Product

runner = CliRunner()


def _write_catalog(path: Path, products: list[Product]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for p in products:
            fh.write(json.dumps({"item_id": p.item_id, "title": p.title, "category": p.category,
                                 "brand": p.brand, "price": p.price}, ensure_ascii=False) + "\n")


def test_search_command_builds_the_index_from_the_store(tmp_path: Path,
                                                        bilingual_products: list[Product]
                                                        ) -> None:
    from shopsense.ids import Pseudonymizer
    from shopsense.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'shop.db'}")
    store.upsert_products(bilingual_products)
    result = runner.invoke(app, ["--home", str(tmp_path), "search", "air conditioner", "--k", "2",
                                 "--no-understand", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["product"]["category"] for r in data["results"]] == ["家电 > 空调"] * 2
    root = tmp_path / "models" / "search"  # a version directory, named by CURRENT
    assert (root / (root / "CURRENT").read_text() / "config.json").exists()
    again = runner.invoke(app, ["--home", str(tmp_path), "search", "空调", "--price-max", "2500",
                                "--no-understand", "--json"])
    assert [r["item_id"] for r in json.loads(again.stdout)["results"]] == ["ac2"]
    suggest = runner.invoke(app, ["--home", str(tmp_path), "suggest", "空", "--json"])
    assert "空调" in [s["text"] for s in json.loads(suggest.stdout)["suggestions"]]
    # a shopper who just dismissed ac2 sees it sink, with the penalty recorded
    alice = Pseudonymizer.from_home(tmp_path).user("alice")
    store.add_events([Event("e1", "dismiss", time.time() - 60, user_id=alice, item_id="ac2")])
    personal = runner.invoke(app, ["--home", str(tmp_path), "search", "空调", "--user", "alice",
                                   "--no-understand", "--json"])
    results = json.loads(personal.stdout)["results"]
    assert results[-1]["item_id"] == "ac2"
    assert results[-1]["signals"]["personal.dismiss_penalty"] < 0


def test_eval_search_reports_ours_and_the_bm25_baseline(tmp_path: Path,
                                                        bilingual_products: list[Product]
                                                        ) -> None:
    catalog = tmp_path / "products.jsonl"
    _write_catalog(catalog, bilingual_products)
    judgments = tmp_path / "judgments.csv"
    judgments.write_text("query_id,query,item_id,relevance\n"
                         "q1,空调,ac1,2\nq1,空调,ac2,2\nq2,running shoes,sh3,2\n"
                         "q2,running shoes,sh1,1\nq3,冰箱,fr2,2\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", "search", "--catalog", str(catalog), "--judgments",
                                 str(judgments), "--encoder", "none", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for block in (data, data["baseline_bm25"]):
        assert {"ndcg@10", "recall@100", "mrr@10", "p50_ms", "p99_ms"} <= set(block)
        assert 0 <= block["ndcg@10"] <= 1
    # plain BM25 cannot segment Chinese, shopsense can
    assert data["ndcg@10"] > data["baseline_bm25"]["ndcg@10"]


def test_eval_search_reads_raw_home_depot_columns(tmp_path: Path) -> None:
    catalog = tmp_path / "products.csv"
    catalog.write_text("product_uid,product_title\n100001,Simpson Strong-Tie 12-Gauge Angle\n"
                       "100002,BEHR Premium Textured DeckOver 1-gal. Wood Coating\n"
                       "100003,Angle Bracket Zinc 2 in.\n", encoding="utf-8")
    judgments = tmp_path / "judgments.csv"
    judgments.write_text("query_id,search_term,product_uid,relevance\n"
                         "1,angle bracket,100001,1.0\n1,angle bracket,100003,3.0\n"
                         "2,deck over,100002,2.5\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", "search", "--catalog", str(catalog), "--judgments",
                                 str(judgments), "--encoder", "none", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert any("relevance - 1" in note for note in data["notes"])
    # "angle bracket" -> 100003 first; "deck over" finds "DeckOver" through the compound
    assert data["mrr@10"] == 1.0
    assert data["baseline_bm25"]["mrr@10"] == 0.5
