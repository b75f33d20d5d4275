"""The benchmark truncates the entities and records and drops their indexes, so it runs only on its
own database (credit_portal_bench, which `make bench` sets up): pointed at any other it refuses, says
why, exits non-zero and changes nothing. The development tools are not part of the product: not in
its wheel, not in its image."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest
from django.db import connection
from setuptools import find_packages

from devtools.bench import cli, guard
from devtools.bench.connections import ROOT, database_url
from devtools.devstack.config import BENCH_DATABASE_NAME
from tests import factories as f

TABLES = ("records_marketentity", "records_creditrecord", "disclosure_publicindexentry")
# What a run that got past the guard would leave at once, even with --records 1: the state tables,
# the scratch schemas of the sweep and the index trial.
BENCH_SCHEMAS = ("bench", "bench_small", "bench_trial")
# --reset truncates the entities and records at once; the benchmarks that start servers or workers
# are skipped, so that a guard that failed would leave nothing running.
TRUNCATING_RUN = ["--reset", "--entities", "1", "--records", "1", "--load-trial", "0", "--skip-sweep",
                  "--skip-search", "--skip-reports", "--skip-connections"]  # fmt: skip


def _database_state() -> dict[str, object]:
    """Rows, indexes and constraints of the tables the benchmark truncates and re-indexes, and its
    schemas."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1, 2",
            [list(TABLES)],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
            [list(TABLES)],
        )
        constraints = cursor.fetchall()
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [list(BENCH_SCHEMAS)])
        schemas = cursor.fetchall()
        cursor.execute("SELECT code FROM records_marketentity ORDER BY code")
        entities = cursor.fetchall()
    return {"indexes": indexes, "constraints": constraints, "schemas": schemas, "entities": entities}


def test_the_guard_accepts_only_the_bench_database():
    assert BENCH_DATABASE_NAME == "credit_portal_bench"
    assert guard.refusal({"NAME": "credit_portal_bench"}) is None
    for name in ("credit_portal", "credit_portal_bench_copy", "test_credit_portal_bench", "", None):
        problem = guard.refusal({"NAME": name})
        assert problem is not None
        assert problem.startswith(f"refusing to run on the database {name!r}:")
        assert "credit_portal_bench" in problem
        assert "Nothing was changed." in problem


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_bench_refuses_another_database_and_changes_nothing():
    department = f.department("SZ-AMR")
    f.entity(department, code=f.uscc(n=1))
    f.entity(department, code=f.uscc(n=2))
    before = _database_state()
    assert len(before["entities"]) == 2
    assert before["indexes"]
    assert before["constraints"]
    assert before["schemas"] == []
    name = connection.settings_dict["NAME"]
    assert name != BENCH_DATABASE_NAME

    # As `make bench` runs it, but on the tests' database.
    refused = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "-m", "devtools.bench", *TRUNCATING_RUN],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DATABASE_OWNER_URL"},
            "DJANGO_SETTINGS_MODULE": "credit_portal.settings.test",
            "DATABASE_URL": database_url(connection.settings_dict),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert refused.returncode == cli.REFUSED == 2, refused.stderr[-2000:]
    assert refused.stdout == ""
    assert refused.stderr.strip() == f"bench: {guard.refusal({'NAME': name})}"
    assert _database_state() == before


@pytest.mark.django_db
def test_the_bench_refuses_in_process_before_it_reads_or_writes(django_assert_num_queries):
    f.entity(f.department("SZ-AMR"), code=f.uscc(n=3))
    before = _database_state()
    options = vars(cli.parser().parse_args(TRUNCATING_RUN))
    with django_assert_num_queries(0):
        assert cli.bench(options) == cli.REFUSED
    assert _database_state() == before


def test_the_tools_are_neither_in_the_wheel_nor_in_the_image():
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = find_packages(str(ROOT), include=find["include"], exclude=find.get("exclude", ()))
    assert "credit_portal" in packages
    assert "records" in packages
    assert [p for p in packages if p.split(".")[0] in ("devtools", "tests")] == []
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert "devtools" in ignored
