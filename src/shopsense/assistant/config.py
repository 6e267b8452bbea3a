"""The assistant's settings, kept per shop in `<home>/assistant.json` (all keys optional)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from shopsense.assistant.agent import ToolAgent
from shopsense.assistant.generate import Generator, OpenAICompatibleGenerator
from shopsense.assistant.needs import DEFAULT_PURPOSES, Purpose

FILENAME = "assistant.json"


class AssistantSettings(BaseModel):
    k: int = Field(5, ge=1, le=20, description="Products shown per reply.")
    ttl_s: float = Field(1800.0, gt=0, description="A conversation is forgotten this long "
                         "after its last turn.")
    max_conversations: int = Field(10_000, ge=1, description="Most conversations kept (LRU).")
    max_message_chars: int = Field(500, ge=10)
    generator: str = Field("template", description="template | openai (agent mode: a model "
                           "behind any OpenAI-compatible /v1/chat/completions endpoint plans "
                           "with the catalogue's tools; its reply is fact-checked) | "
                           "openai_rewrite (the model only rewords the template reply).")
    openai_url: str = Field("", description="Base URL, e.g. http://127.0.0.1:8080/v1")
    openai_model: str = "default"
    openai_api_key: str = ""
    generator_timeout_s: float = Field(10.0, gt=0)
    contact_zh: str = Field("如需人工帮助，请点页面右下角的“联系客服”，或查看本店政策中的客服方式。",
                            description="How to reach a person (zh), said when the assistant "
                            "cannot answer.")
    contact_en: str = Field("For help from a person, use “Contact us” at the bottom right of "
                            "the page, or see customer service in the shop's policies.",
                            description="How to reach a person (en).")
    purposes: dict[str, Purpose] = Field(default_factory=lambda: dict(DEFAULT_PURPOSES),
                                         description="Purpose phrases -> soft preferences.")
    agent_max_steps: int = Field(6, ge=1, le=20, description="Agent mode: most model calls "
                                 "(tool rounds) per turn.")
    agent_timeout_s: float = Field(30.0, gt=0, description="Agent mode: the whole turn's "
                                   "time budget; past it the template reply is shown.")


def load_settings(home: Path) -> AssistantSettings:
    path = Path(home) / FILENAME
    if not path.exists():
        return AssistantSettings()
    return AssistantSettings.model_validate(json.loads(path.read_text(encoding="utf-8")))


def make_agent(settings: AssistantSettings) -> ToolAgent | None:
    if settings.generator != "openai":
        return None
    if not settings.openai_url:
        raise ValueError("generator 'openai' needs openai_url")
    return ToolAgent(settings.openai_url, settings.openai_model, settings.openai_api_key,
                     max_steps=settings.agent_max_steps, timeout_s=settings.agent_timeout_s)


def make_generator(settings: AssistantSettings) -> Generator | None:
    if settings.generator in ("template", "openai"):
        return None
    if settings.generator == "openai_rewrite":
        if not settings.openai_url:
            raise ValueError("generator 'openai' needs openai_url")
        return OpenAICompatibleGenerator(settings.openai_url, settings.openai_model,
                                         settings.openai_api_key, settings.generator_timeout_s)
    raise ValueError(f"unknown generator {settings.generator!r} (template | openai | "
                     "openai_rewrite)")
