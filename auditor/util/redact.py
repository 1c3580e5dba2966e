"""Every secret the process holds, and the functions that keep them (and terminal tricks) out of what it
writes: reports, the console, logs.

Why one module: a key can come back from anywhere (a data-plane `error.code`, a `param`, a deployment name
an attacker chose), so the outputs are guarded at their last step, not at each place a string is made.
Where a string is cut short (a message limited to 300 characters), it is redacted *before* the cut, so no
half of a secret survives. Secrets are registered as they are obtained: the API key and secret-bearing
variables from the environment, every token the credential hands out (`RecordingCredential`).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any, BinaryIO, TypeVar, cast

T = TypeVar("T")

MIN_SECRET = 8
"""Shorter strings are not registered: redacting them would mangle ordinary words, and they are not keys."""
MASK = "***"
SECRET_ENVIRONMENT = (
    "AZURE_OPENAI_API_KEY",
    "OPENAI_API_KEY",
    "AZURE_CLIENT_SECRET",
    "IDENTITY_HEADER",
    "MSI_SECRET",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "GITHUB_TOKEN",
)

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()
_pattern: re.Pattern[str] | None = None
_bytes_pattern: re.Pattern[bytes] | None = None


def register(secret: str | None) -> None:
    """Remember a secret so that no output ever shows it."""
    global _secrets, _pattern, _bytes_pattern
    if not secret or len(secret) < MIN_SECRET:
        return
    with _lock:
        if secret in _secrets:
            return
        _secrets = tuple(sorted((*_secrets, secret), key=len, reverse=True))
        _pattern = re.compile("|".join(re.escape(s) for s in _secrets))
        _bytes_pattern = re.compile(b"|".join(re.escape(s.encode("utf-8", "surrogatepass")) for s in _secrets))


def register_environment(environ: Any) -> None:
    """The secret-bearing variables of the environment (the API key, a client secret, identity headers)."""
    for name in SECRET_ENVIRONMENT:
        value = str(environ.get(name, "") or "").strip()
        register(value)


def forget_all() -> None:
    """For tests: start from no registered secret."""
    global _secrets, _pattern, _bytes_pattern
    with _lock:
        _secrets, _pattern, _bytes_pattern = (), None, None


def secrets() -> tuple[str, ...]:
    return _secrets


def redact(text: str) -> str:
    """`text` with every registered secret replaced by ***."""
    pattern = _pattern
    return pattern.sub(MASK, text) if pattern is not None and text else text


_SURROGATE = re.compile("[\ud800-\udfff]")


def visible_surrogates(text: str) -> str:
    """Lone surrogates (from JSON `\\ud800` escapes) cannot be encoded as UTF-8: show them as \\udXXX."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def encodable(value: T) -> T:
    """`value` (a string, or dataclasses, tuples, lists and dicts of them) with every lone surrogate made
    visible, so it can be written as UTF-8; unchanged parts are the same objects (cheap on a large fleet).

    Why: JSON from Azure may carry `\\ud800` escapes, which decode to strings no encoder accepts; every
    renderer, the finding keys and the console would fail on them."""
    return cast(T, _encodable(value))


def _encodable_str(value: str) -> str:
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return visible_surrogates(value)
    return value


def _encodable_tuple(value: tuple[Any, ...]) -> tuple[Any, ...]:
    items = [_encodable(v) for v in value]
    if all(a is b for a, b in zip(items, value, strict=True)):
        return value
    return tuple(items) if type(value) is tuple else type(value)(*items)


def _encodable_list(value: list[Any]) -> list[Any]:
    items = [_encodable(v) for v in value]
    return value if all(a is b for a, b in zip(items, value, strict=True)) else items


def _encodable_dict(value: dict[Any, Any]) -> dict[Any, Any]:
    changed = {k: _encodable(v) for k, v in value.items()}
    keys = {k: _encodable(k) for k in value}
    if all(changed[k] is value[k] and keys[k] is k for k in value):
        return value
    return {keys[k]: v for k, v in changed.items()}


def _encodable_dataclass(value: Any) -> Any:
    updates = {}
    for f in dataclasses.fields(value):
        if not f.init:
            continue
        old = getattr(value, f.name)
        new = _encodable(old)
        if new is not old:
            updates[f.name] = new
    return dataclasses.replace(value, **updates) if updates else value


def _encodable(value: Any) -> Any:
    """The value with lone surrogates made visible; the same object where nothing changed."""
    if isinstance(value, str):
        return _encodable_str(value)
    if isinstance(value, tuple):
        return _encodable_tuple(value)
    if isinstance(value, list):
        return _encodable_list(value)
    if isinstance(value, dict):
        return _encodable_dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encodable_dataclass(value)
    return value


def clean(text: str, *, limit: int | None = None) -> str:
    """A tenant-supplied message made safe to keep: secrets redacted, then whitespace collapsed, lone
    surrogates made visible, and only then cut to `limit` characters."""
    text = " ".join(redact(str(text)).split())
    text = visible_surrogates(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """One line for a terminal or a CI log: secrets redacted, and every control character (newlines,
    ESC and the OSC/CSI sequences it starts, bidi overrides, lone surrogates) shown as an escape, so no
    value can start a line of its own (`::error::`, `::add-mask::`) or drive the terminal."""
    return _CONTROL.sub(_escape, redact(str(text)))


class RedactingWriter:
    """A binary stream that replaces registered secrets on the way to `out`, also when a secret is split
    across two writes (it holds back the last `longest - 1` bytes until the next write or `close`)."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._pending = b""
        self._pattern = _bytes_pattern
        self._needles = tuple(s.encode("utf-8", "surrogatepass") for s in _secrets)
        self._hold = max((len(n) for n in self._needles), default=1) - 1

    def write(self, data: bytes) -> int:
        if self._pattern is None:
            return self._out.write(data)
        buffer = self._pending + bytes(data)
        # A substring search per secret is many times faster than the alternation's scan, which is only run
        # when a secret is there to replace: megabytes of report pass through here.
        if any(needle in buffer for needle in self._needles):
            buffer = self._pattern.sub(MASK.encode(), buffer)
        if self._hold and len(buffer) > self._hold:
            self._out.write(buffer[: -self._hold])
            self._pending = buffer[-self._hold :]
        elif self._hold:
            self._pending = buffer
        else:
            self._out.write(buffer)
        return len(data)

    def flush(self) -> None:
        """Write out what was held back (the end of the stream)."""
        if self._pending:
            pending = self._pattern.sub(MASK.encode(), self._pending) if self._pattern else self._pending
            self._out.write(pending)
            self._pending = b""
        self._out.flush()


class RecordingCredential:
    """A TokenCredential that registers every token its inner credential hands out, so no token can reach
    a report, the console or a log, whoever echoes it. Everything else is the inner credential's."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        token = self._inner.get_token(*scopes, **kwargs)
        register(getattr(token, "token", None))
        return token

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> RecordingCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RedactingFilter(logging.Filter):
    """Log records are formatted with their secrets redacted and control characters made visible."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        record.msg, record.args = printable(message), None
        return True


def guard_logging(handlers: Iterable[logging.Handler] | None = None) -> None:
    """Put the redacting filter on every handler of the root logger (and Python's last-resort handler)."""
    chosen = list(handlers) if handlers is not None else [*logging.getLogger().handlers]
    if logging.lastResort is not None:
        chosen.append(logging.lastResort)
    for handler in chosen:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
