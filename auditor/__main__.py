"""`python -m auditor` runs the `audit` command."""

from auditor.cli import main

raise SystemExit(main())
