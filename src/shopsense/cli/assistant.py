"""`shopsense assistant chat` (a scripted or interactive conversation) and
`shopsense eval assistant` (the scripted dialogue suite)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from shopsense.cli.common import emit, fail, out, settings, sub_app

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def make_assistant(ctx: typer.Context) -> Any:
    return _assistant(ctx)


def _assistant(ctx: typer.Context) -> Any:
    from shopsense.assistant import Assistant
    from shopsense.pipeline.shop import Shop
    from shopsense.training.lifecycle import quick_models

    cfg = settings(ctx)
    shop = Shop(cfg)
    if not shop.products:
        fail("the catalogue is empty (load one first, e.g. `shopsense demo run --no-serve`)")
    shop.swap_models(quick_models(shop))
    return Assistant(shop)


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    assistant_app = sub_app(app, "assistant", "The grounded shopping assistant.")

    @assistant_app.command("chat")
    def chat_cmd(
        ctx: typer.Context,
        messages: Annotated[list[str] | None, typer.Argument(
            help="The shopper's turns, in order; none = read one turn a line from stdin.")] = None,
        user: Annotated[str | None, typer.Option("--user", help="Raw user id.")] = None,
        session: Annotated[str | None, typer.Option("--session", help="Session id.")] = "cli",
        language: Annotated[str | None, typer.Option("--language", help="zh | en")] = None,
        as_json: AsJson = False,
    ) -> None:
        """Talk to the assistant: each MESSAGE is one turn of the same conversation."""
        assistant = _assistant(ctx)
        turns: list[dict[str, Any]] = []
        conversation = None
        lines = messages or (line.strip() for line in sys.stdin)
        for text in lines:
            if not text:
                continue
            reply = assistant.chat(text, conversation_id=conversation, user=user,
                                   session=session, language=language)
            conversation = reply["conversation_id"]
            turns.append({"say": text, **reply})
            if not as_json:
                out.print(f"> {text}  ({reply['act']})", markup=False, highlight=False)
                out.print(reply["reply"], markup=False, highlight=False)
        if as_json:
            emit({"conversation_id": conversation, "turns": turns}, True)

    @eval_app.command("assistant")
    def eval_assistant_cmd(
        ctx: typer.Context,
        dialogues: Annotated[Path, typer.Option("--dialogues", help="Dialogues, JSON Lines "
                                                "(see shopsense.assistant.suite).")],
        runs: Annotated[int, typer.Option("--runs", min=1, max=20, help="Run the suite k "
                                          "times and report pass^k (an agent's reliability)."
                                          )] = 1,
        as_json: AsJson = False,
    ) -> None:
        """Run scripted dialogues: pass rate, invented facts, failures (pass^k with --runs)."""
        from shopsense.assistant.suite import load_dialogues, run_suite, run_suite_k

        if runs > 1:
            rel = run_suite_k(_assistant(ctx), load_dialogues(dialogues), runs).to_dict()
            emit(rel, as_json, human=f"{rel['dialogues']} dialogues x {rel['k']} runs: pass^"
                 f"{rel['k']} {rel['pass_k']:.1%}, pass@1 {rel['pass_at_1']:.1%}, invented "
                 f"facts {rel['invented_facts']}, replies {rel['reply_sources']}")
            return
        report = run_suite(_assistant(ctx), load_dialogues(dialogues)).to_dict()
        human = (f"{report['dialogues']} dialogues, {report['turns']} turns: pass rate "
                 f"{report['pass_rate']:.1%}, invented facts {report['invented_facts']}, "
                 f"{report['seconds']} s")
        emit(report, as_json, human=human)
