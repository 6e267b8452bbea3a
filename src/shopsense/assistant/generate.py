"""Optional reply generators, and the guard that keeps them honest.

A `Generator` rewrites the template reply in friendlier words given the same facts. The
default is none: the template reply is shown as is. `OpenAICompatibleGenerator` calls any
`/v1/chat/completions` endpoint by URL (a hosted model, a local llama.cpp / vLLM server).
Whatever a generator returns passes `check_reply` against the cited items' facts before it
is shown; a failed check, an error or a timeout falls back to the template.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import httpx

from shopsense.assistant.check import CheckReport
from shopsense.assistant.facts import Fact


@runtime_checkable
class Generator(Protocol):
    name: str

    def rewrite(self, draft: str, facts: list[Fact], language: str) -> str:
        """A reply saying what `draft` says, using only `facts`; raises on failure."""
        ...


SYSTEM_PROMPT = (
    "You are a shop's assistant. Rewrite the draft reply for the shopper in {language}, "
    "friendly and short. Use ONLY the facts given; copy every product title, price, brand and "
    "number exactly as written in the draft; never add a number, brand, spec or claim that is "
    "not in the facts. Keep list numbering and tables.")


class OpenAICompatibleGenerator:
    """POSTs to `<base_url>/chat/completions` (OpenAI wire format)."""

    name = "openai"

    def __init__(self, base_url: str, model: str = "default", api_key: str = "",
                 timeout_s: float = 10.0, temperature: float = 0.2, max_tokens: int = 400) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be http(s)://..., got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model, self.api_key = model, api_key
        self.timeout_s, self.temperature, self.max_tokens = timeout_s, temperature, max_tokens

    @property
    def endpoint(self) -> str:
        if self.base_url.endswith("/chat/completions"):
            return self.base_url
        return f"{self.base_url}/chat/completions"

    def rewrite(self, draft: str, facts: list[Fact], language: str) -> str:
        facts_json = json.dumps([f.to_dict() for f in facts], ensure_ascii=False)
        body = {"model": self.model, "temperature": self.temperature,
                "max_tokens": self.max_tokens,
                "messages": [
                    {"role": "system", "content": SYSTEM_PROMPT.format(
                        language="Chinese" if language == "zh" else "English")},
                    {"role": "user", "content": f"Facts: {facts_json}\n\nDraft:\n{draft}"}]}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        response = httpx.post(self.endpoint, json=body, headers=headers, timeout=self.timeout_s)
        response.raise_for_status()
        text = response.json()["choices"][0]["message"]["content"]
        if not isinstance(text, str) or not text.strip():
            raise ValueError("the generator returned no text")
        return text.strip()


def guarded(generator: Generator | None, draft: str, facts: list[Fact], language: str,
            check: Callable[[str], CheckReport]) -> tuple[str, str, CheckReport | None]:
    """(text shown, source "template" | generator name | "template_fallback", the failed
    generator check if any). The template itself is checked by the caller."""
    if generator is None:
        return draft, "template", None
    try:
        candidate = generator.rewrite(draft, facts, language)
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
        report = CheckReport(ok=False, unsupported_claims=[f"generator error: {exc!r}"[:200]])
        return draft, "template_fallback", report
    report = check(candidate)
    if not report.ok:
        return draft, "template_fallback", report
    return candidate, generator.name, None
