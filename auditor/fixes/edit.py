"""One change to an SDK call, apart from the code that makes it (auditor/fixes/calls.py), so that deciding
the fixes does not import libcst: it is loaded only when a source file is edited."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """One change to a call: drop a keyword, rename it, move reasoning effort between its two spellings, or
    set model= to a deployment name."""

    kind: str  # drop | rename | effort_to_reasoning | reasoning_to_effort | set_model
    parameter: str
    new: str | None = None

    def describe(self) -> str:
        return {
            "drop": f"drop {self.parameter}=",
            "rename": f"rename {self.parameter}= to {self.new}=",
            "effort_to_reasoning": 'send reasoning_effort= as reasoning={"effort": ...}',
            "reasoning_to_effort": 'send reasoning={"effort": ...} as reasoning_effort=',
            "set_model": f"model={self.parameter!r} -> model={self.new!r}",
        }[self.kind]
