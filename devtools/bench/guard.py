"""The benchmark works only on its own database. It truncates the entities and records (``--reset``),
drops their indexes and constraints for a load and rebuilds them, un-publishes and publishes records
again and builds scratch schemas: on any other database that would destroy or disturb real data.

So before it touches anything it compares the name of the database it is connected to with the
benchmark's (``credit_portal_bench``, which `make bench` creates, migrates and points it at) and
refuses any other."""

from __future__ import annotations

from collections.abc import Mapping

from devtools.devstack.config import BENCH_DATABASE_NAME


def refusal(settings_dict: Mapping[str, object]) -> str | None:
    """Why the benchmark must not run on the database of ``settings_dict`` (Django's settings of a
    connection), or None when it is the benchmark's own."""
    name = settings_dict.get("NAME")
    if name == BENCH_DATABASE_NAME:
        return None
    return (
        f"refusing to run on the database {name!r}: the benchmark truncates tables and drops indexes, "
        f"so it runs only on its own database, {BENCH_DATABASE_NAME}. Nothing was changed. "
        "Run it with `make bench` (python -m devtools.devstack bench), which creates and migrates that "
        "database on the server of DATABASE_URL (or the embedded one) and points the benchmark at it."
    )
