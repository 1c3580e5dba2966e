"""Azure OpenAI deployment preflight and compatibility auditor.

The public API under the `audit` command:

    from auditor import AuditOptions, run_audit, write_reports
    report = run_audit(AuditOptions(resources=("myres",)), credential=DefaultAzureCredential())

The names below load on first use (PEP 562 module `__getattr__`): importing the engine does not load the
renderers or the Azure SDKs, and `audit --version` loads neither.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from auditor._version import __version__

if TYPE_CHECKING:
    from auditor.engine.rules import Rule, load_rules
    from auditor.history.store import HistoryStore, open_store
    from auditor.knowledge.base import KnowledgeBase, load_knowledge
    from auditor.model.clouds import CLOUDS, Cloud, get_cloud
    from auditor.model.errors import AuditorError, ExitCode, InputError, SignInError, TargetNotFoundError
    from auditor.model.facts import Account, CatalogModel, ContractCall, Deployment, Facts, QuotaUsage, Region
    from auditor.model.results import Finding, Report, Severity, Status
    from auditor.pipeline.audit import AuditOptions, audit, gate, gather_facts, run_audit, select_rules
    from auditor.pipeline.nightly import nightly_view
    from auditor.pipeline.offline import run_offline
    from auditor.render import FORMATS, write_reports
    from auditor.sources.contract import load_contract

_EXPORTS = {
    "auditor.pipeline.audit": ("AuditOptions", "audit", "gate", "gather_facts", "run_audit", "select_rules"),
    "auditor.pipeline.offline": ("run_offline",),
    "auditor.model.clouds": ("CLOUDS", "Cloud", "get_cloud"),
    "auditor.engine.rules": ("Rule", "load_rules"),
    "auditor.model.errors": ("AuditorError", "ExitCode", "InputError", "SignInError", "TargetNotFoundError"),
    "auditor.model.facts": ("Account", "CatalogModel", "ContractCall", "Deployment", "Facts", "QuotaUsage", "Region"),
    "auditor.knowledge.base": ("KnowledgeBase", "load_knowledge"),
    "auditor.render": ("FORMATS", "write_reports"),
    "auditor.model.results": ("Finding", "Report", "Severity", "Status"),
    "auditor.sources.contract": ("load_contract",),
    "auditor.pipeline.nightly": ("nightly_view",),
    "auditor.history.store": ("HistoryStore", "open_store"),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [  # a literal, for type checkers; test_import_walls checks it against _EXPORTS
    "CLOUDS",
    "FORMATS",
    "Account",
    "AuditOptions",
    "AuditorError",
    "CatalogModel",
    "Cloud",
    "ContractCall",
    "Deployment",
    "ExitCode",
    "Facts",
    "Finding",
    "HistoryStore",
    "InputError",
    "KnowledgeBase",
    "QuotaUsage",
    "Region",
    "Report",
    "Rule",
    "Severity",
    "SignInError",
    "Status",
    "TargetNotFoundError",
    "__version__",
    "audit",
    "gate",
    "gather_facts",
    "get_cloud",
    "load_contract",
    "load_knowledge",
    "load_rules",
    "nightly_view",
    "open_store",
    "run_audit",
    "run_offline",
    "select_rules",
    "write_reports",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines a public name the first time it is asked for."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
