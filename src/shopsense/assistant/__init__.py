"""The shopping assistant: multi-turn conversational search and product Q&A, grounded in the
catalogue. `Assistant(shop).chat(message, conversation_id=..., user=..., session=...)`."""

from __future__ import annotations

from shopsense.assistant.check import CheckReport, check_reply
from shopsense.assistant.config import AssistantSettings, load_settings
from shopsense.assistant.engine import Assistant
from shopsense.assistant.facts import Fact
from shopsense.assistant.generate import Generator, OpenAICompatibleGenerator

__all__ = ["Assistant", "AssistantSettings", "CheckReport", "Fact", "Generator",
           "OpenAICompatibleGenerator", "check_reply", "load_settings"]
