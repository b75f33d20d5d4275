"""The actors of every permission test, and what they act on.

``department`` owns ``entity``; ``other_department`` is a peer; ``credit_office`` oversees all.
"""

from __future__ import annotations

import pytest
from django.test import Client

from credit_portal.accounts.actors import system_actor
from credit_portal.accounts.capabilities import StaffRole
from credit_portal.accounts.services import token_issue
from records import services
from records.models import Person
from tests import factories as f


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
