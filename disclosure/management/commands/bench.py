"""Performance benchmark of the public disclosure search and the deadline sweep, at scale.

    manage.py bench                       # 1,000,000 entities, 5,000,000 records (generated once)
    manage.py bench --entities 100000 --records 500000   # a quicker run

Run it on a database of its own: ``make bench`` (``python -m credit_portal.devstack bench``) uses
``credit_portal_bench`` and keeps it, so that a second run skips the generation and only measures.

1. Generation: COPY in chunks of 50,000 rows (generated in worker processes while other connections
   copy), secondary indexes and constraints dropped for the load and rebuilt after it when a trial
   load says that is faster. Bench entities get no guardian grants (no department edits them here).
2. The deadline sweep: ``publish_due`` looped until nothing is due, for exactly ``--due`` records, in
   a table of ``--sweep-small`` records and in the full table.
3. The public search: ``GET /?q=...`` in process for each kind of query, server time and the time of
   each SQL statement the view runs; pg_trgm and ILIKE over the same table for comparison.
5. Credit reports (``--only-reports`` for these alone): median and p95 per report beside WeasyPrint
   alone, reports per second through a Celery worker at concurrency 2, its memory over the run.
4. Slow spots: EXPLAIN ANALYZE of the statement that makes a kind miss the target, and prototype
   indexes measured in this database (dropped again; the application's code is not changed).
6. Database connections under load (``--only-connections`` for these alone): a real gunicorn with
   the portal's configuration, ``--connection-clients`` (200) concurrent HTTP clients for
   ``--connection-seconds`` (60) on the public pages, pg_stat_activity sampled every 50 ms: the web
   server's connections against its ceiling of workers × threads.
"""

from __future__ import annotations

import gc
import math
import os
import re
import time
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from credit_portal.accounts import services as accounts
from credit_portal.accounts.actors import system_actor
from credit_portal.accounts.models import Department, Division
from disclosure.bench import connections as bench_connections
from disclosure.bench import data, load, machine
from disclosure.bench import reports as bench_reports
from disclosure.bench import search as bench_search
from disclosure.bench import sweep as bench_sweep
from disclosure.search import ENTITY_CANDIDATES
from records.management.commands.seed_demo import DEPARTMENTS as DEMO_DEPARTMENTS
from records.models import CatalogueItem

RECORDS = "records_creditrecord"
ENTITIES = "records_marketentity"
PUBLIC_INDEX = "disclosure_publicindexentry"  # kept by triggers on the records table, when present


def _ms(value: float) -> str:
    if value != value:  # nan
        return "—"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _count(n: float) -> str:
    if n < 1000:
        return f"{n:.0f}"
    if n < 1_000_000:
        return f"{n / 1000:.0f}k"
    return f"{n / 1_000_000:.1f}M"


class Command(BaseCommand):
    help = "Generate a large credit database (once) and measure the public search and the disclosure sweep."

    def add_arguments(self, parser):
        parser.add_argument("--entities", type=int, default=1_000_000, help="entities to generate")
        parser.add_argument("--records", type=int, default=5_000_000, help="credit records to generate")
        parser.add_argument(
            "--sweep-small", type=int, default=None, help="table size of the first sweep (default 500,000)"
        )
        parser.add_argument("--due", type=int, default=10_000, help="records due in each sweep")
        parser.add_argument("--sweep-repeats", type=int, default=3)
        parser.add_argument("--requests", type=int, default=200, help="measured requests per kind of query")
        parser.add_argument("--warmup", type=int, default=30, help="unmeasured requests per kind first")
        parser.add_argument("--jobs", type=int, default=2, help="COPY connections and generator processes")
        parser.add_argument(
            "--load-trial", type=int, default=200_000, help="rows of the keep-vs-drop index trial (0: none)"
        )
        parser.add_argument(
            "--compare", type=int, default=200, help="pg_trgm / indexed ILIKE queries per kind"
        )
        parser.add_argument("--ilike-seqscan", type=int, default=10, help="unindexed ILIKE queries per kind")
        parser.add_argument("--target-ms", type=float, default=15.0, help="search p95 target")
        parser.add_argument("--skip-search", action="store_true")
        parser.add_argument("--skip-sweep", action="store_true")
        parser.add_argument("--skip-reports", action="store_true")
        parser.add_argument(
            "--only-reports", action="store_true", help="measure the credit reports only (no generation)"
        )
        parser.add_argument("--reports", type=int, default=200, help="reports rendered by the Celery worker")
        parser.add_argument("--report-samples", type=int, default=30, help="reports rendered in process")
        parser.add_argument("--report-concurrency", type=int, default=2, help="the pdf worker's concurrency")
        parser.add_argument(
            "--max-tasks-per-child",
            type=int,
            default=None,
            help="the pdf worker's --max-tasks-per-child (default: the setting)",
        )
        parser.add_argument("--skip-connections", action="store_true")
        parser.add_argument(
            "--only-connections",
            action="store_true",
            help="measure the database connections under load only (no generation)",
        )
        parser.add_argument("--connection-clients", type=int, default=200, help="concurrent HTTP clients")
        parser.add_argument("--connection-seconds", type=float, default=60.0, help="length of the load")
        parser.add_argument(
            "--web-workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY") or 2),
            help="gunicorn workers (default: WEB_CONCURRENCY, else 2)",
        )
        parser.add_argument(
            "--web-threads",
            type=int,
            default=int(os.environ.get("WEB_THREADS") or 4),
            help="gunicorn threads per worker (default: WEB_THREADS, else 4)",
        )
        parser.add_argument("--no-prototypes", action="store_true", help="do not try indexes or what-ifs")
        parser.add_argument("--keep-trgm", action="store_true", help="keep the comparison trigram index")
        parser.add_argument("--reset", action="store_true", help="delete all entities and records first")

    # -----------------------------------------------------------------------------------------
    def w(self, line: str = "") -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def handle(self, *args, **o):
        if o["entities"] < 1 or o["records"] < 1:
            raise CommandError("--entities and --records must be at least 1")
        self.opts = o
        self.today = timezone.localdate()
        started = time.monotonic()
        machine.report("machine at the start", self.w)
        self._preflight()
        load.ensure_state_tables()
        for table in (ENTITIES, RECORDS, PUBLIC_INDEX):
            load.restore_secondary(table, jobs=o["jobs"], say=self.w)  # after an interrupted load
        if o["reset"]:
            self._reset()
        self.context = self._context()
        records_target = o["records"]
        small = o["sweep_small"]
        if small is None:
            small = min(500_000, max(data.CHUNK, records_target // 10 // data.CHUNK * data.CHUNK))
        self.small = min(small, records_target)
        self.due = min(o["due"], max(1, self.small // 10))
        self.sweeps: dict[str, bench_sweep.SweepResult] = {}

        if o["only_connections"]:
            self._connections()
        else:
            if not o["only_reports"]:
                self._generate(records_target)
                if not o["skip_sweep"]:
                    self._sweeps()
                if not o["skip_search"]:
                    self._search()
            if not o["skip_reports"]:
                self._reports()
            if not o["skip_connections"] and not o["only_reports"]:
                self._connections()
        self.w("")
        self.w(f"Total bench time {time.monotonic() - started:,.0f}s")
        machine.report("machine at the end", self.w)

    def _preflight(self) -> None:
        w = self.w
        w(
            f"  Django DEBUG    {settings.DEBUG}"
            + ("  (!) queries are being logged: slower" if settings.DEBUG else "")
        )
        if not settings.DEBUG and "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"]:
            manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
            if not manifest.is_file():
                raise CommandError(
                    f"{manifest} is missing: run `manage.py collectstatic` first (make bench does), or the "
                    "search pages cannot be rendered with DEBUG off"
                )
            staticfiles_storage.load_manifest()
        w(f"  cache           {settings.CACHES['default']['LOCATION']}")
        w(f"  today           {self.today}")

    def _reset(self) -> None:
        self.w("Deleting every entity and credit record (--reset) ...")
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {RECORDS}, {ENTITIES} CASCADE")
            cursor.execute("DELETE FROM bench.state")
            cursor.execute(f"DROP SCHEMA IF EXISTS {bench_sweep.SMALL_SCHEMA} CASCADE")

    def _context(self) -> data.Context:
        """The departments (the demo ones and the benchmark's BENCH-*) and the two catalogue items."""
        system = system_actor("bench")
        existing = {d.code: d for d in Department.objects.all()}
        for code, zh, en, division, level, parent in [*DEMO_DEPARTMENTS, *data.BENCH_DEPARTMENTS]:
            if code not in existing:
                from django.db import transaction

                with transaction.atomic():
                    existing[code] = accounts.department_create(
                        actor=system,
                        code=code,
                        name_zh=zh,
                        name_en=en,
                        division=Division.objects.get(code=division),
                        level=level,
                        parent=existing.get(parent) if parent else None,
                    )
        items = {
            i.code: i.pk for i in CatalogueItem.objects.filter(code__in=["admin_punishment", "admin_permit"])
        }
        return data.Context(
            departments={code: d.pk for code, d in existing.items()},
            department_names={code: d.name_zh for code, d in existing.items()},
            punishment_item=items["admin_punishment"],
            permit_item=items["admin_permit"],
            today=self.today,
        )

    # -----------------------------------------------------------------------------------------
    # 1. Generation
    # -----------------------------------------------------------------------------------------
    @staticmethod
    def _chunks_present(table: str, base: int) -> dict[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (id - %s) / %s, count(*) FROM {table} WHERE id >= %s GROUP BY 1",  # noqa: S608
                [base, data.CHUNK, base],
            )
            return dict(cursor.fetchall())

    def _missing(self, table: str, base: int, total: int) -> list[int]:
        """Chunks of [0, total) not loaded in full; a partly loaded one (an earlier, smaller target) is
        deleted to be generated again."""
        present = self._chunks_present(table, base)
        missing = []
        for chunk in range(math.ceil(total / data.CHUNK)):
            expected = min(data.CHUNK, total - chunk * data.CHUNK)
            have = present.get(chunk, 0)
            if have >= expected:
                continue
            if have:
                with connection.cursor() as cursor:
                    lo = base + chunk * data.CHUNK
                    cursor.execute(f"DELETE FROM {table} WHERE id >= %s AND id < %s", [lo, lo + data.CHUNK])  # noqa: S608
            missing.append(chunk)
        return missing

    def _generate(self, records_target: int) -> None:
        w, o = self.w, self.opts
        w("")
        w("== 1. Data " + "=" * 84)
        generation = load.state_get("generation", {}) or {}
        entities_target = o["entities"]
        have_entities = sum(self._chunks_present(ENTITIES, data.ENTITY_ID_BASE).values())
        have_records = sum(self._chunks_present(RECORDS, data.RECORD_ID_BASE).values())
        if have_records and generation.get("layout") != data.LAYOUT:
            w(
                "  NOTE: these records were generated in random date order; a portal's tables fill in"
                " the order of the decisions. Run with --reset to measure that layout."
            )
        if have_entities > entities_target:
            w(
                f"  {have_entities:,} bench entities already there (more than --entities {entities_target:,}): kept"
            )
            entities_target = have_entities
        # Records map to entities through the entity count they were generated with: keep it.
        entity_span = int(generation.get("entity_span") or 0) if have_records else 0
        if not entity_span:
            entity_span = entities_target
        if entity_span > entities_target:
            entities_target = entity_span
        if have_records > records_target:
            w(
                f"  {have_records:,} bench records already there (more than --records {records_target:,}): kept"
            )
            records_target = have_records
        missing_entities = self._missing(ENTITIES, data.ENTITY_ID_BASE, entities_target)
        missing_small = self._missing(RECORDS, data.RECORD_ID_BASE, self.small)
        missing_records = self._missing(RECORDS, data.RECORD_ID_BASE, records_target)
        if not missing_entities and not missing_records:
            w(
                f"  {entities_target:,} entities and {records_target:,} records already generated: nothing to do"
            )
            self._show_generation(generation)
            self._data_summary()
            return
        t0 = time.monotonic()
        w(f"  building {entity_span:,} synthetic entities in memory (names, codes) ...")
        entities = data.build_entities(max(entities_target, entity_span))
        w(f"    {time.monotonic() - t0:.1f}s")
        strategy = (load.state_get("load_trial") or {}).get("choice", "drop")
        stats = dict(generation.get("stats") or {})
        if missing_entities:
            data.prepare(entities, self.context)
            stats["entities"] = self._load(
                ENTITIES, data.ENTITY_COLUMNS, data.entity_chunk, missing_entities, entities_target, "drop"
            )
        load.state_set("generation", {**generation, "entity_span": entity_span, "stats": stats})
        trial = load.state_get("load_trial")
        if trial is None and o["load_trial"] and missing_records:
            trial = self._load_trial(entities, entity_span, o["load_trial"])
            load.state_set("load_trial", trial)
        if trial:
            strategy = trial["choice"]
        stages = (
            [self.small, records_target]
            if missing_small and self.small < records_target
            else [records_target]
        )
        for stage in stages:
            chunks = self._missing(RECORDS, data.RECORD_ID_BASE, stage)
            if not chunks:
                continue
            data.prepare(entities, self.context, records_total=stage, history=records_target)
            stats[f"records_to_{stage}"] = self._load(
                RECORDS, data.RECORD_COLUMNS, data.record_chunk, chunks, stage, strategy,
                entity_span=entity_span,
            )  # fmt: skip
            load.state_set("generation", {"entity_span": entity_span, "stats": stats})
            if stage == self.small and stage < records_target and not self.opts["skip_sweep"]:
                w("")
                w(f"  The sweep now, with {stage:,} records in the table (before loading the rest):")
                result = bench_sweep.measure(
                    label=f"{stage:,} records (table being loaded)",
                    due=self.due,
                    today=self.today,
                    repeats=self.opts["sweep_repeats"],
                    loadavg=machine.loadavg,
                )
                load.state_set("sweep_small_literal", result.as_dict())
                self._print_sweep(result)
        generation = {
            "entity_span": entity_span, "stats": stats, "finished_at": str(timezone.now()), "layout": data.LAYOUT,
        }  # fmt: skip
        load.state_set("generation", generation)
        self._show_generation(generation)
        self._data_summary()

    def _data_summary(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT i.code, r.disclosure, r.status, count(*)
                  FROM {RECORDS} r JOIN records_catalogueitem i ON i.id = r.item_id
                 GROUP BY 1, 2, 3 ORDER BY 4 DESC
                """  # noqa: S608
            )
            rows = cursor.fetchall()
            summary = (
                f"SELECT count(DISTINCT department_id), min(decision_date), max(decision_date) FROM {RECORDS}"  # noqa: S608
            )
            cursor.execute(summary)
            departments, first, last = cursor.fetchone()
        total = sum(n for *_rest, n in rows) or 1
        self.w(
            f"  Records: {total:,} from {departments} departments, decided {first} to {last}; "
            "bench entities get no guardian grants (no department edits them here)"
        )
        for item, disclosure, status, n in rows:
            self.w(f"    {item:<18} {disclosure:<10} {status:<16} {n:>10,}  {n / total:6.1%}")

    def _load(self, table, columns, produce, chunks, total, strategy, entity_span=None) -> dict:
        """Load ``chunks`` into ``table``; returns its statistics."""
        w, jobs = self.w, self.opts["jobs"]
        rows_to_load = sum(min(data.CHUNK, total - c * data.CHUNK) for c in chunks)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            existing = cursor.fetchone()[0]
        # Rebuilding the indexes of a big table for a few chunks costs more than keeping them.
        drop = strategy == "drop" and rows_to_load >= existing / 2
        w("")
        w(
            f"  {table}: loading {rows_to_load:,} rows ({len(chunks)} chunks of up to {data.CHUNK:,}) into "
            f"{existing:,}; secondary indexes and constraints "
            + ("dropped for the load, rebuilt after" if drop else "kept")
            + (f"; records spread over {entity_span:,} entities" if entity_span else "")
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.tgname FROM pg_trigger t WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal",
                [table],
            )
            triggers = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT to_regclass(%s)", [PUBLIC_INDEX])
            public_index = table == RECORDS and cursor.fetchone()[0] is not None
        if triggers:
            w(f"    triggers stay on during the load (they keep derived data right): {', '.join(triggers)}")
        t_drop = time.monotonic()
        if drop:
            dropped = load.drop_secondary(table)
            if public_index:
                dropped += load.drop_secondary(PUBLIC_INDEX)
            w(
                f"    dropped {len(dropped)} indexes/constraints"
                + (f" (with those of {PUBLIC_INDEX}, which the triggers fill)" if public_index else "")
                + f" in {time.monotonic() - t_drop:.1f}s"
            )
        rows, copy_seconds = load.copy_chunks(
            table=table,
            columns=columns,
            produce=produce,
            chunks=chunks,
            total_rows=rows_to_load,
            jobs=jobs,
            label=f"  COPY {table}",
        )
        w(f"    COPY: {rows:,} rows in {copy_seconds:,.1f}s = {rows / max(copy_seconds, 1e-9):,.0f} rows/s")
        rebuild = 0.0
        if drop:
            w("    rebuilding:")
            rebuild = load.restore_secondary(table, jobs=jobs, say=w)
            if public_index:
                rebuild += load.restore_secondary(PUBLIC_INDEX, jobs=jobs, say=w)
            w(f"    rebuilt in {rebuild:,.1f}s")
        vacuum = load.vacuum_analyze(table)
        if public_index:
            vacuum += load.vacuum_analyze(PUBLIC_INDEX)
        w(f"    VACUUM (ANALYZE) {vacuum:,.1f}s")
        total_seconds = copy_seconds + rebuild + (time.monotonic() - t_drop - copy_seconds - rebuild - vacuum)
        w(
            f"    {table}: {rows:,} rows ready in {total_seconds:,.1f}s (without VACUUM) = "
            f"{rows / max(total_seconds, 1e-9):,.0f} rows/s; load average {machine.loadavg()[0]:.2f}"
        )
        return {
            "rows": rows,
            "copy_seconds": round(copy_seconds, 1),
            "rebuild_seconds": round(rebuild, 1),
            "vacuum_seconds": round(vacuum, 1),
            "total_seconds": round(total_seconds, 1),
            "strategy": "drop" if drop else "keep",
        }

    def _show_generation(self, generation: dict) -> None:
        stats = generation.get("stats") or {}
        if not stats:
            return
        self.w("  Generation (as measured when it ran" + (f", finished {generation['finished_at']}" if generation.get("finished_at") else "") + "):")  # fmt: skip
        for name, s in stats.items():
            self.w(
                f"    {name:<22} {s['rows']:>10,} rows  COPY {s['copy_seconds']:>7,.1f}s  "
                f"rebuild {s['rebuild_seconds']:>6,.1f}s  total {s['total_seconds']:>7,.1f}s = "
                f"{s['rows'] / max(s['total_seconds'], 1e-9):>7,.0f} rows/s  ({s['strategy']} indexes; "
                f"VACUUM ANALYZE {s['vacuum_seconds']:,.1f}s more)"
            )
        trial = load.state_get("load_trial")
        if trial:
            self._print_trial(trial)

    def _load_trial(self, entities, entity_span: int, rows: int) -> dict:
        """The same records loaded twice into scratch tables shaped like the real one (indexes and
        foreign keys): once with everything kept, once dropped and rebuilt after."""
        w, jobs = self.w, self.opts["jobs"]
        rows = max(data.CHUNK, rows // data.CHUNK * data.CHUNK)
        w("")
        w(
            f"  Trial: {rows:,} records loaded with the indexes kept vs dropped and rebuilt (schema bench_trial)"
        )
        data.prepare(entities, self.context, records_total=rows)
        chunks = list(range(rows // data.CHUNK))
        result = {"rows": rows}
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS bench_trial CASCADE")
            cursor.execute("CREATE SCHEMA bench_trial")
            foreign_keys = [d for d in load.secondary_ddl(cursor, RECORDS) if d.kind == "fk"]
        for variant in ("keep", "drop"):
            table = f"bench_trial.{variant}"
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE TABLE {table} (LIKE public.{RECORDS} INCLUDING ALL)")
                for fk in foreign_keys:
                    cursor.execute(
                        fk.create_sql.replace(f"ALTER TABLE {RECORDS} ", f"ALTER TABLE {table} ", 1)
                    )
            t0 = time.monotonic()
            if variant == "drop":
                load.drop_secondary(table)
            _loaded, copy_seconds = load.copy_chunks(
                table=table, columns=data.RECORD_COLUMNS, produce=data.record_chunk, chunks=chunks,
                total_rows=rows, jobs=jobs, label=f"  trial {variant}",
            )  # fmt: skip
            rebuild = (
                load.restore_secondary(table, jobs=jobs, say=lambda _line: None) if variant == "drop" else 0.0
            )
            total = time.monotonic() - t0
            result[variant] = {
                "copy": round(copy_seconds, 1),
                "rebuild": round(rebuild, 1),
                "total": round(total, 1),
            }
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA bench_trial CASCADE")
        keep, drop = result["keep"]["total"], result["drop"]["total"]
        result["choice"] = "drop" if drop < 0.9 * keep else "keep"
        result["load1"] = machine.loadavg()[0]
        self._print_trial(result)
        return result

    def _print_trial(self, trial: dict) -> None:
        rows = trial["rows"]
        keep, drop = trial["keep"], trial["drop"]
        self.w(
            f"  Index strategy trial ({rows:,} records into scratch tables without triggers, load average {trial.get('load1', 0):.2f}):"
        )
        self.w(f"    keep indexes + FKs:  COPY {keep['total']:6.1f}s = {rows / keep['total']:>7,.0f} rows/s")
        self.w(
            f"    drop, COPY, rebuild: COPY {drop['copy']:6.1f}s + rebuild {drop['rebuild']:5.1f}s = "
            f"{drop['total']:6.1f}s = {rows / drop['total']:>7,.0f} rows/s"
        )
        self.w(
            f"    -> {trial['choice']} ({keep['total'] / drop['total']:.2f}× faster with the indexes dropped; "
            "chosen only when at least 10% faster)"
        )

    # -----------------------------------------------------------------------------------------
    # 2. The deadline sweep
    # -----------------------------------------------------------------------------------------
    def _print_sweep(self, r: bench_sweep.SweepResult, plans: bool = True) -> None:
        runs = ", ".join(f"{s:.2f}" for s in r.runs)
        self.w(
            f"    {r.label}: table {r.table_rows:,} rows ({r.pending_drafts:,} drafts pending, not publishable); "
            f"{r.due:,} due"
        )
        self.w(
            f"      complete sweep: median {r.median:.2f}s (runs {runs}s) = {r.due / r.median:,.0f} records/s; "
            f"load average {r.load:.2f}"
        )
        for i, batches in enumerate(r.batches):
            self.w(
                f"      run {i + 1} publish_due calls: "
                + ", ".join(f"{b * 1000:.0f}" for b in batches)
                + " ms"
            )
        if plans:
            uses = any("record_pending_due_idx" in line for line in r.selection_plan)
            proto = any(bench_sweep.PROTOTYPE_INDEX in line for line in r.selection_plan)
            self.w(
                "      EXPLAIN (ANALYZE, BUFFERS) of the selection: "
                + (
                    "uses record_pending_due_idx"
                    if uses
                    else "prototype index"
                    if proto
                    else "NO partial index"
                )
            )
            for line in r.selection_plan[:18]:
                self.w("        " + line)
            if r.statement_plan:
                self.w(
                    "      EXPLAIN (ANALYZE, BUFFERS) of one whole publishing statement (up to 5,000 rows, rolled back), top:"
                )
                for line in r.statement_plan[:2]:
                    self.w("        " + line.strip())

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
            full = bench_sweep.measure(
                label=f"{rows:,} records", due=self.due, today=self.today, repeats=o["sweep_repeats"],
                loadavg=machine.loadavg,
            )  # fmt: skip
            self._print_sweep(full)
            return
        literal = load.state_get("sweep_small_literal")
        if literal:
            self.sweeps["literal"] = bench_sweep.SweepResult.from_dict(literal)
        if not bench_sweep.small_copy_ready(self.small):
            bench_sweep.build_small_copy(self.small, w)
        small = bench_sweep.measure(
            label=f"{self.small:,} records (copy of the first ones in schema bench_small)",
            due=self.due, today=self.today, repeats=o["sweep_repeats"], schema=bench_sweep.SMALL_SCHEMA,
            loadavg=machine.loadavg,
        )  # fmt: skip
        full = bench_sweep.measure(
            label=f"{rows:,} records (the full table)", due=self.due, today=self.today,
            repeats=o["sweep_repeats"], loadavg=machine.loadavg,
        )  # fmt: skip
        self.sweeps.update(small=small, full=full)
        if literal:
            self.w("  Measured while loading (first run):")
            self._print_sweep(self.sweeps["literal"])
        self.w("  Measured now:")
        self._print_sweep(small)
        self._print_sweep(full)
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
        w(
            "    "
            + bench_sweep.PROTOTYPE_SQL.format(name=bench_sweep.PROTOTYPE_INDEX, table="records_creditrecord")
        )
        results = {}
        for label, schema in (("small", bench_sweep.SMALL_SCHEMA), ("full", None)):
            bench_sweep.with_prototype_index(schema, create=True)
            try:
                results[label] = bench_sweep.measure(
                    label=("small table" if schema else "full table") + " + prototype index",
                    due=self.due, today=self.today, repeats=o["sweep_repeats"], schema=schema,
                    loadavg=machine.loadavg,
                )  # fmt: skip
            finally:
                bench_sweep.with_prototype_index(schema, create=False)
            self._print_sweep(results[label])
        proto_ratio = results["full"].median / results["small"].median
        w(
            f"  => with the prototype index: {results['small'].median:.2f}s vs {results['full'].median:.2f}s, "
            f"ratio {proto_ratio:.2f} (was {ratio:.2f}); full table {full.median:.2f}s -> {results['full'].median:.2f}s"
        )
        self.sweeps.update(proto_small=results["small"], proto_full=results["full"])

    # -----------------------------------------------------------------------------------------
    # 5. Credit reports
    # -----------------------------------------------------------------------------------------
    def _reports(self) -> None:
        w, o = self.w, self.opts
        w("")
        w(
            "== 5. Credit reports: one entity with 50 records, in process and through the pdf worker "
            + "=" * 7
        )
        max_tasks = o["max_tasks_per_child"]
        if max_tasks is None:
            max_tasks = settings.CELERY_WORKER_MAX_TASKS_PER_CHILD
        bench_reports.run(
            count=o["reports"],
            samples=o["report_samples"],
            concurrency=o["report_concurrency"],
            max_tasks_per_child=max_tasks or None,
            say=w,
        )

    # -----------------------------------------------------------------------------------------
    # 6. Database connections under load
    # -----------------------------------------------------------------------------------------
    def _connections(self) -> None:
        w, o = self.w, self.opts
        clients, seconds = o["connection_clients"], o["connection_seconds"]
        workers, threads = o["web_workers"], o["web_threads"]
        if min(clients, workers, threads) < 1 or seconds <= 0:
            raise CommandError(
                "--connection-clients, --web-workers, --web-threads and --connection-seconds must be positive"
            )
        w("")
        w(
            f"== 6. Database connections: gunicorn {workers} workers × {threads} threads, {clients} clients "
            f"for {seconds:.0f}s " + "=" * 12
        )
        w(
            f"  CONN_MAX_AGE {connection.settings_dict.get('CONN_MAX_AGE')}s; paths {', '.join(self._load_paths())}"
        )
        log = Path(settings.BASE_DIR) / ".local" / "bench-gunicorn.log"
        with bench_connections.gunicorn(workers=workers, threads=threads, log=log) as server:
            result = bench_connections.load(
                server, clients=clients, seconds=seconds, paths=self._load_paths(), settle=2.0
            )
        bench_connections.report(result, w)
        w(f"  (gunicorn's log: {log})")

    @staticmethod
    def _load_paths() -> tuple[str, ...]:
        from urllib.parse import quote

        return (*bench_connections.PUBLIC_PATHS, "/?q=" + quote("科技"))

    # -----------------------------------------------------------------------------------------
    # 3. The public search
    # -----------------------------------------------------------------------------------------
    def _search(self) -> None:
        w, o = self.w, self.opts
        w("")
        w("== 3. Public search: GET /?q=... in process (django.test.Client, REMOTE_ADDR varied) " + "=" * 10)
        if bench_search.trgm_index_exists():
            bench_search.drop_trgm_index()  # measure the application as deployed
        t0 = time.monotonic()
        terms = bench_search.draw_terms()
        self.published = terms.published
        w(
            f"  terms cut from {terms.sample_size:,} sampled published records of {terms.published:,} "
            f"in {time.monotonic() - t0:.1f}s; distinct terms per kind: "
            + ", ".join(f"{k} {len(v):,}" for k, v in terms.by_kind.items())
        )
        t0 = time.monotonic()
        warm = bench_search.prewarm()
        if not warm.available:
            w(
                "  buffer cache: pg_prewarm is not available here (or needs a superuser to install); the first reads of each page come from disk or the OS"
            )
        else:
            mib = sum(warm.pages.values()) * 8 / 1024
            w(
                f"  buffer cache: pg_prewarm read the public index, the entities and their indexes ({mib:,.0f} MiB) "
                f"into shared_buffers ({warm.shared_buffers_pages * 8 / 1024:,.0f} MiB) in {time.monotonic() - t0:.1f}s, "
                "as a server that has been answering searches holds them"
            )
            if not warm.fits:
                w(
                    "  NOTE: they do not fit in shared_buffers: searches will read pages through the OS cache "
                    "(set shared_buffers to about a quarter of the memory; README)"
                )
        requester = bench_search.Requester()
        for kind, _label in bench_search.KINDS:  # first requests: templates, translations, plans
            for term in terms.by_kind.get(kind, [])[:3]:
                requester.get(term)
        # As credit_portal/wsgi.py does in a web process once it has loaded: what loading made is
        # kept out of the garbage collector's reach (the terms drawn above are part of it here).
        gc.collect()
        gc.freeze()
        w(
            f"  warm-up: {o['warmup']} requests per kind before the measured ones (other terms where there are enough)"
        )
        results: list[bench_search.KindResult] = []
        for kind, label in bench_search.KINDS:
            t1 = time.monotonic()
            result = bench_search.measure_kind(
                requester, kind, label, terms, requests=o["requests"], warmup=o["warmup"]
            )
            results.append(result)
            w(
                f"    {label:<28} {len(result.samples):>4} requests in {time.monotonic() - t1:6.1f}s, "
                f"p95 {_ms(bench_search.pct(result.server(), 95))} ms; load average {machine.loadavg()[0]:.2f}"
            )
        self.search_results = results
        w("  the floor: what a search request pays before it searches (p50 / p95, ms):")
        pct = bench_search.pct
        for label, times in bench_search.floor(requester, requests=o["requests"]):
            w(f"    {label:<68} {_ms(pct(times, 50)):>6} {_ms(pct(times, 95)):>6}")
        self._comparisons(results)
        self._print_search(results)
        self._investigate(results, requester)

    def _comparisons(self, results) -> None:
        w, o = self.w, self.opts
        self.direct = bench_search.public_index_exists()
        if self.direct:
            w(
                "  prototype: the text match as one statement on the public index, newest first, LIMIT 201 "
                f"(up to {o['compare']} terms per kind) ..."
            )
            for r in results:
                if r.samples:
                    bench_search.compare(
                        r, "direct", bench_search.direct_query, o["compare"], timeout_ms=60_000
                    )
                    bench_search.compare_fn(r, "window5k", bench_search.small_window, o["compare"])
        w(
            f"  prototype: the entities, shortest first among the first {ENTITY_CANDIDATES:,} matches (up to {o['compare']} terms) ..."
        )
        for r in results:
            if r.samples and r.sql("entities"):
                bench_search.compare(
                    r, "entities", bench_search.entity_query, o["compare"], timeout_ms=60_000
                )
        if not bench_search.trgm_available():
            w(
                "  pg_trgm is not available on this server (the embedded PostgreSQL ships no contrib): no pg_trgm columns"
            )
            self.trgm = None
            return
        cjk = [r for r in results if r.kind in bench_search.CJK_KINDS and r.samples]
        n_seq = o["ilike_seqscan"]
        w(
            f"  ILIKE '%term%' without a trigram index: {n_seq} queries per Chinese kind (each may scan the table;"
            f" at most {bench_search.COMPARE_BUDGET:.0f}s per kind) ..."
        )
        for r in cjk:
            bench_search.compare(r, "ilike_seq", bench_search.ilike_query, n_seq, timeout_ms=60_000)
        w("  building the trigram index (GIN, gin_trgm_ops on party_name) ...")
        seconds, size = bench_search.create_trgm_index()
        self.trgm = (seconds, size)
        w(f"    built in {seconds:,.1f}s, {size}")
        try:
            for r in cjk:
                bench_search.compare(
                    r, "similarity", bench_search.similarity_query, o["compare"], timeout_ms=60_000
                )
                bench_search.compare(
                    r, "ilike_trgm", bench_search.ilike_query, o["compare"], timeout_ms=60_000
                )
        finally:
            if not o["keep_trgm"]:
                bench_search.drop_trgm_index()
                w("    trigram index dropped again (--keep-trgm keeps it)")

    def _print_search(self, results) -> None:
        w, target = self.w, self.opts["target_ms"]
        p = bench_search.pct
        w("")
        w(f"  Server time of GET /?q= and the main SQL of the view (ms; target: p95 <= {target:g} ms)")
        w(
            f"  {'kind':<27} {'reqs':>4} {'terms':>5} {'match':>6} │ {'server p50':>10} {'p95':>7} {'p99':>7} │"
            f" {'text match p50':>14} {'p95':>7} │ {'count p50':>9} {'p95':>7} │ {'verdict':<7}"
        )
        w("  " + "─" * 122)
        for r in results:
            if not r.samples:
                w(f"  {r.label:<27} no terms of this kind in the data")
                continue
            server = r.server()
            share = _count(r.share_median * self.published) if r.share_median is not None else "exact"
            verdict = "ok" if p(server, 95) <= target else "MISS"
            w(
                f"  {r.label:<27} {len(server):>4} {r.distinct_terms:>5} {share:>6} │ {_ms(p(server, 50)):>10} "
                f"{_ms(p(server, 95)):>7} {_ms(p(server, 99)):>7} │ {_ms(p(r.sql('match'), 50)):>14} "
                f"{_ms(p(r.sql('match'), 95)):>7} │ {_ms(p(r.sql('count'), 50)):>9} "
                f"{_ms(p(r.sql('count'), 95)):>7} │ {verdict:<7}"
            )
        w(
            "  terms: distinct terms measured; match: median number of published records a term matches (estimated"
        )
        w("  from the sample; for 2-char terms over the whole indexed document: names and decision number).")
        w(
            "  text match: the statement(s) matching the text (search_vector @@ query), summed per request; one"
        )
        w("  statement now reads the exact hits, the matches and the page's lines together (its whole time);")
        w(
            "  count: the capped count(s) of the same request. Both timed in the request (connection.execute_wrapper)."
        )
        w("")
        w("  The other statements of the same requests (ms, p50 / p95)")
        w(
            f"  {'kind':<27} │ {'full count':>10} {'':>7} │ {'page rows':>9} {'':>7} │ {'exact':>7} {'':>7} │"
            f" {'entities':>8} {'':>7} │ {'all SQL':>7} {'':>7} │ {'SQL/req':>7} │ {'2 matches':>9} │ {'outside SQL':>11} {'':>6}"
        )
        w("  " + "─" * 136)
        for r in results:
            if not r.samples:
                continue
            outside = [s.server_ms - s.sql_ms.get("all", 0.0) for s in r.samples]
            per_request = sum(len(s.statements) for s in r.samples) / len(r.samples)
            second = sum(1 for s in r.samples if sum(1 for st in s.statements if st[0] == "match") > 1)

            def pair(category: str, r=r) -> str:
                values = r.sql(category)
                return f"{_ms(p(values, 50)):>7} {_ms(p(values, 95)):>7}"

            w(
                f"  {r.label:<27} │ {pair('full_count'):>18} │ {pair('rows'):>17} │ {pair('exact'):>15} │"
                f" {pair('entities'):>16} │ {pair('all'):>15} │ {per_request:>7.1f} │ {second / len(r.samples):>9.0%} │"
                f" {_ms(p(outside, 50)):>11} {_ms(p(outside, 95)):>6}"
            )
        w("  full count: an uncapped COUNT(*) of every match (none when the view only counts up to its cap);")
        w(
            "  page rows: the page's records fetched by id (earlier versions; now read with the search); exact: the"
        )
        w("  exact look-up when it runs alone (a code); 2 matches: share of requests that ran a second text")
        w(
            "  match (the whole index after a window that held too few); outside SQL: server time minus all SQL,"
        )
        w("  p50 and p95 (middleware, form, ORM, templates, the Redis rate-limit counter).")
        if getattr(self, "direct", False):
            w("")
            w(
                "  Prototypes, same terms (ms). View: the text match statements and counts of each request now."
            )
            w(
                "  One statement: the match as one query on the public index, newest first, LIMIT 201 (planner's"
            )
            w(
                f"  choice of index). Window {bench_search.SMALL_WINDOW:,}: the newest {bench_search.SMALL_WINDOW:,} index rows first, the"
            )
            w("  whole index only when they hold fewer than 21 matches, no count of the index.")
            w(
                f"  {'kind':<27} │ {'view p50':>8} {'p95':>6} │ {'one statement p50':>17} {'p95':>6} {'p99':>6} │"
                f" {'window 5k p50':>13} {'p95':>6} {'p99':>6} │ {'rows':>5}"
            )
            w("  " + "─" * 112)
            for r in results:
                direct, window = r.compare.get("direct", []), r.compare.get("window5k", [])
                if not direct:
                    continue
                now = [s.sql_ms.get("match", 0.0) + s.sql_ms.get("count", 0.0) for s in r.samples]
                d = [ms for ms, _n in direct]
                wn = [ms for ms, _n in window]
                rows = [n for _ms_, n in direct if n >= 0]
                w(
                    f"  {r.label:<27} │ {_ms(p(now, 50)):>8} {_ms(p(now, 95)):>6} │ {_ms(p(d, 50)):>17} "
                    f"{_ms(p(d, 95)):>6} {_ms(p(d, 99)):>6} │ {_ms(p(wn, 50)):>13} {_ms(p(wn, 95)):>6} "
                    f"{_ms(p(wn, 99)):>6} │ {sum(rows) / max(len(rows), 1):>5.0f}"
                )
        if any(r.compare.get("entities") for r in results):
            w("")
            w("  Prototype for the entities shown above the results (ms): now (shortest name first over all")
            w(
                f"  matches, through the length index) vs shortest first among the first {ENTITY_CANDIDATES:,} matches"
            )
            w(
                f"  {'kind':<27} │ {'now p50':>8} {'p95':>7} {'p99':>7} │ {'prototype p50':>13} {'p95':>6} {'p99':>6} {'n':>4}"
            )
            w("  " + "─" * 90)
            for r in results:
                values = r.compare.get("entities", [])
                if not values:
                    continue
                now = r.sql("entities")
                t = [ms for ms, _n in values]
                w(
                    f"  {r.label:<27} │ {_ms(p(now, 50)):>8} {_ms(p(now, 95)):>7} {_ms(p(now, 99)):>7} │ "
                    f"{_ms(p(t, 50)):>13} {_ms(p(t, 95)):>6} {_ms(p(t, 99)):>6} {len(values):>4}"
                )
        if getattr(self, "trgm", None) is None:
            return
        w("")
        w("  Against pg_trgm and ILIKE on party_name, same table, same terms (ms; rows = mean rows returned)")
        w(
            f"  {'kind':<27} │ {'app match p50':>17} {'p95':>6} │ {'trgm % similarity p50':>21} {'p95':>6} {'rows':>5} │"
            f" {'ILIKE+trgm p50':>14} {'p95':>6} │ {'ILIKE no index p50':>18} {'p95':>6} {'n':>3}"
        )
        w("  " + "─" * 136)
        for r in results:
            if r.kind not in bench_search.CJK_KINDS or not r.samples:
                continue

            def stats(name: str, r=r) -> tuple[str, str, str, int]:
                values = r.compare.get(name, [])
                times = [ms for ms, _rows in values]
                rows = [n for _ms_, n in values if n >= 0]
                mean_rows = f"{sum(rows) / len(rows):.1f}" if rows else "—"
                return _ms(p(times, 50)), _ms(p(times, 95)), mean_rows, len(values)

            sim, ilike, seq = stats("similarity"), stats("ilike_trgm"), stats("ilike_seq")
            w(
                f"  {r.label:<27} │ {_ms(p(r.sql('match'), 50)):>17} {_ms(p(r.sql('match'), 95)):>6} │ {sim[0]:>21} "
                f"{sim[1]:>6} {sim[2]:>5} │ {ilike[0]:>14} {ilike[1]:>6} │ {seq[0]:>18} {seq[1]:>6} {seq[3]:>3}"
            )
        seconds, size = self.trgm
        w(
            f"  trigram index: built in {seconds:,.1f}s, {size}; English, code and number kinds: not applicable"
        )

    # -----------------------------------------------------------------------------------------
    # 4. Slow spots
    # -----------------------------------------------------------------------------------------
    def _investigate(self, results, requester) -> None:
        w, target = self.w, self.opts["target_ms"]
        p = bench_search.pct
        misses = [r for r in results if r.samples and p(r.server(), 95) > target]
        w("")
        w("== 4. Where the time goes " + "=" * 70)
        if not misses:
            w(f"  Every kind of query meets p95 <= {target:g} ms.")
            return
        for r in misses:
            categories = [c for c in bench_search.CATEGORIES if r.sql(c)]
            worst = max(categories, key=lambda c: p(r.sql(c), 95))
            outside = [s.server_ms - s.sql_ms.get("all", 0.0) for s in r.samples]
            if p(r.sql(worst), 95) < target / 3:
                w("")
                w(
                    f"  {r.label}: server p95 {_ms(p(r.server(), 95))} ms, but no statement is slow (the slowest, "
                    f"the {worst}, p95 {_ms(p(r.sql(worst), 95))} ms; all SQL of a request p95 "
                    f"{_ms(p(r.sql('all'), 95))} ms): the time is spent outside SQL, p50 {_ms(p(outside, 50))} "
                    f"p95 {_ms(p(outside, 95))} ms (middleware, form, ORM, template rendering; CPU shared with the "
                    "other load)"
                )
                continue
            ranked = sorted((s for s in r.samples if worst in s.sql_ms), key=lambda s: s.sql_ms[worst])
            sample = ranked[max(0, math.ceil(0.95 * len(ranked)) - 1)]
            statement = max((st for st in sample.statements if st[0] == worst), key=lambda st: st[1])
            w("")
            w(
                f"  {r.label}: server p95 {_ms(p(r.server(), 95))} ms; the slowest statement is the {worst} "
                f"(p95 {_ms(p(r.sql(worst), 95))} ms). Its p95 request, q={sample.term!r}:"
            )
            with connection.cursor() as cursor:
                text = cursor.cursor.mogrify(statement[2], statement[3]).decode()
            text = re.sub(
                r'^SELECT "records_creditrecord"\."id", .*? FROM "records_creditrecord"',
                'SELECT <record, entity, item, department columns> FROM "records_creditrecord"',
                text,
            )
            w("    " + text[:900] + (" ..." if len(text) > 900 else ""))
            for line in bench_search.explain(statement[2], statement[3])[:28]:
                w("      " + line)
