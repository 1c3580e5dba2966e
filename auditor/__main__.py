"""`python -m auditor` runs the `audit` command."""

from auditor.cli import entry

entry()
