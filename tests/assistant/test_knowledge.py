"""The shop's knowledge base: parsing, the repository over every store backend, hybrid
retrieval with the real encoder, the HTTP routes, the CLI, and policy answers in chat."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import postgres_url_or_skip
from typer.testing import CliRunner

from shopsense.demo.policy import POLICY_DOCUMENT
from shopsense.knowledge import KnowledgeBase, KnowledgeFormatError, parse_text
from shopsense.store import open_store
from shopsense.store.knowledge import Passage, knowledge_repository

MD = """# Help / 帮助

## Returns / 退货

Items can be returned within 30 days.

30天内可以退货。

## Gift cards

Gift cards never expire.
"""


def test_markdown_sections_become_passages_per_language() -> None:
    passages = parse_text(MD, "markdown", "help.md")
    assert [(p.heading, p.language) for p in passages] == [
        ("Returns / 退货", "en"), ("Returns / 退货", "zh"), ("Gift cards", "en")]
    assert all(p.title == "Help / 帮助" and p.doc_id == "help.md" for p in passages)
    assert [p.passage_id for p in passages] == ["help.md#0", "help.md#1", "help.md#2"]


def test_text_and_jsonl_formats() -> None:
    text = parse_text("Opening hours:\nWe open at 9.\n\nNo pets in the shop.", "text", "t.txt")
    assert (text[0].heading, text[0].text) == ("Opening hours", "We open at 9.")
    assert (text[1].heading, text[1].text) == ("", "No pets in the shop.")
    qa = parse_text('{"question": "能开发票吗", "answer": "可以。"}\n\n'
                    '{"q": "Invoice?", "a": "Yes.", "language": "en"}', "jsonl", "faq")
    assert [(p.heading, p.text, p.language) for p in qa] == [("能开发票吗", "可以。", "zh"),
                                                             ("Invoice?", "Yes.", "en")]


@pytest.mark.parametrize(("text", "fmt", "where"), [
    ('{"question": "q"}', "jsonl", "faq:1"), ("{not json", "jsonl", "faq:1"),
    ('{"question": "q", "answer": "a"}\n[1]', "jsonl", "faq:2"), ("", "markdown", "faq"),
    ('{"question": "q", "answer": "a", "language": "fr"}', "jsonl", "faq:1")])
def test_bad_documents_name_the_line(text: str, fmt: str, where: str) -> None:
    with pytest.raises(KnowledgeFormatError) as err:
        parse_text(text, fmt, "faq")
    assert err.value.where == where


def test_long_paragraphs_are_split_at_sentences() -> None:
    long = " ".join(f"Sentence number {n} says something useful." for n in range(80))
    passages = parse_text(f"## Long\n\n{long}", "markdown", "long.md")
    assert len(passages) > 1 and all(len(p.text) <= 1200 for p in passages)
    assert " ".join(p.text for p in passages).split() == long.split()


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    url = (postgres_url_or_skip() if request.param == "postgresql" else "memory://"
           if request.param == "memory" else f"sqlite:///{tmp_path / 'shop.db'}")
    s = open_store(url)
    yield s
    s.close()


def test_repository_contract(store: Any) -> None:
    repo = knowledge_repository(store)
    v0 = repo.version()
    first = parse_text(MD, "markdown", "help.md")
    assert repo.replace_document("help.md", first) == 3
    assert repo.version() != v0
    assert repo.passages() == first
    second = parse_text("## Returns\n\nNo returns.", "markdown", "help.md")
    repo.replace_document("help.md", second)  # replaces the whole document
    repo.replace_document("faq", parse_text('{"q": "a?", "a": "b."}', "jsonl", "faq"))
    assert [p.text for p in repo.passages()] == ["b.", "No returns."]
    assert [(d["doc_id"], d["passages"]) for d in repo.documents()] == [("faq", 1),
                                                                         ("help.md", 1)]
    with pytest.raises(ValueError):
        repo.replace_document("other", second)  # passages of another document
    assert repo.delete_document("help.md") == 1 and repo.delete_document("help.md") == 0
    assert [p.doc_id for p in repo.passages()] == ["faq"]
    again = knowledge_repository(store)  # the table survives reopening the repository
    assert isinstance(again.passages()[0], Passage)


@pytest.fixture(scope="module")
def demo_kb(demo_shop: Any) -> KnowledgeBase:
    kb = KnowledgeBase(knowledge_repository(open_store("memory://")),
                       demo_shop.models.search.encoder)
    kb.load_file(POLICY_DOCUMENT)
    return kb


@pytest.mark.parametrize(("question", "language", "heading"), [
    ("你们店退货政策是什么", "zh", "退货与退款"), ("多久能发货？", "zh", "发货与配送"),
    ("能开发票吗", "zh", "发票"), ("空调保修几年", "zh", "保修"), ("可以货到付款吗", "zh", "支付方式"),
    ("降价了能退差价吗", "zh", "价格保护"), ("积分怎么用", "zh", "会员与积分"),
    ("what is your return policy?", "en", "Returns"), ("can I get an invoice?", "en", "Invoices"),
    ("how long is the warranty?", "en", "Warranty"), ("how do points work?", "en", "points"),
    ("can I exchange shoes for another size?", "en", "Exchanges"),
    ("what are your opening hours?", "en", "opening hours")])
def test_policy_questions_find_their_passage_in_the_asked_language(
        demo_kb: KnowledgeBase, question: str, language: str, heading: str) -> None:
    answer = demo_kb.ask(question, language)
    assert answer.answered and heading in answer.passage.heading  # type: ignore[union-attr]
    assert answer.passage.language == language  # type: ignore[union-attr]


@pytest.mark.parametrize("question", ["今天天气怎么样", "你们卖二手吗", "能送货上门安装吗",
                                      "what's the capital of France?", "how are you today",
                                      "do you offer gift wrapping?"])
def test_questions_the_documents_do_not_answer(demo_kb: KnowledgeBase, question: str) -> None:
    assert not demo_kb.ask(question).answered


def test_keyword_only_without_an_encoder() -> None:
    kb = KnowledgeBase(knowledge_repository(open_store("memory://")), None)
    kb.load_file(POLICY_DOCUMENT)
    assert kb.ask("发票", "zh").passage.heading.startswith("发票")  # type: ignore[union-attr]
    assert not kb.ask("天气", "zh").answered


def test_policy_turn_quotes_and_cites_and_lists_nothing(assistant: Any) -> None:
    shown = assistant.chat("推荐一款手机", session="kb-1")
    reply = assistant.chat("你们店退货政策是什么", conversation_id=shown["conversation_id"],
                           session="kb-1")
    assert reply["act"] == "policy" and reply["intent"]["name"] == "shop_policy"
    assert reply["items"] == [] and not reply["listing"] and reply["check"]["ok"]
    cited = reply["citations"][0]
    assert cited["text"] in reply["reply"] and "[1]" in reply["reply"]
    assert "退货" in cited["heading"] and cited["language"] == "zh"
    picked = assistant.chat("第二个", conversation_id=shown["conversation_id"], session="kb-1")
    assert picked["items"][0]["item_id"] == shown["items"][1]["item_id"]  # the list survives
    none = assistant.chat("能送货上门安装吗", session="kb-2")
    assert none["citations"] == [] and none["answered"] is False
    assert assistant.settings.contact_zh in none["reply"]


def test_http_routes(demo_shop: Any) -> None:
    from shopsense.api.app import create_app
    from shopsense.api.keys import create_key

    app = create_app(demo_shop.settings, shop=demo_shop)
    admin, search = create_key(demo_shop.store, "admin"), create_key(demo_shop.store, "search")
    doc = {"doc_id": "gift-cards", "format": "jsonl",
           "text": json.dumps({"question": "礼品卡会过期吗", "answer": "本店礼品卡永不过期。"},
                              ensure_ascii=False)}
    with TestClient(app) as http:
        assert http.put("/v1/knowledge", json=doc).status_code == 401
        assert http.put("/v1/knowledge", json=doc, headers={"X-API-Key": search}
                        ).status_code == 403
        loaded = http.put("/v1/knowledge", json=doc, headers={"X-API-Key": admin})
        assert loaded.status_code == 200 and loaded.json()["passages"] == 1
        bad = http.put("/v1/knowledge", json={**doc, "text": "{oops"},
                       headers={"X-API-Key": admin})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_document"
        listed = http.get("/v1/knowledge", headers={"X-API-Key": admin}).json()["documents"]
        assert {"gift-cards", POLICY_DOCUMENT.name} <= {d["doc_id"] for d in listed}
        asked = http.post("/v1/knowledge/ask", json={"question": "礼品卡会过期吗"},
                          headers={"X-API-Key": search}).json()
        assert asked["answered"] and asked["passage"]["text"] == "本店礼品卡永不过期。"
        chat = http.post("/v1/assistant/chat", json={"message": "礼品卡会过期吗？",
                                                     "session": "gc"},
                         headers={"X-API-Key": search}).json()
        assert "永不过期" in chat["reply"] or chat["act"] != "policy"
        gone = http.delete("/v1/knowledge/gift-cards", headers={"X-API-Key": admin})
        assert gone.json()["passages_removed"] == 1
        assert http.delete("/v1/knowledge/gift-cards", headers={"X-API-Key": admin}
                           ).status_code == 404


def test_cli_ingest_knowledge(tmp_path: Path) -> None:
    from shopsense.cli import app

    runner = CliRunner()
    home = tmp_path / "home"
    out = runner.invoke(app, ["--home", str(home), "ingest", "knowledge", str(POLICY_DOCUMENT),
                              "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["passages"] >= 16 and report["languages"] == ["en", "zh"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q"}\n', encoding="utf-8")
    failed = runner.invoke(app, ["--home", str(home), "ingest", "knowledge", str(bad)])
    assert failed.exit_code != 0 and "bad.jsonl:1" in failed.output
    listed = runner.invoke(app, ["--home", str(home), "knowledge", "list", "--json"])
    assert json.loads(listed.output)["documents"][0]["doc_id"] == POLICY_DOCUMENT.name


def test_demo_run_loads_the_policy_document_once(tmp_path: Path) -> None:
    from shopsense.cli import app

    args = ["--home", str(tmp_path), "demo", "run", "--no-serve", "--json",
            "--products", "250", "--users", "40", "--days", "7"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert report["knowledge_passages"] == len(parse_text(
        POLICY_DOCUMENT.read_text(encoding="utf-8"), "markdown", POLICY_DOCUMENT.name))
    again = json.loads(CliRunner().invoke(app, args).stdout.strip().splitlines()[-1])
    assert again["knowledge_passages"] == 0
