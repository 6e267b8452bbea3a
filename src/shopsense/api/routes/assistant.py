"""The shopping assistant over HTTP: POST /v1/assistant/chat, DELETE a conversation."""

from __future__ import annotations

import threading
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from shopsense.api.deps import api_error, require_search
from shopsense.api.personal import redact
from shopsense.assistant import Assistant
from shopsense.pipeline.explore import new_request_id

router = APIRouter(prefix="/v1/assistant", tags=["assistant"])
_LOCK = threading.Lock()
ConversationId = Field(None, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")


class ChatIn(BaseModel):
    message: str = Field(..., min_length=1, max_length=500)
    conversation_id: str | None = ConversationId
    user: str | None = Field(None, max_length=256)
    session: str | None = Field(None, max_length=256)
    language: Literal["zh", "en"] | None = None
    personalise: bool = Field(True, description="False: no history-based ranking this turn "
                              "(dismissals are still honoured).")


def get_assistant(request: Request) -> Assistant:
    """One assistant per app (its conversations live in memory), made on first use."""
    return assistant_of(request.app.state)


def assistant_of(state: Any) -> Assistant:
    """The app's assistant (made on first use, remade when the shop is replaced)."""
    with _LOCK:
        current = getattr(state, "assistant", None)
        if current is None or current.shop is not state.shop:
            current = Assistant(state.shop)
            state.assistant = current
    return current


@router.post("/chat", summary="One turn of a grounded shopping conversation")
def chat(request: Request, body: ChatIn, _: str = Depends(require_search),
         assistant: Assistant = Depends(get_assistant)) -> dict[str, Any]:
    answer = assistant.chat(body.message, conversation_id=body.conversation_id, user=body.user,
                            session=body.session, language=body.language,
                            personalise=body.personalise)
    # the cited items as a caller who is not the shopper may see them (docs/PRIVACY.md)
    shown = redact(request, assistant.shop, {"results": answer["items"]}, user=body.user,
                   session=body.session)
    return {**answer, "items": shown["results"],
            "request_id": new_request_id()}  # its listed items' impressions


@router.delete("/conversations/{conversation_id}", summary="Forget a conversation now")
def forget(conversation_id: str, user: str | None = None, session: str | None = None,
           _: str = Depends(require_search),
           assistant: Assistant = Depends(get_assistant)) -> dict[str, Any]:
    if not assistant.forget(conversation_id, user=user, session=session):
        raise api_error(404, "not_found", f"no conversation {conversation_id!r}",
                        "conversation_id")
    return {"conversation_id": conversation_id, "forgotten": True}
