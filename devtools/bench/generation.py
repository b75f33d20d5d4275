"""1. Generation: the synthetic entities and records (data.py) loaded with COPY in chunks (load.py),
generated in worker processes while other connections copy; secondary indexes and constraints
dropped for the load and rebuilt after it when a trial load says that is faster. Resumes by chunk:
what is loaded in full is kept."""

from __future__ import annotations

import math
import time

from django.db import connection
from django.utils import timezone

from devtools.bench import data, load, machine
from devtools.bench.steps import ENTITIES, PUBLIC_INDEX, RECORDS, Steps
from devtools.bench.sweep import measure as measure_sweep
from devtools.bench.sweep import print_sweep


class GenerationSteps(Steps):
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
                result = measure_sweep(
                    label=f"{stage:,} records (table being loaded)",
                    due=self.due,
                    today=self.today,
                    repeats=self.opts["sweep_repeats"],
                    loadavg=machine.loadavg,
                )
                load.state_set("sweep_small_literal", result.as_dict())
                print_sweep(self.w, result)
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
