"""The shopping assistant over HTTP: POST /v1/assistant/chat, DELETE a conversation.

A turn that names a shopper (`user` or `session`) is personal: it ranks from that shopper's
history and continues that shopper's conversation, so it is answered only to the shopper's
own token (`X-Shopper-Token` or the storefront's cookie) or the admin key, exactly like the
profile (api/personal.py). A turn naming nobody is anonymous and impersonal."""

from __future__ import annotations

import threading
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from shopsense.api.deps import api_error, require_search
from shopsense.api.personal import check_personal
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
    check_personal(request, assistant.shop, user=body.user, session=body.session)
    answer = assistant.chat(body.message, conversation_id=body.conversation_id, user=body.user,
                            session=body.session, language=body.language,
                            personalise=body.personalise)
    return {**answer, "request_id": new_request_id()}  # its listed items' impressions


@router.delete("/conversations/{conversation_id}", summary="Forget a conversation now")
def forget(request: Request, conversation_id: str = Path(..., max_length=128),
           user: str | None = Query(None, max_length=256),
           session: str | None = Query(None, max_length=256),
           _: str = Depends(require_search),
           assistant: Assistant = Depends(get_assistant)) -> dict[str, Any]:
    check_personal(request, assistant.shop, user=user, session=session)
    if not assistant.forget(conversation_id, user=user, session=session):
        raise api_error(404, "not_found", f"no conversation {conversation_id!r}",
                        "conversation_id")
    return {"conversation_id": conversation_id, "forgotten": True}
