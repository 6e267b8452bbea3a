"""How SQLite-flavoured SQL written against `store.execute` / `store.transaction()` is run on
PostgreSQL.

Callers outside the store (analytics, API keys, the privacy ledger) write SQLite SQL with `?`
placeholders. The PostgreSQL store rewrites the few constructs they use; anything else must be
portable SQL. Rewritten:

- `?` placeholders -> `%s` (outside quoted literals); a literal `%` -> `%%`;
- `INTEGER PRIMARY KEY AUTOINCREMENT` -> `BIGSERIAL PRIMARY KEY`; `REAL` columns -> `DOUBLE
  PRECISION` (SQLite's REAL is 8 bytes, PostgreSQL's is 4);
- `INSERT OR IGNORE INTO t ...` -> `INSERT INTO t ... ON CONFLICT DO NOTHING`;
- `INSERT OR REPLACE INTO meta VALUES (?, ?)` -> an upsert on `meta.key` (only for `meta`, whose
  key is known; other tables raise `NotImplementedError`).

Not rewritten (use portable SQL instead): SQLite functions (`julianday`, `strftime`, `printf`),
`create_function` (privacy.rekey needs SQLite), `PRAGMA`, `GROUP_CONCAT`.
"""

from __future__ import annotations

import re
from functools import lru_cache

_AUTOINC = re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b", re.IGNORECASE)
_REAL = re.compile(r"\bREAL\b")
_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_OR_REPLACE = re.compile(r"^\s*INSERT\s+OR\s+REPLACE\s+INTO\s+(\w+)\b", re.IGNORECASE)
_UPSERT_KEYS = {"meta": ("key", ("value",))}


def _placeholders(sql: str) -> str:
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=1024)
def to_postgres(sql: str) -> str:
    """PostgreSQL text of one SQLite-flavoured statement (see the module docstring)."""
    text = sql.strip().rstrip(";")
    if text.upper().startswith("CREATE TABLE"):
        text = _REAL.sub("DOUBLE PRECISION", _AUTOINC.sub("BIGSERIAL PRIMARY KEY", text))
    if _OR_IGNORE.match(text):
        text = _OR_IGNORE.sub("INSERT INTO", text) + " ON CONFLICT DO NOTHING"
    elif (m := _OR_REPLACE.match(text)) is not None:
        table = m.group(1)
        if table not in _UPSERT_KEYS:
            raise NotImplementedError(f"INSERT OR REPLACE INTO {table}: write an explicit "
                                      "ON CONFLICT upsert for PostgreSQL")
        key, cols = _UPSERT_KEYS[table]
        sets = ", ".join(f"{c} = excluded.{c}" for c in cols)
        text = _OR_REPLACE.sub(f"INSERT INTO {table}", text) + \
            f" ON CONFLICT ({key}) DO UPDATE SET {sets}"
    return _placeholders(text)
