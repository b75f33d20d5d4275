"""The conditions a measurement ran under: CPUs, memory, load, the PostgreSQL server and its tables."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from django.db import connection

SETTINGS = (
    "shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem", "jit",
    "max_parallel_workers_per_gather", "random_page_cost", "synchronous_commit",
)  # fmt: skip
TABLES = ("records_creditrecord", "records_marketentity", "disclosure_publicindexentry")


def loadavg() -> tuple[float, float, float, str]:
    try:
        parts = Path("/proc/loadavg").read_text().split()
        return float(parts[0]), float(parts[1]), float(parts[2]), parts[3]
    except (OSError, IndexError, ValueError):
        one, five, fifteen = os.getloadavg()
        return one, five, fifteen, "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _memory() -> str:
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        total = int(info["MemTotal"].split()[0]) / 1024 / 1024
        available = int(info["MemAvailable"].split()[0]) / 1024 / 1024
        return f"{total:.1f} GiB total, {available:.1f} GiB available"
    except (OSError, KeyError, ValueError):
        return "?"


def busy_processes(interval: float = 1.0, top: int = 6) -> list[tuple[float, str]]:
    """Processes other than this one using CPU, measured over ``interval`` seconds (Linux only)."""

    def sample() -> dict[int, tuple[int, str]]:
        out = {}
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                stat = (proc / "stat").read_text()
                fields = stat.rpartition(")")[2].split()
                ticks = int(fields[11]) + int(fields[12])
                command = (
                    (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                )
                out[int(proc.name)] = (ticks, command or stat.split("(", 1)[1].split(")", 1)[0])
            except (OSError, ValueError, IndexError):
                continue
        return out

    if not Path("/proc/self/stat").exists():
        return []
    before = sample()
    time.sleep(interval)
    after = sample()
    hz = os.sysconf("SC_CLK_TCK")
    mine = {os.getpid(), os.getppid()}
    usage = []
    for pid, (ticks, command) in after.items():
        if pid in mine or pid not in before:
            continue
        cpu = (ticks - before[pid][0]) / hz / interval * 100
        if cpu >= 5:
            usage.append((cpu, f"{pid} {command[:90]}"))
    return sorted(usage, reverse=True)[:top]


def other_backends() -> list[tuple[str, str, int]]:
    """(database, state, count) of the other sessions on the PostgreSQL server."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT coalesce(datname, '-'), coalesce(state, '-'), count(*)
              FROM pg_stat_activity
             WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'
             GROUP BY 1, 2 ORDER BY 3 DESC
            """
        )
        return cursor.fetchall()


def table_sizes() -> list[tuple[str, int, str, str, str]]:
    """(table, rows, heap, indexes, total) of the benchmark's tables."""
    out = []
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is None:
                continue
            cursor.execute(
                """
                SELECT c.reltuples::bigint, pg_size_pretty(pg_relation_size(c.oid)),
                       pg_size_pretty(pg_indexes_size(c.oid)), pg_size_pretty(pg_total_relation_size(c.oid))
                  FROM pg_class c WHERE c.oid = %s::regclass
                """,
                [table],
            )
            _estimate, heap, indexes, total = cursor.fetchone()
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant table names
            out.append((table, cursor.fetchone()[0], heap, indexes, total))
    return out


def report(title: str, write) -> dict:
    """Write the machine's conditions; returns the load average for the summary."""
    one, five, fifteen, running = loadavg()
    write(f"== {title} " + "=" * max(0, 94 - len(title)))
    write(f"  time            {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    write(f"  CPU             {os.cpu_count()} × {_cpu_model()}")
    write(f"  memory          {_memory()}")
    write(f"  load average    {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min; running/total tasks {running})")
    busy = busy_processes()
    if busy:
        write("  other busy processes (CPU % over 1 s):")
        for cpu, what in busy:
            write(f"    {cpu:5.0f}%  {what}")
    else:
        write("  other busy processes: none above 5% CPU")
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        write(f"  PostgreSQL      {cursor.fetchone()[0]}")
        cursor.execute("SELECT current_database()")
        write(f"  database        {cursor.fetchone()[0]}")
        cursor.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s) ORDER BY name", [list(SETTINGS)]
        )
        settings = ", ".join(f"{n}={s}{u or ''}" for n, s, u in cursor.fetchall())
        write(f"  settings        {settings}")
    others = other_backends()
    if others:
        write("  other sessions  " + "; ".join(f"{db} {state} ×{n}" for db, state, n in others))
    else:
        write("  other sessions  none")
    for table, rows, heap, indexes, total in table_sizes():
        write(f"  {table:<27} {rows:>10,} rows   heap {heap:>8}   indexes {indexes:>8}   total {total:>8}")
    cpus = os.cpu_count() or 1
    loaded = one > 0.5 * cpus
    write(
        "  other load      "
        + (
            f"YES: load average {one:.2f} on {cpus} CPUs; expect noisy, pessimistic numbers"
            if loaded
            else "little"
        )
    )
    return {"load1": one, "busy": busy}
