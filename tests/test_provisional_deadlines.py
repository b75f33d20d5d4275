"""A deadline a company or the public reads that falls in a year whose official holidays are not
entered yet says it is provisional (``workdays.services.is_provisional``, the ``provisional_mark``
tag, the API's ``*_provisional`` booleans) — and stops saying so once the year is entered."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.template import Context, Template
from django.test import Client

from credit_portal.accounts.actors import actor_for_user
from credit_portal.idempotency.services import submission_key_issue
from credit_portal.workdays import services as workdays
from credit_portal.workdays.models import HolidayNotice
from records import services
from records.models import Complaint, Objection
from records.services import complaints, objections, publication
from tests import factories as f
from tests.test_records import SWEEP, punishment
from tests.test_records_api import body

pytestmark = pytest.mark.django_db

# The first year the chinesecalendar package does not cover: its holidays are the credit office's
# to enter. Computed, so that the test keeps its meaning when the package learns another year.
UNANNOUNCED = workdays.PACKAGE_YEARS[-1] + 1
KNOWN = workdays.PACKAGE_YEARS[-1]
BADGE = re.compile(r'<span class="badge badge-warn"[^>]*>provisional</span>')
WHY = "The official holidays of that year are not entered yet: the date counts weekends only."


def text(response) -> str:
    return response.content.decode()


def enter_year(year: int) -> None:
    HolidayNotice.objects.create(
        year=year, title=f"{year}年部分节假日安排的通知", published_on=date(year - 1, 11, 1)
    )
    workdays.invalidate()


def remove_year(year: int) -> None:
    HolidayNotice.objects.filter(year=year).delete()
    workdays.invalidate()


@pytest.fixture
def in_unannounced_year(today):
    return today(date(UNANNOUNCED, 3, 1))


def test_the_helper_and_the_tag(in_unannounced_year):
    assert workdays.is_provisional(date(UNANNOUNCED, 3, 8)) is True
    assert workdays.is_provisional(date(KNOWN, 12, 31)) is False
    assert workdays.is_provisional(None) is False
    tag = Template("{% load workdays %}[{% provisional_mark day %}][{% provisional_mark day explain=True %}]")
    assert tag.render(Context({"day": date(KNOWN, 12, 31)})) == "[][]"
    rendered = tag.render(Context({"day": date(UNANNOUNCED, 3, 8)}))
    assert len(BADGE.findall(rendered)) == 2 and f'<span class="help">{WHY}</span>' in rendered
    assert Template("{% load workdays %}{{ day|provisional }}").render(Context({"day": None})) == "False"
    enter_year(UNANNOUNCED)
    assert workdays.is_provisional(date(UNANNOUNCED, 3, 8)) is False
    assert tag.render(Context({"day": date(UNANNOUNCED, 3, 8)})) == "[][]"


def test_a_public_complaints_reply_date_is_provisional_until_the_year_is_entered(
    in_unannounced_year, department, reviewer
):
    browser = Client()
    response = browser.post(
        "/complaints/new/",
        {
            "submission_key": submission_key_issue("public.complaint"),
            "kind": "complaint",
            "entity_name": "深圳市某某食品店",
            "department": department.code,
            "description": "销售过期食品。",
        },
        follow=True,
    )
    complaint = Complaint.objects.get()
    assert complaint.answer_due_on.year == UNANNOUNCED
    assert f"{complaint.answer_due_on:%Y-%m-%d}" in text(response)
    assert BADGE.search(text(response)) and WHY in text(response)
    track = browser.post("/complaints/track/", {"reference": complaint.tracking_number})
    assert BADGE.search(text(track)) and WHY in text(track)

    enter_year(UNANNOUNCED)
    for page in (
        browser.get("/complaints/received/"),
        browser.post("/complaints/track/", {"reference": complaint.tracking_number}),
    ):
        assert f"{complaint.answer_due_on:%Y-%m-%d}" in text(page)
        assert not BADGE.search(text(page)) and WHY not in text(page)

    remove_year(UNANNOUNCED)
    complaints.complaint_answer(actor=actor_for_user(reviewer), complaint_id=complaint.pk, answer="已处理。")
    answered = browser.post("/complaints/track/", {"reference": complaint.tracking_number})
    assert "已处理。" in text(answered) and not BADGE.search(text(answered))  # no deadline runs any more


@pytest.fixture
def record(reviewer, entity):
    made = services.record_create(actor=actor_for_user(reviewer), data=punishment(entity), provenance="api")
    publication.publish_due(actor=SWEEP, today=date(KNOWN, 10, 9))
    return made


def test_a_persons_objection_reply_date_is_provisional_until_the_year_is_entered(in_unannounced_year, record):
    browser = Client()
    sent = browser.post(
        "/objections/new/",
        {
            "submission_key": submission_key_issue("public.objection"),
            "record": record.pk,
            "name": "王某某",
            "id_number": f.resident_id(birth="19880512", seq="271"),
            "contact": "13812345678",
            "grounds": "我并非该处罚的当事人。",
        },
    )
    assert sent.status_code == 303, sent.context["form"].errors
    objection = Objection.objects.get()
    assert objection.answer_due_on.year == UNANNOUNCED
    result = browser.get("/objections/received/")
    track = browser.post("/objections/track/", {"reference": objection.reference})
    for page in (result, track):
        assert BADGE.search(text(page)) and WHY in text(page)
    enter_year(UNANNOUNCED)
    for page in (
        browser.get("/objections/received/"),
        browser.post("/objections/track/", {"reference": objection.reference}),
    ):
        assert f"{objection.answer_due_on:%Y-%m-%d}" in text(page) and not BADGE.search(text(page))


def test_the_businesss_objection_list_marks_a_pending_reply_date(
    in_unannounced_year, record, entity_user, client_for
):
    objections.objection_submit(actor=actor_for_user(entity_user), record_id=record.pk, grounds="金额有误。")
    page = text(client_for(entity_user).get("/my/objections/"))
    assert len(BADGE.findall(page)) == 1
    enter_year(UNANNOUNCED)
    assert not BADGE.search(text(client_for(entity_user).get("/my/objections/")))


def test_the_api_says_beside_each_deadline_whether_it_is_provisional(
    in_unannounced_year, token_for, department, entity
):
    records_api = token_for(department, "records:write,records:read")
    old = records_api.post(
        "/api/v1/records/", json.dumps(body(entity)), content_type="application/json"
    ).json()
    new = records_api.post(
        "/api/v1/records/",
        json.dumps(body(entity, number="深市监罚〔2027〕1号", decision_date=f"{UNANNOUNCED}-02-26")),
        content_type="application/json",
    ).json()
    assert (old["disclosure_due_on"][:4], old["disclosure_due_on_provisional"]) == (str(KNOWN), False)
    assert (new["disclosure_due_on"][:4], new["disclosure_due_on_provisional"]) == (str(UNANNOUNCED), True)
    hotline = token_for(department, "complaints:write")
    complaint = hotline.post(
        "/api/v1/complaints/",
        json.dumps(
            {
                "external_reference": "T-1",
                "kind": "complaint",
                "entity_name": "某店",
                "department": department.code,
                "description": "过期食品。",
            }
        ),
        content_type="application/json",
    ).json()
    assert (complaint["answer_due_on"][:4], complaint["answer_due_on_provisional"]) == (
        str(UNANNOUNCED),
        True,
    )

    enter_year(UNANNOUNCED)
    again = records_api.get(f"/api/v1/records/{new['id']}/").json()
    assert (again["disclosure_due_on"], again["disclosure_due_on_provisional"]) == (
        new["disclosure_due_on"],
        False,
    )
    followed = hotline.get(f"/api/v1/complaints/{complaint['tracking_number']}/").json()
    assert followed["answer_due_on_provisional"] is False
