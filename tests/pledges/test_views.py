"""The pledge doors over HTTP: the permission matrix of every new view, the forms end to end (a
pledge signed in ``/my/``, a breach confirmed by staff), escaping of what people typed, the report
page with its chart and CSV, and bounded query counts on the list pages."""

from __future__ import annotations

import csv
import io
import itertools
import re
import threading
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from credit_portal.accounts.actors import actor_for_user
from credit_portal.audit.models import AuditEvent
from credit_portal.errors import Conflict
from credit_portal.notices.models import Notice
from pledges import services
from pledges.models import (
    BreachNotice,
    ComplianceMaterial,
    EducationAcknowledgement,
    MaterialSubmission,
    Matter,
    PermitApplication,
    Pledge,
    PledgeTemplate,
    RemedyRule,
)
from pledges.services import applications
from records.models import CreditRecord, IndustryAssociation
from tests.pledges.support import BASIS, SIGNER, apply, image, pdf, sign

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
ACTORS = [
    "anonymous",
    "entity_user",
    "other_entity_user",
    "association_user",
    "clerk",
    "other_department_reviewer",
    "reviewer",
    "credit_officer",
]
ENTITY_USERS = {"entity_user", "other_entity_user", "association_user"}
STAFF = {"clerk", "other_department_reviewer", "reviewer", "credit_officer"}


def state() -> dict:
    """Everything a pledge view could change."""
    out = {
        m.__name__: m.objects.count()
        for m in (
            Matter,
            PledgeTemplate,
            ComplianceMaterial,
            PermitApplication,
            MaterialSubmission,
            Pledge,
            CreditRecord,
            EducationAcknowledgement,
            AuditEvent,
            Notice,
            IndustryAssociation,
            RemedyRule,
            BreachNotice,
        )
    }
    out["applications"] = sorted(PermitApplication.objects.values_list("number", "status"))
    out["pledges"] = sorted(Pledge.objects.values_list("number", "status"))
    out["matters"] = sorted(Matter.objects.values_list("code", "name_zh", "is_published"))
    out["members"] = sorted(IndustryAssociation.members.through.objects.values_list("pk", flat=True))
    return out


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def as_actor(request, client_for):
    def make(name: str) -> Client:
        if name == "anonymous":
            return Client()
        return client_for(request.getfixturevalue(name))

    return make


@pytest.fixture
def world(matter, materials, entity_actor, entity, association, association_user, other_entity_user):
    """An application accepted with a material to follow (its pledge in force), one submitted
    without a pledge, and the association with ``entity`` as its member."""
    pending = apply(entity_actor, matter, entity, missing=materials[2:], pledge=sign())
    plain = apply(entity_actor, matter, entity)
    return {
        "matter": matter,
        "entity": entity,
        "pending": pending,
        "plain": plain,
        "pledge": pending.pledge,
        "submission": pending.submissions.first(),
        "association": association,
        "materials": materials,
    }


# --- the matrix ---------------------------------------------------------------------------------

# Each view: (name, method, url(world), data(world) or None, expected per actor).
# Expected statuses default by door; a view lists only its exceptions.


def _staff(
    list_page: bool, credit_office: int = 200, success: int = 200, other_department: int | None = None
):
    return {
        "anonymous": 302,
        "entity_user": 403,
        "other_entity_user": 403,
        "association_user": 403,
        "clerk": 403,
        "other_department_reviewer": other_department
        if other_department is not None
        else (200 if list_page else 404),
        "reviewer": success,
        "credit_officer": credit_office,
    }


def _my(object_page: bool, other: int | None = None, association: int | None = None, own: int = 200):
    other_status = other if other is not None else (404 if object_page else 200)
    return {
        "anonymous": 302,
        "entity_user": own,
        "other_entity_user": other_status,
        "association_user": association if association is not None else other_status,
        "clerk": 403,
        "other_department_reviewer": 403,
        "reviewer": 403,
        "credit_officer": 403,
    }


PUBLIC = dict.fromkeys(ACTORS, 200)
# The permit decision a reviewer enters to approve (the dates are computed when the test runs).
PERMIT_POST = {
    "decision_number": "深市监许〔2026〕0456号",
    "decision_doc_name": "食品经营许可决定书",
    "permit_category": "ordinary",
    "certificate_name": "食品经营许可证",
    "certificate_number": "JY14403050004567",
    "content": "准予食品经营许可：热食类食品制售。",
}


def _permit_post(**overrides):
    today = timezone.localdate()
    return {
        **PERMIT_POST,
        "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=5 * 365)).isoformat(),
        **overrides,
    }


ORGANISATIONS = {**dict.fromkeys(ACTORS, 403), "anonymous": 302, "credit_officer": 200}


def _matter_url(w, suffix=""):
    return f"/staff/pledges/matters/{w['matter'].pk}/{suffix}"


def _matter_post(w):
    m = w["matter"]
    data = {
        "code": m.code,
        "name_zh": "食品经营许可（修订）",
        "name_en": "",
        "description_zh": "",
        "description_en": "",
        "pledge_allowed": "on",
        "materials_due_days": "15",
        "statutory_days": "10",
        "is_published": "on",
        "materials-TOTAL_FORMS": "0",
        "materials-INITIAL_FORMS": "0",
        "materials-MIN_NUM_FORMS": "0",
        "materials-MAX_NUM_FORMS": "40",
    }
    for i, material in enumerate(w["materials"]):
        data.update(
            {
                f"materials-{i}-id": str(material.pk),
                f"materials-{i}-name_zh": material.name_zh,
                f"materials-{i}-name_en": material.name_en,
            }
        )
        if material.pledge_may_replace:
            data[f"materials-{i}-pledge_may_replace"] = "on"
    data["materials-TOTAL_FORMS"] = str(len(w["materials"]))
    data["materials-INITIAL_FORMS"] = str(len(w["materials"]))
    return data


VIEWS = [
    # public
    ("public pledges", "get", lambda w: "/pledges/", None, PUBLIC),
    ("public pledges by code", "get", lambda w: f"/pledges/?code={w['entity'].code}", None, PUBLIC),
    ("public pledge", "get", lambda w: f"/pledges/{w['pledge'].number}/", None, PUBLIC),
    ("public matters", "get", lambda w: "/pledges/matters/", None, PUBLIC),
    ("public matter", "get", lambda w: f"/pledges/matters/SZ-TEST/{w['matter'].code}/", None, PUBLIC),
    # my
    ("my home", "get", lambda w: "/my/pledges/", None, _my(False)),
    ("my choose", "get", lambda w: "/my/pledges/apply/", None, _my(False)),
    ("my apply page", "get", lambda w: f"/my/pledges/apply/SZ-TEST/{w['matter'].code}/", None, _my(False)),
    (
        "my apply post",
        "post",
        lambda w: f"/my/pledges/apply/SZ-TEST/{w['matter'].code}/",
        lambda w: {"entity": w["entity"].code},  # an incomplete application: 400 for its own user
        _my(False, other=404, own=400),
    ),
    (
        "my acknowledge",
        "post",
        lambda w: f"/my/pledges/apply/SZ-TEST/{w['matter'].code}/acknowledge/",
        lambda w: {"entity": w["entity"].code},
        _my(False, other=404, own=302),
    ),
    ("my application", "get", lambda w: f"/my/applications/{w['pending'].number}/", None, _my(True)),
    ("my sign page", "get", lambda w: f"/my/applications/{w['plain'].number}/sign/", None, _my(True)),
    (
        "my sign post",
        "post",
        lambda w: f"/my/applications/{w['plain'].number}/sign/",
        lambda w: {"template_version": "1", "signer_name": SIGNER, "confirmed": "on"},
        _my(True, own=302),
    ),
    (
        "my material upload",
        "post",
        lambda w: f"/my/applications/{w['pending'].number}/materials/",
        lambda w: {"material": str(w["materials"][2].pk), "file": pdf()},
        _my(True, own=302),
    ),
    (
        "my material download",
        "get",
        lambda w: f"/my/applications/{w['pending'].number}/materials/{w['submission'].pk}/",
        None,
        _my(True),
    ),
    ("my pledge", "get", lambda w: f"/my/pledges/{w['pledge'].number}/", None, _my(True)),
    (
        "my defence",
        "post",
        lambda w: f"/my/pledges/{w['pledge'].number}/defence/",
        lambda w: {"defence": "陈述申辩"},
        _my(True, own=302),  # no notice awaits a defence: refused with a message, redirected
    ),
    ("my public pledge page", "get", lambda w: "/my/pledges/public/new/", None, _my(False)),
    (
        "my public pledge post",
        "post",
        lambda w: "/my/pledges/public/new/",
        lambda w: {"entity": w["entity"].code, "text": "诚信经营", "signer_name": SIGNER, "confirmed": "on"},
        _my(False, other=400, own=302),  # another entity's code is not one of the choices
    ),
    (
        "my association page",
        "get",
        lambda w: "/my/pledges/association/new/",
        None,
        _my(False, other=404, association=200, own=404),
    ),
    (
        "my association post",
        "post",
        lambda w: "/my/pledges/association/new/",
        lambda w: {
            "association": str(w["association"].pk),
            "member": w["entity"].code,
            "text": "遵守协会公约",
            "signer_name": SIGNER,
            "confirmed": "on",
        },
        _my(False, other=404, association=302, own=404),
    ),
    # staff
    ("staff queue", "get", lambda w: "/staff/pledges/applications/", None, _staff(True)),
    (
        "staff application",
        "get",
        lambda w: f"/staff/pledges/applications/{w['pending'].number}/",
        None,
        _staff(False),
    ),
    (
        "staff decide",
        "post",
        lambda w: f"/staff/pledges/applications/{w['pending'].number}/decide/",
        lambda w: {"decision": "approve", "reason": "符合条件", **_permit_post()},
        _staff(False, credit_office=404, success=302),
    ),
    (
        "staff material download",
        "get",
        lambda w: f"/staff/pledges/applications/{w['pending'].number}/materials/{w['submission'].pk}/",
        None,
        _staff(False),
    ),
    ("staff pledges", "get", lambda w: "/staff/pledges/", None, _staff(True)),
    ("staff pledge", "get", lambda w: f"/staff/pledges/{w['pledge'].number}/", None, _staff(False)),
    (
        "staff breach",
        "post",
        lambda w: f"/staff/pledges/{w['pledge'].number}/breach/",
        lambda w: {
            "breach-reason": "现场检查发现与承诺不符",
            "breach-severity": "general",
            "breach-legal_basis": BASIS,
            "breach-channel": "portal",
        },
        _staff(False, credit_office=404, success=302),
    ),
    # Confirming and dropping a finding: their own matrix below, over a pledge under notice.
    (
        "staff accept late",
        "post",
        lambda w: f"/staff/pledges/{w['pledge'].number}/accept-late/",
        lambda w: {"late-reason": "x"},
        _staff(False, credit_office=404, success=302),  # not overdue: refused with a message, redirected
    ),
    ("staff report", "get", lambda w: "/staff/pledges/report/", None, _staff(True)),
    (
        "staff report csv",
        "get",
        lambda w: "/staff/pledges/report/?start=2026-01-01&end=2026-12-31&format=csv",
        None,
        _staff(True),
    ),
    ("staff matters", "get", lambda w: "/staff/pledges/matters/", None, _staff(True)),
    ("staff matter new", "get", lambda w: "/staff/pledges/matters/new/", None, _staff(True)),
    ("staff matter edit", "get", lambda w: _matter_url(w), None, _staff(False, credit_office=404)),
    (
        "staff matter save",
        "post",
        lambda w: _matter_url(w),
        _matter_post,
        _staff(False, credit_office=404, success=302),
    ),
    (
        "staff template page",
        "get",
        lambda w: _matter_url(w, "template/"),
        None,
        _staff(False, credit_office=404),
    ),
    (
        "staff template post",
        "post",
        lambda w: _matter_url(w, "template/"),
        lambda w: {"text_zh": "新版承诺", "consequences_zh": "新版后果"},
        _staff(False, credit_office=404, success=302),
    ),
    (
        "staff education page",
        "get",
        lambda w: _matter_url(w, "education/"),
        None,
        _staff(False, credit_office=404),
    ),
    (
        "staff education post",
        "post",
        lambda w: _matter_url(w, "education/"),
        lambda w: {"title_zh": "须知", "body_zh": "正文", "order": "0"},
        _staff(False, credit_office=404, success=302),
    ),
    # The wording of the remedies: read by the departments deciding breaches, kept by the credit office.
    ("staff remedies", "get", lambda w: "/staff/pledges/remedies/", None, _staff(True)),
    (
        "staff remedy save",
        "post",
        lambda w: "/staff/pledges/remedies/",
        lambda w: {
            "kind": "litigation",
            "effective_from": "2027-01-01",
            "text_zh": "也可以自知道该认定之日起六个月内依法提起行政诉讼。",
            "text_en": "You may sue within 6 months.",
            "basis_zh": "《中华人民共和国行政诉讼法》第四十六条第一款",
            "basis_en": "Administrative Litigation Law, Article 46(1)",
        },
        {**_staff(True, credit_office=302), "reviewer": 403, "other_department_reviewer": 403},
    ),
    ("associations", "get", lambda w: "/staff/associations/", None, ORGANISATIONS),
    ("association", "get", lambda w: f"/staff/associations/{w['association'].pk}/", None, ORGANISATIONS),
    (
        "association member remove",
        "post",
        lambda w: f"/staff/associations/{w['association'].pk}/",
        lambda w: {"action": "remove", "code": w["entity"].code},
        {**ORGANISATIONS, "credit_officer": 302},
    ),
]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "method", "url", "data", "expected"), VIEWS, ids=[v[0] for v in VIEWS])
def test_permission_matrix(world, as_actor, actor, name, method, url, data, expected):
    client = as_actor(actor)
    before = state()
    target = url(world)
    response = client.get(target) if method == "get" else client.post(target, data(world))
    status = expected[actor]
    assert response.status_code == status, (name, actor, response.status_code)
    if status == 302 and actor == "anonymous":
        door = "staff" if target.startswith("/staff/") else "my"
        assert response["Location"].startswith(f"/{door}/login/?next=")
    if status in (302, 400, 403, 404) and not (status == 302 and actor != "anonymous"):
        assert state() == before, (name, actor)
    if status in (403, 404):
        body = text(response).replace(target, "")  # the language switch echoes the path asked for
        assert world["pledge"].number not in body
        assert world["entity"].code not in body


# --- the decision on an intended finding, over every actor ----------------------------------------

# Token recipes: (department fixture, scopes). A token opens the API only: on a staff page it is
# no session, and gets the login page like anyone signed out.
TOKENS = {
    "token": ("department", ["records:write", "records:read", "entities:read"]),
    "other_token": ("other_department", ["records:write", "records:read", "entities:read"]),
}
DECISION_ACTORS = [*ACTORS, *TOKENS]
DECIDE = {
    **_staff(False, credit_office=404, success=302),
    **dict.fromkeys(TOKENS, 302),
}


@pytest.fixture
def noticed(
    today, matter, materials, entity_actor, entity, reviewer_actor, association_user, other_entity_user
):
    """A pledge in force (a material to follow by 2026-10-30) under a notice served through the
    portal on 2026-09-28 whose defence window closed on 2026-10-10 without an answer: today,
    2026-10-12, the finding may be confirmed or dropped."""
    today(date(2026, 9, 28))
    application = apply(entity_actor, matter, entity, missing=materials[2:], pledge=sign())
    pledge = application.pledge
    notice = services.pledge_breach_notify(
        actor=reviewer_actor,
        number=pledge.number,
        grounds="逾期未补齐管理制度，经催告仍未补齐。",
        legal_basis=BASIS,
    )
    today(date(2026, 10, 12))
    return {"pledge": pledge, "notice": notice, "entity": entity}


def _decision_state(w) -> dict:
    pledge = Pledge.objects.get(pk=w["pledge"].pk)
    notice = BreachNotice.objects.get(pk=w["notice"].pk)
    return {
        "pledge": (pledge.status, pledge.performance_record_id, pledge.settled_at),
        "notice": (notice.status, notice.decided_at, notice.decision_reason, notice.remedies_zh),
        "records": CreditRecord.objects.count(),
        "audit": AuditEvent.objects.count(),
        "notices": Notice.objects.count(),
    }


@pytest.fixture
def as_decider(request, client_for, token_for):
    def make(name: str) -> Client:
        if name == "anonymous":
            return Client()
        if name in TOKENS:
            department, scopes = TOKENS[name]
            return token_for(request.getfixturevalue(department), scopes)
        return client_for(request.getfixturevalue(name))

    return make


@pytest.mark.parametrize("actor", DECISION_ACTORS)
def test_confirming_a_breach_over_every_actor(noticed, as_decider, actor):
    client = as_decider(actor)
    before = _decision_state(noticed)
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    number = noticed["pledge"].number
    response = client.post(
        f"/staff/pledges/{number}/breach/confirm/", {"confirm-reason": "逾期未申辩，认定失信。"}
    )
    assert response.status_code == DECIDE[actor], (actor, response.status_code)
    if actor == "reviewer":
        assert response["Location"] == f"/staff/pledges/{number}/"
        after = _decision_state(noticed)
        pledge = Pledge.objects.get(pk=noticed["pledge"].pk)
        notice = BreachNotice.objects.get(pk=noticed["notice"].pk)
        assert (pledge.status, notice.status, notice.decision_reason, notice.restoration_from) == (
            "broken",
            "confirmed",
            "逾期未申辩，认定失信。",
            date(2027, 1, 12),
        )
        assert pledge.performance_record.item.code == "pledge_breach"
        assert after["records"] == before["records"] + 1
        actions = list(
            AuditEvent.objects.filter(pk__gt=last_event).order_by("pk").values_list("action", flat=True)
        )
        assert actions == ["records.record.created", "pledges.pledge.broken", "notices.sent"]
        assert Notice.objects.filter(kind="pledges.broken").count() == 1
        return
    if DECIDE[actor] == 302:
        assert response["Location"].startswith("/staff/login/?next=")
    assert _decision_state(noticed) == before, actor
    if DECIDE[actor] in (403, 404):
        assert number not in text(response).replace(f"/staff/pledges/{number}/breach/confirm/", "")


@pytest.mark.parametrize("actor", DECISION_ACTORS)
def test_dropping_a_finding_over_every_actor(noticed, as_decider, actor):
    client = as_decider(actor)
    before = _decision_state(noticed)
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    number = noticed["pledge"].number
    response = client.post(f"/staff/pledges/{number}/breach/drop/", {"drop-reason": "复核后不予认定。"})
    assert response.status_code == DECIDE[actor], (actor, response.status_code)
    if actor == "reviewer":
        assert response["Location"] == f"/staff/pledges/{number}/"
        after = _decision_state(noticed)
        pledge = Pledge.objects.get(pk=noticed["pledge"].pk)
        notice = BreachNotice.objects.get(pk=noticed["notice"].pk)
        # Before its due date with a material still to follow: in force again.
        assert (pledge.status, notice.status, notice.decision_reason) == (
            "active",
            "dropped",
            "复核后不予认定。",
        )
        assert after["records"] == before["records"]
        actions = list(
            AuditEvent.objects.filter(pk__gt=last_event).order_by("pk").values_list("action", flat=True)
        )
        assert actions == ["pledges.breach.dropped", "notices.sent"]
        assert Notice.objects.filter(kind="pledges.breach_dropped").count() == 1
        return
    if DECIDE[actor] == 302:
        assert response["Location"].startswith("/staff/login/?next=")
    assert _decision_state(noticed) == before, actor
    if DECIDE[actor] in (403, 404):
        assert number not in text(response).replace(f"/staff/pledges/{number}/breach/drop/", "")


# --- the forms end to end -----------------------------------------------------------------------


def test_signing_a_pledge_in_my_applies_and_shows_what_breaking_it_means(
    client_for, entity_user, entity, matter, materials
):
    client = client_for(entity_user)
    url = f"/my/pledges/apply/SZ-TEST/{matter.code}/"
    page = client.get(url)
    assert page.status_code == 200
    body = text(page)
    assert "本申请人郑重承诺" in body and "如承诺不实" in body  # the exact text and its consequences
    assert "I have read this" in body  # the acknowledgement is offered, never required
    data = {
        "entity": entity.code,
        "template_version": "1",
        f"file_{materials[0].pk}": pdf(),
        f"file_{materials[1].pk}": image(),
        f"missing_{materials[2].pk}": "on",
        "sign": "on",
        "signer_name": SIGNER,
        "confirmed": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    application = PermitApplication.objects.get()
    assert response["Location"] == f"/my/applications/{application.number}/"
    assert application.status == "accepted_pending"
    detail = text(client.get(response["Location"]))
    assert application.pledge.number in detail
    assert "What breaking this pledge means" in detail and "如承诺不实" in detail
    printable = text(client.get(f"/my/pledges/{application.pledge.number}/"))
    assert SIGNER in printable and "本申请人郑重承诺" in printable and "pledges/print.css" in printable


def test_the_same_form_sent_twice_makes_one_application(client_for, entity_user, entity, matter, materials):
    client = client_for(entity_user)
    url = f"/my/pledges/apply/SZ-TEST/{matter.code}/"
    key = re.search(r'name="submission" value="([0-9a-f-]{36})"', text(client.get(url))).group(1)
    # Each showing of the form draws its own key.
    assert key not in text(client.get(url))

    def data():
        return {
            "entity": entity.code,
            "template_version": "1",
            "submission": key,
            f"file_{materials[0].pk}": pdf(),
            f"file_{materials[1].pk}": image(),
            f"missing_{materials[2].pk}": "on",
            "sign": "on",
            "signer_name": SIGNER,
            "confirmed": "on",
        }

    first = client.post(url, data())
    assert first.status_code == 302
    after_first = state()
    second = client.post(url, data())  # a double click, or the browser resending
    assert (second.status_code, second["Location"]) == (302, first["Location"])
    assert state() == after_first
    assert PermitApplication.objects.get().submission_key == uuid.UUID(key)


def test_field_errors_are_clear_and_nothing_is_half_written(
    client_for, entity_user, entity, matter, materials
):
    client = client_for(entity_user)
    before = state()
    response = client.post(
        f"/my/pledges/apply/SZ-TEST/{matter.code}/",
        {
            "entity": entity.code,
            "template_version": "1",
            f"file_{materials[0].pk}": io.BytesIO(b"<html><script>alert(1)</script></html>"),
            f"missing_{materials[1].pk}": "on",
            "signer_name": "",
        },
    )
    assert response.status_code == 400
    body = text(response)
    assert "Please correct the following" in body
    assert "Only PDF, JPEG and PNG files are accepted." in body
    assert "Only a signed pledge lets a material follow later" in body
    assert state() == before


def test_materials_after_a_confirmed_breach_are_refused_with_a_clear_error(
    client_for, entity_user, reviewer, world
):
    pledge = world["pledge"]
    staff = client_for(reviewer)
    client = client_for(entity_user)
    response = staff.post(
        f"/staff/pledges/{pledge.number}/breach/",
        {
            "breach-reason": "现场检查发现与承诺不符",
            "breach-severity": "general",
            "breach-legal_basis": BASIS,
            "breach-channel": "portal",
        },
    )
    assert response.status_code == 302
    # The notice first, then the entity's defence, then the decision.
    response = client.post(f"/my/pledges/{pledge.number}/defence/", {"defence": "材料正在准备中。"})
    assert response.status_code == 302
    response = staff.post(f"/staff/pledges/{pledge.number}/breach/confirm/", {"confirm-reason": "理由不成立"})
    assert response.status_code == 302
    pledge.refresh_from_db()
    assert pledge.status == "broken"
    before = state()
    response = client.post(
        f"/my/applications/{world['pending'].number}/materials/",
        {"material": str(world["materials"][2].pk), "file": pdf()},
    )
    assert response.status_code == 400
    assert "materials are no longer accepted" in text(response)
    assert state() == before
    home = text(client.get("/my/pledges/"))
    assert "What breaking a pledge means" in home and "Broken" in home


def test_the_breach_form_sets_the_severity_of_the_negative_record_and_refuses_an_unknown_one(
    client_for, reviewer, world, entity_actor
):
    pledge = world["pledge"]
    staff = client_for(reviewer)
    url = f"/staff/pledges/{pledge.number}/breach/"
    assert 'name="breach-severity"' in text(staff.get(f"/staff/pledges/{pledge.number}/"))
    before = state()
    for severity in ("catastrophic", "minor"):
        response = staff.post(url, {"breach-reason": "虚假承诺", "breach-severity": severity})
        assert response.status_code == 400
        assert "Select a valid choice" in text(response)
        assert state() == before
    with pytest.raises(ValidationError, match="general or a serious breach"):
        services.pledge_breach_notify(
            actor=actor_for_user(reviewer),
            number=pledge.number,
            grounds="虚假承诺",
            severity="minor",
            legal_basis=BASIS,
        )
    assert state() == before
    response = staff.post(
        url,
        {
            "breach-reason": "虚假承诺",
            "breach-severity": "serious",
            "breach-legal_basis": BASIS,
            "breach-channel": "portal",
        },
    )
    assert response.status_code == 302
    services.pledge_breach_answer(actor=entity_actor, number=pledge.number, defence="承诺属实。")
    response = staff.post(f"{url}confirm/", {"confirm-reason": "现场核查与承诺不符，申辩不成立。"})
    assert response.status_code == 302
    pledge.refresh_from_db()
    record = pledge.performance_record
    assert (pledge.status, record.item.code, record.item.polarity, record.severity) == (
        "broken",
        "pledge_breach",
        "negative",
        "serious",
    )


def test_what_people_type_is_escaped(client_for, entity_user, entity, reviewer_actor, entity_actor):
    evil = "<script>alert('x')</script>"
    matter = services.matter_save(
        actor=reviewer_actor,
        data=services.MatterInput(code="evil", name_zh=f"许可{evil}", description_zh=f"<b>{evil}</b>"),
        materials=[services.MaterialInput(name_zh='<img src=x onerror="alert(1)">', pledge_may_replace=True)],
    )
    services.pledge_template_publish(
        actor=reviewer_actor, matter_id=matter.pk, text_zh=f"承诺{evil}", consequences_zh=f"后果{evil}"
    )
    pledge = services.public_pledge_publish(
        actor=entity_actor,
        entity_code=entity.code,
        text=f"公开承诺{evil}",
        signature=services.Signature(signer_name=SIGNER, confirmed=True),
    )
    client = client_for(entity_user)
    pages = [
        Client().get("/pledges/matters/"),
        Client().get("/pledges/matters/SZ-TEST/evil/"),
        Client().get("/pledges/"),
        Client().get(f"/pledges/{pledge.number}/"),
        client.get("/my/pledges/apply/SZ-TEST/evil/"),
        client.get(f"/my/pledges/{pledge.number}/"),
    ]
    for response in pages:
        body = text(response)
        assert response.status_code == 200
        assert "<script>alert" not in body
        assert "<img src=x" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text(pages[3])


def test_a_nul_byte_in_a_form_is_a_field_error(client_for, entity_user, entity):
    client = client_for(entity_user)
    before = state()
    response = client.post(
        "/my/pledges/public/new/",
        {"entity": entity.code, "text": "承诺\x00", "signer_name": SIGNER, "confirmed": "on"},
    )
    assert response.status_code == 400
    assert "Null characters are not allowed." in text(response)
    assert state() == before


def test_the_report_page_has_the_table_the_chart_and_a_safe_csv(
    client_for, reviewer, reviewer_actor, entity_actor, entity
):
    matter = services.matter_save(
        actor=reviewer_actor,
        data=services.MatterInput(code="formula", name_zh='=HYPERLINK("http://x")许可'),
        materials=[],
    )
    services.pledge_template_publish(
        actor=reviewer_actor, matter_id=matter.pk, text_zh="承诺", consequences_zh="后果"
    )
    for days, pledged in ((2, True), (4, True), (9, False)):
        application = apply(entity_actor, matter, entity, pledge=sign() if pledged else None)
        PermitApplication.objects.filter(pk=application.pk).update(
            status="approved", decided_at=datetime(2026, 6, 1, 10, tzinfo=SHANGHAI), processing_days=days
        )
    client = client_for(reviewer)
    page = client.get("/staff/pledges/report/", {"start": "2026-01-01", "end": "2026-12-31"})
    assert page.status_code == 200
    body = text(page)
    assert 'role="img"' in body and '<title id="processing-chart-title">' in body
    assert "<script" not in body.split("<main", 1)[1]
    assert ">3<" in body and ">9<" in body  # medians 3 (2, 4) and 9; counts 2 and 1
    response = client.get(
        "/staff/pledges/report/", {"start": "2026-01-01", "end": "2026-12-31", "format": "csv"}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1] == ["SZ-TEST", "formula", '\'=HYPERLINK("http://x")许可', "3", "2", "9", "1"]
    bad = client.get("/staff/pledges/report/", {"start": "2026-12-31", "end": "2026-01-01"})
    assert bad.status_code == 400
    # Five years are counted in calendar months (leap days included), not in days of 366.
    over = client.get("/staff/pledges/report/", {"start": "2021-01-02", "end": "2026-01-06"})
    assert over.status_code == 400
    assert (
        client.get("/staff/pledges/report/", {"start": "2021-01-06", "end": "2026-01-06"}).status_code == 200
    )
    # A period ending at the end of time stops at today instead of failing.
    assert (
        client.get("/staff/pledges/report/", {"start": "9999-06-01", "end": "9999-12-31"}).status_code == 200
    )


def test_staff_pages_render_in_both_languages(client_for, reviewer, world):
    for language in ("en", "zh-hans"):
        client = client_for(reviewer)
        client.cookies["django_language"] = language
        for url in (
            "/staff/",
            "/staff/pledges/",
            "/staff/pledges/?status=overdue",
            "/staff/pledges/applications/?status=approved",
            "/staff/pledges/report/",
            "/staff/pledges/matters/new/",
            f"/staff/pledges/matters/{world['matter'].pk}/education/?item={world['matter'].education.first().pk}",
        ):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200, (language, url)


def test_the_association_page_registers_and_adds_members(
    client_for, credit_officer, association_entity, entity
):
    client = client_for(credit_officer)
    response = client.post(
        "/staff/associations/", {"code": association_entity.code, "pledge_system_zh": "会员承诺制度"}
    )
    assert response.status_code == 302
    association = IndustryAssociation.objects.get()
    response = client.post(f"/staff/associations/{association.pk}/", {"action": "add", "code": entity.code})
    assert response.status_code == 302
    assert list(association.members.all()) == [entity]
    again = client.post("/staff/associations/", {"code": association_entity.code, "pledge_system_zh": "x"})
    assert again.status_code == 400
    assert "already registered" in text(again)


# --- query counts -------------------------------------------------------------------------------


def _many(entity_actor, entity, matter, materials, n):
    for _ in range(n):
        apply(entity_actor, matter, entity, missing=materials[2:], pledge=sign())


@pytest.mark.parametrize(
    ("who", "url"),
    [
        (None, "/pledges/"),
        (None, "/pledges/matters/"),
        ("entity_user", "/my/pledges/"),
        ("reviewer", "/staff/pledges/"),
        ("reviewer", "/staff/pledges/applications/"),
        ("reviewer", "/staff/pledges/matters/"),
    ],
)
def test_list_pages_need_a_bounded_number_of_queries(
    request, client_for, entity_actor, entity, matter, materials, who, url, django_assert_max_num_queries
):
    client = client_for(request.getfixturevalue(who) if who else None)
    _many(entity_actor, entity, matter, materials, 2)
    with django_assert_max_num_queries(30) as few:
        assert client.get(url).status_code == 200
    _many(entity_actor, entity, matter, materials, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_the_pledge_list_filters_by_entity_code_and_paginates(
    client_for, entity_actor, entity, matter, materials, other_entity
):
    _many(entity_actor, entity, matter, materials, 31)
    body = text(Client().get("/pledges/", {"code": entity.code.lower()}))
    assert "31 pledges" in body and 'rel="next"' in body
    assert "0 pledges" in text(Client().get("/pledges/", {"code": other_entity.code}))
    newest = Pledge.objects.order_by("-signed_at", "-id").first()
    assert body.index(newest.number) < body.index("</tbody>")


def test_a_sweep_notice_takes_the_reviewer_to_the_pledge(client_for, reviewer, world):
    from pledges import tasks

    due = world["pledge"].materials_due_on
    assert tasks.sweep_overdue_pledges((due + timedelta(days=1)).isoformat()) == 1
    notice = Notice.objects.get(recipient=reviewer, kind="pledges.overdue")
    page = client_for(reviewer).get(notice.link)
    assert page.status_code == 200
    assert "Serve the notice" in text(page) and "Materials overdue" in text(page)
    dashboard = text(client_for(reviewer).get("/staff/"))
    assert "pledge with overdue materials to check" in dashboard


def test_today_is_used_for_due_dates(world):
    assert world["pledge"].materials_due_on > timezone.localdate()
    assert world["pledge"].materials_due_on <= timezone.localdate() + timedelta(days=40)
    assert isinstance(world["pledge"].materials_due_on, date)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_requests_with_one_submission_key_at_the_same_moment_make_one_application(
    entity_user, entity, matter, materials, monkeypatch
):
    """Both requests pass the look-up for an earlier submission before either commits; the unique
    constraint lets one insert and the other returns the application the first one made."""
    actor = actor_for_user(entity_user)
    key = uuid.uuid4()
    barrier = threading.Barrier(2)
    results, errors = [], []
    # Both look-ups find nothing, whatever the timing: the race is then decided by the constraint.
    real_lookup = applications._earlier_submission
    lookups = itertools.count()

    def lookup(*args, **kwargs):
        return None if next(lookups) < 2 else real_lookup(*args, **kwargs)

    monkeypatch.setattr(applications, "_earlier_submission", lookup)

    def submit():
        try:
            barrier.wait(timeout=10)
            results.append(
                services.application_submit(
                    actor=actor,
                    matter_id=matter.pk,
                    entity_code=entity.code,
                    uploads={m.pk: pdf() for m in materials},
                    missing=[],
                    submission_key=key,
                )
            )
        except Exception as exc:  # reported below, with the thread's own error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert next(lookups) == 3  # the loser asked again, after the winner's insert
    assert len(results) == 2 and results[0].pk == results[1].pk
    assert PermitApplication.objects.filter(submission_key=key).count() == 1
    assert MaterialSubmission.objects.filter(application=results[0]).count() == len(materials)
    assert AuditEvent.objects.filter(action="pledges.application.submitted").count() == 1


def test_a_submission_key_used_for_another_matter_is_a_conflict_and_writes_nothing(
    entity_user, entity, matter, materials, no_pledge_matter
):
    actor = actor_for_user(entity_user)
    key = uuid.uuid4()
    services.application_submit(
        actor=actor,
        matter_id=matter.pk,
        entity_code=entity.code,
        uploads={m.pk: pdf() for m in materials},
        missing=[],
        submission_key=key,
    )
    other = no_pledge_matter
    before = state()
    with pytest.raises(Conflict, match="already used for another application"):
        services.application_submit(
            actor=actor,
            matter_id=other.pk,
            entity_code=entity.code,
            uploads={m.pk: pdf() for m in other.materials.all()},
            missing=[],
            submission_key=key,
        )
    assert state() == before


# Transactional: the view runs outside a test transaction, as in production, so an audit write
# outside a transaction of its own would fail here.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_opening_an_uploaded_material_is_audited(world, as_actor):
    submission = world["submission"]
    for actor, url in (
        ("entity_user", f"/my/applications/{world['pending'].number}/materials/{submission.pk}/"),
        ("reviewer", f"/staff/pledges/applications/{world['pending'].number}/materials/{submission.pk}/"),
    ):
        before = AuditEvent.objects.filter(action="pledges.material.downloaded").count()
        response = as_actor(actor).get(url)
        assert response.status_code == 200, actor
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        events = AuditEvent.objects.filter(action="pledges.material.downloaded").order_by("-id")
        assert events.count() == before + 1
        assert events.first().data["submission"] == submission.pk
