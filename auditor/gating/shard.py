"""`--shard K/N`: a stable split of the discovered accounts, so many CI jobs can audit one large tenant at once.

An account belongs to shard `1 + sha256(lower-case ARM id) mod N`: the same account lands in the same shard
every night, whichever job discovers it and in whatever order, and the shards never overlap.
"""

from __future__ import annotations

import hashlib
import re

from auditor.model.errors import InputError

MAX_SHARDS = 1000
_SHARD = re.compile(r"^\s*(\d{1,9})\s*/\s*(\d{1,9})\s*$")  # digits bounded: int() of 5,000 digits raises


def parse_shard(value: str) -> tuple[int, int]:
    """`2/8` -> (2, 8); anything else is an InputError naming the value."""
    match = _SHARD.match(value)
    value = value if len(value) <= 40 else value[:40] + "…"  # quoted in the message: bounded
    if not match:
        raise InputError(f"--shard {value!r}: write K/N, e.g. --shard 2/8")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= MAX_SHARDS or not 1 <= index <= count:
        raise InputError(f"--shard {value!r}: K must be between 1 and N, and N between 1 and {MAX_SHARDS}")
    return index, count


def shard_of(account_id: str, count: int) -> int:
    """The shard (1-based) an account belongs to among `count`."""
    digest = hashlib.sha256(account_id.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def in_shard(account_id: str, shard: tuple[int, int]) -> bool:
    return shard_of(account_id, shard[1]) == shard[0]
