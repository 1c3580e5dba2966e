"""Azure OpenAI deployment preflight and compatibility auditor.

The public API under the `audit` command:

    from auditor import AuditOptions, run_audit, write_reports
    report = run_audit(AuditOptions(resources=("myres",)), credential=DefaultAzureCredential())
"""

from auditor._version import __version__
from auditor.audit import AuditOptions, audit, gate, gather_facts, run_audit, select_rules
from auditor.clouds import CLOUDS, Cloud, get_cloud
from auditor.engine.rules import Rule, load_rules
from auditor.errors import AuditorError, ExitCode, InputError, SignInError, TargetNotFoundError
from auditor.facts import Account, CatalogModel, ContractCall, Deployment, Facts, QuotaUsage, Region
from auditor.knowledge import KnowledgeBase, load_knowledge
from auditor.render import FORMATS, write_reports
from auditor.results import Finding, Report, Severity, Status
from auditor.sources.contract import load_contract

__all__ = [
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
    "run_audit",
    "select_rules",
    "write_reports",
]
