"""The history store and the nightly report (issue: history, trends, a retirement calendar, owners).

Thirty simulated nights of the demo tenant: facts read once from the recorded demo tenant (the enumerator
cassette, replayed through the real SDK), then audited night after night with a fixed clock and small changes
(an auto-upgrade, a new deployment, a removed one, an owner tag). Everything runs against the real engines:
an SQLite file and a real PostgreSQL server (tests/postgres.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from azure.core.credentials import AccessToken
from icalendar import Calendar

from auditor.history import tables
from auditor.history.store import HistoryStore, _Writer, open_store, schema_revisions, store_url
from auditor.model.clouds import get_cloud
from auditor.model.errors import InputError
from auditor.model.facts import Facts
from auditor.model.results import RetirementRow
from auditor.pipeline.audit import AuditOptions, audit, gather_facts
from auditor.pipeline.nightly import nightly_view
from auditor.render import write_reports
from auditor.sources.azure import AzureEnumerator
from auditor.sources.contract import load_contract
from tests.cassettes import ENUMERATOR_CASSETTE, recorder
from tests.postgres import Server

SUBS = ("00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002")
FIRST_NIGHT = date(2026, 11, 1)
NIGHTS = 30
DEMO_CONTRACT = Path(__file__).parent.parent / "auditor" / "demo" / "contract.yaml"


@pytest.fixture(scope="module")
def postgres():
    server = Server()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class ReplayCredential:
    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("replay", int(time.time()) + 3600)


@pytest.fixture(scope="module")
def demo_facts() -> Facts:
    enumerator = AzureEnumerator(ReplayCredential(), get_cloud("AzureCloud"))
    with recorder().use_cassette(str(ENUMERATOR_CASSETTE), allow_playback_repeats=False):
        facts = gather_facts(enumerator, AuditOptions(subscriptions=SUBS, all_accounts=True, concurrency=1))
    return replace(facts, contract=load_contract(DEMO_CONTRACT))


def night_facts(facts: Facts, night: int) -> Facts:
    """Night 0 is the tenant as recorded; the changes accumulate."""
    deployments = list(facts.deployments)
    accounts = list(facts.accounts)
    if night >= 7:  # Azure auto-upgraded dev-mini overnight
        deployments = [replace(d, model_version="2025-08-07") if d.name == "dev-mini" else d for d in deployments]
    if night >= 12:  # a canary of chat-prod appears
        prod = next(d for d in deployments if d.name == "chat-prod")
        deployments.append(replace(prod, name="chat-canary", id=prod.id.rsplit("/", 1)[0] + "/chat-canary"))
    if night >= 18:  # the retired gpt-35-turbo deployment is removed: its findings are fixed
        deployments = [d for d in deployments if d.name != "legacy-35"]
    if night >= 24:  # the fabrikam account gets an owner tag
        accounts = [
            replace(a, tags={**a.tags, "Team": "fabrikam-ml"}) if a.name.startswith("fabrikam") else a for a in accounts
        ]
    return replace(facts, deployments=tuple(deployments), accounts=tuple(accounts))


def run_nights(facts: Facts, rules, kb, store: HistoryStore, nights: int = NIGHTS, scope: str = "nightly"):
    reports = []
    for night in range(nights):
        day = FIRST_NIGHT + timedelta(days=night)
        now = datetime(day.year, day.month, day.day, 2, 0, tzinfo=timezone.utc)
        report = replace(audit(night_facts(facts, night), rules, kb, today=day, now=now), fail_on="error")
        reports.append(nightly_view(report, history=store, scope=scope, kb=kb))
    return reports


@pytest.fixture(scope="module")
def sqlite_nights(demo_facts, rules, kb, tmp_path_factory):
    path = tmp_path_factory.mktemp("history") / "history.sqlite"
    store = open_store(str(path))
    try:
        yield run_nights(demo_facts, rules, kb, store), path
    finally:
        store.close()


def test_thirty_nights_make_trends(sqlite_nights) -> None:
    reports, _ = sqlite_nights
    last = reports[-1].nightly
    assert last is not None and last.trends is not None
    runs = last.trends.runs
    assert len(runs) == NIGHTS and [r.run for r in runs] == list(range(1, NIGHTS + 1))
    assert runs[0].new is None and runs[0].resolved is None  # nothing to compare the first night with
    by_night = dict(enumerate(runs))
    assert by_night[12].new and by_night[12].new > 0  # the canary brings the failures of chat-prod's model
    assert by_night[18].resolved and by_night[18].resolved > 0  # legacy-35's findings are gone
    assert "gpt-35-turbo 0125" in by_night[17].deployments_by_model
    assert "gpt-35-turbo 0125" not in by_night[18].deployments_by_model
    assert by_night[7].deployments_by_model.get("gpt-4o-mini 2025-08-07") == 1
    assert "gpt-4o-mini 2024-07-18" not in by_night[7].deployments_by_model
    # the family is the knowledge base's: gpt-4o-mini counts under gpt-4o; the canary adds one there
    assert by_night[12].deployments_by_family["gpt-4o"] == by_night[11].deployments_by_family["gpt-4o"] + 1
    assert all(sum(r.failing_by_severity.values()) == sum(r.failing_by_category.values()) for r in runs)
    # the failing counts in the store are the reports' own
    for report, run in zip(reports, runs, strict=True):
        assert sum(run.failing_by_severity.values()) == sum(1 for f in report.not_passing if f.status.value == "fail")


def test_time_to_fix_counts_days_from_first_seen(sqlite_nights) -> None:
    reports, _ = sqlite_nights
    trends = reports[-1].nightly.trends
    fixed = {t.rule_id: t for t in trends.time_to_fix if t.fixed}
    assert fixed, "legacy-35's removal on night 18 fixes findings"
    # legacy-35's findings failed from the first night (1 Nov) until its removal (19 Nov): 18 days open
    assert any(t.median_days == 18.0 for t in fixed.values())
    still = [t for t in trends.time_to_fix if t.still_open]
    assert still and max(t.oldest_open_days for t in still) == float(NIGHTS - 1)


def test_headline_says_what_changed_in_plain_words(sqlite_nights) -> None:
    reports, _ = sqlite_nights
    night18 = reports[18].nightly.headline
    assert any("fixed" in line and "since the last run (2026-11-18)" in line for line in night18), night18
    assert any("at or above the gate (error)" in line for line in night18)
    first = reports[0].nightly.headline
    assert not any("since the last run" in line for line in first)


def test_owners_come_from_the_configured_tags(sqlite_nights) -> None:
    reports, _ = sqlite_nights
    before, after = reports[23].nightly, reports[24].nightly
    assert "fabrikam-ml" not in {o.owner for o in before.by_owner}
    owners = {o.owner: o for o in after.by_owner}
    assert "fabrikam-ml" in owners and owners["fabrikam-ml"].deployments > 0
    assert after.by_owner[-1].owner == "unowned" or "unowned" not in owners
    tagged = [d for d in reports[24].deployments if d.account_name.startswith("fabrikam")]
    assert owners["fabrikam-ml"].deployments == len(tagged)


def test_the_report_draws_trends_headline_and_owners(sqlite_nights, tmp_path) -> None:
    reports, _ = sqlite_nights
    write_reports(reports[-1], tmp_path, ("html", "json", "markdown", "ics"))
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    for marker in (
        'id="headline"',
        'id="owners"',
        'id="scheduled"',
        'id="scheduled-months"',
        'id="trends"',
        'id="time-to-fix"',
    ):
        assert marker in html
    for picture in ("trend-severity", "trend-category", "trend-churn", "trend-families", "trend-models", "trend-quota"):
        assert f'id="{picture}"' in html
    assert "Trends over the last 30 run(s)" in html
    assert "fabrikam-ml" in html
    assert "<script src" not in html  # the pictures are inline SVG
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert reports[-1].nightly.headline[0] in summary.replace("\\", "")


def test_the_retirement_calendar_parses_and_keeps_its_uids(sqlite_nights, tmp_path) -> None:
    reports, _ = sqlite_nights
    uids = []
    for night in (NIGHTS - 2, NIGHTS - 1):
        out = tmp_path / str(night)
        write_reports(reports[night], out, ("ics",))
        calendar = Calendar.from_ical((out / "retirements.ics").read_bytes())
        events = calendar.walk("VEVENT")
        assert len(events) == len(reports[night].nightly.scheduled) > 0
        for event in events:
            assert isinstance(event.decoded("dtstart"), date)
            assert str(event["summary"])
        uids.append({str(e["uid"]): str(e["summary"]) for e in events})
    assert uids[0] == uids[1]  # the same changes are the same events on the next night


def test_sqlite_and_postgresql_give_identical_trends(demo_facts, rules, kb, postgres, sqlite_nights) -> None:
    reports, _ = sqlite_nights
    store = open_store(postgres.new_database())
    try:
        pg_reports = run_nights(demo_facts, rules, kb, store)
    finally:
        store.close()
    sqlite_trends = replace(reports[-1].nightly.trends, store="")
    pg_trends = replace(pg_reports[-1].nightly.trends, store="")
    assert sqlite_trends == pg_trends
    assert [r.nightly.headline for r in reports] == [r.nightly.headline for r in pg_reports]


def _counts(store: HistoryStore) -> dict[str, int]:
    with store.engine.connect() as c:
        return {
            table.name: int(c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
            for table in tables.metadata.sorted_tables
        }


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_an_interrupted_write_leaves_no_partial_rows(
    engine, demo_facts, rules, kb, postgres, tmp_path, monkeypatch
) -> None:
    url = str(tmp_path / "h.sqlite") if engine == "sqlite" else postgres.new_database()
    store = open_store(url)
    try:
        run_nights(demo_facts, rules, kb, store, nights=2)
        before = _counts(store)

        def interrupted(self, run_id, refs):  # after the run, its findings and inventory are written
            raise KeyboardInterrupt

        monkeypatch.setattr(_Writer, "_insert_scheduled", interrupted)
        with pytest.raises(KeyboardInterrupt):
            run_nights(demo_facts, rules, kb, store, nights=1)
        assert _counts(store) == before
        monkeypatch.undo()
        run_nights(demo_facts, rules, kb, store, nights=1)
        assert _counts(store)["runs"] == before["runs"] + 1
    finally:
        store.close()


def test_an_incomplete_run_is_recorded_as_incomplete(demo_facts, rules, kb, tmp_path) -> None:
    store = open_store(str(tmp_path / "h.sqlite"))
    try:
        report = audit(demo_facts, rules, kb, today=FIRST_NIGHT)
        report = replace(report, gaps=("interrupted: the audit was stopped before every account was read",))
        nightly_view(report, history=store)
        with store.engine.connect() as c:
            row = c.execute(sa.select(tables.runs.c.status, tables.runs.c.complete, tables.runs.c.gaps)).one()
        assert row.status == "incomplete" and not row.complete and "interrupted" in row.gaps
    finally:
        store.close()


def _reports(demo_facts, rules, kb, out: Path, nights: int) -> list[Path]:
    paths = []
    for night in range(nights):
        day = FIRST_NIGHT + timedelta(days=night)
        now = datetime(day.year, day.month, day.day, 2, tzinfo=timezone.utc)
        report = audit(night_facts(demo_facts, night), rules, kb, today=day, now=now)
        folder = out / f"night{night}"
        write_reports(report, folder, ("json",))
        paths.append(folder / "report.json")
    return paths


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_two_concurrent_writers_both_land(engine, demo_facts, rules, kb, postgres, tmp_path) -> None:
    url = str(tmp_path / "shared.sqlite") if engine == "sqlite" else postgres.new_database()
    open_store(url).close()  # created (and upgraded) once, as the first nightly job would
    paths = [str(p) for p in _reports(demo_facts, rules, kb, tmp_path, 3)]
    jobs = [
        subprocess.Popen(
            [sys.executable, "-m", "auditor", "history", "import", *paths, "--history", url, "--history-scope", scope],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for scope in ("shard-a", "shard-b")
    ]
    results = [job.communicate(timeout=300) for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], results
    store = open_store(url)
    try:
        assert store.run_count() == 6
        for scope in ("shard-a", "shard-b"):
            trends = store.trends(scope)
            assert len(trends.runs) == 3 and trends.runs[1].new is not None
        a, b = store.trends("shard-a").runs, store.trends("shard-b").runs
        assert [r.failing_by_severity for r in a] == [r.failing_by_severity for r in b]  # same reports, same counts
        assert {r.run for r in a}.isdisjoint({r.run for r in b})
    finally:
        store.close()


def _revision_sample(connection: sa.Connection, revision: str) -> None:
    """A run as the given revision stored it (its own columns only)."""
    connection.execute(
        sa.text(
            "INSERT INTO runs (uid, scope, generated_at, recorded_at, tool_version, ruleset, complete, status, "
            "accounts, unread_accounts, deployments, quota_over_80) VALUES ('u-1', 'default', "
            "'2026-10-01T02:00:00+00:00', '2026-10-01T02:01:00+00:00', '0.1.0', '2026.11', true, 'complete', 1, 0, 1, 0)"
        )
    )
    connection.execute(sa.text("INSERT INTO targets (parent_id, leaf) VALUES (0, '/subscriptions/s/x')"))
    connection.execute(
        sa.text(
            "INSERT INTO findings (run_id, identity, rule_id, target_id, severity, status, first_run) "
            "VALUES (1, 42, 'AOAI-LIFE-001', 1, 'error', 'fail', 1)"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO run_counts (run_id, status, severity, category, count) VALUES (1, 'fail', 'error', 'lifecycle', 1)"
        )
    )


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@pytest.mark.parametrize("revision", schema_revisions()[:-1])
def test_an_older_store_is_upgraded_in_place(engine, revision, demo_facts, rules, kb, postgres, tmp_path) -> None:
    url = str(tmp_path / "old.sqlite") if engine == "sqlite" else postgres.new_database()
    from auditor.history.store import _engine

    old = HistoryStore(store_url(url), _engine(store_url(url)))
    old.upgrade(to=revision)
    with old.engine.begin() as c:
        _revision_sample(c, revision)
    old.close()
    store = open_store(url)  # upgrades to the newest revision
    try:
        assert store.revision() == schema_revisions()[-1]
        trends = store.trends("default")
        assert len(trends.runs) == 1 and trends.runs[0].failing_by_severity == {"error": 1}
        report = replace(audit(demo_facts, rules, kb, today=date(2026, 10, 2)), fail_on="error")
        nightly_view(report, history=store, scope="default")
        assert store.run_count() == 2 and store.trends("default").runs[1].resolved == 1  # the old finding is gone
    finally:
        store.close()


def test_the_tables_match_the_migrations(tmp_path) -> None:
    store = open_store(str(tmp_path / "h.sqlite"))
    try:
        inspector = sa.inspect(store.engine)
        for table in tables.metadata.sorted_tables:
            assert {c["name"] for c in inspector.get_columns(table.name)} == {c.name for c in table.columns}, table.name
    finally:
        store.close()


def test_a_store_from_a_newer_auditor_is_refused(tmp_path) -> None:
    path = tmp_path / "h.sqlite"
    store = open_store(str(path))
    with store.engine.begin() as c:
        c.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    store.close()
    with pytest.raises(InputError, match="newer than this auditor knows"):
        open_store(str(path))
    from auditor.cli import main

    assert main(["--demo", "--history", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert not (tmp_path / "out").exists()  # refused before anything was read


def test_store_urls(tmp_path) -> None:
    assert store_url(str(tmp_path / "x.sqlite")).get_backend_name() == "sqlite"
    assert store_url("postgresql://u:secret@db/audits").drivername == "postgresql+psycopg"
    from auditor.history.store import shown

    assert "secret" not in shown(store_url("postgresql://u:secret@db/audits"))
    with pytest.raises(InputError, match="does not exist"):
        store_url(str(tmp_path / "missing" / "x.sqlite"))
    with pytest.raises(InputError, match="SQLite file or a PostgreSQL URL"):
        store_url("mysql://db/x")


def test_the_cli_records_and_draws(tmp_path) -> None:
    from tests.conftest import run_demo

    store = tmp_path / "history.sqlite"
    assert run_demo(tmp_path / "one", "--history", str(store)) == 1
    assert run_demo(tmp_path / "two", "--history", str(store), "--format", "html,ics,json") == 1
    html = (tmp_path / "two" / "report.html").read_text(encoding="utf-8")
    assert "Trends over the last 2 run(s)" in html and 'id="headline"' in html
    assert (tmp_path / "two" / "retirements.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_audit_merge_records_the_merged_run(demo_facts, rules, kb, tmp_path) -> None:
    from auditor.cli import main

    paths = [str(p) for p in _reports(demo_facts, rules, kb, tmp_path, 2)]
    store = tmp_path / "merged.sqlite"
    for path in paths:  # one merged report a night
        main(
            [
                "merge",
                path,
                "--history",
                str(store),
                "--out",
                str(tmp_path / "merged"),
                "--quiet",
                "--format",
                "html,ics",
            ]
        )
    html = (tmp_path / "merged" / "report.html").read_text(encoding="utf-8")
    assert "Trends over the last 2 run(s)" in html
    opened = open_store(str(store))
    try:
        assert opened.run_count() == 2
    finally:
        opened.close()


def _row(deployment: str, days: int, upgrade: str, replacement: str | None) -> RetirementRow:
    day = FIRST_NIGHT + timedelta(days=days)
    return RetirementRow(
        account_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct",
        account_name="acct",
        deployment=deployment,
        model_name="gpt-4o",
        model_version="2024-05-13",
        sku_name="Standard",
        version_upgrade_option=upgrade,
        retirement_date=day.isoformat(),
        days_left=days,
        source="live catalog",
        replacement=replacement,
    )


def test_the_headline_names_what_stops_and_what_azure_moves(demo_facts, rules, kb) -> None:
    report = audit(demo_facts, rules, kb, today=FIRST_NIGHT, now=datetime(2026, 11, 1, 2, tzinfo=timezone.utc))
    rows = (
        _row("stays", 20, "NoAutoUpgrade", "gpt-5.1"),  # no upgrade allowed: stops working
        _row("stays-too", 20, "OnceNewDefaultVersionAvailable", "none"),  # nothing named to move to
        _row("later", 60, "NoAutoUpgrade", None),
        _row("moved", 40, "OnceCurrentVersionExpired", "gpt-5.1"),  # Azure upgrades it
        _row("far", 400, "NoAutoUpgrade", None),  # beyond the calendar's year
        _row("gone", -3, "NoAutoUpgrade", None),  # already retired
    )
    viewed = nightly_view(replace(report, retirements=rows, fail_on="error"))
    n = viewed.nightly
    assert [(c.deployment, c.kind) for c in n.scheduled] == [
        ("stays", "retires"),
        ("stays-too", "retires"),
        ("moved", "auto-upgrade"),
        ("later", "retires"),
    ]
    assert n.scheduled[1].replacement is None
    assert n.headline[0] == "1 deployment runs a retired model version: calls to it fail now."
    assert n.headline[1] == "2 deployments stop working on 21 Nov 2026 unless moved; 1 more within 90 days."
    assert (
        n.headline[2]
        == "Azure upgrades 1 deployment to another model version within 90 days, the first on 11 Dec 2026."
    )


def test_the_calendar_needs_the_nightly_view(demo_facts, rules, kb, tmp_path) -> None:
    """The renderer draws what the pipeline scheduled; a report that skipped that step is refused, not drawn empty."""
    report = audit(demo_facts, rules, kb, today=FIRST_NIGHT)
    with pytest.raises(InputError, match="nightly view"):
        write_reports(report, tmp_path, ("ics",))


def test_observed_traffic_is_recorded(demo_facts, rules, kb, tmp_path) -> None:
    from auditor.model.results import TrafficRow

    report = audit(demo_facts, rules, kb, today=FIRST_NIGHT)
    account = report.deployments[0]
    rows = (
        TrafficRow(
            account.account_id,
            account.account_name,
            account.name,
            "ChatCompletions_Create",
            "chat_completions",
            12400,
            10.0,
            2.5,
            0.0,
            1.0,
        ),
        TrafficRow(account.account_id, account.account_name, account.name, "Batch_Create", None, 8, 0.0, 0.0, 0.0, 0.0),
    )
    store = open_store(str(tmp_path / "h.sqlite"))
    try:
        nightly_view(replace(report, traffic=rows), history=store)
        with store.engine.connect() as c:
            stored = c.execute(
                sa.select(
                    tables.observed.c.operation,
                    tables.observed.c.calls,
                    tables.observed.c.client_errors,
                    tables.observed.c.server_errors,
                ).order_by(tables.observed.c.operation)
            ).all()
        assert [tuple(r) for r in stored] == [
            ("Batch_Create", 8.0, 0.0, 0.0),
            ("ChatCompletions_Create", 12400.0, 310.0, 124.0),
        ]
    finally:
        store.close()
