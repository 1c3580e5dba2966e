"""The pipeline: sources of facts -> one fact model -> rule engine -> one result model, in four modules.

- `options.py`: what a run audits (`AuditOptions`, the CLI's flags as data) and the `Progress` protocol.
- `gather.py`: the I/O half. Reads Azure (and the contract and plan files) on one bounded pool within the run's
  deadline, with live probes on the same pool (`gather_and_probe`); every failed or late read becomes a gap.
- `audit.py`: the pure half. `audit` turns facts into the report; `finish` applies waivers, drift and the shard's
  label. No I/O.
- `run.py`: `run_audit`, the whole job and the one call the CLI makes. It reads every input file first (rules,
  `--policy` and the Azure Monitor reads it needs, waivers, baseline), then gathers, audits and finishes, so the
  library and the CLI give the same report for the same inputs.

The gate's verdict and exit code are decided in auditor/gating/verdict.py.
"""
