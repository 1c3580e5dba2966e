"""What is generated from the rule files (the README's rule list, docs/rules/<ID>.md) stays in sync with them;
`audit rules`, `audit rules explain` and `audit kb` work."""

from __future__ import annotations

from pathlib import Path

from auditor._version import __version__
from auditor.cli import main
from auditor.engine.rules import every_rule, load_rules
from auditor.render.docs import rule_page
from auditor.util.doclinks import declared_base
from tests.update_docs import COMMAND, PAGES, generated


def test_generated_pages_are_current() -> None:
    """The rule pages, the rule index and the CLI reference are what the rule files and parsers give."""
    stale = [
        str(p.relative_to(PAGES.parents[1]))
        for p, text in generated().items()
        if not p.is_file() or p.read_text(encoding="utf-8") != text
    ]
    assert stale == [], f"stale generated pages: {stale}; run `{COMMAND}`"


def test_every_rule_has_its_page_and_every_page_its_rule() -> None:
    rules = every_rule()  # the audit's built-in rules and the gate's (AOAI-WAIVER-*)
    missing = [r.id for r in rules if not (PAGES / f"{r.id}.md").is_file()]
    assert missing == [], f"rules without a page in docs/rules/: {missing}; run `{COMMAND}`"
    stale = [r.id for r in rules if (PAGES / f"{r.id}.md").read_text(encoding="utf-8") != rule_page(r)]
    assert stale == [], f"pages older than their rule: {stale}; run `{COMMAND}`"
    orphans = sorted({p.stem for p in PAGES.glob("*.md")} - {r.id for r in rules} - {"index"})
    assert orphans == [], f"pages of rules that no longer exist: {orphans}; run `{COMMAND}`"


def test_the_cli_reference_lists_every_flag_of_every_command() -> None:
    from auditor.cli.reference import COMMANDS, parser_of

    text = (PAGES.parents[0] / "reference" / "cli.md").read_text(encoding="utf-8")
    for title, argv in COMMANDS:
        assert f"## `{title}`" in text
        for action in parser_of(argv)._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert f"`{flag}" in text, f"{title} {flag}"
    assert "`--knowledge FILE`" in text and "`--docs-url URL`" in text and "`--allow-older`" in text


def test_every_subcommand_main_dispatches_is_in_the_cli_reference() -> None:
    """A new subcommand (`argv[0] == "name"` in auditor/cli) must be added to auditor/cli/reference.COMMANDS."""
    import re

    from auditor.cli.reference import COMMANDS

    source = (Path(__file__).resolve().parents[1] / "auditor" / "cli" / "__init__.py").read_text(encoding="utf-8")
    dispatched = set(re.findall(r'argv\[0\] == "([a-z-]+)"', source))
    documented = {argv[0] for _, argv in COMMANDS if argv}
    assert dispatched and dispatched <= documented, (
        f"subcommands missing from the CLI reference: {dispatched - documented}"
    )


def test_findings_of_builtin_rules_link_their_page() -> None:
    for rule in load_rules():
        assert rule.help_url == f"{declared_base()}{__version__}/rules/{rule.id}/"
        assert len(" ".join((rule.rationale or "").split())) >= 40, rule.id


def test_a_rule_pack_rule_links_its_own_docs(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        """apiVersion: auditor/v1
rules:
  - id: ACME-TAG-001
    title: Deployments carry an owner tag
    category: deployment
    severity: info
    applies_to: deployment
    fails_when: {field: deployment.name, equals: nobody}
    message: "{deployment.name} has no owner"
    remediation: Tag it.
    rationale: Untagged deployments have nobody to ask when they break or cost money.
    docs: https://example.com/acme/tags
    since: "2026.12"
""",
        encoding="utf-8",
    )
    (rule,) = [r for r in load_rules([tmp_path]) if r.id == "ACME-TAG-001"]
    assert rule.page is None and rule.help_url == "https://example.com/acme/tags"


def test_a_rule_without_a_rationale_is_refused(tmp_path: Path) -> None:
    import pytest

    from auditor.engine.rules import load_rule_file
    from auditor.model.errors import InputError

    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "apiVersion: auditor/v1\nrules:\n  - id: ACME-X-001\n    title: A check with no why\n    category: quota\n"
        "    severity: info\n    applies_to: deployment\n    fails_when: {field: a, equals: 1}\n    message: m\n"
        '    remediation: r\n    docs: https://example.com\n    since: "2026.12"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"pack.yaml:3: invalid rule: .*'rationale' is a required property"):
        load_rule_file(pack)


def test_audit_rules_lists_every_rule(capsys) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    for rule in load_rules():
        assert f"`{rule.id}`" in out


def test_audit_rules_explain(capsys) -> None:
    assert main(["rules", "explain", "AOAI-PARAM-001"]) == 0
    out = capsys.readouterr().out
    assert out == rule_page(next(r for r in load_rules() if r.id == "AOAI-PARAM-001"))
    assert (PAGES / "AOAI-PARAM-001.md").read_text(encoding="utf-8") == out
    assert main(["rules", "explain", "AOAI-NOPE-999"]) == 2


def test_audit_kb_shows_date_and_coverage(capsys) -> None:
    assert main(["kb"]) == 0
    out = capsys.readouterr().out
    assert "checked: 2026-" in out and "models: " in out and "disputed: " in out
