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


class Interruption:
    """Ctrl-C as a deadline that passes now: the CLI's SIGINT handler calls `interrupt`, every Deadline then counts
    as expired, so the audit stops waiting and reports what it read, the rest listed as not read (exit 130).
    Process-wide, as the signal is; a second Ctrl-C is Python's KeyboardInterrupt."""

    def __init__(self) -> None:
        self.requested = False
        self.waiting = 0  # deadline waits in progress on the main thread

    def interrupt(self) -> None:
        """Called on the main thread by the signal handler: a wait in progress there ends at once."""
        self.requested = True
        if self.waiting:
            raise DeadlineExpired

    def reset(self) -> None:
        self.requested = False


INTERRUPTION = Interruption()


class Deadline:
    """A point in time (monotonic) after which the run stops waiting; None waits forever."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        if INTERRUPTION.requested:
            return 0.0
        return None if self._end is None else max(0.0, self._end - time.monotonic())

    @property
    def expired(self) -> bool:
        if INTERRUPTION.requested or (self._end is not None and time.monotonic() >= self._end):
            _LEFT_BEHIND.set()  # whoever asks is about to stop waiting
            return True
        return False

    def reason(self, what: str) -> str:
        if INTERRUPTION.requested:
            return f"{what} not read: the run was interrupted (Ctrl-C)"
        return f"{what} not read within the run's --timeout of {self.seconds:g} s"

    def result(self, future: Future[T]) -> T:
        """The future's result, or DeadlineExpired once the deadline has passed (or Ctrl-C was pressed)."""
        main = threading.current_thread() is threading.main_thread()
        if main:
            INTERRUPTION.waiting += 1
        try:
            return future.result(timeout=self.remaining())
        except FutureTimeout:
            _LEFT_BEHIND.set()
            raise DeadlineExpired from None
        finally:
            if main:
                INTERRUPTION.waiting -= 1

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
