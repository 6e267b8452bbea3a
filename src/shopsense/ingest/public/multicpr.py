"""Multi-CPR e-commerce (Alibaba, SIGIR 2022; Chinese Taobao queries) as judgments and products.

The MS MARCO-style layout, so other passage-ranking sets in it convert too:
- `{split}.query.txt`: `qid \\t query` (no header), split = train | dev;
- `qrels.{split}.tsv`: `qid \\t 0 \\t pid \\t relevance` (no header; Multi-CPR: one positive, 1);
- `corpus.tsv`: `pid \\t passage` (the product title) -> products with `locale = "zh-CN"`.

Judgments: `query_id = qid`, `item_id = pid`, relevance as given (1 = relevant). Lines are
split on the first tabs only, never CSV-parsed, so quotes in Chinese titles stay intact.
Without corpus.tsv (not in ../shared/data) the judgments cannot be scored against products,
but they still serve tokenisation and query-understanding work.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from shopsense.ingest.public.common import (
    ConvertOptions,
    Layout,
    Row,
    find_file,
    require_file,
    some_outputs,
)
from shopsense.ingest.readers import open_text


def _tab_lines(path: Path | str, fields: int) -> Iterator[tuple[int, list[str]]]:
    with open_text(path) as lines:
        for line_no, line in enumerate(lines, start=1):
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            parts = text.split("\t", fields - 1)
            if len(parts) != fields:
                raise ValueError(f"{path}:{line_no}: expected {fields} tab-separated fields")
            yield line_no, parts


def multi_cpr_queries(path: Path | str) -> dict[str, str]:
    """`{qid: query}` from a `qid \\t query` file."""
    return {qid.strip(): query.strip() for _line, (qid, query) in _tab_lines(path, 2)}


def multi_cpr_judgments(qrels_path: Path | str, queries_path: Path | str) -> Iterator[Row]:
    """Judgment rows from `qid 0 pid rel` lines, with the query text from the query file."""
    queries = multi_cpr_queries(queries_path)
    for line, (qid, _zero, pid, relevance) in _tab_lines(qrels_path, 4):
        qid = qid.strip()
        if qid not in queries:
            raise ValueError(f"{qrels_path}:{line}: qid {qid} not in {queries_path}")
        yield {"query_id": qid, "query": queries[qid], "item_id": pid.strip(),
               "relevance": float(relevance)}


def multi_cpr_products(corpus_path: Path | str) -> Iterator[Row]:
    """Product rows (`item_id` = pid, `title` = passage, locale zh) from corpus.tsv."""
    for _line, (pid, passage) in _tab_lines(corpus_path, 2):
        yield {"item_id": pid.strip(), "title": passage.strip(), "locale": "zh-CN"}


def _outputs(src: Path, options: ConvertOptions) -> dict[str, Iterator[Row]]:
    directory = src if src.is_dir() else src.parent
    split = options.split or "dev"
    if src.is_file() and src.name.startswith("qrels."):
        split = src.name.split(".")[1]
    qrels = find_file(directory, (f"qrels.{split}.tsv",))
    queries = options.queries or find_file(directory, (f"{split}.query.txt",))
    corpus = options.products or find_file(directory, ("corpus.tsv",))
    outputs: dict[str, Iterator[Row]] = {}
    if corpus is not None:
        outputs["products"] = multi_cpr_products(require_file(corpus, "corpus.tsv"))
    if qrels is not None:
        if queries is None:
            raise FileNotFoundError(f"{qrels}: needs {split}.query.txt (pass --queries)")
        outputs["judgments"] = multi_cpr_judgments(qrels, queries)
    return some_outputs(outputs, src, f"no qrels.{split}.tsv or corpus.tsv found")


LAYOUT = Layout(
    name="multi-cpr",
    description="Multi-CPR / MS MARCO-style qrels.{split}.tsv + {split}.query.txt "
                "(+ corpus.tsv) -> judgments (+ products, zh)",
    outputs=_outputs,
)
