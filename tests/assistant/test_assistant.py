"""The assistant over the demo store: the scripted dialogue suite, the seed scenario, privacy
(dismissals, erasure, isolation), generators guarded by the fact checker, and HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import median
from typing import Any

import pytest

from shopsense.assistant import Assistant, OpenAICompatibleGenerator
from shopsense.assistant.suite import check_turn, load_dialogues, run_suite

DIALOGUES = Path(__file__).resolve().parent / "dialogues.jsonl"



def test_dialogue_suite_passes_with_zero_invented_facts(assistant: Assistant) -> None:
    dialogues = load_dialogues(DIALOGUES)
    languages = [d["language"] for d in dialogues]
    assert len(dialogues) >= 120 and languages.count("zh") == languages.count("en")
    assert all(2 <= len(d["turns"]) <= 4 for d in dialogues)
    report = run_suite(assistant, dialogues)
    summary = report.to_dict()
    assert report.pass_rate == 1.0, summary["failures"]
    assert report.invented == 0, summary["failures"]


def test_the_suite_catches_an_invented_fact(assistant: Assistant) -> None:
    response = assistant.chat("空调", session="tamper")
    assert check_turn(assistant, response) == ([], 0)
    tampered = {**response, "reply": response["reply"] + "\n限时价 1234元，美的同款。"}
    problems, invented = check_turn(assistant, tampered)
    assert problems and invented >= 2  # an invented price and brand (and each bound to an item)
    assert "1234" in str(problems) and "美的" in str(problems)


def test_seed_scenario(assistant: Assistant) -> None:
    first = assistant.chat("最近有什么新款手机推荐", session="seed")
    cid = first["conversation_id"]
    assert first["language"] == "zh" and len(first["items"]) >= 2
    assert all(i["category"] == "手机数码 > 手机" for i in first["items"])
    cheaper = assistant.chat("有没有便宜一点的", conversation_id=cid, session="seed")
    bound = median(i["price"] for i in first["items"])
    assert cheaper["constraints"]["price_max"] == bound
    assert cheaper["items"] and all(i["price"] < bound for i in cheaper["items"])
    both = assistant.chat("这两个哪个拍照好", conversation_id=cid, session="seed")
    assert both["act"] == "compare"
    assert [i["item_id"] for i in both["items"]] == [i["item_id"] for i in cheaper["items"][:2]]
    assert "没有这两款的拍照/相机参数" in both["reply"]
    english = assistant.chat("is the first one in stock?", conversation_id=cid, session="seed")
    assert english["language"] == "en" and "stock" in english["reply"]


def test_dismissed_items_never_come_back(assistant: Assistant, demo_shop: Any) -> None:
    shown = assistant.chat("耳机", session="dismisser")["items"]
    demo_shop.feedback(None, "dismisser", shown[0]["item_id"], "dismiss")
    again = assistant.chat("耳机", session="dismisser")["items"]
    assert shown[0]["item_id"] not in {i["item_id"] for i in again}
    cid = assistant.chat("耳机", session="chatty")["conversation_id"]
    first = assistant.chat("耳机", conversation_id=cid, session="chatty")["items"][0]["item_id"]
    said = assistant.chat("不喜欢第一个", conversation_id=cid, session="chatty")
    assert said["act"] == "dismiss" and first not in {i["item_id"] for i in said["items"]}
    assert first in demo_shop.profile_of(demo_shop.actor(None, "chatty")).dismissed
    anonymous = assistant.chat("耳机")  # no user, no session: works, nothing remembered per person
    assert anonymous["items"] and anonymous["conversation_id"]


def test_erasure_drops_the_users_conversations(assistant: Assistant, demo_shop: Any) -> None:
    first = assistant.chat("冰箱", user="erase-me")
    cid = first["conversation_id"]
    assert assistant.chat("第二个", conversation_id=cid, user="erase-me")["act"] == "select"
    other = assistant.chat("第二个", conversation_id=cid, session="someone-else")
    assert other["act"] == "help"  # the id alone does not open another shopper's state
    demo_shop.forget("erase-me", actor="test")
    assert len(assistant.conversations) == 1  # only someone-else's
    assert assistant.chat("第二个", conversation_id=cid, user="erase-me")["act"] == "help"


class _FakeLLM(BaseHTTPRequestHandler):
    mode = "invent"

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        draft = body["messages"][-1]["content"].split("Draft:\n", 1)[1]
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        text = {"invent": draft + "\n今天下单再减 300元，还送 Apple 耳机！",
                "faithful": "好的！\n" + draft}[self.mode]
        out = json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(out.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_llm() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeLLM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("mode", "source"), [("invent", "template_fallback"),
                                              ("error", "template_fallback"),
                                              ("faithful", "openai")])
def test_generator_output_is_checked_before_it_is_shown(demo_shop: Any, fake_llm: str,
                                                         mode: str, source: str) -> None:
    _FakeLLM.mode = mode
    template = Assistant(demo_shop, generator=None).chat("空调", session="g")
    guarded = Assistant(demo_shop, generator=OpenAICompatibleGenerator(fake_llm, timeout_s=5))
    reply = guarded.chat("空调", session="g")
    assert reply["source"] == source
    if source == "openai":
        assert reply["reply"] == "好的！\n" + template["reply"]
    else:
        assert reply["reply"] == template["reply"] and not reply["check"]["ok"]
        assert "300" not in reply["reply"]
    for made in (guarded,):
        demo_shop.erasure_listeners.remove(made.conversations.forget_user)


def test_http_chat(demo_shop: Any) -> None:
    from fastapi.testclient import TestClient

    from shopsense.api.app import create_app
    from shopsense.api.keys import create_key

    app = create_app(demo_shop.settings, demo_shop)
    key = {"X-API-Key": create_key(demo_shop.store, "search")}
    admin = {"X-API-Key": create_key(demo_shop.store, "admin")}
    with TestClient(app) as client:
        assert client.post("/v1/assistant/chat", json={"message": "hi"}).status_code == 401
        token = client.post("/v1/shopper-tokens", json={"session_id": "h1"}, headers=admin)
        key = {**key, "X-Shopper-Token": token.json()["token"]}  # a session's turns are its own
        bad = client.post("/v1/assistant/chat", json={"message": ""}, headers=key)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "message"
        first = client.post("/v1/assistant/chat", headers=key,
                            json={"message": "headphones under 500", "session": "h1"}).json()
        assert first["language"] == "en" and first["items"]
        assert all(i["price"] <= 500 for i in first["items"])
        assert {"conversation_id", "reply", "items", "facts", "constraints", "understood"} <= set(
            first)
        cid = first["conversation_id"]
        second = client.post("/v1/assistant/chat", headers=key, json={
            "message": "not Sony", "conversation_id": cid, "session": "h1"}).json()
        assert second["constraints"]["price_max"] == 500.0
        assert all(i["brand"] not in ("Sony", "索尼") for i in second["items"])
        gone = client.delete(f"/v1/assistant/conversations/{cid}", params={"session": "h1"},
                             headers=key)
        assert gone.status_code == 200
        again = client.delete(f"/v1/assistant/conversations/{cid}", params={"session": "h1"},
                              headers=key)
        assert again.status_code == 404
    app.state.assistant.shop.erasure_listeners.remove(app.state.assistant.conversations.forget_user)


FUZZ_EXTRA = ["第五个", "the last one", "最后一个防水吗", "类似的", "这款多少钱", "它是什么颜色", "哪个最贵",
              "which is the most expensive?", "好的", "yes", "more", "换成黑色", "in black", "只要苹果",
              "不要华为", "5000以上", "under 100", "between 1000 and 3000", "what brand is it?",
              "这个保修多久", "does it ship fast?", "谢谢", "?", "1", "compare", "哪个好", "新款",
              "noise cancelling headphones", "格力空调 1.5匹", "2000-3000的手机", "纸尿裤", "不喜欢第一个",
              "not interested in this one"]


def test_random_dialogues_never_need_the_safe_fallback(assistant: Assistant) -> None:
    """Seeded random walks over the suite's turns and odd inputs: every reply passes the
    fact check as written by the templates, and nothing crashes."""
    import random

    pool = [t["say"] for d in load_dialogues(DIALOGUES) for t in d["turns"]] + FUZZ_EXTRA
    rng = random.Random(7)
    for n in range(40):
        conversation = None
        for _ in range(rng.randint(2, 4)):
            reply = assistant.chat(rng.choice(pool), conversation_id=conversation,
                                   session=f"fuzz-{n}")
            conversation = reply["conversation_id"]
            assert reply["source"] == "template", (reply["reply"], reply["check"])
            assert check_turn(assistant, reply) == ([], 0)
