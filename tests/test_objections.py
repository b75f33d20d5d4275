"""Objections (异议): the entity's and a person's, the record under objection in public and in the
change feed, answers that correct, revoke or leave the record, escalation, and who may do what."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from credit_portal import personal_data
from credit_portal.accounts.actors import PUBLIC, actor_for_user, system_actor
from credit_portal.audit.models import AuditEvent
from credit_portal.errors import Conflict, NotFound
from credit_portal.idempotency.services import submission_key_issue
from credit_portal.notices.models import Notice
from credit_portal.workdays import services as workdays
from records import services
from records.identifiers import mask_identity_number
from records.models import CreditRecord, Objection, RecordChange
from records.services import objections, publication
from tests import factories as f
from tests.test_records import SWEEP, punishment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(today):
    """The decisions in these tests are dated in 2026 and their disclosure periods are counted from
    them: run on a fixed day after them, not on whatever day the suite runs."""
    today(date(2026, 12, 4), tick=True)


PERSON_ID = f.resident_id(birth="19880512", seq="271")
GROUNDS = "罚款金额录入有误，应为3万元。"


# --- helpers ------------------------------------------------------------------------------------


def counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count() for m in (Objection, AuditEvent, Notice, RecordChange, CreditRecord)
    }


def state(record: CreditRecord) -> tuple:
    record.refresh_from_db()
    return (record.status, record.disclosure, record.version)


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def record(reviewer, entity):
    """An effective, published administrative punishment of ``department`` about ``entity``."""
    made = services.record_create(actor=actor_for_user(reviewer), data=punishment(entity), provenance="api")
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    made.refresh_from_db()
    assert (made.status, made.disclosure) == ("effective", "published")
    return made


@pytest.fixture
def objection(record, entity_user):
    return objections.objection_submit(
        actor=actor_for_user(entity_user), record_id=record.pk, grounds=GROUNDS
    )


def person_form(target, **changes) -> dict:
    """The public form as a browser sends it, with a fresh one-time key of the page."""
    data = {
        "submission_key": submission_key_issue("public.objection"),
        "record": target.pk,
        "name": "王某某",
        "id_number": PERSON_ID,
        "contact": "13812345678",
        "grounds": "我并非该处罚的当事人。",
    }
    data.update(changes)
    return data


def my_form(grounds: str) -> dict:
    """The business's objection form, with a fresh one-time key of the page."""
    return {"submission_key": submission_key_issue("my.objection"), "grounds": grounds}


def answer_form(record, **changes) -> dict:
    data = {
        "decision": "upheld",
        "answer": "经核实，罚款金额录入错误，已更正为3万元。",
        "outcome": "correct",
        "party_name": record.party_name,
        "decision_date": record.decision_date.isoformat(),
        "severity": record.severity,
        "legal_basis": record.legal_basis,
        "content": record.content,
    }
    data.update(changes)
    return data


def today() -> date:
    return timezone.localdate()


# --- the lifecycle ------------------------------------------------------------------------------


class TestLifecycle:
    def test_entity_objects_then_an_upheld_answer_corrects_the_record(
        self, client_for, record, entity_user, reviewer, department_admin, clerk
    ):
        response = client_for(entity_user).post(f"/my/objections/new/{record.pk}/", my_form(GROUNDS))
        assert response.status_code == 303, response.context and response.context["form"].errors
        assert response["Location"] == "/my/objections/"
        objection = Objection.objects.get()
        assert (objection.status, objection.submitted_by, objection.record_status_before) == (
            "pending",
            entity_user,
            "effective",
        )
        assert objection.reference.startswith("YY-") and len(objection.reference) == 13
        assert objection.answer_due_on == workdays.deadline("objection.answer", today())

        # Under objection, and still published: the public sees the state.
        assert state(record) == ("under_objection", "published", 1)
        public = client_for(None).get(f"/objections/new/?record={record.pk}")
        assert public.status_code == 200
        assert "Under objection" in text(public)
        assert "already has an objection awaiting" in text(public)
        record_page = client_for(None).get(f"/records/{record.pk}/")
        assert record_page.status_code == 200
        assert "Under objection" in text(record_page)
        # The feed tells every agency that the record is contested.
        change = RecordChange.objects.filter(record=record).last()
        assert (change.kind, change.version, change.payload["status"]) == ("status", 1, "under_objection")
        # The recording department's staff who answer objections are told (not the clerk).
        told = set(
            Notice.objects.filter(kind="objections.received").values_list("recipient__username", flat=True)
        )
        assert told == {reviewer.username, department_admin.username}
        assert AuditEvent.objects.filter(
            action="records.objection.submitted", target_id=str(objection.pk)
        ).exists()
        # The entity sees its objection.
        listing = client_for(entity_user).get("/my/objections/")
        assert objection.reference in text(listing)

        page = client_for(reviewer).get(f"/staff/objections/{objection.pk}/")
        assert page.status_code == 200
        assert GROUNDS in text(page)
        response = client_for(reviewer).post(
            f"/staff/objections/{objection.pk}/", answer_form(record, content="罚款3万元")
        )
        assert response.status_code == 302, response.context and response.context["form"].errors

        assert state(record) == ("corrected", "published", 2)
        assert record.content == "罚款3万元"
        assert record.fields["fine_amount"] == "5.5"  # structured fields kept as they were
        assert record.versions.get(version=2).reason == "经核实，罚款金额录入错误，已更正为3万元。"
        change = RecordChange.objects.filter(record=record).last()
        assert (change.kind, change.version, change.payload["content"], change.payload["status"]) == (
            "corrected",
            2,
            "罚款3万元",
            "corrected",
        )
        objection.refresh_from_db()
        assert (objection.status, objection.outcome, objection.answered_by) == (
            "upheld",
            "corrected",
            reviewer,
        )
        assert AuditEvent.objects.filter(
            action="records.objection.upheld", target_id=str(objection.pk)
        ).exists()
        assert Notice.objects.filter(recipient=entity_user, kind="objections.answered").count() == 1

        # Answered once: the page offers no form, the service refuses a second answer.
        assert "Record the answer" not in text(client_for(reviewer).get(f"/staff/objections/{objection.pk}/"))
        before = counts()
        with pytest.raises(ValidationError) as exc:
            objections.objection_answer(
                actor=actor_for_user(reviewer), objection_id=objection.pk, upheld=False, answer="再答一次"
            )
        assert "status" in exc.value.message_dict
        again = client_for(reviewer).post(
            f"/staff/objections/{objection.pk}/", answer_form(record, decision="rejected", outcome="")
        )
        assert (again.status_code, again["Location"]) == (302, f"/staff/objections/{objection.pk}/")
        assert counts() == before
        assert state(record) == ("corrected", "published", 2)

    @pytest.mark.parametrize("before_status", ["effective", "corrected"])
    def test_rejected_objection_puts_the_record_back_as_it_was(
        self, record, entity_user, reviewer, before_status
    ):
        if before_status == "corrected":
            fixed = punishment(record.entity)
            fixed.content = "罚款5.5万元（更正）"
            services.record_correct(
                actor=actor_for_user(reviewer), record_id=record.pk, data=fixed, reason="笔误"
            )
        objection = objections.objection_submit(
            actor=actor_for_user(entity_user), record_id=record.pk, grounds=GROUNDS
        )
        version = state(record)[2]
        objections.objection_answer(
            actor=actor_for_user(reviewer),
            objection_id=objection.pk,
            upheld=False,
            answer="记录无误，维持原记录。",
        )
        assert state(record) == (before_status, "published", version)
        objection.refresh_from_db()
        assert (objection.status, objection.outcome, objection.answer) == (
            "rejected",
            "",
            "记录无误，维持原记录。",
        )
        kinds = list(RecordChange.objects.filter(record=record).values_list("kind", "payload__status"))
        assert kinds[-2:] == [("status", "under_objection"), ("status", before_status)]
        assert AuditEvent.objects.filter(action="records.objection.rejected").count() == 1

    def test_upheld_with_revocation_withdraws_the_record(self, objection, record, reviewer, client_for):
        response = client_for(reviewer).post(
            f"/staff/objections/{objection.pk}/",
            answer_form(record, outcome="revoke", answer="原处罚决定已被撤销。"),
        )
        assert response.status_code == 302
        assert state(record) == ("revoked", "withdrawn", 1)
        assert RecordChange.objects.filter(record=record).last().kind == "revoked"
        objection.refresh_from_db()
        assert (objection.status, objection.outcome) == ("upheld", "revoked")

    def test_a_failing_correction_leaves_everything_as_it_was(self, objection, record, reviewer, client_for):
        before = counts()
        response = client_for(reviewer).post(
            f"/staff/objections/{objection.pk}/", answer_form(record, decision_date="2099-01-01")
        )
        assert response.status_code == 200
        assert "decision_date" in response.context["form"].errors
        assert counts() == before
        assert state(record) == ("under_objection", "published", 1)
        objection.refresh_from_db()
        assert objection.status == "pending"

    def test_upheld_needs_a_real_change_and_an_answer(self, objection, record, reviewer):
        actor = actor_for_user(reviewer)
        before = counts()
        same = objections.correction_input(record)
        with pytest.raises(ValidationError) as exc:
            objections.objection_answer(
                actor=actor, objection_id=objection.pk, upheld=True, answer="是", correction=same
            )
        assert "correction" in exc.value.message_dict
        with pytest.raises(ValidationError) as exc:
            objections.objection_answer(actor=actor, objection_id=objection.pk, upheld=True, answer="  ")
        assert set(exc.value.message_dict) == {"answer", "outcome"}
        with pytest.raises(ValidationError) as exc:
            objections.objection_answer(
                actor=actor, objection_id=objection.pk, upheld=False, answer="否", revoke=True
            )
        assert "outcome" in exc.value.message_dict
        assert counts() == before
        assert state(record) == ("under_objection", "published", 1)

    def test_entity_withdraws_its_objection(self, objection, record, entity_user, client_for):
        response = client_for(entity_user).post(f"/my/objections/{objection.pk}/withdraw/")
        assert response.status_code == 302
        objection.refresh_from_db()
        assert objection.status == "withdrawn"
        assert state(record) == ("effective", "published", 1)
        assert RecordChange.objects.filter(record=record).last().payload["status"] == "effective"
        # Withdrawing twice is harmless; an answered objection cannot be withdrawn.
        objections.objection_withdraw(actor=actor_for_user(entity_user), objection_id=objection.pk)
        assert AuditEvent.objects.filter(action="records.objection.withdrawn").count() == 1

    def test_only_one_pending_objection_per_record(self, objection, record, entity_user):
        before = counts()
        with pytest.raises(Conflict):
            objections.objection_submit(
                actor=actor_for_user(entity_user), record_id=record.pk, grounds="再次异议"
            )
        with pytest.raises(Conflict):
            objections.objection_submit(
                actor=PUBLIC,
                record_id=record.pk,
                grounds="再次异议",
                name="王某",
                id_number=PERSON_ID,
                contact="a@b.cn",
            )
        assert counts() == before

    @pytest.mark.parametrize("status", ["draft", "revoked", "expired", "restored"])
    def test_records_that_do_not_stand_cannot_be_objected_to(self, record, entity_user, status):
        CreditRecord.objects.filter(pk=record.pk).update(status=status)
        before = counts()
        with pytest.raises(ValidationError) as exc:
            objections.objection_submit(
                actor=actor_for_user(entity_user), record_id=record.pk, grounds=GROUNDS
            )
        assert list(exc.value.message_dict) == ["record"]
        assert counts() == before
        assert CreditRecord.objects.get(pk=record.pk).status == status

    def test_answer_after_the_period_ended_keeps_the_record_expired(self, objection, record, reviewer):
        publication.end_due(actor=SWEEP, today=date(2027, 9, 30))
        assert state(record)[0] == "expired"
        objections.objection_answer(
            actor=actor_for_user(reviewer), objection_id=objection.pk, upheld=False, answer="维持"
        )
        assert state(record)[0] == "expired"


# --- a person's objection through the public form ----------------------------------------------


class TestPersonObjection:
    def test_person_objects_and_follows_the_answer_by_reference(self, client_for, record, reviewer):
        client = client_for(None)
        page = client.get(f"/objections/new/?record={record.pk}")
        assert page.status_code == 200
        assert record.decision_number in text(page)
        response = client.post("/objections/new/", person_form(record), follow=True)
        assert response.redirect_chain == [("/objections/received/", 303)], response.context["form"].errors
        assert response["Cache-Control"] == "no-store"
        objection = Objection.objects.get()
        assert objection.reference in text(response)
        assert objection.submitted_by is None
        assert objection.objector_id_masked == mask_identity_number(PERSON_ID)
        assert objection.objector_id_hash == personal_data.lookup_hash(PERSON_ID)
        assert objection.contact_masked == "138****5678"
        assert personal_data.decrypt(objection.contact_cipher) == "13812345678"
        stored = str(Objection.objects.filter(pk=objection.pk).values().get())
        assert PERSON_ID not in stored and "13812345678" not in stored
        assert state(record) == ("under_objection", "published", 1)

        track = client.post(
            "/objections/track/", {"reference": objection.reference.lower().replace("-", " ")}
        )
        assert track.status_code == 200
        body = text(track)
        assert "Awaiting the department&#x27;s answer" in body
        assert objection.answer_due_on.isoformat() in body
        assert "王某某" not in body and "我并非" not in body and objection.contact_masked not in body

        objections.objection_answer(
            actor=actor_for_user(reviewer),
            objection_id=objection.pk,
            upheld=False,
            answer="经核查，您是当事人。",
        )
        body = text(client.post("/objections/track/", {"reference": objection.reference}))
        assert "Rejected" in body and "经核查，您是当事人。" in body
        missing = client.post("/objections/track/", {"reference": "YY-2222222222"})
        assert "No objection has this reference" in text(missing)

    def test_only_published_records_can_be_objected_to_by_the_public(self, client_for, reviewer, entity):
        pending = services.record_create(
            actor=actor_for_user(reviewer), data=punishment(entity, "未公示-1"), provenance="api"
        )
        client = client_for(None)
        assert client.get(f"/objections/new/?record={pending.pk}").status_code == 404
        assert client.get("/objections/new/?record=abc").status_code == 404
        before = counts()
        response = client.post("/objections/new/", person_form(pending))
        assert "record" in response.context["form"].errors
        assert counts() == before

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"id_number": "440104198805122710"}, "id_number"),  # wrong check character
            ({"id_number": "12345"}, "id_number"),
            ({"contact": "not a contact"}, "contact"),
            ({"contact": ""}, "contact"),
            ({"grounds": "有\x00空字符"}, "grounds"),
            ({"grounds": "长" * 4001}, "grounds"),
            ({"name": ""}, "name"),
            ({"record": 987654321}, "record"),
        ],
    )
    def test_bad_input_is_a_field_error_and_writes_nothing(self, client_for, record, changes, field):
        before = counts()
        response = client_for(None).post("/objections/new/", person_form(record, **changes))
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert counts() == before
        assert state(record) == ("effective", "published", 1)

    def test_service_collects_every_error_at_once(self, record):
        with pytest.raises(ValidationError) as exc:
            objections.objection_submit(
                actor=PUBLIC, record_id=record.pk, grounds="\x00", name="x" * 101, id_number="1", contact="?"
            )
        assert set(exc.value.message_dict) == {"grounds", "name", "id_number", "contact"}

    def test_the_public_form_is_rate_limited_per_address(self, client_for, record):
        client = client_for(None)
        for _ in range(10):
            assert client.post("/objections/new/", person_form(record, name="")).status_code == 200
        refused = client.post("/objections/new/", person_form(record))
        assert refused.status_code == 429
        assert "Too many submissions" in text(refused)
        assert Objection.objects.count() == 0
        # A forged X-Forwarded-For does not open a new bucket; another address does.
        forged = client.post("/objections/new/", person_form(record), HTTP_X_FORWARDED_FOR="203.0.113.9")
        assert forged.status_code == 429
        other = client.post("/objections/new/", person_form(record), REMOTE_ADDR="198.51.100.7")
        assert other.status_code == 303 and Objection.objects.count() == 1


# --- escalation ---------------------------------------------------------------------------------


class TestEscalation:
    def test_overdue_objection_notifies_answerers_and_admins_once_per_day(
        self, objection, reviewer, department_admin, clerk, other_department_reviewer
    ):
        sweep = system_actor("disclosure-sweep")
        day = objection.answer_due_on + timedelta(days=1)
        first = objections.objections_escalate(actor=sweep, today=day)
        assert first == {"due_soon": 0, "overdue": 1, "notices": 2}
        notes = Notice.objects.filter(kind="objections.escalated")
        assert set(notes.values_list("recipient__username", flat=True)) == {
            reviewer.username,
            department_admin.username,
        }
        assert "overdue" in notes.first().subject_en
        assert notes.first().link == f"/staff/objections/{objection.pk}/"
        again = objections.objections_escalate(actor=sweep, today=day)
        assert again == {"due_soon": 0, "overdue": 1, "notices": 0}
        assert notes.count() == 2
        next_day = objections.objections_escalate(actor=sweep, today=day + timedelta(days=1))
        assert next_day["notices"] == 2

    def test_due_within_one_working_day_is_escalated_and_later_ones_are_not(self, objection):
        sweep = system_actor("disclosure-sweep")
        due = objection.answer_due_on
        # Two working days before: nothing; the working day before: due soon.
        two_before = next(
            d
            for d in (due - timedelta(days=n) for n in range(1, 10))
            if workdays.add_working_days(d, 2) == due
        )
        assert objections.objections_escalate(actor=sweep, today=two_before) == {
            "due_soon": 0,
            "overdue": 0,
            "notices": 0,
        }
        one_before = next(
            d
            for d in (due - timedelta(days=n) for n in range(1, 10))
            if workdays.add_working_days(d, 1) == due
        )
        assert objections.objections_escalate(actor=sweep, today=one_before)["due_soon"] == 1
        # Answered objections are no longer escalated.
        Objection.objects.filter(pk=objection.pk).update(status="rejected")
        assert objections.objections_escalate(actor=sweep, today=due + timedelta(days=5))["notices"] == 0


# --- the permission matrix ----------------------------------------------------------------------

USERS = [
    "entity_user",
    "other_entity_user",
    "clerk",
    "reviewer",
    "department_admin",
    "other_department_reviewer",
    "credit_officer",
]


@pytest.fixture
def as_actor(request, client_for, token_for):
    def make(name):
        if name == "anonymous":
            return client_for(None)
        if name == "token":
            return token_for(request.getfixturevalue("department"), ["records:read", "records:write"])
        return client_for(request.getfixturevalue(name))

    return make


def _denied(response, expected):
    if expected == "login_my":
        assert response.status_code == 302 and response["Location"].startswith("/my/login/")
    elif expected == "login_staff":
        assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    else:
        assert response.status_code == expected


MY_DENIED = {
    "anonymous": "login_my",
    "token": "login_my",
    "clerk": 403,
    "reviewer": 403,
    "credit_officer": 403,
}


@pytest.mark.parametrize(("actor", "expected"), list(MY_DENIED.items()))
def test_my_pages_are_for_entity_users_only(as_actor, actor, expected, record, objection):
    client = as_actor(actor)
    before, record_state = counts(), state(record)
    for url in ("/my/records/", "/my/objections/", f"/my/objections/new/{record.pk}/"):
        _denied(client.get(url), expected)
    _denied(client.post(f"/my/objections/new/{record.pk}/", {"grounds": "x"}), expected)
    _denied(client.post(f"/my/objections/{objection.pk}/withdraw/"), expected)
    assert counts() == before
    assert state(record) == record_state
    assert Objection.objects.get(pk=objection.pk).status == "pending"


def test_other_entitys_user_sees_nothing_of_the_record_and_cannot_touch_it(
    client_for, record, objection, other_entity_user
):
    client = client_for(other_entity_user)
    before, record_state = counts(), state(record)
    assert record.decision_number not in text(client.get("/my/records/"))
    assert objection.reference not in text(client.get("/my/objections/"))
    assert client.get(f"/my/objections/new/{record.pk}/").status_code == 404
    assert client.post(f"/my/objections/new/{record.pk}/", {"grounds": "x"}).status_code == 404
    assert client.post(f"/my/objections/{objection.pk}/withdraw/").status_code == 404
    assert counts() == before
    assert state(record) == record_state
    with pytest.raises(NotFound):
        objections.objection_submit(actor=actor_for_user(other_entity_user), record_id=record.pk, grounds="x")


def test_entity_user_sees_its_records_with_an_object_link(client_for, record, entity_user):
    page = text(client_for(entity_user).get("/my/records/"))
    assert record.decision_number in page
    assert f"/my/objections/new/{record.pk}/" in page


def test_staff_and_tokens_cannot_submit_objections(record, clerk, department, token_for):
    from credit_portal.accounts.actors import actor_for_token
    from credit_portal.accounts.services import token_issue

    token, _secret = token_issue(actor=SWEEP, department=department, scopes=["records:write"], name="t")
    for actor in (actor_for_user(clerk), actor_for_token(token)):
        with pytest.raises(PermissionDenied):
            objections.objection_submit(actor=actor, record_id=record.pk, grounds=GROUNDS)
    assert Objection.objects.count() == 0


STAFF_LIST = {
    "anonymous": "login_staff",
    "token": "login_staff",
    "entity_user": 403,
    "clerk": 403,
    "reviewer": 200,
    "department_admin": 200,
    "other_department_reviewer": 200,
    "credit_officer": 200,
}


@pytest.mark.parametrize(("actor", "expected"), list(STAFF_LIST.items()))
def test_staff_objection_queue(as_actor, actor, expected, objection):
    response = as_actor(actor).get("/staff/objections/")
    if expected != 200:
        _denied(response, expected)
        return
    assert response.status_code == 200
    shown = objection.reference in text(response)
    assert shown == (actor != "other_department_reviewer")


STAFF_DETAIL = {
    "anonymous": "login_staff",
    "token": "login_staff",
    "entity_user": 403,
    "other_entity_user": 403,
    "clerk": 403,
    "other_department_reviewer": 404,
}


@pytest.mark.parametrize(("actor", "expected"), list(STAFF_DETAIL.items()))
def test_staff_objection_pages_denied_change_nothing(as_actor, actor, expected, objection, record):
    client = as_actor(actor)
    before, record_state = counts(), state(record)
    _denied(client.get(f"/staff/objections/{objection.pk}/"), expected)
    _denied(client.post(f"/staff/objections/{objection.pk}/", answer_form(record, content="改")), expected)
    _denied(
        client.post(f"/staff/objections/{objection.pk}/", answer_form(record, outcome="revoke")), expected
    )
    _denied(client.post(f"/staff/objections/{objection.pk}/contact/"), expected)
    missing = client.get(f"/staff/objections/{objection.pk + 1000}/")
    _denied(missing, expected if expected != 404 else 404)
    assert counts() == before
    assert state(record) == record_state
    assert Objection.objects.get(pk=objection.pk).status == "pending"


@pytest.mark.parametrize("actor", ["reviewer", "department_admin", "credit_officer"])
def test_staff_of_the_recording_department_or_the_credit_office_answer(as_actor, actor, objection, record):
    client = as_actor(actor)
    assert client.get(f"/staff/objections/{objection.pk}/").status_code == 200
    response = client.post(
        f"/staff/objections/{objection.pk}/", answer_form(record, decision="rejected", outcome="")
    )
    assert response.status_code == 302
    assert state(record)[0] == "effective"


def test_other_department_reviewer_cannot_answer_through_the_service(
    objection, other_department_reviewer, record
):
    before = counts()
    with pytest.raises(NotFound):
        objections.objection_answer(
            actor=actor_for_user(other_department_reviewer),
            objection_id=objection.pk,
            upheld=True,
            answer="x",
            revoke=True,
        )
    assert counts() == before
    assert state(record)[0] == "under_objection"


def test_person_contact_is_revealed_to_the_department_only_and_audited(client_for, record, reviewer):
    client_for(None).post("/objections/new/", person_form(record, contact="wang@example.cn"))
    objection = Objection.objects.get()
    assert objection.contact_masked == "w***@example.cn"
    page = client_for(reviewer).get(f"/staff/objections/{objection.pk}/")
    assert "wang@example.cn" not in text(page) and "w***@example.cn" in text(page)
    revealed = client_for(reviewer).post(f"/staff/objections/{objection.pk}/contact/")
    assert revealed.status_code == 200 and "wang@example.cn" in text(revealed)
    assert revealed["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="records.objection.contact_revealed").count() == 1


@pytest.mark.parametrize("actor", ["anonymous", "entity_user", "clerk", "other_department_reviewer", "token"])
def test_public_objection_pages_are_open_to_everyone_and_act_as_the_public(as_actor, actor, record):
    client = as_actor(actor)
    assert client.get("/objections/new/").status_code == 200
    assert client.get(f"/objections/new/?record={record.pk}").status_code == 200
    assert client.get("/objections/track/").status_code == 200
    response = client.post("/objections/new/", person_form(record))
    assert response.status_code == 303
    assert Objection.objects.get().submitted_by is None
