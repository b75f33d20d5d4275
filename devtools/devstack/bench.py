"""`make bench`: the services as `make run` has them, but the benchmark's own database, migrated; then
the benchmark (``python -m devtools.bench``) there."""

from __future__ import annotations

import os
import sys

from devtools.devstack.config import (
    BENCH,
    BENCH_DATABASE_NAME,
    LOCAL,
    Config,
    Failure,
    ensure_dev_secrets,
    say,
)
from devtools.devstack.processes import run_foreground
from devtools.devstack.services import Services
from devtools.devstack.static import collect_static


def bench(config: Config, services: Services, bench_args: list[str]) -> int:
    """Start the services as `run` does, on the benchmark's own database; migrate it; run the
    benchmark (``python -m devtools.bench``) with the arguments given. The database is kept for the
    next run."""
    LOCAL.mkdir(parents=True, exist_ok=True)
    # Measured as deployed: DEBUG off (with DEBUG on, Django records every query it runs).
    if not config.is_set("DJANGO_DEBUG"):
        os.environ["DJANGO_DEBUG"] = "false"
    if not config.is_set("SECURE_SSL_REDIRECT"):
        os.environ["SECURE_SSL_REDIRECT"] = "false"
    # Production settings need the public address; the benchmark's servers are local.
    if not config.is_set("SITE_URL"):
        os.environ["SITE_URL"] = "http://127.0.0.1"
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    ensure_dev_secrets(config)
    services.start(config, BENCH, for_tests=False, database=BENCH_DATABASE_NAME)
    for line in services.descriptions:
        say(line)
    manage = [sys.executable, "manage.py"]
    if run_foreground([*manage, "migrate", "--noinput", "--verbosity", "1"]) != 0:
        raise Failure("`manage.py migrate` failed (see above)")
    collect_static(manage)  # the pages are rendered with DEBUG off: they need the static manifest
    code = run_foreground([sys.executable, "-m", "devtools.bench", *bench_args], stop_after=False)
    return 128 - code if code < 0 else code
