"""Complaints and tip-offs (投诉举报): routing, tracking without content, the hotline API with its
idempotency, answers and transfers by the responsible department only, escalation, rate limits."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from credit_portal import personal_data
from credit_portal.accounts.actors import PUBLIC, actor_for_user, system_actor
from credit_portal.audit.models import AuditEvent
from credit_portal.errors import NotFound
from credit_portal.idempotency.services import submission_key_issue
from credit_portal.notices.models import Notice
from credit_portal.workdays import services as workdays
from records.models import Complaint
from records.services import complaints
from tests import factories as f

pytestmark = pytest.mark.django_db

UNKNOWN_CODE = f.uscc(n=7_654_321)  # well-formed, registered nowhere
DESCRIPTION = "该公司在门店销售过期食品，2026年11月20日下午发现。"
SCOPE = "complaints:write"


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Complaint, AuditEvent, Notice)}


def text(response) -> str:
    return response.content.decode()


def web_form(**changes) -> dict:
    """The public form as a browser sends it, with a fresh one-time key of the page."""
    data = {
        "submission_key": submission_key_issue("public.complaint"),
        "kind": "complaint",
        "entity_name": "深圳市腾讯计算机系统有限公司",
        "code": "",
        "department": "",
        "description": DESCRIPTION,
        "submitter_name": "李某",
        "contact": "13912345678",
    }
    data.update(changes)
    return data


def api_body(**changes) -> dict:
    data = {
        "external_reference": "12345-2026-000871",
        "kind": "tip_off",
        "entity_name": "广州市星辰贸易有限公司",
        "code": "",
        "department": "",
        "description": DESCRIPTION,
    }
    data.update(changes)
    return data


def post_json(client, url, data):
    return client.post(url, data=json.dumps(data), content_type="application/json")


def submit(**changes) -> Complaint:
    data = web_form(**changes)
    del data["submission_key"]
    complaint, created = complaints.complaint_submit(actor=PUBLIC, **data)
    assert created
    return complaint


# --- routing ------------------------------------------------------------------------------------


class TestRouting:
    def test_a_registered_code_routes_to_the_registering_department(
        self, client_for, entity, department, other_department, reviewer, department_admin, clerk
    ):
        response = client_for(None).post(
            "/complaints/new/",
            web_form(code=entity.code.lower(), department=other_department.code),
            follow=True,
        )
        assert response.redirect_chain == [("/complaints/received/", 303)], response.context["form"].errors
        assert response["Cache-Control"] == "no-store"
        complaint = Complaint.objects.get()
        assert complaint.tracking_number in text(response)
        assert complaint.tracking_number.startswith("TS") and len(complaint.tracking_number) == 14
        assert (complaint.department, complaint.entity, complaint.channel) == (department, entity, "web")
        assert complaint.answer_due_on == workdays.deadline("complaint.answer", timezone.localdate())
        assert complaint.contact_masked == "139****5678"
        assert personal_data.decrypt(complaint.contact_cipher) == "13912345678"
        assert "13912345678" not in str(Complaint.objects.filter(pk=complaint.pk).values().get())
        told = set(
            Notice.objects.filter(kind="complaints.received").values_list("recipient__username", flat=True)
        )
        assert told == {reviewer.username, department_admin.username}
        event = AuditEvent.objects.get(action="records.complaint.submitted")
        assert event.after["routed_by"] == "registry"

    def test_an_unknown_code_goes_to_the_department_chosen(
        self, client_for, other_department, other_department_reviewer
    ):
        response = client_for(None).post(
            "/complaints/new/", web_form(code=UNKNOWN_CODE, department=other_department.code)
        )
        assert response.status_code == 303
        complaint = Complaint.objects.get()
        assert (complaint.department, complaint.entity) == (other_department, None)
        assert Notice.objects.filter(recipient=other_department_reviewer, kind="complaints.received").exists()

    @pytest.mark.parametrize(
        ("changes", "fields"),
        [
            ({"code": UNKNOWN_CODE}, {"department"}),
            ({}, {"department"}),
            ({"code": "91440300MA5D1234X0"}, {"code"}),  # wrong check character
            ({"department": "NO-SUCH-DEPT"}, {"department"}),
            # The form's own error and the service's (no department to route to), in one answer.
            ({"kind": "praise"}, {"kind", "department"}),
            ({"entity_name": ""}, {"entity_name", "department"}),
            ({"description": "有\x00空字符", "department": "SZ-TEST"}, {"description"}),
            ({"description": "长" * 5001, "department": "SZ-TEST"}, {"description"}),
            ({"contact": "call me maybe", "department": "SZ-TEST"}, {"contact"}),
        ],
    )
    def test_bad_input_is_a_field_error_and_writes_nothing(self, client_for, department, changes, fields):
        before = counts()
        response = client_for(None).post("/complaints/new/", web_form(**changes))
        assert response.status_code == 200
        assert set(response.context["form"].errors) == fields
        assert counts() == before

    def test_service_names_every_bad_field_at_once(self, department):
        with pytest.raises(ValidationError) as exc:
            complaints.complaint_submit(
                actor=PUBLIC, kind="x", entity_name="", description="\x00", contact="?", code=UNKNOWN_CODE
            )
        assert set(exc.value.message_dict) == {"kind", "entity_name", "description", "contact", "department"}

    def test_anonymous_tip_off(self, client_for, department):
        response = client_for(None).post(
            "/complaints/new/",
            web_form(kind="tip_off", submitter_name="", contact="", department=department.code),
        )
        assert response.status_code == 303
        complaint = Complaint.objects.get()
        assert (complaint.kind, complaint.submitter_name, complaint.contact_cipher) == ("tip_off", "", "")

    def test_an_inactive_department_is_not_offered_nor_accepted(
        self, client_for, department, other_department
    ):
        other_department.is_active = False
        other_department.save()
        page = client_for(None).get("/complaints/new/")
        assert f'value="{other_department.code}"' not in text(page)
        assert f'value="{department.code}"' in text(page)
        response = client_for(None).post("/complaints/new/", web_form(department=other_department.code))
        assert "department" in response.context["form"].errors
        assert Complaint.objects.count() == 0


# --- tracking -----------------------------------------------------------------------------------


class TestTracking:
    def test_tracking_shows_progress_never_content_or_submitter(self, client_for, department, reviewer):
        complaint = submit(department=department.code)
        client = client_for(None)
        response = client.post("/complaints/track/", {"reference": complaint.tracking_number.lower()})
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        body = text(response)
        assert "Complaint" in body and "Received, being handled" in body
        assert complaint.answer_due_on.isoformat() in body
        assert department.name_en in body or department.name_zh in body
        for secret in (DESCRIPTION, "李某", "13912345678", complaint.contact_masked):
            assert secret not in body

        complaints.complaint_answer(
            actor=actor_for_user(reviewer), complaint_id=complaint.pk, answer="已立案调查。"
        )
        body = text(client.post("/complaints/track/", {"reference": complaint.tracking_number}))
        assert "Answered" in body and "已立案调查。" in body
        assert DESCRIPTION not in body

        missing = client.post("/complaints/track/", {"reference": "TS2222222222AB"})
        assert "No complaint has this tracking number" in text(missing)

    def test_lookups_are_rate_limited(self, client_for, department):
        client = client_for(None)
        for _ in range(30):
            assert client.post("/complaints/track/", {"reference": "TS0000"}).status_code == 200
        assert client.post("/complaints/track/", {"reference": "TS0000"}).status_code == 429


class TestRateLimit:
    def test_the_public_form_is_limited_per_address(self, client_for, department):
        client = client_for(None)
        for _ in range(10):
            assert client.post("/complaints/new/", web_form(department=department.code)).status_code == 303
        refused = client.post("/complaints/new/", web_form(department=department.code))
        assert refused.status_code == 429
        assert "Too many submissions" in text(refused)
        assert Complaint.objects.count() == 10
        forged = client.post(
            "/complaints/new/", web_form(department=department.code), HTTP_X_FORWARDED_FOR="203.0.113.5"
        )
        assert forged.status_code == 429
        other = client.post(
            "/complaints/new/", web_form(department=department.code), REMOTE_ADDR="198.51.100.8"
        )
        assert other.status_code == 303
        assert Complaint.objects.count() == 11


# --- the hotline API ----------------------------------------------------------------------------


class TestApi:
    def test_post_is_idempotent_by_external_reference(
        self, token_for, department, other_department, other_entity
    ):
        api = token_for(department, [SCOPE])
        first = post_json(api, "/api/v1/complaints/", api_body(code=other_entity.code))
        assert first.status_code == 201, first.content
        data = first.json()
        assert (data["department"], data["entity"], data["status"]) == (
            other_department.code,
            other_entity.code,
            "received",
        )
        assert "description" not in data and "contact" not in data
        before = counts()
        again = post_json(api, "/api/v1/complaints/", api_body(code=other_entity.code, description="改了"))
        assert again.status_code == 200
        assert again.json()["tracking_number"] == data["tracking_number"]
        assert counts() == before
        complaint = Complaint.objects.get()
        assert (complaint.channel, complaint.external_reference, complaint.description) == (
            "api",
            "12345-2026-000871",
            DESCRIPTION,
        )

    def test_unknown_code_is_routed_by_the_department_field(self, token_for, department, other_department):
        api = token_for(department, [SCOPE])
        response = post_json(
            api, "/api/v1/complaints/", api_body(code=UNKNOWN_CODE, department=other_department.code)
        )
        assert response.status_code == 201
        assert response.json()["department"] == other_department.code
        missing = post_json(api, "/api/v1/complaints/", api_body(external_reference="T-2", code=UNKNOWN_CODE))
        assert missing.status_code == 400
        assert set(missing.json()["errors"]) == {"department"}

    @pytest.mark.parametrize(
        ("changes", "fields"),
        [
            # The shape's errors and the service's (no department to route to) in one response.
            ({"external_reference": ""}, {"external_reference", "department"}),
            ({"kind": "praise", "entity_name": ""}, {"kind", "entity_name", "department"}),
            ({"description": "x\x00y", "department": "SZ-TEST"}, {"description"}),
            ({"description": "长" * 5001, "department": "SZ-TEST"}, {"description"}),
            ({"department": "NOPE"}, {"department"}),
            ({"code": "bad", "department": "SZ-TEST"}, {"code"}),
            ({"contact": "???", "department": "SZ-TEST"}, {"contact"}),
        ],
    )
    def test_bad_input_is_400_with_per_field_errors(self, token_for, department, changes, fields):
        api = token_for(department, [SCOPE])
        before = counts()
        response = post_json(api, "/api/v1/complaints/", api_body(**changes))
        assert response.status_code == 400, response.content
        assert set(response.json()["errors"]) == fields
        assert counts() == before

    def test_ticket_ids_are_per_hotline_system(self, token_for, department, other_department):
        """Two departments' hotlines may use the same ticket id: each gets its own complaint, and
        neither sees the other's."""
        first = post_json(
            token_for(department, [SCOPE]), "/api/v1/complaints/", api_body(department=department.code)
        )
        other = token_for(other_department, [SCOPE])
        response = post_json(other, "/api/v1/complaints/", api_body(department=department.code))
        assert response.status_code == 201
        assert response.json()["tracking_number"] != first.json()["tracking_number"]
        assert other.get(f"/api/v1/complaints/{first.json()['tracking_number']}/").status_code == 404

    @pytest.mark.parametrize(
        ("who", "expected"),
        [
            ("anonymous", 401),
            ("token_without_scope", 403),
            ("entity_user", 403),
            ("reviewer", 403),
            ("credit_officer", 403),
        ],
    )
    def test_post_denied_creates_nothing(self, request, client_for, token_for, department, who, expected):
        if who == "anonymous":
            client = client_for(None)
        elif who == "token_without_scope":
            client = token_for(department, ["records:read", "records:write", "entities:write"])
        else:
            client = client_for(request.getfixturevalue(who))
        before = counts()
        response = post_json(client, "/api/v1/complaints/", api_body(department=department.code))
        assert response.status_code == expected
        assert counts() == before

    @pytest.mark.parametrize(
        ("who", "expected"),
        [
            ("anonymous", 401),
            ("token_without_scope", 403),
            ("reviewer", 403),
            ("other_department_token", 404),
            ("same_department_token", 200),
        ],
    )
    def test_get_only_by_the_submitting_department(
        self, request, client_for, token_for, department, other_department, who, expected
    ):
        created = post_json(
            token_for(department, [SCOPE]), "/api/v1/complaints/", api_body(department=department.code)
        )
        number = created.json()["tracking_number"]
        client = {
            "anonymous": lambda: client_for(None),
            "token_without_scope": lambda: token_for(department, ["records:read"]),
            "reviewer": lambda: client_for(request.getfixturevalue("reviewer")),
            "other_department_token": lambda: token_for(other_department, [SCOPE]),
            "same_department_token": lambda: token_for(department, [SCOPE]),
        }[who]()
        before = counts()
        response = client.get(f"/api/v1/complaints/{number}/")
        assert response.status_code == expected
        if expected == 200:
            assert response.json()["tracking_number"] == number
            assert response.json()["status"] == "received"
        else:
            assert DESCRIPTION not in text(response)
        # Not found and not yours look the same.
        if expected == 404:
            assert client.get("/api/v1/complaints/TS2222222222XY/").json() == response.json()
        assert counts() == before

    def test_web_complaints_are_not_readable_through_the_api(self, token_for, department):
        complaint = submit(department=department.code)
        assert (
            token_for(department, [SCOPE]).get(f"/api/v1/complaints/{complaint.tracking_number}/").status_code
            == 404
        )

    def test_answer_is_read_back_by_the_hotline(self, token_for, department, reviewer):
        api = token_for(department, [SCOPE])
        number = post_json(api, "/api/v1/complaints/", api_body(department=department.code)).json()[
            "tracking_number"
        ]
        complaint = Complaint.objects.get(tracking_number=number)
        complaints.complaint_answer(
            actor=actor_for_user(reviewer), complaint_id=complaint.pk, answer="已处理。"
        )
        data = api.get(f"/api/v1/complaints/{number}/").json()
        assert (data["status"], data["answer"]) == ("answered", "已处理。")


# --- staff: answer and transfer -----------------------------------------------------------------


@pytest.fixture
def complaint(department):
    return submit(department=department.code)


STAFF_LIST = {
    "anonymous": 302,
    "entity_user": 403,
    "clerk": 403,
    "reviewer": 200,
    "department_admin": 200,
    "other_department_reviewer": 200,
    "credit_officer": 200,
}


@pytest.mark.parametrize(("who", "expected"), list(STAFF_LIST.items()))
def test_staff_queue(request, client_for, complaint, who, expected):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    response = client_for(user).get("/staff/complaints/")
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith("/staff/login/")
    if expected == 200:
        assert (complaint.tracking_number in text(response)) == (who != "other_department_reviewer")


DENIED = {"anonymous": 302, "entity_user": 403, "clerk": 403, "other_department_reviewer": 404}


@pytest.mark.parametrize(("who", "expected"), list(DENIED.items()))
def test_staff_pages_denied_change_nothing(
    request, client_for, token_for, complaint, other_department, who, expected
):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = client_for(user)
    before = counts()
    assert client.get(f"/staff/complaints/{complaint.pk}/").status_code == expected
    assert client.post(f"/staff/complaints/{complaint.pk}/", {"answer": "答复"}).status_code == expected
    transfer = {"transfer-department": other_department.code, "transfer-reason": "不属本部门职责"}
    assert client.post(f"/staff/complaints/{complaint.pk}/transfer/", transfer).status_code == expected
    assert client.post(f"/staff/complaints/{complaint.pk}/contact/").status_code == expected
    assert counts() == before
    complaint.refresh_from_db()
    assert (complaint.status, complaint.department.code) == ("received", "SZ-TEST")
    # A token opens no staff page.
    token = token_for(complaint.department, [SCOPE])
    assert token.get(f"/staff/complaints/{complaint.pk}/").status_code == 302


@pytest.mark.parametrize("who", ["reviewer", "department_admin", "credit_officer"])
def test_responsible_staff_answer_once(request, client_for, complaint, who):
    client = client_for(request.getfixturevalue(who))
    page = client.get(f"/staff/complaints/{complaint.pk}/")
    assert page.status_code == 200 and DESCRIPTION in text(page)
    assert "13912345678" not in text(page)
    empty = client.post(f"/staff/complaints/{complaint.pk}/", {"answer": "  "})
    assert empty.status_code == 200 and "answer" in empty.context["answer_form"].errors
    response = client.post(f"/staff/complaints/{complaint.pk}/", {"answer": "已转市场监管执法队核查。"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.answer) == ("answered", "已转市场监管执法队核查。")
    assert (
        AuditEvent.objects.filter(action="records.complaint.answered", target_id=str(complaint.pk)).count()
        == 1
    )
    before = counts()
    again = client.post(f"/staff/complaints/{complaint.pk}/", {"answer": "再答一次"})
    assert (again.status_code, again["Location"]) == (302, f"/staff/complaints/{complaint.pk}/")
    assert "already been answered" in text(client.get(again["Location"]))
    assert counts() == before
    with pytest.raises(ValidationError):
        complaints.complaint_answer(
            actor=actor_for_user(request.getfixturevalue(who)), complaint_id=complaint.pk, answer="再答"
        )


def test_transfer_moves_the_complaint_keeps_the_deadline_and_tells_the_new_department(
    client_for, complaint, reviewer, other_department, other_department_reviewer
):
    due = complaint.answer_due_on
    client = client_for(reviewer)
    missing_reason = client.post(
        f"/staff/complaints/{complaint.pk}/transfer/", {"transfer-department": other_department.code}
    )
    assert missing_reason.status_code == 200
    assert "reason" in missing_reason.context["transfer_form"].errors
    response = client.post(
        f"/staff/complaints/{complaint.pk}/transfer/",
        {"transfer-department": other_department.code, "transfer-reason": "属广州辖区"},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.department, complaint.answer_due_on) == (other_department, due)
    event = AuditEvent.objects.get(action="records.complaint.transferred")
    assert (event.before, event.after) == (
        {"department": "SZ-TEST"},
        {"department": "GZ-TEST", "reason": "属广州辖区"},
    )
    assert Notice.objects.filter(recipient=other_department_reviewer, kind="complaints.transferred").exists()
    assert client.get(f"/staff/complaints/{complaint.pk}/").status_code == 404
    assert client_for(other_department_reviewer).get(f"/staff/complaints/{complaint.pk}/").status_code == 200


def test_transfer_to_the_same_department_is_refused(complaint, reviewer, department):
    with pytest.raises(ValidationError) as exc:
        complaints.complaint_transfer(
            actor=actor_for_user(reviewer), complaint_id=complaint.pk, department=department.code, reason="x"
        )
    assert "department" in exc.value.message_dict


def test_other_department_cannot_act_through_the_services(
    complaint, other_department_reviewer, other_department
):
    actor = actor_for_user(other_department_reviewer)
    before = counts()
    with pytest.raises(NotFound):
        complaints.complaint_answer(actor=actor, complaint_id=complaint.pk, answer="x")
    with pytest.raises(NotFound):
        complaints.complaint_transfer(
            actor=actor, complaint_id=complaint.pk, department=other_department.code, reason="x"
        )
    assert counts() == before


def test_contact_reveal_is_audited(client_for, complaint, reviewer):
    response = client_for(reviewer).post(f"/staff/complaints/{complaint.pk}/contact/")
    assert response.status_code == 200 and "13912345678" in text(response)
    assert AuditEvent.objects.filter(action="records.complaint.contact_revealed").count() == 1


# --- escalation ---------------------------------------------------------------------------------


def test_overdue_complaint_escalates_once_per_day(complaint, reviewer, department_admin, clerk):
    sweep = system_actor("disclosure-sweep")
    day = complaint.answer_due_on + timedelta(days=1)
    assert complaints.complaints_escalate(actor=sweep, today=day) == {
        "due_soon": 0,
        "overdue": 1,
        "notices": 2,
    }
    assert set(
        Notice.objects.filter(kind="complaints.escalated").values_list("recipient__username", flat=True)
    ) == {reviewer.username, department_admin.username}
    assert complaints.complaints_escalate(actor=sweep, today=day)["notices"] == 0
    assert complaints.complaints_escalate(actor=sweep, today=day + timedelta(days=1))["notices"] == 2
    early = complaint.answer_due_on - timedelta(days=20)
    assert complaints.complaints_escalate(actor=sweep, today=early) == {
        "due_soon": 0,
        "overdue": 0,
        "notices": 0,
    }
