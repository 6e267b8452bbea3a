"""Public-data converters: real row counts (SOURCES.md), concrete rows, mapping choices, and
rows that the ingest validators accept whole."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from shopsense.ids import Pseudonymizer
from shopsense.ingest.public import (
    ESCI_GAINS,
    SECONDS_PER_POSITION,
    SEQUENCE_EPOCH,
    amazon_5core_events,
    amazon_5core_products,
    convert,
    detect_layout,
    diginetica_events,
    esci_judgments,
    esci_products,
    homedepot_judgments,
    homedepot_products,
    layout_outputs,
    movielens_events,
    movielens_products,
    multi_cpr_judgments,
    multi_cpr_products,
    wands_judgments,
    wands_products,
    wands_queries,
    write_jsonl,
)
from shopsense.ingest.readers import iter_rows
from shopsense.ingest.validate import validate_event, validate_product

IDS = Pseudonymizer(b"p" * 32)


def _assert_valid(products=(), events=()) -> None:
    for row in products:
        validate_product(row)
    for row in events:
        validate_event(row, IDS)


# --- Amazon 5-core -----------------------------------------------------------------------


@pytest.mark.slow  # ~1 s idle, > 2 s on a loaded machine: 2 x 198,502 events
def test_amazon_beauty_counts_order_and_titles(shared_data: Path) -> None:
    folder = shared_data / "amazon-beauty-p5-titles"
    events = list(amazon_5core_events(folder / "sequential_data.txt"))
    assert len(events) == 198_502
    assert len({e["user_id"] for e in events}) == 22_363
    assert len({e["item_id"] for e in events}) == 12_101
    assert len({e["event_id"] for e in events}) == len(events)
    assert events[0] == {"event_id": "amazon:1-0", "user_id": "1", "item_id": "1",
                         "event_type": "purchase", "timestamp": SEQUENCE_EPOCH,
                         "platform": "other"}
    # Line 2 is `2 6 7 8 9 10 4 11`: the last item keeps the last (largest) timestamp.
    user2 = [e for e in events[:20] if e["user_id"] == "2"]
    assert [e["item_id"] for e in user2] == ["6", "7", "8", "9", "10", "4", "11"]
    assert [e["timestamp"] for e in user2] == [
        SEQUENCE_EPOCH + p * SECONDS_PER_POSITION for p in range(7)]
    # S3-Rec Beauty.txt is token-for-token the same data.
    s3rec = amazon_5core_events(shared_data / "amazon-5core-s3rec" / "Beauty.txt")
    assert all(a == b for a, b in itertools.zip_longest(events, s3rec))
    products = list(amazon_5core_products(folder / "items_with_titles.derived.csv"))
    assert len(products) == 12_101
    assert products[0] == {"item_id": "1", "locale": "en-US", "attributes": {"asin": "B004756YJA"},
                           "title": "OPI Nail Lacquer, Simmer and Shimmer, 0.5-Fluid Ounce"}
    fallback = [p for p in products if p["title"] == p["attributes"]["asin"]]
    assert len(fallback) == 7  # the 7 empty titles fall back to the ASIN
    _assert_valid(products, events[:2000])


def test_amazon_titles_are_found_beside_the_sequence_file(shared_data: Path) -> None:
    p5 = layout_outputs("amazon-5core",
                        shared_data / "amazon-beauty-p5-titles" / "sequential_data.txt")
    s3rec = layout_outputs("amazon-5core", shared_data / "amazon-5core-s3rec")
    assert (sorted(p5), sorted(s3rec)) == (["events", "products"], ["events"])
    with pytest.raises(FileNotFoundError, match="no sequence file"):
        layout_outputs("amazon-5core", shared_data / "movielens-100k")


def test_amazon_folder_with_several_sequence_files_must_be_chosen(tmp_path: Path) -> None:
    (tmp_path / "Sports.txt").write_text("1 2 3\n2 3\n", encoding="utf-8")
    assert sorted(layout_outputs("amazon-5core", tmp_path)) == ["events"]  # found by content
    (tmp_path / "Toys_and_Games.txt").write_text("1 2\n", encoding="utf-8")
    (tmp_path / "Beauty.txt").write_text("1 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="several sequence files"):
        layout_outputs("amazon-5core", tmp_path)


def test_amazon_sequence_timestamps_keep_each_users_order(tmp_path: Path) -> None:
    path = tmp_path / "Toys_and_Games.txt"
    path.write_text("7 3 3 9\n\n8 1\n", encoding="utf-8")
    events = list(amazon_5core_events(path))
    assert [(e["user_id"], e["item_id"], e["event_id"]) for e in events] == [
        ("7", "3", "amazon:7-0"), ("7", "3", "amazon:7-1"), ("7", "9", "amazon:7-2"),
        ("8", "1", "amazon:8-0")]
    times = [e["timestamp"] for e in events if e["user_id"] == "7"]
    assert times == sorted(times) and len(set(times)) == 3
    path.write_text("7\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"Toys_and_Games\.txt:1"):
        list(amazon_5core_events(path))


# --- MovieLens ---------------------------------------------------------------------------


def test_movielens_100k_ratings_and_movies(shared_data: Path) -> None:
    folder = shared_data / "movielens-100k"
    events = list(movielens_events(folder / "u.data"))
    assert len(events) == 100_000
    assert len({e["user_id"] for e in events}) == 943
    assert len({e["item_id"] for e in events}) == 1_682
    assert events[0] == {"event_id": "movielens:196-242-881250949", "user_id": "196", "item_id": "242",
                         "event_type": "rate", "value": 3.0, "timestamp": 881250949,
                         "platform": "other"}
    assert Counter(e["value"] for e in events)[4.0] == 34_174
    movies = list(movielens_products(folder / "u.item"))
    assert len(movies) == 1_682
    toy_story = movies[0]
    assert (toy_story["title"], toy_story["category"]) == ("Toy Story (1995)", "Animation")
    assert toy_story["attributes"]["genres"] == ["Animation", "Children's", "Comedy"]
    assert toy_story["attributes"]["year"] == 1995
    assert toy_story["created_at"] == "1995-01-01T00:00:00Z"
    assert toy_story["attributes"]["release_date"] == "1995-01-01"
    assert any("\u00e9" in m["title"] for m in movies)  # Latin-1 decoded (e.g. "Misérables")
    _assert_valid(movies, events[:5000])


def test_movielens_latest_and_1m_layouts(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n",
        encoding="utf-8")
    (tmp_path / "movies.csv").write_text(
        'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children\n'
        '11,"American President, The (1995)",Comedy|Drama|Romance\n'
        "999,Unknown Film,(no genres listed)\n", encoding="utf-8")
    summary = convert("auto", tmp_path, tmp_path / "out")
    assert summary["layout"] == "movielens"
    assert summary["files"] == {"products.jsonl": 3, "events.jsonl": 2}
    movies = [row for _, row in iter_rows(tmp_path / "out" / "products.jsonl")]
    assert movies[1]["title"] == "American President, The (1995)"
    assert (movies[1]["category"], movies[2]["category"]) == ("Comedy", "")
    events = [row for _, row in iter_rows(tmp_path / "out" / "events.jsonl")]
    assert events[1]["value"] == 4.5
    dat = tmp_path / "ml-1m"
    dat.mkdir()
    (dat / "ratings.dat").write_text("1::1193::5::978300760\n", encoding="latin-1")
    (dat / "movies.dat").write_text("1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n",
                                    encoding="latin-1")
    outputs = layout_outputs("movielens", dat)
    assert next(outputs["events"])["event_id"] == "movielens:1-1193-978300760"
    assert next(outputs["products"])["category"] == "Drama"


# --- Home Depot --------------------------------------------------------------------------


def test_homedepot_products_and_judgments(shared_data: Path) -> None:
    folder = shared_data / "homedepot-search-relevance"
    products = list(homedepot_products(folder / "products.csv"))
    assert len(products) == 54_667
    assert products[0] == {"item_id": "100001", "title": "Simpson Strong-Tie 12-Gauge Angle",
                           "locale": "en-US"}
    judgments = list(homedepot_judgments(folder / "judgments_dev.csv"))
    assert len(judgments) == 44_450
    assert len({j["query_id"] for j in judgments}) == 7_077
    assert judgments[0] == {"query_id": "2262", "query": "angle bracket", "item_id": "100001",
                            "relevance": 2.0}
    assert judgments[1]["relevance"] == 1.67  # 2.67 − 1
    assert min(j["relevance"] for j in judgments) == 0.0
    assert max(j["relevance"] for j in judgments) == 2.0
    _assert_valid(products[:5000])


def test_homedepot_kaggle_train_layout_gets_stable_query_ids(tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    train.write_text("id,product_uid,product_title,search_term,relevance\n"
                     "2,100001,Simpson Angle,angle bracket,3\n"
                     "3,100001,Simpson Angle,l bracket,2.5\n"
                     "9,100002,BEHR DeckOver,angle bracket,1\n", encoding="utf-8")
    outputs = layout_outputs("homedepot", train)
    judgments = list(outputs["judgments"])
    assert judgments[0]["query_id"] == judgments[2]["query_id"] != judgments[1]["query_id"]
    assert [j["relevance"] for j in judgments] == [2.0, 1.5, 0.0]
    assert [p["item_id"] for p in outputs["products"]] == ["100001", "100002"]
    (tmp_path / "judgments_heldout.csv").write_text(
        "query_id,search_term,product_uid,relevance\n5,x,100002,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="several judgment files"):
        layout_outputs("homedepot", tmp_path)  # train.csv and judgments_heldout.csv
    train.unlink()
    (tmp_path / "products.csv").write_text("product_uid,product_title\n100002,BEHR\n")
    found = layout_outputs("homedepot", tmp_path)  # judgments found by header, any name
    assert next(found["judgments"])["relevance"] == 1.0
    assert next(found["products"])["title"] == "BEHR"
    train.write_text("query_id,search_term,product_uid,relevance\n1,x,2,3.5\n")
    with pytest.raises(ValueError, match="outside 1–3"):
        list(homedepot_judgments(train))


# --- ESCI --------------------------------------------------------------------------------


def test_esci_fixture_judgments_and_products(shared_data: Path) -> None:
    folder = shared_data / "esci-fixture-vespa"
    judgments = list(esci_judgments(folder / "test-sample.parquet"))
    assert len(judgments) == 16 and {j["query_id"] for j in judgments} == {"535"}
    by_item = {j["item_id"]: j["relevance"] for j in judgments}
    assert by_item["B08PB9TTKT"] == ESCI_GAINS["E"] == 1.0
    assert by_item["B08VSJGP1N"] == ESCI_GAINS["S"] == 0.1
    assert by_item["B0007KPRIS"] == 0.0
    assert Counter(by_item.values()) == {0.0: 7, 0.1: 6, 1.0: 3}
    assert judgments[0]["query"] == "06 bmw 325i radio oem not navigation system"
    assert list(esci_judgments(folder / "test-sample.parquet", split="train")) == []
    products = list(esci_products(folder / "sample-products.jsonl.zstd"))
    assert len(products) == 16 and {p["item_id"] for p in products} == set(by_item)
    first = products[0]
    assert first["brand"] == "Rimoody" and first["locale"] == "en-US"
    assert first["attributes"] == {"color": "black"}
    assert "<b>" not in first["description"] and "Features" in first["description"]
    assert first["description"].startswith("【2 Din Carpaly Touchscreen Radio】")
    _assert_valid(products)


def test_esci_products_parquet_layout(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({
        "product_id": ["B1", "B1"], "product_title": ["Zapatos", "Shoes"],
        "product_description": [None, "<p>Light &amp; dry</p>"],
        "product_bullet_point": ["Suela", None], "product_brand": ["Acme", "Acme"],
        "product_color": [None, "red"], "product_locale": ["es", "us"]}),
        tmp_path / "shopping_queries_dataset_products.parquet")
    rows = list(esci_products(tmp_path / "shopping_queries_dataset_products.parquet",
                              locale="us"))
    assert rows == [{"item_id": "B1", "title": "Shoes", "description": "Light & dry",
                     "brand": "Acme", "attributes": {"color": "red"}, "locale": "en-US"}]
    assert detect_layout(tmp_path) == "esci"


# --- WANDS -------------------------------------------------------------------------------

WANDS_PRODUCT = (
    "product_id\tproduct_name\tproduct_class\tcategory hierarchy\tproduct_description\t"
    "product_features\trating_count\taverage_rating\treview_count\n"
    "0\tsolid wood platform bed\tBeds\tFurniture / Bedroom Furniture / Beds & Headboards\t"
    "good , deep sleep\toverallwidth-sidetoside:64.7|producttype : bed| : gray\t15.0\t4.5\t"
    "15.0\n"
    "42992\tfletcher 27.5 '' wide polyester armchair\tTeen Lounge Furniture|Accent Chairs\t\t"
    "\tlegmaterialdetails : rubberwood\t\t\t\n")
WANDS_LABEL = ("id\tquery_id\tproduct_id\tlabel\n0\t0\t0\tExact\n1\t0\t42992\tIrrelevant\n"
               "2\t1\t42992\tPartial\n")


def test_wands_queries_from_shared_data(shared_data: Path) -> None:
    queries = list(wands_queries(shared_data / "wands-queries-only" / "query.csv"))
    assert len(queries) == 480
    assert queries[0] == {"query_id": "0", "query": "salon chair", "query_class": "Massage Chairs"}


def test_wands_products_and_judgments_layout(tmp_path: Path, shared_data: Path) -> None:
    (tmp_path / "product.csv").write_text(WANDS_PRODUCT, encoding="utf-8")
    (tmp_path / "label.csv").write_text(WANDS_LABEL, encoding="utf-8")
    queries = shared_data / "wands-queries-only" / "query.csv"
    (tmp_path / "query.csv").write_bytes(queries.read_bytes())
    bed, chair = wands_products(tmp_path / "product.csv")
    assert bed["category"] == "Furniture > Bedroom Furniture > Beds & Headboards"
    assert bed["attributes"] == {"overallwidth-sidetoside": "64.7", "producttype": "bed",
                                 "product_class": ["Beds"], "rating_count": 15.0,
                                 "average_rating": 4.5, "review_count": 15.0}
    assert chair["title"] == "fletcher 27.5 '' wide polyester armchair"
    assert chair["category"] == "Teen Lounge Furniture"
    assert chair["attributes"]["product_class"] == ["Teen Lounge Furniture", "Accent Chairs"]
    judgments = list(wands_judgments(tmp_path / "label.csv", tmp_path / "query.csv"))
    assert judgments == [
        {"query_id": "0", "query": "salon chair", "item_id": "0", "relevance": 2.0},
        {"query_id": "0", "query": "salon chair", "item_id": "42992", "relevance": 0.0},
        {"query_id": "1", "query": "smart coffee table", "item_id": "42992", "relevance": 1.0}]
    summary = convert("auto", tmp_path / "label.csv", tmp_path / "out")
    assert summary["files"] == {"products.jsonl": 2, "judgments.jsonl": 3, "queries.jsonl": 480}
    _assert_valid([bed, chair])


# --- Diginetica --------------------------------------------------------------------------


def test_diginetica_views(shared_data: Path) -> None:
    path = shared_data / "diginetica-sample-srgnn" / "sample_train-item-views.csv"
    events = list(diginetica_events(path))
    assert len(events) == 12_391
    assert len({e["session_id"] for e in events}) == 2_986
    assert len({e["item_id"] for e in events}) == 7_139
    assert events[0] == {"event_id": "diginetica:1-2", "session_id": "1", "item_id": "81766",
                         "event_type": "view", "timestamp": 1_462_752_000 + 526.309,
                         "platform": "other"}  # 2016-05-09 + 526309 ms
    assert "user_id" not in events[0]  # "NA"
    with_user = [e for e in events if "user_id" in e]
    assert with_user and all(e["user_id"] != "NA" for e in with_user)
    _assert_valid(events=events)


def test_diginetica_cikm_cup_camel_case_header(tmp_path: Path) -> None:
    (tmp_path / "train-item-views.csv").write_text(
        "sessionId;userId;itemId;timeframe;eventdate\n7;42;9;1500;2016-01-03\n",
        encoding="utf-8")
    assert detect_layout(tmp_path) == "diginetica"
    (event,) = layout_outputs("diginetica", tmp_path)["events"]
    assert (event["session_id"], event["user_id"], event["item_id"]) == ("7", "42", "9")
    assert event["timestamp"] == 1_451_779_200 + 1.5  # 2016-01-03T00:00:00Z + 1500 ms


# --- Multi-CPR -------------------------------------------------------------------------


def test_multi_cpr_dev_judgments_in_chinese(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "multi-cpr-ecom"
    judgments = list(multi_cpr_judgments(folder / "qrels.dev.tsv", folder / "dev.query.txt"))
    assert len(judgments) == 1_000 and len({j["query_id"] for j in judgments}) == 1_000
    assert judgments[0]["query_id"] == "200000" and judgments[0]["item_id"] == "260"
    assert judgments[0]["relevance"] == 1.0
    assert all("\t" not in j["query"] and j["query"] for j in judgments)
    summary = convert("auto", folder, tmp_path / "out")
    assert summary["layout"] == "multi-cpr"
    assert summary["files"] == {"judgments.jsonl": 1_000}  # corpus.tsv is not in shared data
    corpus = tmp_path / "corpus.tsv"
    corpus.write_text('260\t"加厚"减速器链条 06B\n779\t望远镜\n', encoding="utf-8")
    assert next(multi_cpr_products(corpus)) == {
        "item_id": "260", "title": '"加厚"减速器链条 06B', "locale": "zh-CN"}


# --- detection, writing, CLI -------------------------------------------------------------


@pytest.mark.parametrize(("relative", "layout"), [
    ("amazon-beauty-p5-titles/sequential_data.txt", "amazon-5core"),
    ("amazon-5core-s3rec/Beauty.txt", "amazon-5core"),
    ("amazon-beauty-p5-titles", "amazon-5core"),
    ("movielens-100k/u.data", "movielens"),
    ("movielens-100k", "movielens"),
    ("homedepot-search-relevance/judgments_dev.csv", "homedepot"),
    ("homedepot-search-relevance", "homedepot"),
    ("esci-fixture-vespa/sample-products.jsonl.zstd", "esci"),
    ("esci-fixture-vespa/test-sample.parquet", "esci"),
    ("wands-queries-only/query.csv", "wands"),
    ("diginetica-sample-srgnn", "diginetica"),
    ("multi-cpr-ecom/qrels.dev.tsv", "multi-cpr"),
    ("multi-cpr-ecom", "multi-cpr"),
    ("chinese-ecommerce-ner-taobao/dev.txt", None),
    ("SOURCES.md", None),
])
def test_detect_layout(shared_data: Path, relative: str, layout: str | None) -> None:
    assert detect_layout(shared_data / relative) == layout


def test_detect_layout_rejects_interchange_files_and_prose(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text('{"user_id": "u", "item_id": "i"}\n')
    (tmp_path / "events.csv").write_text("user_id,item_id,event_type\nu,i,view\n")
    (tmp_path / "notes.txt").write_text("red dress\nred shoes\n")  # first tokens repeat
    (tmp_path / "seq.txt.gz").write_bytes(__import__("gzip").compress(b"1 5 6\n2 5\n"))
    assert [detect_layout(tmp_path / n) for n in
            ("events.jsonl", "events.csv", "notes.txt", "seq.txt.gz")] == [
        None, None, None, "amazon-5core"]


def test_id_prefix_namespaces_every_id(shared_data: Path) -> None:
    from shopsense.ingest.public import ConvertOptions

    outputs = layout_outputs("diginetica", shared_data / "diginetica-sample-srgnn",
                             ConvertOptions(id_prefix="dg/"))
    event = next(outputs["events"])
    assert (event["event_id"], event["session_id"], event["item_id"]) == (
        "dg/diginetica:1-2", "dg/1", "dg/81766")
    judgment = next(layout_outputs("esci", shared_data / "esci-fixture-vespa",
                                   ConvertOptions(id_prefix="x"))["judgments"])
    assert (judgment["query_id"], judgment["item_id"]) == ("x535", "xB08VSJGP1N")


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst"])
def test_write_jsonl_round_trips(tmp_path: Path, suffix: str) -> None:
    rows = [{"item_id": "a", "title": "空调", "attributes": {"k": [1, 2]}}, {"item_id": "b"}]
    path = tmp_path / f"p.jsonl{suffix}"
    assert write_jsonl(iter(rows), path) == 2
    assert [row for _, row in iter_rows(path)] == rows
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3), max_leaves=8)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.dictionaries(st.text(max_size=6), json_values, max_size=4),
                     max_size=8))
def test_write_jsonl_then_iter_rows_is_the_identity(tmp_path: Path, rows: list[dict]) -> None:
    path = tmp_path / "rows.jsonl.zst"
    assert write_jsonl(rows, path) == len(rows)
    assert list(iter_rows(path)) == [(i + 1, row) for i, row in enumerate(rows)]


def test_write_jsonl_leaves_no_half_file_on_error(tmp_path: Path) -> None:
    def broken():
        yield {"a": 1}
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError):
        write_jsonl(broken(), tmp_path / "x.jsonl")
    assert list(tmp_path.iterdir()) == []


def test_cli_convert_prints_counts_and_files_ingest_whole(shared_data: Path,
                                                        tmp_path: Path) -> None:
    from shopsense.cli import app
    from shopsense.ingest.pipeline import ingest_file
    from shopsense.store import open_store

    result = CliRunner().invoke(app, ["convert", "esci", str(shared_data / "esci-fixture-vespa"),
                                      "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["files"] == {"products.jsonl": 16, "judgments.jsonl": 16}
    store = open_store("memory://")
    report = ingest_file(tmp_path / "out" / "products.jsonl", "catalog", catalog=store,
                         rejects_dir=tmp_path / "rejects")
    assert (report.accepted, report.rejected) == (16, 0)
    bad = CliRunner().invoke(app, ["convert", "nope", str(tmp_path), "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "unknown layout" in bad.output
