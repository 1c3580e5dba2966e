"""Closed sets of values the auditor passes around, as str-valued enums.

Each member equals, hashes and serializes (json, orjson) as its value, so report.json, SARIF and the rule
files keep their strings; code compares members instead of retyping the strings. The JSON Schemas under
auditor/schemas/ list the same values: tests/test_enums_schemas.py holds them together.
"""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10

    class StrEnum(str, Enum):
        """enum.StrEnum of 3.11: str() and format() give the value."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return str(self.value).__format__(spec)


class Category(StrEnum):
    """What a rule is about; the report groups failures by it (rules.schema.json `category`)."""

    API_SUPPORT = "api-support"
    PARAMETERS = "parameters"
    ACCESS = "access"
    REGION = "region"
    QUOTA = "quota"
    LIFECYCLE = "lifecycle"
    DEPLOYMENT = "deployment"
    SECURITY = "security"
    PROBE = "probe"
    PLAN = "plan"
    POLICY = "policy"
    """An organisation's own statements (--policy FILE), compiled into rules."""
    UPGRADE = "upgrade"


class TargetStatus(StrEnum):
    """Whether everything about an audited account could be read (report.json `targets[].status`)."""

    COMPLETE = "complete"
    INCOMPLETE = "incomplete"


class FailOn(StrEnum):
    """`--fail-on`: the lowest severity of a failing finding that fails the run."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NEVER = "never"


class Discovery(StrEnum):
    """`--discovery`: how accounts are found (one Resource Graph query, or listing per subscription)."""

    AUTO = "auto"
    RESOURCE_GRAPH = "resource-graph"
    LIST = "list"


class ProbeOutcome(StrEnum):
    """What one live call to a deployment's data plane showed (report.json `evidence.outcome`)."""

    SUCCESS = "success"
    API_NOT_SUPPORTED = "api_not_supported"
    DEPLOYMENT_NOT_FOUND = "deployment_not_found"
    UNSUPPORTED_PARAMETER = "unsupported_parameter"
    UNSUPPORTED_VALUE = "unsupported_value"
    INVALID_KEY = "invalid_key"
    INVALID_TOKEN = "invalid_token"
    LOCAL_AUTH_DISABLED = "local_auth_disabled"
    PERMISSION_DENIED = "permission_denied"
    NETWORK_BLOCKED = "network_blocked"
    RATE_LIMITED = "rate_limited"
    CONTENT_FILTER = "content_filter"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    UNEXPECTED = "unexpected"
    SKIPPED = "skipped"


def choices(kind: type[Enum]) -> str:
    """The values of an enum for an error message: "a, b or c"."""
    values = [str(member.value) for member in kind]
    return ", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0]
