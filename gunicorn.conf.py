"""gunicorn's configuration, the same wherever the portal is served: the Docker image (and so
docker-compose), `make run` and the connection benchmark. gunicorn reads this file from the working
directory; the commands also name it (``--config gunicorn.conf.py``). Command-line options win.

The ceiling on database connections. Django keeps one connection per thread that serves requests
(for ``CONN_MAX_AGE`` seconds), and a gthread worker serves with a fixed pool of ``threads``, so one
gunicorn server holds at most

    WEB_CONCURRENCY (worker processes) × WEB_THREADS (threads each)

connections to PostgreSQL, however many clients connect: the others wait in the listen backlog and
the workers' queues, not in PostgreSQL. With the defaults, 2 × 4 = 8 (the image sets 3 workers: 12).
Every web container, Celery worker (its concurrency + 1) and beat (1) adds its share; the sum must
stay below PostgreSQL's ``max_connections`` minus its reserved connections, or below PgBouncer's
pool (README, "Database connections"). ``make bench BENCH_ARGS=--only-connections`` measures it.
"""

from __future__ import annotations

import os


def _positive(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise SystemExit(f"{name} must be at least 1, not {value}")
    return value


wsgi_app = "credit_portal.wsgi:application"
worker_class = "gthread"
workers = _positive("WEB_CONCURRENCY", 2)
threads = _positive("WEB_THREADS", 4)
# A request that takes longer than this is a bug or an attack: the worker is replaced.
timeout = 60
# Ctrl-C / SIGTERM: requests under way get this long to finish (`make run` waits 25 s in all).
graceful_timeout = 15
keepalive = 5
accesslog = "-"
# gunicorn 24+ opens a control socket in the home directory, one path for every server of the user:
# two servers (a `make run` beside the tests' or the benchmark's) would fight over it. Not needed.
control_socket_disable = True


def on_starting(server):
    """Once, in the master, before any worker: production settings refuse to start without the
    portal's public address (SITE_URL, credit_portal/links.py) and while a demo account signs in
    with the published password (credit_portal/accounts/demo.py). The workers are forked from here
    and do not check again."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credit_portal.settings.base")
    import django
    from django.core.exceptions import ImproperlyConfigured

    django.setup()
    from credit_portal.accounts.demo import refuse_demo_accounts_in_production
    from credit_portal.links import refuse_to_start_without_site_url

    try:
        refuse_to_start_without_site_url()
        refuse_demo_accounts_in_production()
    except ImproperlyConfigured as exc:
        server.log.error("%s", exc)
        raise SystemExit(1) from None
    server.log.info(
        "at most %d database connections: %d workers × %d threads",
        server.cfg.workers * server.cfg.threads,
        server.cfg.workers,
        server.cfg.threads,
    )
