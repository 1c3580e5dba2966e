"""The auditor's version, kept apart so every module can import it without cycles.

The number comes from the git tag at build time (hatch-vcs writes `_scm_version.py` into the wheel and into an
editable install); a source tree that was never built says 0.0.0+unknown rather than failing to import."""

from importlib import import_module

try:
    __version__: str = import_module("auditor._scm_version").__version__
except ImportError:  # pragma: no cover - only a never-built source tree
    __version__ = "0.0.0+unknown"
