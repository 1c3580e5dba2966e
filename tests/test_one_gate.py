"""One verdict (auditor/gating/verdict.py): one `--fail-on` vocabulary and one check for both commands that take
it (`audit` and `audit merge`), one exit map, and `gate` is the verdict's exit code."""

from __future__ import annotations

import pytest

from auditor import gate as public_gate
from auditor.cli import main
from auditor.gating.verdict import EXIT_CODES, GATES, gate, parse_fail_on, verdict
from auditor.model.enums import FailOn
from auditor.model.errors import ExitCode, InputError
from auditor.pipeline.audit import audit
from tests.conftest import TODAY, make_deployment, make_facts


def _error_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize("value", ["errors", "critical", "ERROR", ""])
def test_both_commands_refuse_the_same_fail_on_values_with_the_same_message(
    value: str, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit_code, audit_err = _error_line(["--demo", "--fail-on", value, "--out", str(tmp_path / "a")], capsys)
    merge_code, merge_err = _error_line(["merge", str(tmp_path / "r.json"), "--fail-on", value], capsys)
    expected = f"audit: error: unknown --fail-on value {value!r}: choose error, warning, info or never"
    assert (audit_code, audit_err) == (merge_code, merge_err) == (2, expected)
    with pytest.raises(InputError, match="unknown --fail-on value"):
        parse_fail_on(value)


def test_the_vocabulary_is_fail_on_and_the_exit_map_is_the_exit_codes() -> None:
    assert GATES == ("error", "warning", "info", "never") == tuple(FailOn)
    assert [parse_fail_on(g) for g in GATES] == list(FailOn)
    assert EXIT_CODES == {"passed": ExitCode.OK, "failed": ExitCode.FINDINGS, "incomplete": ExitCode.INCOMPLETE}
    assert public_gate is gate


def test_gate_is_the_verdicts_exit_code_at_every_level(rules, kb) -> None:
    reports = [
        audit(make_facts(make_deployment("chat")), rules, kb, today=TODAY),
        audit(make_facts(make_deployment("old", "gpt-35-turbo", "0125", sku="Standard")), rules, kb, today=TODAY),
    ]
    seen = set()
    for report in reports:
        for level in GATES:
            code = gate(report, level)
            assert code == verdict(report, level).exit_code == EXIT_CODES[verdict(report, level).state]
            assert gate(report, FailOn(level)) == code
            seen.add(int(code))
    assert {0, 1} <= seen
