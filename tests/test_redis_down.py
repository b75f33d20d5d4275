"""Redis down under a running portal: public reading goes on, rate limits count per process, staff
sign in, and the tasks that requests need wait in the outbox until Redis is back, then are handed
over exactly once. Each test runs its own Redis server (tests/private_redis.py) and points the
cache, the rate limiter, the API throttle and the Celery broker at it, with short timeouts."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
from datetime import date

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from credit_portal import circuit, ratelimit
from credit_portal.accounts.actors import system_actor
from credit_portal.api.throttling import ClientRateThrottle
from credit_portal.celery import app
from credit_portal.outbox import services as outbox
from credit_portal.outbox.models import OutboxTask
from credit_portal.workdays import services as workdays
from credit_portal.workdays import tasks as workday_tasks
from credit_portal.workdays.models import CalendarDay
from disclosure.models import CreditReport
from records.models import ImportJob
from tests.private_redis import PrivateRedis, free_port
from tests.test_imports import ITEM, csv_bytes, row

RENDER = "disclosure.tasks.render_credit_report"
IMPORT = "records.tasks.import_file"
RENEW = "credit_portal.workdays.tasks.renew_calendar_version"
# Short enough to keep every test bounded; the breaker lets a request try Redis again after this.
TIMEOUT, RETRY_AFTER = 0.3, 0.5


def _point_at(settings, url: str, *, retry_after: float = RETRY_AFTER) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            **settings.CACHES["default"],
            "LOCATION": url,
            "OPTIONS": {
                "socket_connect_timeout": TIMEOUT,
                "socket_timeout": TIMEOUT,
                "retry_after": retry_after,
            },
        },
    }


@pytest.fixture
def fresh_breakers():
    circuit.reset_all()
    ratelimit._local.clear()
    yield
    circuit.reset_all()
    ratelimit._local.clear()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def portal_on(private_redis, settings, fresh_breakers):
    """The cache (so the rate limiter, the API throttle, the calendar version) and the broker on the
    private Redis."""
    _point_at(settings, private_redis.url)
    previous = app.conf.broker_url
    app.conf.broker_url = private_redis.url
    yield private_redis
    app.conf.broker_url = previous


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def queued_messages(server: PrivateRedis, queue: str) -> list[tuple[str, list]]:
    """The tasks waiting in a queue of the broker: (task name, args)."""
    found = []
    for raw in server.client().lrange(queue, 0, -1):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], args))
    return found


def degraded_warnings(caplog, name: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "credit_portal.degraded"
        and r.levelno == logging.WARNING
        and r.getMessage().startswith(name)
    ]


# --- the fault test ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_redis_stopped_the_public_reads_staff_work_and_accepted_tasks_are_dispatched_once_it_is_back(
    portal_on, entity, clerk, department, client_for, token_for, caplog, monkeypatch
):
    caplog.set_level(logging.INFO)
    redis_server = portal_on
    monkeypatch.setattr(outbox.broker, "retry_after", 60.0)  # one attempt at handing over, then wait
    public, staff = Client(), client_for(clerk)
    agency = token_for(department, "entities:read")
    assert public.get("/", {"q": "腾讯"}).status_code == 200  # connections to Redis are open and in use
    assert redis_server.client().dbsize() > 0  # the rate limiter counted there

    redis_server.kill()

    started = time.monotonic()
    reads = {
        "/": public.get("/").status_code,
        "/?q=腾讯": public.get("/", {"q": "腾讯"}).status_code,
        f"/entities/{entity.code}/": public.get(f"/entities/{entity.code}/").status_code,
        "/pledges/": public.get("/pledges/").status_code,
        "/pledges/matters/": public.get("/pledges/matters/").status_code,
        "/api/v1/public/records/?q=腾讯": public.get("/api/v1/public/records/", {"q": "腾讯"}).status_code,
        "/api/v1/entities/ (token)": agency.get("/api/v1/entities/").status_code,
        f"/api/v1/entities/{entity.code}/ (token)": agency.get(
            f"/api/v1/entities/{entity.code}/"
        ).status_code,
    }
    assert reads == dict.fromkeys(reads, 200)
    assert "深圳市腾讯计算机系统有限公司" in public.get("/", {"q": "腾讯"}).content.decode()
    # A staff member signs in (sessions are in the database) and works.
    signed_in = Client()
    response = signed_in.post("/staff/login/", {"username": "clerk", "password": "a-long-test-password"})
    assert (response.status_code, response["Location"]) == (302, "/staff/")
    assert signed_in.get("/staff/").status_code == 200

    # A report request and an import upload are accepted, and said to start shortly.
    response = staff.post(
        "/staff/reports/",
        {"code": entity.code, "sections": ["registration"], "language": "zh-hans"},
        follow=True,
    )
    assert response.status_code == 200
    report = CreditReport.objects.get()
    page = response.content.decode()
    assert f"Report {report.number} requested and accepted: its preparation will start shortly" in page
    assert "Accepted, starts shortly" in page
    assert (
        staff.get(f"/staff/reports/{report.number}/status/").json()["status_label"]
        == "Accepted, starts shortly"
    )

    upload = SimpleUploadedFile("records.csv", csv_bytes([row(entity, "RD-1"), row(entity, "RD-2")]))
    response = staff.post(reverse("staff:import_new"), {"item": ITEM, "file": upload}, follow=True)
    assert response.status_code == 200
    job = ImportJob.objects.get()
    page = response.content.decode()
    assert "File uploaded and accepted: its import will start shortly." in page
    assert "Accepted: the import will start shortly" in page
    assert time.monotonic() - started < 15  # no request waited long for Redis

    # Nothing is lost: both are in the database with their task, waiting for the broker.
    assert (report.status, job.status) == ("queued", "queued")
    waiting = {(t.name, tuple(t.args)): t for t in OutboxTask.objects.all()}
    assert set(waiting) == {(RENDER, (report.pk,)), (IMPORT, (job.pk,))}
    assert all(t.dispatched_at is None for t in waiting.values())
    # The report's hand-over was tried once and failed; the breaker spared the import the attempt.
    assert waiting[RENDER, (report.pk,)].attempts == 1
    assert "Connection refused" in waiting[RENDER, (report.pk,)].last_error
    assert waiting[IMPORT, (job.pk,)].attempts == 0

    health = public.get("/healthz")
    assert health.status_code == 200
    assert health.content.decode().splitlines()[:5] == [
        "degraded",
        "database: ok",
        "redis: down (pages are served without the cache)",
        "rate limits: per process",
        "broker: down",
    ]
    assert public.get("/healthz", {"format": "json"}).json()["outbox_waiting"] == 2
    # Said once in the logs, however many requests met it.
    assert len(degraded_warnings(caplog, f"Redis cache 127.0.0.1:{redis_server.port}/0 unavailable")) == 1
    assert len(degraded_warnings(caplog, "Celery broker unavailable")) == 1

    # Redis is back (empty). The sweep hands over both tasks, once, however often it runs.
    redis_server.start()
    sweep = outbox.dispatch_pending()
    assert (sweep.dispatched, sweep.waiting, sweep.broker_down) == (2, 0, False)
    assert outbox.dispatch_pending().dispatched == 0
    assert queued_messages(redis_server, "pdf") == [(RENDER, [report.pk])]
    assert queued_messages(redis_server, "imports") == [(IMPORT, [job.pk])]
    assert not OutboxTask.objects.filter(dispatched_at__isnull=True).exists()
    assert staff.get(f"/staff/reports/{report.number}/status/").json()["status_label"] == "Queued"

    time.sleep(RETRY_AFTER + 0.1)  # the cache's breaker lets the next request try Redis again
    health = public.get("/healthz")
    assert (health.status_code, health.content) == (200, b"ok")
    assert public.get("/").status_code == 200
    assert degraded_warnings(caplog, f"Redis cache 127.0.0.1:{redis_server.port}/0 available again")


# --- the cache ----------------------------------------------------------------------------------


class _SilentServer:
    """Accepts connections and never answers: a Redis that hangs."""

    def __init__(self):
        self.port = free_port()
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", self.port))
        self.socket.listen(64)
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.socket.close()
        for conn in self.accepted:
            conn.close()


@pytest.mark.django_db
def test_a_hanging_redis_costs_one_timeout_then_requests_skip_it_until_the_retry(
    settings, fresh_breakers, entity, caplog
):
    caplog.set_level(logging.INFO)
    silent = _SilentServer()
    try:
        _point_at(settings, f"redis://127.0.0.1:{silent.port}/0", retry_after=30)
        public = Client()
        started = time.monotonic()
        first = public.get(f"/entities/{entity.code}/")
        first_took = time.monotonic() - started
        connections = len(silent.accepted)
        others = [public.get(url).status_code for url in ["/", "/pledges/", f"/entities/{entity.code}/"] * 3]
        later_connections = len(silent.accepted)
    finally:
        silent.close()
    assert first.status_code == 200 and others == [200] * 9
    assert TIMEOUT <= first_took < TIMEOUT + 5  # one socket timeout, once
    # Nine more requests within the breaker's 30 s: not one tried to reach Redis again.
    assert connections >= 1 and later_connections == connections
    assert len(degraded_warnings(caplog, f"Redis cache 127.0.0.1:{silent.port}/0 unavailable")) == 1


@pytest.mark.django_db
def test_the_cache_reads_miss_and_writes_are_dropped_while_redis_is_down(portal_on):
    cache.set("k", "v")
    assert cache.get("k") == "v"
    portal_on.kill()
    assert cache.get("k") is None and cache.get("k", "fallback") == "fallback"
    assert cache.add("k2", 1) is False
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("k") is False and cache.delete("k") is False
    with pytest.raises(ValueError):
        cache.incr("counter")
    cache.set("k", "v2")
    assert cache.ping() is False and cache.available() is False


# --- rate limits ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rate_limits_fall_back_to_a_per_process_count_said_in_the_logs_and_in_healthz(
    portal_on, caplog, monkeypatch
):
    caplog.set_level(logging.INFO)
    assert [ratelimit.allow("probe:1.2.3.4", limit=2, window=60) for _ in range(3)] == [True, True, False]
    assert ratelimit.per_process() is False
    portal_on.kill()
    # The shared count is out of reach: this process counts from zero, and still limits.
    assert [ratelimit.allow("probe:1.2.3.4", limit=2, window=60) for _ in range(3)] == [True, True, False]
    assert ratelimit.allow("probe:5.6.7.8", limit=2, window=60) is True
    assert ratelimit.per_process() is True
    (warning,) = degraded_warnings(caplog, f"Redis cache 127.0.0.1:{portal_on.port}/0 unavailable")
    assert "rate limits are counted per process" in warning
    health = Client().get("/healthz", {"format": "json"})
    assert health.status_code == 200
    assert (health.json()["status"], health.json()["redis"], health.json()["rate_limits"]) == (
        "degraded",
        "down",
        "per-process",
    )

    # The API throttle too: a per-process limit, not none.
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "token": "600/min"})
    statuses = [Client().get("/api/v1/public/records/", {"q": "腾讯"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# --- the working-day calendar -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_calendar_works_without_redis_and_an_edit_missed_by_redis_is_renewed_once_it_is_back(
    portal_on, django_capture_on_commit_callbacks
):
    holiday = date(2027, 3, 10)  # a Wednesday in a year the package does not cover
    assert workdays.is_working_day(holiday)
    stale_copy = workdays.get_calendar()
    version_before = cache.get("workdays:version")
    assert version_before is not None
    portal_on.client().save()  # Redis will come back from this snapshot

    portal_on.kill()
    with django_capture_on_commit_callbacks(execute=True):
        workdays.calendar_day_set(actor=system_actor("tests"), day=holiday, kind=CalendarDay.Kind.HOLIDAY)
    assert not workdays.is_working_day(holiday)
    # Another process that loaded the calendar before the outage reads it again on every call now.
    workdays._local.calendar, workdays._local.version = stale_copy, version_before
    assert not workdays.is_working_day(holiday)
    renew = OutboxTask.objects.get(name=RENEW)
    assert (renew.args, renew.dispatched_at) == ([], None)

    portal_on.start()  # back, with the version of before the edit
    time.sleep(RETRY_AFTER + 0.1)
    assert cache.get("workdays:version") == version_before
    assert outbox.dispatch_pending().dispatched == 1
    assert queued_messages(portal_on, "default") == [(RENEW, [])]
    workday_tasks.renew_calendar_version.apply()  # as the worker runs it
    assert cache.get("workdays:version") not in (None, version_before)
    workdays._local.calendar, workdays._local.version = stale_copy, version_before
    assert not workdays.is_working_day(holiday)  # the process holding the old copy reloads
