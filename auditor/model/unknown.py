"""The value of a fact that could not be determined: shared by the knowledge base, the engine and the
sources, so none of them has to import another for it."""

from __future__ import annotations

from typing import Any


class Unknown:
    """The value of a fact that could not be determined."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value")


UNKNOWN: Any = Unknown()  # Any: a fact slot holds either a value or this
