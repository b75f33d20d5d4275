"""The public forms file once (credit_portal/idempotency): a one-time key per form page, a 303 to a
result page after the POST, and the same key sent again — a reload, a double click, two requests at
once — shows the first submission's result instead of filing again."""

from __future__ import annotations

import re
import threading
import time
from datetime import date, timedelta
from datetime import time as clock

import pytest
from django.db import connection
from django.test import Client

from credit_portal.accounts.actors import actor_for_user
from credit_portal.audit.models import AuditEvent
from credit_portal.idempotency import services as once
from credit_portal.idempotency.models import FormSubmission
from credit_portal.idempotency.tasks import purge_expired_keys
from credit_portal.notices.models import Notice
from records import services
from records.models import Complaint, CreditRecord, Objection
from records.services import complaints as complaint_services
from records.services import publication
from tests.test_records import SWEEP, punishment

pytestmark = pytest.mark.django_db

KEY = re.compile(r'name="submission_key" value="([^"]+)"')
DESCRIPTION = "该公司在门店销售过期食品。"


def text(response) -> str:
    return response.content.decode()


def key_on(page) -> str:
    """The one-time key in a form page, as the browser sends it back."""
    found = KEY.findall(text(page))
    assert len(found) == 1, found
    return found[0]


def complaint_form(key: str, department, **changes) -> dict:
    data = {
        "submission_key": key,
        "kind": "complaint",
        "entity_name": "深圳市某某食品店",
        "department": department.code,
        "description": DESCRIPTION,
        "submitter_name": "",
        "contact": "",
    }
    data.update(changes)
    return data


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Complaint, Objection, AuditEvent, Notice, FormSubmission)}


@pytest.fixture
def published_record(reviewer, entity, today):
    today(date(2026, 12, 4), tick=True)
    made = services.record_create(actor=actor_for_user(reviewer), data=punishment(entity), provenance="api")
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    made.refresh_from_db()
    assert made.disclosure == CreditRecord.Disclosure.PUBLISHED
    return made


def person_objection(key: str, record, **changes) -> dict:
    from tests import factories as f

    data = {
        "submission_key": key,
        "record": record.pk,
        "name": "王某某",
        "id_number": f.resident_id(birth="19880512", seq="271"),
        "contact": "13812345678",
        "grounds": "我并非该处罚的当事人。",
    }
    data.update(changes)
    return data


class TestComplaintForm:
    def test_the_post_redirects_and_reloading_the_result_page_files_nothing(self, department):
        browser = Client()
        page = browser.get("/complaints/new/")
        assert page["Cache-Control"] == "no-store"  # the key is this page's alone
        response = browser.post("/complaints/new/", complaint_form(key_on(page), department))
        assert (response.status_code, response["Location"]) == (303, "/complaints/received/")
        complaint = Complaint.objects.get()
        after = counts()
        for _reload in range(3):
            result = browser.get("/complaints/received/")
            assert result.status_code == 200
            assert result["Cache-Control"] == "no-store"
            assert complaint.tracking_number in text(result)
        assert counts() == after

    def test_the_same_key_sent_again_shows_the_first_result_and_stores_nothing(self, department):
        browser = Client()
        data = complaint_form(key_on(browser.get("/complaints/new/")), department)
        first = browser.post("/complaints/new/", data, follow=True)
        complaint = Complaint.objects.get()
        after = counts()
        # The browser's "resend the form" after a reload of the POST, or a second click.
        again = browser.post("/complaints/new/", data, follow=True)
        assert again.redirect_chain == [("/complaints/received/", 303)]
        assert complaint.tracking_number in text(again) and complaint.tracking_number in text(first)
        assert counts() == after
        assert Complaint.objects.get() == complaint
        # Even with the text edited on the old page: the key was used, so nothing new is filed.
        edited = browser.post("/complaints/new/", {**data, "description": "另一件事。"})
        assert (edited.status_code, edited["Location"]) == (303, "/complaints/received/")
        assert counts() == after

    def test_the_result_page_shows_nothing_to_another_session(self, department):
        browser = Client()
        browser.post("/complaints/new/", complaint_form(key_on(browser.get("/complaints/new/")), department))
        complaint = Complaint.objects.get()
        stranger = Client()
        response = stranger.get("/complaints/received/")
        assert (response.status_code, response["Location"]) == (302, "/complaints/track/")
        assert complaint.tracking_number not in text(stranger.get("/complaints/received/", follow=True))

    def test_invalid_input_leaves_the_key_unused_for_the_corrected_form(self, department):
        browser = Client()
        key = key_on(browser.get("/complaints/new/"))
        refused = browser.post("/complaints/new/", complaint_form(key, department, entity_name=""))
        assert refused.status_code == 200 and "entity_name" in refused.context["form"].errors
        assert key_on(refused) == key
        assert Complaint.objects.count() == FormSubmission.objects.count() == 0
        corrected = browser.post("/complaints/new/", complaint_form(key, department))
        assert corrected.status_code == 303
        assert Complaint.objects.count() == FormSubmission.objects.count() == 1

    @pytest.mark.parametrize(
        "key",
        [
            None,
            "",
            "made-up:1abc:signature",
            once.submission_key_issue("public.objection"),  # another form's
        ],
    )
    def test_a_missing_forged_or_foreign_key_files_nothing_and_the_form_comes_back_with_a_fresh_one(
        self, department, key
    ):
        data = complaint_form(key or "", department)
        if key is None:
            del data["submission_key"]
        before = counts()
        response = Client().post("/complaints/new/", data)
        assert response.status_code == 200
        assert "was not sent" in text(response)
        assert response.context["form"]["description"].value() == DESCRIPTION  # what was typed stays
        assert counts() == before
        fresh = key_on(response)
        assert fresh != key and once.submission_key_read("public.complaint", fresh) is not None
        assert Client().post("/complaints/new/", {**data, "submission_key": fresh}).status_code == 303
        assert Complaint.objects.count() == 1

    def test_a_key_older_than_the_window_is_refused(self, department, today):
        today(date(2026, 12, 1), tick=True)
        browser = Client()
        key = key_on(browser.get("/complaints/new/"))
        today(date(2026, 12, 2), at=clock(11, 0), tick=True)  # 25 hours on
        response = browser.post("/complaints/new/", complaint_form(key, department))
        assert response.status_code == 200 and "was not sent" in text(response)
        assert Complaint.objects.count() == 0

    def test_a_replay_is_not_counted_by_the_rate_limit(self, department):
        browser = Client()
        data = complaint_form(key_on(browser.get("/complaints/new/")), department)
        for _ in range(15):
            assert browser.post("/complaints/new/", data).status_code == 303
        assert Complaint.objects.count() == 1
        for _ in range(9):
            fresh = complaint_form(key_on(browser.get("/complaints/new/")), department)
            assert browser.post("/complaints/new/", fresh).status_code == 303
        last = complaint_form(key_on(browser.get("/complaints/new/")), department)
        assert browser.post("/complaints/new/", last).status_code == 429
        assert Complaint.objects.count() == 10


class TestObjectionForms:
    def test_a_persons_objection_sent_twice_is_one_objection_and_the_reference_is_shown_again(
        self, published_record
    ):
        browser = Client()
        page = browser.get(f"/objections/new/?record={published_record.pk}")
        assert page["Cache-Control"] == "no-store"
        data = person_objection(key_on(page), published_record)
        first = browser.post("/objections/new/", data, follow=True)
        assert first.redirect_chain == [("/objections/received/", 303)]
        objection = Objection.objects.get()
        after = counts()
        # Before, the second POST met "already has an objection awaiting" and lost the reference.
        again = browser.post("/objections/new/", data, follow=True)
        assert again.redirect_chain == [("/objections/received/", 303)]
        assert objection.reference in text(again)
        assert "already has an objection" not in text(again)
        assert counts() == after
        assert objection.reference in text(browser.get("/objections/received/"))
        stranger = Client().get("/objections/received/", follow=True)
        assert objection.reference not in text(stranger)

    def test_the_business_objection_sent_twice_is_one_objection(
        self, published_record, entity_user, client_for
    ):
        browser = client_for(entity_user)
        page = browser.get(f"/my/objections/new/{published_record.pk}/")
        data = {"submission_key": key_on(page), "grounds": "罚款金额录入有误。"}
        first = browser.post(f"/my/objections/new/{published_record.pk}/", data)
        assert (first.status_code, first["Location"]) == (303, "/my/objections/")
        after = counts()
        again = browser.post(f"/my/objections/new/{published_record.pk}/", data, follow=True)
        assert again.redirect_chain == [("/my/objections/", 303)]
        assert Objection.objects.get().reference in text(again)
        assert counts() == after


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_posts_with_one_key_at_once_file_one_complaint(department, monkeypatch):
    """Two requests on two connections: the first is held inside its transaction, after its key's
    row is written, until the second has started; the second waits on the unique constraint and
    then shows the first one's result. A check-then-insert would have filed twice."""
    data = complaint_form(once.submission_key_issue("public.complaint"), department)
    first_inside, second_started = threading.Event(), threading.Event()
    submit = complaint_services.complaint_submit

    def held(**kwargs):
        first_inside.set()
        second_started.wait(timeout=10)
        time.sleep(0.5)  # the second request is now at the key's row
        return submit(**kwargs)

    monkeypatch.setattr(complaint_services, "complaint_submit", held)
    responses, errors = {}, []

    def post(name: str):
        try:
            if name == "second":
                first_inside.wait(timeout=10)
                second_started.set()
            responses[name] = Client().post("/complaints/new/", data)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert [responses[n].status_code for n in ("first", "second")] == [303, 303]
    assert Complaint.objects.count() == 1
    assert FormSubmission.objects.get().result_id == Complaint.objects.get().pk
    assert AuditEvent.objects.filter(action="records.complaint.submitted").count() == 1


def test_the_service_files_once_per_key_and_a_failure_leaves_the_key_unused(department):
    key = once.submission_key_read("public.complaint", once.submission_key_issue("public.complaint"))
    calls = []

    def fail():
        calls.append("fail")
        raise ValueError("invalid")

    with pytest.raises(ValueError):
        once.submit_once(key=key, file=fail)
    assert not FormSubmission.objects.exists()
    first = once.submit_once(key=key, file=lambda: calls.append("file") or 41)
    second = once.submit_once(key=key, file=lambda: calls.append("again") or 42)
    assert (first, second) == (once.Filed(41, False), once.Filed(41, True))
    assert calls == ["fail", "file"]
    assert once.submission_result(key) == 41


def test_the_daily_purge_forgets_what_is_older_than_the_window(department, today):
    today(date(2026, 12, 1))
    old = once.submission_key_read("public.complaint", once.submission_key_issue("public.complaint"))
    once.submit_once(key=old, file=lambda: 1)
    today(date(2026, 12, 2), at=clock(12, 0))
    new = once.submission_key_read("public.complaint", once.submission_key_issue("public.complaint"))
    once.submit_once(key=new, file=lambda: 2)
    assert purge_expired_keys() == {"form_submissions": 1, "api_keys": 0}
    assert list(FormSubmission.objects.values_list("result_id", flat=True)) == [2]
    assert once.window() == timedelta(hours=24)


def test_the_purge_runs_daily_from_beat():
    from django.conf import settings

    from credit_portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["purge-idempotency-keys"]
    assert entry["task"] == purge_expired_keys.name == "credit_portal.idempotency.tasks.purge_expired_keys"
    assert entry["task"] in app.tasks
