"""Sign-up never tells whether an address or a user name has an account: the same answer after the
same work, and an email that only the address's owner reads. The account opens from the link."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from credit_portal.accounts import tasks
from credit_portal.accounts.models import PendingSignup, User
from credit_portal.audit.models import AuditEvent
from tests.conftest import HandedOver

pytestmark = pytest.mark.django_db

PASSWORD = "Kestrel-harbour-2026"


def form(email: str, **extra) -> dict:
    return {
        "full_name": "王小明",
        "email": email,
        "phone": "",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **extra,
    }


def normalised(response, *variable: str) -> str:
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
    for value in variable:
        body = body.replace(value, "<X>")
    return body


@pytest.fixture
def enqueued(published):
    """The email_signup tasks handed to the broker through the outbox, in order."""
    return HandedOver(published, "credit_portal.accounts.tasks.email_signup")


def post_signup(client, django_capture_on_commit_callbacks, data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/my/signup/", data)


def test_a_taken_address_gets_the_same_answer_after_the_same_work(
    django_capture_on_commit_callbacks, enqueued, clerk, entity_user
):
    User.objects.filter(pk=clerk.pk).update(email="clerk@sz.gov.cn")
    # A first page fills what each process keeps for every page (the deadline the footer states).
    assert Client().get("/my/signup/").status_code == 200
    answers, queries = {}, {}
    for email in ("clerk@sz.gov.cn", "new.owner@example.org"):
        with CaptureQueriesContext(connection) as captured:
            answers[email] = post_signup(Client(), django_capture_on_commit_callbacks, form(email))
        queries[email] = [
            re.sub(r"'[^']*'|\"[^\"]*_x\d+\"|\b\d+\b", "?", q["sql"]) for q in captured.captured_queries
        ]
    taken, free = answers["clerk@sz.gov.cn"], answers["new.owner@example.org"]
    assert taken.status_code == free.status_code == 200
    assert normalised(taken, "clerk@sz.gov.cn") == normalised(free, "new.owner@example.org")
    assert "We have sent an email to new.owner@example.org." in free.content.decode()
    assert queries["clerk@sz.gov.cn"] == queries["new.owner@example.org"]
    assert enqueued.call_count == 2
    assert not User.objects.filter(email__in=["new.owner@example.org"]).exists()
    assert not mail.outbox  # nothing is sent from the request itself


def test_a_staff_user_name_is_refused_like_any_other_non_address(clerk):
    """Staff names live in the same table; the form only ever asks for an email address."""
    pages = [Client().post("/my/signup/", form(name)) for name in (clerk.username, "never-used-name")]
    assert [p.status_code for p in pages] == [200, 200]
    assert normalised(pages[0], clerk.username) == normalised(pages[1], "never-used-name")
    assert "Enter a valid email address." in pages[0].content.decode()
    assert not PendingSignup.objects.exists()


def test_the_address_owner_is_told_and_no_account_is_opened(
    django_capture_on_commit_callbacks, enqueued, entity_user
):
    post_signup(Client(), django_capture_on_commit_callbacks, form("USER@example.org"))
    [(args, _)] = enqueued.call_args_list
    assert tasks.email_signup(*args) == "taken"
    [message] = mail.outbox
    assert message.to == ["user@example.org"]
    assert "An account already uses this address, so no new account was opened." in message.body
    assert "/my/login/" in message.body and "/account/password-reset/" in message.body
    assert "/my/signup/confirm/" not in message.body
    assert not PendingSignup.objects.exists()
    assert list(User.objects.filter(email__iexact="user@example.org")) == [entity_user]


def test_the_link_opens_the_account_once(django_capture_on_commit_callbacks, enqueued, today):
    today(date(2026, 10, 20))
    before = AuditEvent.objects.count()
    post_signup(Client(), django_capture_on_commit_callbacks, form("Owner@Example.org", phone="13800000000"))
    [(args, _)] = enqueued.call_args_list
    assert tasks.email_signup(*args) == "confirm"
    [message] = mail.outbox
    assert message.to == ["owner@example.org"]
    assert message.subject.startswith("[信用监管平台] ")
    link = re.search(r"https://credit\.example\.gov\.cn(/my/signup/confirm/[^/\s]+/)", message.body).group(1)
    assert AuditEvent.objects.count() == before  # a request opens nothing

    client = Client()
    page = client.get(link)
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert not User.objects.filter(
        username="owner@example.org"
    ).exists()  # a GET (a mail scanner) opens nothing
    response = client.post(link)
    assert (response.status_code, response["Location"]) == (302, "/my/claim/")
    user = User.objects.get(username="owner@example.org")
    assert (user.email, user.full_name, user.phone, user.kind, user.is_active) == (
        "owner@example.org",
        "王小明",
        "13800000000",
        "entity",
        True,
    )
    assert user.check_password(PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)
    event = AuditEvent.objects.get(action="accounts.entity_user.signed_up", target_id=str(user.pk))
    assert event.after["username"] == "owner@example.org"
    assert not PendingSignup.objects.exists()

    again = Client().post(link)
    assert again.status_code == 400
    assert "This link is not valid any more" in again.content.decode()
    assert User.objects.filter(email="owner@example.org").count() == 1
    # And the new account signs in with its address.
    login = Client().post("/my/login/", {"username": "owner@example.org", "password": PASSWORD})
    assert (login.status_code, login["Location"]) == (302, "/my/")


def test_an_expired_or_replaced_link_opens_nothing(
    django_capture_on_commit_callbacks, enqueued, today, time_machine
):
    today(date(2026, 10, 20))
    post_signup(Client(), django_capture_on_commit_callbacks, form("late@example.org"))
    tasks.email_signup(*enqueued.call_args_list[0].args)
    first = re.search(r"(/my/signup/confirm/[^/\s]+/)", mail.outbox[0].body).group(1)
    post_signup(Client(), django_capture_on_commit_callbacks, form("late@example.org"))
    tasks.email_signup(*enqueued.call_args_list[1].args)
    second = re.search(r"(/my/signup/confirm/[^/\s]+/)", mail.outbox[1].body).group(1)
    assert Client().post(first).status_code == 400  # replaced by the newer request
    time_machine.shift(timedelta(days=3, seconds=1))
    response = Client().post(second)
    assert response.status_code == 400
    assert "This link is not valid any more" in response.content.decode()
    assert not User.objects.filter(username="late@example.org").exists()


def test_an_address_taken_meanwhile_is_not_opened_twice(django_capture_on_commit_callbacks, enqueued):
    post_signup(Client(), django_capture_on_commit_callbacks, form("race@example.org"))
    tasks.email_signup(*enqueued.call_args_list[0].args)
    link = re.search(r"(/my/signup/confirm/[^/\s]+/)", mail.outbox[0].body).group(1)
    from tests import factories as f

    existing = f.entity_user("someone")
    User.objects.filter(pk=existing.pk).update(email="race@example.org")
    before = AuditEvent.objects.count()
    response = Client().post(link)
    assert response.status_code == 400
    assert "An account already uses this address." in response.content.decode()
    assert list(User.objects.filter(email="race@example.org")) == [existing]
    assert AuditEvent.objects.count() == before


def test_bad_input_is_refused_with_messages_and_records_nothing(enqueued):
    response = Client().post("/my/signup/", form("ok@example.org", password2="something-else"))
    assert response.status_code == 200
    assert "The two passwords differ." in response.content.decode()
    response = Client().post(
        "/my/signup/", {**form("ok@example.org"), "password1": "12345", "password2": "12345"}
    )
    assert "This password is too short." in response.content.decode()
    assert not PendingSignup.objects.exists()
    enqueued.assert_not_called()


def test_sign_up_is_throttled_per_address(enqueued):
    client = Client()
    codes = [client.post("/my/signup/", form("x")).status_code for _ in range(11)]
    assert codes == [200] * 10 + [429]
    assert (
        "Too many sign-up requests from your address."
        in client.post("/my/signup/", form("x")).content.decode()
    )
    assert Client(REMOTE_ADDR="198.51.100.3").post("/my/signup/", form("x")).status_code == 200


@pytest.mark.parametrize("taken", [False, True])
def test_the_sign_up_emails_links_are_at_the_public_address_whatever_host_the_request_named(
    django_capture_on_commit_callbacks, enqueued, settings, entity_user, taken
):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "attacker.example"]
    address = entity_user.email if taken else "someone.new@example.org"
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/my/signup/", form(address), HTTP_HOST="attacker.example")
    [(args, _)] = enqueued.call_args_list
    assert tasks.email_signup(*args) == ("taken" if taken else "confirm")
    [message] = mail.outbox
    assert "attacker.example" not in message.body
    links = re.findall(r"https?://\S+", message.body)
    expected = (
        {"https://credit.example.gov.cn/my/login/", "https://credit.example.gov.cn/account/password-reset/"}
        if taken
        else None
    )
    if expected is not None:
        assert set(links) == expected
    else:
        assert len(links) == 2
        assert all(
            re.fullmatch(r"https://credit\.example\.gov\.cn/my/signup/confirm/[^/]+/", u) for u in links
        )
