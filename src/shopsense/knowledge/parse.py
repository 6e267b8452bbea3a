"""Policy and FAQ documents -> passages: Markdown, plain text, or JSON Lines of Q&A.

- Markdown: the first `# ` heading is the document's title; every `##` / `###` section is a
  heading, and each paragraph (or list) under it one passage, so a bilingual section yields a
  zh passage and an en passage under the same heading.
- Text: paragraphs separated by blank lines; a short first line of a paragraph ending in ":" /
  "：" or without final punctuation is its heading.
- JSONL: one `{"question": ..., "answer": ..., "language"?: "zh" | "en"}` a line (`q` / `a`
  accepted); the question is the heading, the answer the passage.

Errors name the file and line (`KnowledgeFormatError`); nothing is stored from a bad file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from shopsense.store.knowledge import Passage

FORMATS = ("markdown", "text", "jsonl")
MAX_PASSAGE_CHARS = 1200
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
LATIN_RE = re.compile(r"[A-Za-z]")
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")


class KnowledgeFormatError(ValueError):
    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


def language_of(text: str) -> str:
    """zh when Chinese characters make up a fair share of the letters, else en ("" if none)."""
    cjk, latin = len(CJK_RE.findall(text)), len(LATIN_RE.findall(text))
    if cjk == 0 and latin == 0:
        return ""
    return "zh" if cjk * 3 >= latin else "en"


def format_of(path: Path, declared: str | None = None) -> str:
    if declared:
        if declared not in FORMATS:
            raise KnowledgeFormatError(str(path), f"format must be one of {FORMATS}")
        return declared
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return "markdown"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".txt", ".text", ""):
        return "text"
    raise KnowledgeFormatError(str(path), f"unknown suffix {suffix!r} (.md, .txt or .jsonl; "
                               "or name the format)")


def parse_file(path: Path, fmt: str | None = None, doc_id: str | None = None) -> list[Passage]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise KnowledgeFormatError(str(path), "not UTF-8 text") from exc
    return parse_text(text, format_of(path, fmt), doc_id or path.name, path.stem)


def parse_text(text: str, fmt: str, doc_id: str, title: str = "") -> list[Passage]:
    if fmt not in FORMATS:
        raise KnowledgeFormatError(doc_id, f"format must be one of {FORMATS}")
    if not doc_id.strip() or len(doc_id) > 200:
        raise KnowledgeFormatError(doc_id, "a document id must be 1-200 characters")
    parsed = (_markdown(text, doc_id) if fmt == "markdown" else
              _jsonl(text, doc_id) if fmt == "jsonl" else _plain(text, doc_id))
    doc_title, sections = parsed
    doc_title = doc_title or title or doc_id
    out = []
    for heading, body, language in sections:
        for chunk in _chunks(body):
            out.append(Passage(f"{doc_id}#{len(out)}", doc_id, doc_title, heading, chunk,
                               language or language_of(heading + " " + chunk), len(out)))
    if not out:
        raise KnowledgeFormatError(doc_id, "no passages found (empty document?)")
    return out


def _chunks(body: str) -> list[str]:
    """A long paragraph split at sentence ends into pieces of at most MAX_PASSAGE_CHARS."""
    body = re.sub(r"[ \t]+", " ", body.strip())
    if len(body) <= MAX_PASSAGE_CHARS:
        return [body] if body else []
    pieces, current = [], ""
    for sentence in re.split(r"(?<=[。！？.!?])\s*", body):
        if current and len(current) + len(sentence) > MAX_PASSAGE_CHARS:
            pieces.append(current.strip())
            current = ""
        current += sentence + ("" if CJK_RE.search(sentence[-1:] or "") else " ")
    if current.strip():
        pieces.append(current.strip())
    return pieces


Section = tuple[str, str, str]  # heading, body, language ("" = detect)


def _markdown(text: str, doc_id: str) -> tuple[str, list[Section]]:
    title, heading, sections, paragraph = "", "", [], []

    def flush() -> None:
        body = "\n".join(paragraph).strip()
        if body:
            sections.append((heading, body, ""))
        paragraph.clear()

    for line in text.splitlines():
        m = HEADING_RE.match(line)
        if m:
            flush()
            if len(m.group(1)) == 1 and not title:
                title = m.group(2)
            else:
                heading = m.group(2)
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.strip())
    flush()
    return title, sections


def _plain(text: str, doc_id: str) -> tuple[str, list[Section]]:
    sections = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in block.strip().splitlines() if ln.strip()]
        if not lines:
            continue
        first = lines[0]
        is_heading = len(lines) > 1 and len(first) <= 60 and (
            first.endswith((":", "：")) or not re.search(r"[。.!！?？;；]$", first))
        heading = first.rstrip(":：") if is_heading else ""
        sections.append((heading, " ".join(lines[1:] if is_heading else lines), ""))
    return "", sections


def _jsonl(text: str, doc_id: str) -> tuple[str, list[Section]]:
    sections = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError) as exc:  # also: too deep, a 5,000-digit number
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)[:80]
            raise KnowledgeFormatError(f"{doc_id}:{n}", f"not JSON ({reason})") from exc
        if not isinstance(row, dict):
            raise KnowledgeFormatError(f"{doc_id}:{n}", "each line must be a JSON object")
        question, answer = row.get("question", row.get("q")), row.get("answer", row.get("a"))
        if not isinstance(question, str) or not isinstance(answer, str) or \
                not question.strip() or not answer.strip():
            raise KnowledgeFormatError(f"{doc_id}:{n}", "needs non-empty \"question\" and "
                                       "\"answer\" strings")
        try:
            (question + answer).encode("utf-8")
        except UnicodeEncodeError:  # a "\ud800" escape: no store or answer can write it
            raise KnowledgeFormatError(f"{doc_id}:{n}", "not valid Unicode text (a lone "
                                       "surrogate)") from None
        language = row.get("language", "")
        if language not in ("", "zh", "en"):
            raise KnowledgeFormatError(f"{doc_id}:{n}", "language must be zh or en")
        sections.append((question.strip(), answer.strip(), language))
    return "", sections
