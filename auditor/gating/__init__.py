"""After the audit: waivers, drift against a baseline, shards and their merge, and the verdict at the gate.

`verdict.py` is the only place the gate is decided (`--fail-on` values, the exit map, `gate`); `reportfile.py` is the
only reader of report.json (baseline and merge: one size bound, one schema).
"""
