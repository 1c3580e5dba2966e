"""Opening, upgrading, writing and reading the history store. The only module that talks to the database."""

from __future__ import annotations

import hashlib
import statistics
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from auditor.history import tables as t
from auditor.model.errors import InputError
from auditor.model.results import Finding, Report, Status, TargetStatus
from auditor.model.trends import UNOWNED, Nightly, RunPoint, TimeToFix, Trends

MIGRATIONS = Path(__file__).parent / "migrations"
TREND_RUNS = 90
_CHUNK = 500  # bound parameters per IN (...) query, well under SQLite's and PostgreSQL's limits
_FAILING = Status.FAIL.value


def store_url(value: str) -> sa.URL:
    """A path means an SQLite file; `postgresql://…` (or any SQLAlchemy URL) a server. PostgreSQL goes through
    psycopg 3, the driver the project installs."""
    if "://" not in value:
        path = Path(value).expanduser()
        if not path.parent.is_dir():
            raise InputError(f"--history {value}: the folder {path.parent} does not exist")
        return sa.URL.create("sqlite", database=str(path.resolve()))
    try:
        url = sa.make_url(value)
    except sa.exc.ArgumentError as exc:
        raise InputError(f"--history: not a database URL or path: {value!r} ({exc})") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(f"--history supports an SQLite file or a PostgreSQL URL, not {url.get_backend_name()!r}")
    return url


def shown(url: sa.URL) -> str:
    """The store as it may appear in reports and logs: never its password."""
    return url.render_as_string(hide_password=True)


def _engine(url: sa.URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    # Concurrent writers (sharded jobs) on one file: each run's transaction takes the write lock at its start
    # (BEGIN IMMEDIATE) and waits for the other's, instead of failing when a read lock cannot be upgraded.
    engine = sa.create_engine(url, connect_args={"timeout": 120})

    @sa.event.listens_for(engine, "connect")
    def _autocommit_off(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @sa.event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def schema_revisions() -> list[str]:
    """Every revision the migrations know, oldest first."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return [r.revision for r in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))]


class HistoryStore:
    """One store. `open_store` checks and upgrades its schema before the audit starts, so a store that cannot
    be used fails the run at once (exit 2) instead of after an hour of reading."""

    def __init__(self, url: sa.URL, engine: Engine) -> None:
        self.url = url
        self.engine = engine

    @property
    def name(self) -> str:
        return shown(self.url)

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def upgrade(self, to: str = "head") -> None:
        """Bring the schema to `to` in place (Alembic); a store written by a newer auditor is refused."""
        from alembic import command

        current = self.revision()
        known = schema_revisions()
        if current is not None and current not in known:
            raise InputError(
                f"history store {self.name} has schema revision {current}, newer than this auditor knows "
                f"(up to {known[-1]}): upgrade the auditor, or give another --history"
            )
        with self.engine.begin() as connection:
            command.upgrade(_alembic_config(connection), to)

    def close(self) -> None:
        self.engine.dispose()

    # -- writing ---------------------------------------------------------------------------------------------

    def record(self, report: Report, nightly: Nightly, *, scope: str, recorded_at: datetime | None = None) -> int:
        """One run, in one transaction: nothing of it is stored unless all of it is. A report that is not complete
        (an interrupted run, unread accounts) is stored as incomplete."""
        recorded_at = recorded_at or datetime.now(timezone.utc)
        with self.engine.begin() as connection:
            return _Writer(connection, report, nightly, scope).write(recorded_at)

    # -- reading ---------------------------------------------------------------------------------------------

    def trends(self, scope: str, *, last: int = TREND_RUNS, recorded_run: int | None = None) -> Trends:
        with self.engine.connect() as connection:
            return _read_trends(connection, scope, last, self.name, recorded_run)

    def run_count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(t.runs)).scalar_one())


def open_store(value: str) -> HistoryStore:
    """Open (creating an SQLite file if needed) and upgrade a store; exit 2 on any problem, naming the store."""
    url = store_url(value)
    store = HistoryStore(url, _engine(url))
    try:
        store.upgrade()
    except InputError:
        store.close()
        raise
    except sa.exc.SQLAlchemyError as exc:
        store.close()
        raise InputError(f"history store {shown(url)} cannot be used: {_first_line(exc)}") from None
    return store


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def identity(finding: Finding) -> int:
    """A finding's identity in the store: 64 bits of a digest of its stable key (Finding.key), as a signed integer
    (8 bytes a row instead of 16 characters); a collision among a fleet's findings (10^5 a run) is a one-in-10^9
    event."""
    return int.from_bytes(hashlib.sha256(finding.key.encode("utf-8")).digest()[:8], "big", signed=True)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_RANK = {Status.FAIL: 3, Status.UNKNOWN: 2, Status.WAIVED: 1}


class _Writer:
    """One run's rows. Only findings that are not passes are stored one by one; counts are stored per run so the
    trends never read every finding of 90 runs."""

    def __init__(self, connection: Connection, report: Report, nightly: Nightly, scope: str) -> None:
        self.c = connection
        self.report = report
        self.nightly = nightly
        self.scope = scope

    def write(self, recorded_at: datetime) -> int:
        report = self.report
        kept = self._distinct(report.not_passing)
        refs = self._target_ids(
            [f.target for f in kept.values()]
            + [_deployment_ref(d.account_id, d.name) for d in report.deployments]
            + [_deployment_ref(s.account_id, s.deployment) for s in self.nightly.scheduled]
            + [_deployment_ref(row.account_id, row.deployment) for row in report.traffic]
        )
        previous = self._previous_failing()
        run_id = self._insert_run(recorded_at)
        known = previous[1] if previous else {}
        failing_now: dict[int, str] = {}
        rows = []
        for ident, f in kept.items():
            failing = f.status is Status.FAIL
            rows.append(
                {
                    "run_id": run_id,
                    "identity": ident,
                    "rule_id": f.rule_id,
                    "target_id": refs[f.target.lower()],
                    "severity": f.severity.value,
                    "status": f.status.value,
                    "first_run": known.get(ident, (run_id, ""))[0] if failing else run_id,
                    "owner": self._owner(f.target, f.account_id),
                }
            )
            if failing:
                failing_now[ident] = f.rule_id
        self._insert(t.findings, rows)
        self._insert_counts(run_id)
        self._insert_inventory(run_id, refs)
        self._insert_scheduled(run_id, refs)
        self._insert_quota(run_id)
        self._insert_observed(run_id, refs)
        new = resolved = None
        if previous is not None:
            new, resolved = self._churn(run_id, previous, failing_now)
        self.c.execute(t.runs.update().where(t.runs.c.id == run_id).values(new_failing=new, resolved_failing=resolved))
        return run_id

    def _owner(self, target: str, account_id: str | None) -> str | None:
        """Stored as NULL when no owner tag names one (most rows of an untagged fleet)."""
        owner = self.nightly.owner_of(target, account_id)
        return None if owner == UNOWNED else owner

    @staticmethod
    def _distinct(findings: Sequence[Finding]) -> dict[int, Finding]:
        """One row per identity: two findings with one key (the same rule, target and message) are one finding
        to a reader of the history; the worse status is kept."""
        kept: dict[int, Finding] = {}
        for f in findings:
            ident = identity(f)
            if ident not in kept or _RANK.get(f.status, 0) > _RANK.get(kept[ident].status, 0):
                kept[ident] = f
        return kept

    def _insert_run(self, recorded_at: datetime) -> int:
        report = self.report
        percents = [q.percent for q in report.quota]
        inserted = self.c.execute(
            t.runs.insert().values(
                uid=str(uuid.uuid4()),
                scope=self.scope,
                generated_at=report.generated_at.isoformat(),
                recorded_at=recorded_at.isoformat(),
                tool_version=report.tool_version,
                ruleset=report.ruleset,
                knowledge_checked=report.knowledge_checked,
                shard=report.shard,
                complete=report.complete,
                status="complete" if report.complete else "incomplete",
                accounts=sum(1 for x in report.targets if x.kind not in ("subscription", "run")),
                unread_accounts=sum(1 for x in report.targets if x.status is not TargetStatus.COMPLETE),
                deployments=len(report.deployments),
                quota_max_percent=max(percents) if percents else None,
                quota_over_80=sum(1 for p in percents if p >= 80),
                gaps="\n".join(report.gaps) or None,
            )
        )
        key = inserted.inserted_primary_key
        assert key is not None  # an insert of one row always has it
        return int(key[0])

    def _churn(
        self, run_id: int, previous: tuple[str, dict[int, tuple[int, str]]], failing_now: Mapping[int, str]
    ) -> tuple[int, int]:
        """New and fixed failing findings against the scope's previous run; each fixed one is a resolution, with
        the date its finding was first seen, for the time-to-fix picture."""
        _, before = previous
        firsts = {first for first, _ in before.values()}
        seen_at: dict[int, str] = {}
        for chunk in _chunks(sorted(firsts)):
            query = sa.select(t.runs.c.id, t.runs.c.generated_at).where(t.runs.c.id.in_(chunk))
            seen_at.update({int(run): str(at) for run, at in self.c.execute(query)})
        gone = [(first, rule) for ident, (first, rule) in before.items() if ident not in failing_now]
        at = self.report.generated_at.isoformat()
        self._insert(
            t.resolutions,
            [
                {"run_id": run_id, "rule_id": rule, "first_seen": seen_at.get(first, at), "resolved_at": at}
                for first, rule in gone
            ],
        )
        return sum(1 for ident in failing_now if ident not in before), len(gone)

    def _insert(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Many rows through the driver's executemany with positional parameters: SQLAlchemy's per-row parameter
        processing took 0.8 of 1.1 s for a 10,000-deployment run (cProfile, 2026-12-07). The statement is built
        from the table's own columns with the dialect's quoting and parameter style, so it stays portable."""
        if not rows:
            return
        names = list(rows[0])
        quote = self.c.dialect.identifier_preparer.quote
        mark = "?" if self.c.dialect.paramstyle == "qmark" else "%s"
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join([mark] * len(names))})"
        )
        for name in names:
            table.c[name]
        self.c.exec_driver_sql(sql, [tuple(row[n] for n in names) for row in rows])

    def _insert_counts(self, run_id: int) -> None:
        counts: dict[tuple[str, str, str], int] = {}
        for f in self.report.not_passing:
            key = (f.status.value, f.severity.value, str(f.category))
            counts[key] = counts.get(key, 0) + 1
        models: dict[tuple[str | None, str | None, str | None], int] = {}
        for d in self.report.deployments:
            family = self.nightly.families.get((d.model_name or "").lower(), d.model_name)
            model = (family, d.model_name, d.model_version)
            models[model] = models.get(model, 0) + 1
        self._insert(
            t.run_counts,
            [
                {"run_id": run_id, "status": status, "severity": severity, "category": category, "count": n}
                for (status, severity, category), n in sorted(counts.items())
            ],
        )
        self._insert(
            t.run_models,
            [
                {"run_id": run_id, "family": family, "model_name": name, "model_version": version, "count": n}
                for (family, name, version), n in sorted(models.items(), key=lambda kv: tuple(v or "" for v in kv[0]))
            ],
        )

    def _insert_inventory(self, run_id: int, refs: Mapping[str, int]) -> None:
        self._insert(
            t.inventory,
            [
                {
                    "run_id": run_id,
                    "target_id": refs[_deployment_ref(d.account_id, d.name)],
                    "model_name": d.model_name,
                    "model_version": d.model_version,
                    "sku_name": d.sku_name,
                    "sku_capacity": d.sku_capacity,
                    "owner": self._owner(_deployment_ref(d.account_id, d.name), d.account_id),
                }
                for d in self.report.deployments
            ],
        )

    def _insert_scheduled(self, run_id: int, refs: Mapping[str, int]) -> None:
        self._insert(
            t.scheduled,
            [
                {
                    "run_id": run_id,
                    "target_id": refs[_deployment_ref(s.account_id, s.deployment)],
                    "date": s.date,
                    "kind": s.kind,
                    "model_name": s.model_name,
                    "model_version": s.model_version,
                    "replacement": s.replacement,
                }
                for s in self.nightly.scheduled
            ],
        )

    def _insert_observed(self, run_id: int, refs: Mapping[str, int]) -> None:
        """Who called each deployment through which operation (Azure Monitor, with --monitor); nothing without."""
        self._insert(
            t.observed,
            [
                {
                    "run_id": run_id,
                    "target_id": refs[_deployment_ref(row.account_id, row.deployment)],
                    "operation": row.operation,
                    "calls": float(row.requests),
                    "client_errors": round(row.requests * row.client_error_percent / 100, 1),
                    "server_errors": round(row.requests * row.server_error_percent / 100, 1),
                }
                for row in self.report.traffic
            ],
        )

    def _insert_quota(self, run_id: int) -> None:
        self._insert(
            t.quota,
            [
                {
                    "run_id": run_id,
                    "subscription_id": q.subscription_id,
                    "location": q.location,
                    "name": q.name,
                    "current": q.current,
                    "limit": q.limit,
                    "percent": q.percent,
                }
                for q in self.report.quota
            ],
        )

    def _previous_failing(self) -> tuple[str, dict[int, tuple[int, str]]] | None:
        """The scope's last earlier run: its time and its failing findings, identity -> (first run, rule); None
        when this is the scope's first run."""
        last = self.c.execute(
            sa.select(t.runs.c.id, t.runs.c.generated_at)
            .where(t.runs.c.scope == self.scope)
            .order_by(t.runs.c.id.desc())
            .limit(1)
        ).first()
        if last is None:
            return None
        rows = self.c.execute(
            sa.select(t.findings.c.identity, t.findings.c.first_run, t.findings.c.rule_id).where(
                t.findings.c.run_id == last.id, t.findings.c.status == _FAILING
            )
        )
        return last.generated_at, {ident: (int(first), rule) for ident, first, rule in rows}

    def _target_ids(self, refs: Iterable[str]) -> dict[str, int]:
        """Target ids (ARM ids, lower case) are stored once across all runs and referred to by number; a
        deployment's under its account's row (tables.targets)."""
        wanted = sorted({r.lower() for r in refs})
        split = {ref: _split(ref) for ref in wanted}
        parents = self._rows(
            sorted({parent for parent, _ in split.values() if parent} | {r for r in wanted if not _split(r)[0]}), 0
        )
        found: dict[str, int] = {r: parents[r] for r in wanted if r in parents}
        by_parent: dict[int, list[tuple[str, str]]] = {}
        for ref, (parent, leaf) in split.items():
            if parent:
                by_parent.setdefault(parents[parent], []).append((ref, leaf))
        for parent_id, children in by_parent.items():
            ids = self._rows(sorted(leaf for _, leaf in children), parent_id)
            found.update({ref: ids[leaf] for ref, leaf in children})
        return found

    def _rows(self, leaves: Sequence[str], parent_id: int) -> dict[str, int]:
        """leaf -> id under one parent, adding the leaves that are missing (another writer may add the same at
        the same time: the duplicate insert is a no-op)."""
        found = self._lookup(leaves, parent_id)
        missing = [leaf for leaf in leaves if leaf not in found]
        if missing:
            insert = _insert_ignoring_duplicates(self.c, t.targets)
            for chunk in _chunks(missing):
                self.c.execute(insert, [{"parent_id": parent_id, "leaf": leaf} for leaf in chunk])
            found.update(self._lookup(missing, parent_id))
        return found

    def _lookup(self, leaves: Sequence[str], parent_id: int) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(leaves):
            query = sa.select(t.targets.c.leaf, t.targets.c.id).where(
                t.targets.c.parent_id == parent_id, t.targets.c.leaf.in_(chunk)
            )
            found.update({leaf: int(ident) for leaf, ident in self.c.execute(query)})
        return found


def _split(ref: str) -> tuple[str, str]:
    """(account id, `deployments/NAME`) for a deployment's id; ('', ref) for anything else."""
    head, sep, name = ref.rpartition("/deployments/")
    return (head, f"deployments/{name}") if sep and head and "/" not in name else ("", ref)


def _insert_ignoring_duplicates(connection: Connection, table: sa.Table) -> Any:
    """Two writers may add the same target at once: the second insert of a ref is a no-op, not an error."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=["parent_id", "leaf"])
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing(index_elements=["parent_id", "leaf"])


def _deployment_ref(account_id: str, name: str) -> str:
    return f"{account_id}/deployments/{name}".lower()


# -- trends ----------------------------------------------------------------------------------------------------


def _days(start: str, end: str) -> float:
    return round((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 86400, 2)


def _read_trends(connection: Connection, scope: str, last: int, name: str, recorded_run: int | None) -> Trends:
    runs = list(
        connection.execute(
            sa.select(t.runs).where(t.runs.c.scope == scope).order_by(t.runs.c.id.desc()).limit(last)
        ).mappings()
    )[::-1]
    ids = [r["id"] for r in runs]
    by_sev: dict[int, dict[str, int]] = {i: {} for i in ids}
    by_cat: dict[int, dict[str, int]] = {i: {} for i in ids}
    models: dict[int, dict[str, int]] = {i: {} for i in ids}
    families: dict[int, dict[str, int]] = {i: {} for i in ids}
    for chunk in _chunks(ids):
        failing = connection.execute(
            sa.select(
                t.run_counts.c.run_id, t.run_counts.c.severity, t.run_counts.c.category, t.run_counts.c.count
            ).where(t.run_counts.c.run_id.in_(chunk), t.run_counts.c.status == _FAILING)
        )
        for run_id, severity, category, n in failing:
            by_sev[run_id][severity] = by_sev[run_id].get(severity, 0) + int(n)
            by_cat[run_id][category] = by_cat[run_id].get(category, 0) + int(n)
        deployed = connection.execute(
            sa.select(
                t.run_models.c.run_id,
                t.run_models.c.family,
                t.run_models.c.model_name,
                t.run_models.c.model_version,
                t.run_models.c.count,
            ).where(t.run_models.c.run_id.in_(chunk))
        )
        for run_id, family, model, version, n in deployed:
            label = " ".join(v for v in (model or "unknown model", version) if v)
            models[run_id][label] = models[run_id].get(label, 0) + int(n)
            kind = family or model or "unknown model"
            families[run_id][kind] = families[run_id].get(kind, 0) + int(n)
    points = tuple(
        RunPoint(
            run=r["id"],
            at=r["generated_at"],
            complete=bool(r["complete"]),
            failing_by_severity=dict(sorted(by_sev[r["id"]].items())),
            failing_by_category=dict(sorted(by_cat[r["id"]].items())),
            new=r["new_failing"],
            resolved=r["resolved_failing"],
            deployments_by_model=dict(sorted(models[r["id"]].items())),
            deployments_by_family=dict(sorted(families[r["id"]].items())),
            quota_max_percent=r["quota_max_percent"],
            quota_lines_over_80=r["quota_over_80"],
        )
        for r in runs
    )
    return Trends(
        store=name,
        runs=points,
        time_to_fix=_time_to_fix(connection, scope, dict(runs[-1]) if runs else None),
        recorded_run=recorded_run,
    )


def _time_to_fix(connection: Connection, scope: str, latest: Mapping[str, Any] | None) -> tuple[TimeToFix, ...]:
    fixed: dict[str, list[float]] = {}
    rows = connection.execute(
        sa.select(t.resolutions.c.rule_id, t.resolutions.c.first_seen, t.resolutions.c.resolved_at)
        .join(t.runs, t.runs.c.id == t.resolutions.c.run_id)
        .where(t.runs.c.scope == scope)
    )
    for rule, first, resolved in rows:
        fixed.setdefault(rule, []).append(_days(first, resolved))
    still: dict[str, list[float]] = {}
    if latest is not None:
        first_seen = t.runs.alias("first_seen")
        open_rows = connection.execute(
            sa.select(t.findings.c.rule_id, first_seen.c.generated_at, sa.func.count())
            .join(first_seen, first_seen.c.id == t.findings.c.first_run)
            .where(t.findings.c.run_id == latest["id"], t.findings.c.status == _FAILING)
            .group_by(t.findings.c.rule_id, first_seen.c.generated_at)
        )
        for rule, first, n in open_rows:
            still.setdefault(rule, []).extend([_days(first, latest["generated_at"])] * int(n))
    return tuple(
        TimeToFix(
            rule_id=rule,
            fixed=len(fixed.get(rule, ())),
            median_days=round(statistics.median(fixed[rule]), 2) if fixed.get(rule) else 0.0,
            longest_days=max(fixed.get(rule) or [0.0]),
            still_open=len(still.get(rule, ())),
            oldest_open_days=max(still.get(rule) or [0.0]),
        )
        for rule in sorted({*fixed, *still})
    )


@contextmanager
def opened(value: str) -> Iterator[HistoryStore]:
    store = open_store(value)
    try:
        yield store
    finally:
        store.close()
