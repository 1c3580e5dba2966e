"""Renderers write to a binary stream as they go, so a fleet-sized report (hundreds of megabytes) is never
held in memory whole; the `render_*` functions that return text are the same writers into a buffer."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any, BinaryIO

BATCH = 4096


def text_of(writer: Callable[..., None], *args: Any) -> str:
    """What `writer` would write, as text (for tests, library callers and small reports)."""
    buffer = io.BytesIO()
    writer(*args, buffer)
    return buffer.getvalue().decode("utf-8")


def write_chunks(chunks: Iterator[str], out: BinaryIO) -> None:
    """Write a template's output as it is generated, joined in batches so the writes stay few."""
    while True:
        part = "".join(islice(chunks, BATCH))
        if not part:
            return
        out.write(part.encode("utf-8"))
