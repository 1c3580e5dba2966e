"""Pausing Python's cyclic garbage collector while a fleet-sized report is built or written."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Evaluating and rendering 10^5 findings allocates millions of objects that form no cycles; each
    allocation burst would start a full collection over everything alive (a third of the run time at
    10,000 deployments). Reference counting still frees what is dropped; the collector resumes after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # What was allocated meanwhile is counted as young: the first allocation after gc.enable() would
            # scan all of it at once. freeze + unfreeze moves every tracked object to the oldest generation
            # without a scan (a cycle among them is still collected there, at the next full collection).
            gc.freeze()
            gc.unfreeze()
            gc.enable()
