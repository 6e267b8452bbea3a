"""`shopsense ingest knowledge FILE` (policy / FAQ documents: Markdown, text, JSONL Q&A),
`shopsense knowledge list|ask|delete`, and `shopsense mcp` (the MCP server over stdio)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shopsense.cli.common import emit, fail, settings, sub_app

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _knowledge(ctx: typer.Context) -> Any:
    from shopsense.cli.home import open_home
    from shopsense.knowledge import KnowledgeBase
    from shopsense.store.knowledge import knowledge_repository
    from shopsense.text.encoders import make_encoder

    cfg = settings(ctx)
    return KnowledgeBase(knowledge_repository(open_home(cfg)),
                         lambda: make_encoder(cfg.search.encoder))


def _ingest_group(app: typer.Typer) -> typer.Typer:
    for group in app.registered_groups:
        if group.name == "ingest" and group.typer_instance is not None:
            return group.typer_instance
    raise RuntimeError("the ingest command group is not registered yet")


def load_knowledge(ctx: typer.Context, path: Path, fmt: str | None, doc_id: str | None
                   ) -> dict[str, Any]:
    from shopsense.knowledge import KnowledgeFormatError

    if not path.is_file():
        fail(f"{path}: no such file")
    try:
        return _knowledge(ctx).load_file(path, fmt, doc_id)
    except KnowledgeFormatError as exc:
        fail(str(exc))
        raise


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    @_ingest_group(app).command("knowledge")
    def ingest_knowledge(
        ctx: typer.Context,
        path: Path = typer.Argument(..., help="Markdown, text or JSONL (question/answer)"),
        fmt: Annotated[str | None, typer.Option("--format", help="markdown | text | jsonl "
                                                "(default: from the suffix)")] = None,
        doc_id: Annotated[str | None, typer.Option("--id", help="Document id (default: the "
                                                   "file name); loading it again replaces it")
                          ] = None,
        as_json: AsJson = False,
    ) -> None:
        """Load a policy / FAQ document into the shop's knowledge base."""
        report = load_knowledge(ctx, path, fmt, doc_id)
        emit(report, as_json, human=f"{report['doc_id']}: {report['passages']} passages "
             f"({', '.join(report['languages'])})")

    knowledge_app = sub_app(app, "knowledge", "The shop's knowledge base.")

    @knowledge_app.command("list")
    def list_cmd(ctx: typer.Context, as_json: AsJson = False) -> None:
        """The documents loaded."""
        emit({"documents": _knowledge(ctx).documents()}, as_json)

    @knowledge_app.command("ask")
    def ask_cmd(ctx: typer.Context, question: str = typer.Argument(...),
                language: Annotated[str | None, typer.Option("--language")] = None,
                as_json: AsJson = False) -> None:
        """Answer a question from the documents (the passage it would quote)."""
        answer = _knowledge(ctx).ask(question, language).to_dict()
        passage = answer["passage"]
        emit(answer, as_json, human=(f"[{passage['heading']}] {passage['text']}" if passage
                                     else "no answer in the knowledge base"))

    @knowledge_app.command("delete")
    def delete_cmd(ctx: typer.Context, doc_id: str = typer.Argument(...),
                   as_json: AsJson = False) -> None:
        """Remove one document."""
        emit({"doc_id": doc_id, "passages_removed": _knowledge(ctx).delete(doc_id)}, as_json)

    @app.command("mcp")
    def mcp_cmd(ctx: typer.Context) -> None:
        """Serve the catalogue's tools to an outside agent over MCP (stdio)."""
        try:
            from shopsense.mcp_server import build_server
        except ImportError:
            fail("the MCP server needs the mcp extra: pip install 'shopsense[mcp]'")
            raise
        from shopsense.cli.assistant import make_assistant

        build_server(make_assistant(ctx)).run("stdio")
