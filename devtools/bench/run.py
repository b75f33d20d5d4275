"""One benchmark run: the preflight, the state tables, the departments, then each benchmark's steps
in turn (see the package's docstring for what each measures and the options that select them)."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import connection
from django.utils import timezone

from credit_portal.accounts.actors import system_actor
from devtools.bench import data, load, machine
from devtools.bench.connections import ConnectionSteps
from devtools.bench.generation import GenerationSteps
from devtools.bench.reports import ReportSteps
from devtools.bench.search_steps import SearchSteps
from devtools.bench.steps import ENTITIES, PUBLIC_INDEX, RECORDS, BenchError
from devtools.bench.sweep import SMALL_SCHEMA, SweepSteps
from records.demo import DEPARTMENTS as DEMO_DEPARTMENTS
from records.demo import departments_ensure
from records.models import CatalogueItem


class Bench(GenerationSteps, SweepSteps, SearchSteps, ReportSteps, ConnectionSteps):
    """Every benchmark's steps, run in the order ``handle`` gives them."""

    def handle(self, **o) -> None:
        if o["entities"] < 1 or o["records"] < 1:
            raise BenchError("--entities and --records must be at least 1")
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
        self.sweeps = {}

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
                raise BenchError(
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
            cursor.execute(f"DROP SCHEMA IF EXISTS {SMALL_SCHEMA} CASCADE")

    def _context(self) -> data.Context:
        """The departments (the demo ones and the benchmark's BENCH-*) and the two catalogue items."""
        existing = departments_ensure(
            actor=system_actor("bench"), rows=[*DEMO_DEPARTMENTS, *data.BENCH_DEPARTMENTS]
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
