"""`--timeout`: one deadline for the whole run. Every wait of the audit goes through it, so when it
expires the audit stops waiting, reports what it read, and says what it did not.

Why waits and not requests: a request already has its own timeouts (connect and read); what the deadline
bounds is the sum of everything else — retries, throttling, slow pages, a stalled token endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

T = TypeVar("T")
DEFAULT_TIMEOUT = 900.0


class DeadlineExpired(Exception):
    """The run's --timeout passed while waiting for something."""


_LEFT_BEHIND = threading.Event()


def work_left_behind() -> bool:
    """Whether a run in this process stopped waiting at its deadline: reads may still be running in worker
    threads (a stalled or dripping answer), and the process must not wait for them at exit (cli._exit)."""
    return _LEFT_BEHIND.is_set()


class Deadline:
    """A point in time (monotonic) after which the run stops waiting; None waits forever."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        return None if self._end is None else max(0.0, self._end - time.monotonic())

    @property
    def expired(self) -> bool:
        if self._end is not None and time.monotonic() >= self._end:
            _LEFT_BEHIND.set()  # whoever asks is about to stop waiting
            return True
        return False

    def reason(self, what: str) -> str:
        return f"{what} not read within the run's --timeout of {self.seconds:g} s"

    def result(self, future: Future[T]) -> T:
        """The future's result, or DeadlineExpired once the deadline has passed."""
        try:
            return future.result(timeout=self.remaining())
        except FutureTimeout:
            _LEFT_BEHIND.set()
            raise DeadlineExpired from None

    def run(self, job: Callable[[], T]) -> T:
        """Run `job` in a thread of its own (it may use the shared pool itself) and wait for it within
        the deadline; a job still running then is left behind (its requests have their own timeouts)."""
        future: Future[T] = Future()

        def work() -> None:
            try:
                future.set_result(job())
            except BaseException as exc:  # handed to the waiting thread, raised there
                future.set_exception(exc)

        threading.Thread(target=work, name="audit-deadline", daemon=True).start()
        return self.result(future)
