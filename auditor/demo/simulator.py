"""The simulated tenant's former single-module path, kept so code written against it still imports.

The simulator is the package `auditor.demo.sim`; import from there.
"""

from __future__ import annotations

from auditor.demo.sim import *  # noqa: F403
from auditor.demo.sim import __all__ as __all__
