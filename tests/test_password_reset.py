"""Setting a new password through a link sent by email: the whole way, the same answer for every
address, the throttles, and the lockouts it lifts."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from credit_portal.accounts import tasks
from credit_portal.accounts.models import SignInLockout, User
from credit_portal.audit.models import AuditEvent
from tests.conftest import HandedOver

pytestmark = pytest.mark.django_db

OLD = "a-long-test-password"  # tests.factories
NEW = "Osprey-lantern-4412"


@pytest.fixture
def enqueued(published):
    """The email_password_reset tasks handed to the broker through the outbox, in order."""
    return HandedOver(published, "credit_portal.accounts.tasks.email_password_reset")


def ask(client, django_capture_on_commit_callbacks, email, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/account/password-reset/", {"email": email}, **extra)


@pytest.mark.parametrize("door", ["/staff/login/", "/my/login/"])
def test_both_sign_in_pages_link_to_the_reset(client, door):
    assert 'href="/account/password-reset/"' in client.get(door).content.decode()


def test_a_new_password_by_email_from_start_to_end(django_capture_on_commit_callbacks, enqueued, clerk):
    User.objects.filter(pk=clerk.pk).update(email="clerk@sz.gov.cn")
    response = ask(Client(), django_capture_on_commit_callbacks, "Clerk@SZ.gov.cn")
    assert (response.status_code, response["Location"]) == (302, "/account/password-reset/sent/")
    [(args, _)] = enqueued.call_args_list
    # The link is made from SITE_URL, never from the request's host (a client chooses that).
    assert args[:2] == ("clerk@sz.gov.cn", "")
    assert tasks.email_password_reset(*args) == 1
    [message] = mail.outbox
    assert message.to == ["clerk@sz.gov.cn"]
    assert message.subject.startswith("[信用监管平台] ")
    assert f'"{clerk.username}"' in message.body
    link = re.search(
        r"https://credit\.example\.gov\.cn(/account/password-reset/[^/\s]+/[^/\s]+/)", message.body
    ).group(1)

    client = Client()
    page = client.get(link)  # Django moves the token out of the URL into the session
    assert page.status_code == 302
    form_page = client.get(page["Location"])
    assert form_page.status_code == 200
    assert "no-store" in form_page["Cache-Control"]
    assert 'name="new_password1"' in form_page.content.decode()
    done = client.post(page["Location"], {"new_password1": NEW, "new_password2": NEW})
    assert (done.status_code, done["Location"]) == (302, "/account/password-reset/done/")
    assert "_auth_user_id" not in client.session  # not signed in by the link

    clerk.refresh_from_db()
    assert clerk.check_password(NEW) and not clerk.check_password(OLD)
    event = AuditEvent.objects.get(action="accounts.password.reset")
    assert (event.target_id, event.actor_label, event.data) == (
        str(clerk.pk),
        "user:clerk",
        {"lockouts_lifted": 0},
    )
    # The link worked once.
    assert client.get(link, follow=True).content.decode().count("This link is not valid any more") == 1
    signin = Client().post("/staff/login/", {"username": clerk.username, "password": NEW})
    assert (signin.status_code, signin["Location"]) == (302, "/staff/")


def test_an_unknown_address_gets_the_same_answer_after_the_same_work(
    django_capture_on_commit_callbacks, enqueued, entity_user
):
    answers, queries = {}, {}
    for email in ("user@example.org", "nobody@example.org"):
        with CaptureQueriesContext(connection) as captured:
            answers[email] = ask(Client(), django_capture_on_commit_callbacks, email)
        # No account is looked up in the request (savepoints aside): the task does that.
        queries[email] = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert [(a.status_code, a["Location"]) for a in answers.values()] == [
        (302, "/account/password-reset/sent/")
    ] * 2
    # The task is recorded in the outbox the same way for both; no account is read.
    assert len(queries["user@example.org"]) == len(queries["nobody@example.org"])
    for sql in queries["user@example.org"] + queries["nobody@example.org"]:
        assert "accounts_user" not in sql and "outbox_outboxtask" in sql
    assert enqueued.call_count == 2
    assert tasks.email_password_reset(*enqueued.call_args_list[1].args) == 0
    assert mail.outbox == []
    sent_page = Client().get("/account/password-reset/sent/").content.decode()
    assert "If an account uses the address you entered" in sent_page


def test_a_reset_lifts_the_lockout_of_the_account(
    django_capture_on_commit_callbacks, enqueued, settings, clerk
):
    settings.SIGNIN_ACCOUNT_FAILURES = 2
    User.objects.filter(pk=clerk.pk).update(email="clerk@sz.gov.cn")
    for _ in range(2):
        Client().post("/staff/login/", {"username": clerk.username, "password": "wrong"})
    lockout = SignInLockout.objects.get(subject=clerk.username)
    ask(Client(), django_capture_on_commit_callbacks, "clerk@sz.gov.cn")
    tasks.email_password_reset(*enqueued.call_args_list[0].args)
    link = re.search(
        r"https://credit\.example\.gov\.cn(/account/password-reset/[^/\s]+/[^/\s]+/)", mail.outbox[0].body
    ).group(1)
    client = Client()
    set_url = client.get(link)["Location"]
    client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    lockout.refresh_from_db()
    assert lockout.lifted_at is not None
    lifted = AuditEvent.objects.get(action="accounts.signin.lockout_lifted")
    assert lifted.data == {"kind": "account", "subject": clerk.username, "reason": "password reset"}
    assert AuditEvent.objects.get(action="accounts.password.reset").data == {"lockouts_lifted": 1}
    assert Client().post("/staff/login/", {"username": clerk.username, "password": NEW}).status_code == 302


def test_inactive_accounts_and_accounts_without_a_usable_password_get_no_link(enqueued, clerk, reviewer):
    User.objects.filter(pk=clerk.pk).update(email="gone@sz.gov.cn", is_active=False)
    reviewer.set_unusable_password()
    reviewer.email = "sso@sz.gov.cn"
    reviewer.save()
    assert tasks.email_password_reset("gone@sz.gov.cn") == 0
    assert tasks.email_password_reset("sso@sz.gov.cn") == 0
    assert mail.outbox == []


def test_requests_are_throttled_per_client_address_and_per_email_address(
    django_capture_on_commit_callbacks, enqueued
):
    client = Client()
    codes = [
        ask(client, django_capture_on_commit_callbacks, f"p{n}@example.org").status_code for n in range(6)
    ]
    assert codes == [302] * 5 + [429]
    assert enqueued.call_count == 5
    throttled = ask(client, django_capture_on_commit_callbacks, "p9@example.org")
    assert "Too many requests from your address." in throttled.content.decode()
    # One mailbox gets at most three links an hour, whoever asks (and is told nothing different).
    for n in range(5):
        other = Client(REMOTE_ADDR=f"198.51.100.{n + 10}")
        response = ask(other, django_capture_on_commit_callbacks, "victim@example.org")
        assert (response.status_code, response["Location"]) == (302, "/account/password-reset/sent/")
    assert [c.args[0] for c in enqueued.call_args_list[5:]] == ["victim@example.org"] * 3


def test_the_reset_link_is_at_the_public_address_whatever_host_the_request_named(
    django_capture_on_commit_callbacks, enqueued, settings, clerk
):
    # A Host header is the client's to choose: a link built from it would carry the reset token to
    # the client's server. The link is made from SITE_URL.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "attacker.example"]
    User.objects.filter(pk=clerk.pk).update(email="clerk@sz.gov.cn")
    ask(Client(), django_capture_on_commit_callbacks, "clerk@sz.gov.cn", HTTP_HOST="attacker.example")
    [(args, _)] = enqueued.call_args_list
    assert tasks.email_password_reset(*args) == 1
    [message] = mail.outbox
    assert "attacker.example" not in message.body
    links = re.findall(r"https?://\S+", message.body)
    assert len(links) == 2  # once in each language
    assert all(
        re.fullmatch(r"https://credit\.example\.gov\.cn/account/password-reset/[^/]+/[^/]+/", u)
        for u in links
    )
