"""In-app notices with email: who receives them, once per key, emailed once, seen only by their owner."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.test import RequestFactory

from credit_portal.accounts import services as accounts
from credit_portal.accounts.actors import system_actor
from credit_portal.accounts.capabilities import Cap, StaffRole
from credit_portal.accounts.models import User
from credit_portal.audit.models import AuditEvent
from credit_portal.notices import selectors, services, tasks
from credit_portal.notices.context_processors import notices as notices_context
from credit_portal.notices.models import Notice
from credit_portal.outbox.models import OutboxTask

pytestmark = pytest.mark.django_db

SYSTEM = system_actor("tests")
KEY = "disclosure.at_risk:SZ-TEST:2026-11-27"


def _staff(department, role, username, email=""):
    return accounts.staff_user_create(
        actor=SYSTEM,
        username=username,
        password=None,
        department=department,
        role=role,
        full_name=username,
        email=email,
    )


def _content(**overrides):
    return {
        "kind": "disclosure.at_risk",
        "subject_zh": "公示即将超期",
        "subject_en": "Disclosure deadline at risk",
        "body_zh": "有 3 条记录将在 2 个工作日内超期。",
        "body_en": "3 records will be overdue within 2 working days.",
        "link": "/staff/",
        "dedupe_key": KEY,
        **overrides,
    }


def _notify_department(department, capability=Cap.ENTITIES_READ, **overrides):
    return services.notify_department(
        actor=SYSTEM, department=department, capability=capability, **_content(**overrides)
    )


def _notice(user, key, **overrides):
    (notice,) = services.notify_user(actor=SYSTEM, user=user, **_content(dedupe_key=key, **overrides))
    return notice


@pytest.fixture
def no_enqueue(monkeypatch):
    """Stands in for the broker: called with the email task's arguments each time the outbox hands
    the task over (after commit)."""
    from credit_portal.outbox import services as outbox

    delay = mock.Mock()

    def publish(connection, name, args):
        assert name == tasks.email_notices.name
        delay(*args)

    monkeypatch.setattr(outbox, "_publish", publish)
    return delay


# --- recipients ---------------------------------------------------------------------------------


def test_only_staff_of_the_department_whose_role_grants_the_capability_are_notified(
    no_enqueue, department, clerk, reviewer, department_admin, other_department_reviewer, credit_officer
):
    notices = _notify_department(department, Cap.TOKENS_MANAGE)
    assert [n.recipient for n in notices] == [department_admin]

    notices = _notify_department(department, Cap.ENTITIES_READ, dedupe_key="another-key")
    assert {n.recipient for n in notices} == {clerk, reviewer, department_admin}
    assert all(n.department == department for n in notices)
    assert not Notice.objects.filter(recipient__in=[other_department_reviewer, credit_officer]).exists()


def test_inactive_users_and_closed_departments_are_not_notified(no_enqueue, department, clerk, reviewer):
    User.objects.filter(pk=clerk.pk).update(is_active=False)
    assert [n.recipient for n in _notify_department(department)] == [reviewer]

    department.is_active = False
    department.save()
    assert _notify_department(department, dedupe_key="later") == []
    assert services.notify_user(actor=SYSTEM, user=User.objects.get(pk=clerk.pk), **_content()) == []


def test_unknown_capability_and_bad_content_are_refused(no_enqueue, department, clerk):
    with pytest.raises(ValueError, match="unknown capability"):
        _notify_department(department, "entities:raed")
    for bad in ({"link": "https://evil.example/"}, {"link": "//evil.example/"}, {"kind": "Not A Kind"}):
        with pytest.raises(ValidationError):
            _notify_department(department, **bad)
    with pytest.raises(ValidationError):
        _notify_department(department, subject_en="two\nlines")
    assert not Notice.objects.exists()
    no_enqueue.assert_not_called()


# --- once per (recipient, key) ------------------------------------------------------------------


def test_notifying_twice_with_one_key_notifies_and_enqueues_once(
    django_capture_on_commit_callbacks, no_enqueue, department
):
    admin = _staff(department, StaffRole.DEPARTMENT_ADMIN, "admin_mail", "admin@example.org")
    reviewer = _staff(department, StaffRole.REVIEWER, "reviewer_mail", "reviewer@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        first = _notify_department(department)
    with django_capture_on_commit_callbacks(execute=True):
        second = _notify_department(department)

    assert {n.recipient for n in first} == {admin, reviewer}
    assert second == []
    assert Notice.objects.count() == 2
    no_enqueue.assert_called_once_with([n.pk for n in first])
    # One audit event for the call that sent something, naming every recipient.
    (event,) = AuditEvent.objects.filter(action="notices.sent")
    assert event.target_id == str(department.pk)
    assert sorted(event.data["recipient_ids"]) == sorted([admin.pk, reviewer.pk])
    assert event.data["dedupe_key"] == KEY

    # Staff who join later get the notice on the next sweep; the others do not get it again.
    newcomer = _staff(department, StaffRole.CLERK, "newcomer", "new@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        third = _notify_department(department)
    assert [n.recipient for n in third] == [newcomer]
    assert no_enqueue.call_args_list[-1] == mock.call([third[0].pk])
    assert AuditEvent.objects.filter(action="notices.sent").count() == 2


def test_the_email_task_is_recorded_with_the_notices_and_enqueued_on_commit_only(
    django_capture_on_commit_callbacks, department, published
):
    with_email = _staff(department, StaffRole.CLERK, "with_email", "clerk@example.org")
    _staff(department, StaffRole.CLERK, "without_email")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notices = _notify_department(department)
        # Only the notice of the recipient with an address is handed to the task.
        emailed = [n.pk for n in notices if n.recipient == with_email]
        assert list(OutboxTask.objects.values_list("name", "args")) == [(tasks.email_notices.name, [emailed])]
        assert published == []
    assert len(callbacks) == 1
    assert published == [(tasks.email_notices.name, [emailed])]

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _notify_department(department, dedupe_key="rolled-back")
        raise RuntimeError
    assert callbacks == []
    assert len(published) == 1
    assert OutboxTask.objects.count() == 1
    assert not Notice.objects.filter(dedupe_key="rolled-back").exists()


# --- email --------------------------------------------------------------------------------------


def test_the_email_task_sends_bilingual_mail_once(django_capture_on_commit_callbacks, department):
    admin = _staff(department, StaffRole.DEPARTMENT_ADMIN, "admin_mail", "admin@example.org")
    reviewer = _staff(department, StaffRole.REVIEWER, "reviewer_mail", "reviewer@example.org")
    no_address = _staff(department, StaffRole.CLERK, "no_address")
    with django_capture_on_commit_callbacks(execute=True):
        notices = _notify_department(department)
    ids = [n.pk for n in notices]
    assert len(ids) == 3

    assert tasks.email_notices(ids) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@example.org", "reviewer@example.org"]
    message = mail.outbox[0]
    assert message.subject == "[信用监管平台] 公示即将超期 / Disclosure deadline at risk"
    for text in (
        "有 3 条记录将在 2 个工作日内超期。",
        "3 records will be overdue within 2 working days.",
        # The link is stored as the portal's path and mailed as the full address (SITE_URL).
        "\n查看：https://credit.example.gov.cn/staff/\n",
        "\nView: https://credit.example.gov.cn/staff/\n",
    ):
        assert text in message.body
    assert set(Notice.objects.values_list("link", flat=True)) == {"/staff/"}
    emailed = {n.recipient: n.emailed_at for n in Notice.objects.select_related("recipient")}
    assert emailed[admin] is not None
    assert emailed[reviewer] is not None
    assert emailed[no_address] is None  # no address: in-app only

    assert tasks.email_notices(ids) == 0
    assert len(mail.outbox) == 2


def test_the_email_task_skips_recipients_deactivated_meanwhile(no_enqueue, department):
    user = _staff(department, StaffRole.CLERK, "leaver", "leaver@example.org")
    notice = _notice(user, "k1")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert tasks.email_notices([notice.pk]) == 0
    assert mail.outbox == []


def test_notify_user_reaches_an_entity_user(no_enqueue, entity_user):
    notice = _notice(entity_user, "claim.approved:1", kind="claims.approved", link="/my/")
    assert (notice.recipient, notice.department) == (entity_user, None)
    assert (
        services.notify_user(actor=SYSTEM, user=entity_user, **_content(dedupe_key="claim.approved:1")) == []
    )
    event = AuditEvent.objects.get(action="notices.sent")
    assert event.target_type == "accounts.user"
    assert event.data["recipient_ids"] == [entity_user.pk]


# --- the page -----------------------------------------------------------------------------------


def test_the_page_lists_only_ones_own_notices(no_enqueue, client_for, clerk, reviewer):
    _notice(clerk, "k1", subject_en="Old notice for the clerk")
    _notice(clerk, "k2", subject_en="New notice for the clerk", link="/staff/calendar/")
    _notice(reviewer, "k3", subject_en="Notice for the reviewer")

    response = client_for(clerk).get("/staff/notices/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Notice for the reviewer" not in html
    assert html.index("New notice for the clerk") < html.index("Old notice for the clerk")
    assert 'href="/staff/calendar/"' in html
    assert "Mark all as read" in html
    assert [n.subject_en for n in response.context["notices"]] == [
        "New notice for the clerk",
        "Old notice for the clerk",
    ]


def test_marking_read_affects_only_ones_own_notices(no_enqueue, client_for, clerk, reviewer):
    mine, other_mine = _notice(clerk, "k1"), _notice(clerk, "k2")
    theirs = _notice(reviewer, "k3")
    client = client_for(clerk)

    response = client.post("/staff/notices/read/", {"notice": [str(theirs.pk), str(mine.pk)]})
    assert response.status_code == 302
    assert response["Location"] == "/staff/notices/"
    assert selectors.unread_count(clerk) == 1
    assert selectors.unread_count(reviewer) == 1
    assert Notice.objects.get(pk=mine.pk).read_at is not None

    client.post("/staff/notices/read/", {"all": "1"})
    assert selectors.unread_count(clerk) == 0
    assert Notice.objects.get(pk=other_mine.pk).read_at is not None
    assert Notice.objects.get(pk=theirs.pk).read_at is None
    assert "Mark all as read" not in client.get("/staff/notices/").content.decode()

    # A form without "all" and without valid ids marks nothing.
    _notice(clerk, "k4")
    client.post("/staff/notices/read/", {"notice": "abc"})
    assert selectors.unread_count(clerk) == 1


def test_anonymous_visitors_sign_in_and_entity_users_are_refused(client_for, entity_user):
    for method in ("get", "post"):
        response = getattr(client_for(None), method)("/staff/notices/")
        assert response.status_code == 302
        assert response["Location"].startswith("/staff/login/")
        assert getattr(client_for(entity_user), method)("/staff/notices/").status_code == 403
    assert client_for(None).post("/staff/notices/read/", {"all": "1"})["Location"].startswith("/staff/login/")
    assert client_for(entity_user).post("/staff/notices/read/", {"all": "1"}).status_code == 403
    assert client_for(entity_user).get("/staff/notices/read/").status_code == 403


def test_mark_read_requires_post(client_for, clerk):
    assert client_for(clerk).get("/staff/notices/read/").status_code == 405


# --- the badge ----------------------------------------------------------------------------------


def _request(user):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/staff/")
    request.user = user or AnonymousUser()
    return request


def test_context_processor_counts_unread_for_staff_only(
    no_enqueue, django_assert_num_queries, clerk, reviewer, entity_user
):
    _notice(clerk, "k1")
    _notice(clerk, "k2")
    read = _notice(clerk, "k3")
    services.mark_read(user=clerk, notice_ids=[read.pk])
    _notice(reviewer, "k4")
    _notice(entity_user, "k5")

    assert notices_context(_request(None)) == {}
    assert notices_context(_request(entity_user)) == {}
    with django_assert_num_queries(0):
        context = notices_context(_request(clerk))  # nothing is queried until a template asks
    with django_assert_num_queries(1):
        html = render_to_string("includes/notice_badge.html", context, request=_request(clerk))
    assert 'href="/staff/notices/"' in html
    assert "Notices (2" in html

    services.mark_read(user=clerk)
    html = render_to_string("includes/notice_badge.html", notices_context(_request(clerk)))
    assert "(" not in html
