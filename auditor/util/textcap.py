"""Enumerations in messages stay readable at fleet scale: the first few items, then how many more."""

from __future__ import annotations

from collections.abc import Sequence

MAX_ITEMS = 10


def join_capped(items: Sequence[str], limit: int = MAX_ITEMS, sep: str = ", ") -> str:
    """`a, b, c … and 996 more` (the full list stays in report.json: inventory, findings, evidence)."""
    if len(items) <= limit:
        return sep.join(items)
    return f"{sep.join(items[:limit])} … and {len(items) - limit:,} more"
