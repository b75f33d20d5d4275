"""The deadline sweep measured: ``publish_due`` looped until nothing is due, for exactly ``due``
records awaiting publication, at two table sizes.

The small size is measured either in the real table while it is being loaded (first run) or in a
copy of its first rows in schema ``bench_small`` (same columns, same indexes under the same names),
reached through ``search_path``: ``publish_due`` names its tables without a schema."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection, transaction

from credit_portal.accounts.actors import system_actor
from devtools.bench import data, load, machine
from devtools.bench.steps import PUBLIC_INDEX, RECORDS, Steps
from records.services.publication import LIVE, publish_due

SMALL_SCHEMA = "bench_small"
LIVE_SQL = "ARRAY['effective', 'under_objection', 'corrected']"
PROTOTYPE_INDEX = "bench_proto_pending_live_due_idx"
PROTOTYPE_SQL = (
    "CREATE INDEX {name} ON {table} (disclosure_due_on, id) "
    "WHERE disclosure = 'pending' AND status IN ('effective', 'under_objection', 'corrected')"
)

# The selection of publish_due, as it runs there (same text, same parameters).
SELECTION = """
SELECT id FROM records_creditrecord
WHERE disclosure = 'pending' AND status = ANY(%(live)s)
ORDER BY disclosure_due_on, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
"""
STATEMENT = """
WITH due AS (
    SELECT id FROM records_creditrecord
    WHERE disclosure = 'pending' AND status = ANY(%(live)s)
    ORDER BY disclosure_due_on, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE records_creditrecord r
   SET disclosure = 'published',
       published_at = now(),
       published_late_days = CASE
           WHEN %(today)s <= r.disclosure_due_on THEN 0
           ELSE GREATEST(1, cp_working_days_between(r.disclosure_due_on, %(today)s))
       END
  FROM due
 WHERE r.id = due.id
RETURNING r.id, r.department_id, r.published_late_days
"""


@dataclass
class SweepResult:
    label: str
    table_rows: int
    pending_drafts: int
    due: int
    runs: list[float] = field(default_factory=list)  # seconds per complete sweep
    batches: list[list[float]] = field(default_factory=list)  # seconds per publish_due call
    selection_plan: list[str] = field(default_factory=list)
    statement_plan: list[str] = field(default_factory=list)
    load: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "table_rows": self.table_rows,
            "pending_drafts": self.pending_drafts,
            "due": self.due,
            "runs": self.runs,
            "batches": self.batches,
            "selection_plan": self.selection_plan,
            "load": self.load,
        }

    @classmethod
    def from_dict(cls, value: dict) -> SweepResult:
        return cls(**{k: value[k] for k in cls.__dataclass_fields__ if k in value})


class _Rollback(Exception):
    pass


def _set_search_path(schema: str | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET search_path = {schema}, public" if schema else "RESET search_path")


def make_due(due: int, today: date) -> int:
    """Put exactly ``due`` standing published records (the latest decided) back to awaiting
    publication, due yesterday or earlier: one set-based UPDATE. Returns the records now due."""
    yesterday = today - timedelta(days=1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            WITH pick AS (
                SELECT id FROM records_creditrecord
                 WHERE disclosure = 'published' AND status = 'effective'
                 ORDER BY decision_date DESC, id DESC
                 LIMIT %(due)s
            )
            UPDATE records_creditrecord r
               SET disclosure = 'pending', published_at = NULL, published_late_days = NULL,
                   disclosure_due_on = LEAST(cp_add_working_days(r.decision_date, 7), %(yesterday)s)
              FROM pick
             WHERE r.id = pick.id
            """,
            {"due": due, "yesterday": yesterday},
        )
        cursor.execute(
            "SELECT count(*) FROM records_creditrecord WHERE disclosure = 'pending' AND status = ANY(%s)",
            [list(LIVE)],
        )
        return cursor.fetchone()[0]


def explain_selection(limit: int = 5000) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the sweep's selection, in a transaction rolled back."""
    lines: list[str] = []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + SELECTION, {"live": list(LIVE), "limit": limit})
            lines = [row[0] for row in cursor.fetchall()]
            raise _Rollback
    except _Rollback:
        pass
    return lines


def explain_statement(today: date, limit: int = 5000) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the whole publishing statement, rolled back."""
    lines: list[str] = []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN (ANALYZE, BUFFERS) " + STATEMENT,
                {"live": list(LIVE), "limit": limit, "today": today},
            )
            lines = [row[0] for row in cursor.fetchall()]
            raise _Rollback
    except _Rollback:
        pass
    return lines


def measure(
    *, label: str, due: int, today: date, repeats: int, schema: str | None = None, loadavg=None
) -> SweepResult:
    actor = system_actor("bench")
    _set_search_path(schema)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM records_creditrecord")
            rows = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM records_creditrecord WHERE disclosure = 'pending'")
            already = cursor.fetchone()[0]
        result = SweepResult(label=label, table_rows=rows, pending_drafts=already, due=due)
        for repeat in range(repeats + 1):
            now_due = make_due(due, today)
            if now_due != due:
                raise RuntimeError(f"expected {due} records due, found {now_due}")
            if repeat == repeats:
                # After the measured runs (EXPLAIN ANALYZE of the UPDATE leaves dead row versions
                # behind): the plans, then an unmeasured sweep to publish the records again.
                result.selection_plan = explain_selection()
                result.statement_plan = explain_statement(today)
            batches = []
            published = 0
            started = time.perf_counter()
            while True:
                t0 = time.perf_counter()
                rows_published = publish_due(actor=actor, today=today)
                batches.append(time.perf_counter() - t0)
                published += len(rows_published)
                if not rows_published:
                    break
            if published != due:
                raise RuntimeError(f"publish_due published {published} records, expected {due}")
            if repeat < repeats:
                result.runs.append(time.perf_counter() - started)
                result.batches.append(batches)
        if loadavg is not None:
            result.load = loadavg()[0]
        return result
    finally:
        _set_search_path(None)


# Triggers of the records table that are copied onto the small copy: their functions name their tables
# without a schema, so through search_path they write to the copies in bench_small. Any other trigger
# is left out (it could write to the real tables) and said so.
COPIED_TRIGGER_FUNCTIONS = ("disclosure_index_record",)


def _exists(cursor, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s)", [name])
    return cursor.fetchone()[0] is not None


def _triggers(cursor, table: str) -> list[tuple[str, str, str]]:
    cursor.execute(
        """
        SELECT t.tgname, p.proname, pg_get_triggerdef(t.oid)
          FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
         WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal
         ORDER BY t.tgname
        """,
        [table],
    )
    return cursor.fetchall()


def small_copy_ready(rows: int) -> bool:
    """The copy exists with ``rows`` records, its triggers, and the public index if the app has one."""
    with connection.cursor() as cursor:
        if not _exists(cursor, f"{SMALL_SCHEMA}.records_creditrecord"):
            return False
        cursor.execute(f"SELECT count(*) FROM {SMALL_SCHEMA}.records_creditrecord")  # noqa: S608
        if cursor.fetchone()[0] != rows:
            return False
        if _exists(cursor, f"public.{PUBLIC_INDEX}") != _exists(cursor, f"{SMALL_SCHEMA}.{PUBLIC_INDEX}"):
            return False
        wanted = {
            n
            for n, f, _d in _triggers(cursor, "public.records_creditrecord")
            if f in COPIED_TRIGGER_FUNCTIONS
        }
        have = {n for n, _f, _d in _triggers(cursor, f"{SMALL_SCHEMA}.records_creditrecord")}
        return wanted == have


def _copy_indexes(cursor, table: str) -> None:
    cursor.execute(
        """
        SELECT pg_get_indexdef(x.indexrelid)
          FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         WHERE x.indrelid = %s::regclass AND i.relname NOT LIKE 'bench%%'
        """,
        [f"public.{table}"],
    )
    for (definition,) in cursor.fetchall():
        cursor.execute(definition.replace(f" ON public.{table} ", f" ON {SMALL_SCHEMA}.{table} "))


def build_small_copy(rows: int, say) -> float:
    """A copy of the first ``rows`` records in schema bench_small, with the same indexes (same names),
    CHECK constraints and triggers, and a copy of their rows of the public index (with its indexes)
    when the application has one; no foreign keys. Kept for the next run."""
    t0 = time.monotonic()
    limit = data.RECORD_ID_BASE + rows
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SMALL_SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SMALL_SCHEMA}")
        cursor.execute(
            f"CREATE TABLE {SMALL_SCHEMA}.records_creditrecord (LIKE public.records_creditrecord "
            "INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING CONSTRAINTS)"
        )
        columns = ", ".join(data.RECORD_COLUMNS)
        cursor.execute(
            f"INSERT INTO {SMALL_SCHEMA}.records_creditrecord ({columns}) "  # noqa: S608 - constants
            f"SELECT {columns} FROM public.records_creditrecord WHERE id < %s ORDER BY id",
            [limit],
        )
        _copy_indexes(cursor, "records_creditrecord")
        copied = []
        if _exists(cursor, f"public.{PUBLIC_INDEX}"):
            cursor.execute(
                f"CREATE TABLE {SMALL_SCHEMA}.{PUBLIC_INDEX} (LIKE public.{PUBLIC_INDEX} "
                "INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
            cursor.execute(
                f"INSERT INTO {SMALL_SCHEMA}.{PUBLIC_INDEX} SELECT * FROM public.{PUBLIC_INDEX} "  # noqa: S608
                "WHERE record_id < %s ORDER BY decision_date, record_id",
                [limit],
            )
            _copy_indexes(cursor, PUBLIC_INDEX)
            copied.append(f"{PUBLIC_INDEX} (the public index)")
        for name, function, definition in _triggers(cursor, "public.records_creditrecord"):
            if function in COPIED_TRIGGER_FUNCTIONS:
                cursor.execute(
                    definition.replace(
                        " ON public.records_creditrecord ", f" ON {SMALL_SCHEMA}.records_creditrecord "
                    )
                )
                copied.append(f"trigger {name}")
            else:
                say(
                    f"  NOTE: trigger {name} ({function}) not copied to {SMALL_SCHEMA}: it might write to real tables"
                )
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {SMALL_SCHEMA}.records_creditrecord")
        if _exists(cursor, f"{SMALL_SCHEMA}.{PUBLIC_INDEX}"):
            cursor.execute(f"VACUUM (ANALYZE) {SMALL_SCHEMA}.{PUBLIC_INDEX}")
    seconds = time.monotonic() - t0
    say(
        f"  built {SMALL_SCHEMA}.records_creditrecord: the first {rows:,} records with their indexes"
        + (", " + ", ".join(copied) if copied else "")
        + f", in {seconds:.1f}s"
    )
    return seconds


def with_prototype_index(schema: str | None, create: bool) -> None:
    table = f"{schema}.records_creditrecord" if schema else "public.records_creditrecord"
    with connection.cursor() as cursor:
        if create:
            cursor.execute(PROTOTYPE_SQL.format(name=PROTOTYPE_INDEX, table=table))
            cursor.execute(f"ANALYZE {table}")
        else:
            cursor.execute(f"DROP INDEX IF EXISTS {schema or 'public'}.{PROTOTYPE_INDEX}")


def print_sweep(w: Callable[[str], None], r: SweepResult, plans: bool = True) -> None:
    """One sweep's result, with the plans of its statements."""
    runs = ", ".join(f"{s:.2f}" for s in r.runs)
    w(
        f"    {r.label}: table {r.table_rows:,} rows ({r.pending_drafts:,} drafts pending, not publishable); "
        f"{r.due:,} due"
    )
    w(
        f"      complete sweep: median {r.median:.2f}s (runs {runs}s) = {r.due / r.median:,.0f} records/s; "
        f"load average {r.load:.2f}"
    )
    for i, batches in enumerate(r.batches):
        w(f"      run {i + 1} publish_due calls: " + ", ".join(f"{b * 1000:.0f}" for b in batches) + " ms")
    if plans:
        uses = any("record_pending_due_idx" in line for line in r.selection_plan)
        proto = any(PROTOTYPE_INDEX in line for line in r.selection_plan)
        w(
            "      EXPLAIN (ANALYZE, BUFFERS) of the selection: "
            + ("uses record_pending_due_idx" if uses else "prototype index" if proto else "NO partial index")
        )
        for line in r.selection_plan[:18]:
            w("        " + line)
        if r.statement_plan:
            w(
                "      EXPLAIN (ANALYZE, BUFFERS) of one whole publishing statement (up to 5,000 rows, rolled back), top:"
            )
            for line in r.statement_plan[:2]:
                w("        " + line.strip())


class SweepSteps(Steps):
    """2. The deadline sweep: ``publish_due`` looped until nothing is due, for exactly ``--due``
    records, in a table of ``--sweep-small`` records and in the full table; a prototype index."""

    sweeps: dict[str, SweepResult]  # by name: literal (while loading), small, full, proto_small, ...

    def _sweeps(self) -> None:
        try:
            self._measure_sweeps()
        finally:
            # Each measurement un-publishes the newest 10,000 records and publishes them again, four
            # times: dead rows at the newest end of the public index, where every search starts
            # reading (45,000 of them doubled or tripled the p95 of the medium-frequency searches). A
            # portal's publications are inserts and leave none: clean up after the measurement.
            seconds = load.vacuum_analyze(PUBLIC_INDEX)
            self.w(
                f"  (afterwards: VACUUM (ANALYZE) of the public index, {seconds:.1f}s, for the rows the "
                "measurement left dead)"
            )

    def _measure_sweeps(self) -> None:
        w, o = self.w, self.opts
        w("")
        w("== 2. Deadline sweep: publish_due (system_actor), looped until nothing is due " + "=" * 17)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {RECORDS}")  # noqa: S608
            rows = cursor.fetchone()[0]
        if rows <= self.small:
            w(f"  The table has {rows:,} records, not more than --sweep-small: one size only")
            full = measure(
                label=f"{rows:,} records", due=self.due, today=self.today, repeats=o["sweep_repeats"],
                loadavg=machine.loadavg,
            )  # fmt: skip
            print_sweep(self.w, full)
            return
        literal = load.state_get("sweep_small_literal")
        if literal:
            self.sweeps["literal"] = SweepResult.from_dict(literal)
        if not small_copy_ready(self.small):
            build_small_copy(self.small, w)
        small = measure(
            label=f"{self.small:,} records (copy of the first ones in schema bench_small)",
            due=self.due, today=self.today, repeats=o["sweep_repeats"], schema=SMALL_SCHEMA,
            loadavg=machine.loadavg,
        )  # fmt: skip
        full = measure(
            label=f"{rows:,} records (the full table)", due=self.due, today=self.today,
            repeats=o["sweep_repeats"], loadavg=machine.loadavg,
        )  # fmt: skip
        self.sweeps.update(small=small, full=full)
        if literal:
            self.w("  Measured while loading (first run):")
            print_sweep(self.w, self.sweeps["literal"])
        self.w("  Measured now:")
        print_sweep(self.w, small)
        print_sweep(self.w, full)
        ratio = full.median / small.median
        size_ratio = full.table_rows / small.table_rows
        w(
            f"  => {self.due:,} due among {small.table_rows:,}: {small.median:.2f}s; among {full.table_rows:,}: "
            f"{full.median:.2f}s; ratio {ratio:.2f} for a table {size_ratio:.0f}× larger"
        )
        w("  The whole publishing statement (EXPLAIN ANALYZE, rolled back), full table:")
        for line in full.statement_plan[:24]:
            w("    " + line)
        if o["no_prototypes"]:
            return
        w("")
        if ratio < 1.25:
            w("  The sweep's time grows with what is due, hardly with the table (ratio < 1.25).")
        else:
            w("  The sweep's time grows with the table (ratio >= 1.25): see the selection plans above.")
        w(
            "  Prototype, a partial index without the pending drafts that the selection reads and filters away:"
        )
        w("    " + PROTOTYPE_SQL.format(name=PROTOTYPE_INDEX, table="records_creditrecord"))
        results = {}
        for label, schema in (("small", SMALL_SCHEMA), ("full", None)):
            with_prototype_index(schema, create=True)
            try:
                results[label] = measure(
                    label=("small table" if schema else "full table") + " + prototype index",
                    due=self.due, today=self.today, repeats=o["sweep_repeats"], schema=schema,
                    loadavg=machine.loadavg,
                )  # fmt: skip
            finally:
                with_prototype_index(schema, create=False)
            print_sweep(self.w, results[label])
        proto_ratio = results["full"].median / results["small"].median
        w(
            f"  => with the prototype index: {results['small'].median:.2f}s vs {results['full'].median:.2f}s, "
            f"ratio {proto_ratio:.2f} (was {ratio:.2f}); full table {full.median:.2f}s -> {results['full'].median:.2f}s"
        )
        self.sweeps.update(proto_small=results["small"], proto_full=results["full"])
