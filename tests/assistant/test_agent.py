"""Agent mode end to end: the assistant calls a real OpenAI-compatible HTTP server on loopback
(the OpenAI wire format with tools; behind it a small deterministic tool-calling policy, not a
language model), executes the tools the "model" asks for, checks the final reply against the
tools' facts and falls back to the template when it fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shopsense.assistant import Assistant
from shopsense.assistant.agent import ToolAgent
from shopsense.assistant.config import AssistantSettings, make_agent
from shopsense.assistant.suite import load_dialogues, run_suite_k
from shopsense.assistant.tools import TOOL_SCHEMAS

DIALOGUES = Path(__file__).resolve().parent / "dialogues.jsonl"


def _agent(demo_shop: Any, url: str, mode: str = "honest", **kw: Any) -> Assistant:
    made = Assistant(demo_shop, generator=None,
                     agent=ToolAgent(url, mode, timeout_s=kw.pop("timeout_s", 20), **kw))
    return made


@pytest.fixture
def forget(demo_shop: Any) -> Any:
    made: list[Assistant] = []
    yield made.append
    for a in made:
        demo_shop.erasure_listeners.remove(a.conversations.forget_user)


def test_tool_schemas_cover_the_issue_tools() -> None:
    names = {s["function"]["name"] for s in TOOL_SCHEMAS}
    assert names == {"search", "get_item", "compare", "similar", "recommend", "knowledge",
                     "add_to_cart"}
    assert all(s["function"]["parameters"]["type"] == "object" for s in TOOL_SCHEMAS)


def test_agent_plans_with_tools_and_its_checked_reply_is_shown(demo_shop: Any, policy_llm: Any,
                                                                forget: Any) -> None:
    url, server = policy_llm
    a = _agent(demo_shop, url)
    forget(a)
    server.calls.clear()
    first = a.chat("推荐一款手机", session="agent-1")
    assert first["source"] == "agent" and first["surface"] == "agent:search"
    assert first["listing"] and len(first["items"]) >= 2 and first["check"]["ok"]
    assert all(i["title"] in first["reply"] for i in first["items"])
    sent = server.calls[0]
    assert sent["tools"] == TOOL_SCHEMAS and sent["messages"][-1]["content"] == "推荐一款手机"
    assert any(m["role"] == "tool" for m in server.calls[1]["messages"])  # the tool's result
    second = a.chat("第二个", conversation_id=first["conversation_id"], session="agent-1")
    assert second["source"] == "agent" and second["surface"] == "agent:get_item"
    assert second["items"][0]["item_id"] == first["items"][1]["item_id"]
    policy = a.chat("退货政策是什么", conversation_id=first["conversation_id"],
                    session="agent-1")
    assert policy["source"] == "agent" and policy["items"] == []
    assert policy["citations"] and policy["citations"][0]["text"] in policy["reply"]


@pytest.mark.parametrize(("mode", "why"), [("liar", "misbound"), ("invent", "misbound"),
                                           ("loop", "steps"), ("broken", "model call failed"),
                                           ("slow", "model call failed")])
def test_a_bad_agent_reply_falls_back_to_the_template(demo_shop: Any, policy_llm: Any,
                                                      forget: Any, mode: str, why: str) -> None:
    url, _ = policy_llm
    template = Assistant(demo_shop, generator=None, agent=None)
    forget(template)
    a = _agent(demo_shop, url, mode, max_steps=3, timeout_s=1.5 if mode == "slow" else 20)
    forget(a)
    expected = template.chat("推荐一款手机", session="fallback")
    reply = a.chat("推荐一款手机", session="fallback")
    assert reply["source"] == "agent_fallback"
    assert reply["reply"] == expected["reply"]
    assert [i["item_id"] for i in reply["items"]] == [i["item_id"] for i in expected["items"]]
    assert not reply["check"]["ok"] and why in str(reply["check"])


def test_settings_turn_agent_mode_on(policy_llm: Any) -> None:
    url, _ = policy_llm
    agent = make_agent(AssistantSettings(generator="openai", openai_url=url, agent_max_steps=4))
    assert isinstance(agent, ToolAgent) and agent.max_steps == 4
    assert make_agent(AssistantSettings()) is None
    with pytest.raises(ValueError):
        make_agent(AssistantSettings(generator="openai"))


def test_pass_k_harness_against_the_endpoint(demo_shop: Any, policy_llm: Any,
                                             forget: Any) -> None:
    url, _ = policy_llm
    a = _agent(demo_shop, url)
    forget(a)
    dialogues = [d for d in load_dialogues(DIALOGUES) if d["id"] in
                 ("zhs02", "zhs07", "ens02", "ens04", "zh03", "en04")]
    report = run_suite_k(a, dialogues, k=4).to_dict()
    assert report["k"] == 4 and report["dialogues"] == len(dialogues)
    assert report["invented_facts"] == 0
    assert 0 <= report["pass_k"] <= report["pass_at_1"] <= 1
    assert report["reply_sources"].get("agent", 0) > 0
    assert report["pass_k"] >= 0.5, report
