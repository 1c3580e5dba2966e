"""Rule cases kept next to the feature they test, counted by the meta-test in test_rules_builtin.py.

Each module listed here defines RULE_CASES — (rule_id, expected Status, build) like CASES there — and runs
every one of them in its own table test, so a case counted here is a case that ran.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

MODULES = (
    "tests.test_probes",
    "tests.test_plan",
    "tests.test_contract_scan",
    "tests.test_compliance",
    "tests.test_upgrade",
    "tests.test_observed_traffic",
)


def extra_cases() -> list[tuple[str, Any, Any]]:
    """Every module's RULE_CASES."""
    cases: list[tuple[str, Any, Any]] = []
    for name in MODULES:
        cases.extend(import_module(name).RULE_CASES)
    return cases
