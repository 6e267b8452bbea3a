"""The demo shop's bilingual policy document (returns, shipping, payment, invoices, warranty,
price protection, customer service, membership), loaded into the knowledge base by
`shopsense demo run` and by the assistant's tests."""

from __future__ import annotations

from pathlib import Path

POLICY_DOCUMENT = Path(__file__).with_name("policy.md")
