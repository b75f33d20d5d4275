"""The actors of every permission test, and what they act on.

``department`` owns ``entity``; ``other_department`` is a peer; ``credit_office`` oversees all.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from credit_portal.accounts.actors import system_actor
from credit_portal.accounts.capabilities import StaffRole
from credit_portal.accounts.services import token_issue
from records import services
from records.models import Person
from tests import factories as f

# --- the clock -----------------------------------------------------------------------------------
# No test may depend on the day it runs. A test whose behaviour depends on "today" sets it with the
# ``today`` fixture (or computes its dates from ``timezone.localdate()``). ``make test`` runs the
# suite a second time with the whole clock moved a year ahead (``--clock-shift-days=365``), so a
# test that compares with a fixed date while the code uses the real today fails there, not next year.

SHANGHAI = ZoneInfo("Asia/Shanghai")


def pytest_addoption(parser):
    parser.addoption(
        "--clock-shift-days",
        type=int,
        default=int(os.environ.get("CP_TEST_CLOCK_SHIFT_DAYS") or 0),
        help="run the whole suite with the clock moved this many days (the clock keeps ticking)",
    )


def pytest_configure(config):
    shift = config.getoption("--clock-shift-days")
    if shift:
        traveller = time_machine.travel(datetime.now(SHANGHAI) + timedelta(days=shift), tick=True)
        traveller.start()
        config._clock_traveller = traveller


def pytest_unconfigure(config):
    traveller = getattr(config, "_clock_traveller", None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config):
    shift = config.getoption("--clock-shift-days")
    if shift:
        return f"clock moved {shift} days ahead: today is {datetime.now(SHANGHAI).date()}"
    return None


@pytest.fixture
def today(time_machine):
    """Set the day the test runs on: ``today(date(2026, 10, 9))`` stops the clock at 10:00 that day
    (Beijing time) and returns the date; ``tick=True`` lets it run on from there (for tests that
    order by timestamps). Without a call the clock is the real one."""

    def set_today(day: date, at: time = time(10, 0), *, tick: bool = False) -> date:
        time_machine.move_to(datetime.combine(day, at, tzinfo=SHANGHAI), tick=tick)
        return day

    return set_today


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters and the calendar version live in Redis, the names of small tables in
    per-process memos and rendered page pieces in the process's fragment cache: start each test
    clean. And in the settings' language: a request through
    the test client leaves the language it asked for active in the thread."""
    from django.core.cache import cache, caches
    from django.utils import translation

    from credit_portal.memo import forget_all

    cache.clear()
    caches["template_fragments"].clear()
    forget_all()
    translation.deactivate()
    yield


@pytest.fixture
def department(db):
    return f.department("SZ-TEST")


@pytest.fixture
def other_department(db):
    return f.department("GZ-TEST", division="440100")


@pytest.fixture
def credit_office_department(db):
    return f.department("GD-CREDIT", division="440000", level="provincial")


@pytest.fixture
def clerk(department):
    return f.staff(department, StaffRole.CLERK, "clerk")


@pytest.fixture
def reviewer(department):
    return f.staff(department, StaffRole.REVIEWER, "reviewer")


@pytest.fixture
def department_admin(department):
    return f.staff(department, StaffRole.DEPARTMENT_ADMIN, "dept_admin")


@pytest.fixture
def other_department_clerk(other_department):
    return f.staff(other_department, StaffRole.CLERK, "other_clerk")


@pytest.fixture
def other_department_reviewer(other_department):
    return f.staff(other_department, StaffRole.REVIEWER, "other_reviewer")


@pytest.fixture
def credit_officer(credit_office_department):
    return f.staff(credit_office_department, StaffRole.CREDIT_OFFICE, "credit_officer")


@pytest.fixture
def legal_rep_id():
    return f.resident_id()


@pytest.fixture
def entity(department, legal_rep_id):
    return f.entity(
        department,
        code=f.uscc(n=1),
        name_zh="深圳市腾讯计算机系统有限公司",
        name_en="Shenzhen Tencent Computer Systems Co., Ltd.",
        legal_representative=services.PersonInput(
            name="马某某", id_type=Person.IdType.RESIDENT_ID, id_number=legal_rep_id
        ),
    )


@pytest.fixture
def other_entity(other_department):
    return f.entity(
        other_department,
        code=f.uscc(n=2, division="440106"),
        name_zh="广州市星辰贸易有限公司",
        division="440106",
    )


def _member(user, entity, role="legal_representative"):
    claim = services.claim_submit(actor=_actor(user), code=entity.code, role=role)
    services.claim_decide(actor=system_actor("tests"), claim_id=claim.pk, approve=True)
    return user


def _actor(user):
    from credit_portal.accounts.actors import actor_for_user

    return actor_for_user(user)


@pytest.fixture
def entity_user(entity):
    return _member(f.entity_user("entity_user"), entity)


@pytest.fixture
def other_entity_user(other_entity):
    return _member(f.entity_user("other_entity_user"), other_entity)


@pytest.fixture
def client_for():
    """A logged-in test client for a user (or an anonymous one for None)."""

    def make(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def token_for():
    """An API client authenticated with a fresh token of ``department`` with ``scopes``."""

    def make(department, scopes):
        _, secret = token_issue(
            actor=system_actor("tests"), department=department, scopes=scopes, name="test"
        )
        return Client(headers={"Authorization": f"Bearer {secret}"})

    return make


@pytest.fixture
def published(monkeypatch):
    """Stands in for the broker behind the task outbox (``credit_portal.outbox``): the list of
    ``(task name, args)`` handed over, in order. Tasks are handed over after commit: use
    ``django_capture_on_commit_callbacks(execute=True)`` or a transactional test."""
    from credit_portal.outbox import services as outbox

    sent: list[tuple[str, list]] = []
    monkeypatch.setattr(outbox, "_publish", lambda connection, name, args: sent.append((name, args)))
    return sent


class HandedOver:
    """The calls of one task in ``published``, read as a mock's calls are (``call_args_list`` of
    ``(args, kwargs)`` with ``.args``, ``call_count``, ``assert_not_called``)."""

    def __init__(self, sent: list, name: str):
        self._sent, self._name = sent, name

    @property
    def call_args_list(self):
        from collections import namedtuple

        call = namedtuple("call", "args kwargs")
        return [call(tuple(args), {}) for name, args in self._sent if name == self._name]

    @property
    def call_count(self) -> int:
        return len(self.call_args_list)

    def assert_not_called(self) -> None:
        assert self.call_count == 0, self.call_args_list
