"""The shop's knowledge base over HTTP: PUT / GET / DELETE /v1/knowledge (admin) to manage
policy and FAQ documents, POST /v1/knowledge/ask (search scope) to ask it."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from shopsense.api.deps import api_error, require_admin, require_search
from shopsense.api.routes.assistant import get_assistant
from shopsense.assistant import Assistant
from shopsense.knowledge import KnowledgeFormatError

router = APIRouter(prefix="/v1/knowledge", tags=["knowledge"])
DocId = Field(..., min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")


class DocumentIn(BaseModel):
    doc_id: str = DocId
    format: Literal["markdown", "text", "jsonl"] = "markdown"
    text: str = Field(..., min_length=1, max_length=2_000_000)
    title: str = Field("", max_length=200)


class AskIn(BaseModel):
    question: str = Field(..., min_length=1, max_length=500)
    language: Literal["zh", "en"] | None = None


@router.put("", summary="Load (or replace) one policy / FAQ document")
def put_document(body: DocumentIn, _: str = Depends(require_admin),
                 assistant: Assistant = Depends(get_assistant)) -> dict[str, Any]:
    try:
        return assistant.knowledge.load_text(body.text, body.format, body.doc_id, body.title)
    except KnowledgeFormatError as exc:
        raise api_error(422, "invalid_document", str(exc), "text") from exc


@router.get("", summary="The documents in the knowledge base")
def list_documents(_: str = Depends(require_admin),
                   assistant: Assistant = Depends(get_assistant)) -> dict[str, Any]:
    return {"documents": assistant.knowledge.documents()}


@router.delete("/{doc_id}", summary="Remove one document")
def delete_document(doc_id: str, _: str = Depends(require_admin),
                    assistant: Assistant = Depends(get_assistant)) -> dict[str, Any]:
    removed = assistant.knowledge.delete(doc_id)
    if not removed:
        raise api_error(404, "not_found", f"no document {doc_id!r}", "doc_id")
    return {"doc_id": doc_id, "passages_removed": removed}


@router.post("/ask", summary="Answer a policy question from the documents (quoted)")
def ask(body: AskIn, _: str = Depends(require_search),
        assistant: Assistant = Depends(get_assistant)) -> dict[str, Any]:
    return assistant.knowledge.ask(body.question, body.language).to_dict()
