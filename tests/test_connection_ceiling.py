"""The web server's database connections stay within its pool, however many clients come: a real
gunicorn with the portal's configuration (gunicorn.conf.py), 50 concurrent clients for 5 seconds,
pg_stat_activity read during the load. (``make bench BENCH_ARGS=--only-connections``: 200 for 60.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.bench import connections as load

pytestmark = pytest.mark.django_db

WORKERS, THREADS = 2, 3


@pytest.fixture
def server(tmp_path):
    with load.gunicorn(
        workers=WORKERS,
        threads=THREADS,
        log=tmp_path / "gunicorn.log",
        settings_module="credit_portal.settings.test",
        env={"CONN_MAX_AGE": "60"},  # persistent connections: the case that exhausted PostgreSQL
    ) as server:
        yield server


def test_fifty_clients_keep_the_web_server_within_workers_times_threads_connections(server):
    result = load.load(server, clients=50, seconds=5, paths=("/healthz", "/", "/pledges/"))
    lines = []
    load.report(result, lines.append)
    summary = "\n".join(lines)
    print(summary)
    assert server.ceiling == 6
    assert result.errors == {}, summary
    assert set(result.statuses) == {200}, summary
    assert result.requests >= 50, summary
    # 50 clients, at most one connection per serving thread: never more than 6 (how many of the
    # threads a busy machine gets to start varies; every worker served).
    assert WORKERS <= result.peak_web <= server.ceiling, summary
    assert len(result.samples) >= 20, summary  # sampled all along the load
    # Persistent connections (CONN_MAX_AGE) stay open after the load, and no more appear.
    assert result.idle_web_at_end() == result.peak_web, summary


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "credit_portal.settings.test", "STATIC_ROOT": str(root)}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=load.ROOT,
        env=env,
        check=True,
    )
    return root


@pytest.mark.parametrize("debug", ["false", "true"])
def test_static_files_are_served_under_gunicorn_and_media_is_not(debug, collected_static, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    report = Path(settings.MEDIA_ROOT) / "reports" / "2026" / "10" / "CR-GUESSED-0001.pdf"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_bytes(b"%PDF-1.4 a report on disk")
    with load.gunicorn(
        workers=1,
        threads=1,
        log=tmp_path / "gunicorn.log",
        settings_module="credit_portal.settings.test",
        env={
            "DJANGO_DEBUG": debug,
            "STATIC_ROOT": str(collected_static),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        },
    ) as server:
        status, body = load.get(server.port, "/static/css/portal.css")
        assert status == 200
        assert body == (load.ROOT / "static" / "css" / "portal.css").read_bytes()
        for path in (
            "/media/reports/2026/10/CR-GUESSED-0001.pdf",
            "/static/../media/reports/2026/10/CR-GUESSED-0001.pdf",
        ):
            status, body = load.get(server.port, path)
            assert status == 404
            assert b"%PDF" not in body


def test_the_development_server_keeps_no_connection_after_its_request():
    """Django's runserver starts a thread per request: there every kept connection would linger."""
    code = (
        "import sys; sys.argv = ['manage.py', 'runserver'];"
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'credit_portal.settings.test';"
        "os.environ['CONN_MAX_AGE'] = '60';"
        "from django.conf import settings;"
        "print(settings.DATABASES['default']['CONN_MAX_AGE'])"
    )
    served = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert served.stdout.strip() == "0"
    code = code.replace("'runserver'", "'migrate'")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert other.stdout.strip() == "60"
