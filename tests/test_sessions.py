"""Session lifetimes: staff are signed out after 30 minutes without activity and 12 hours after
signing in; business users 7 days after signing in. Pages that show a secret are never stored."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from credit_portal.accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def staff_client(user) -> Client:
    client = Client()
    response = client.post("/staff/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_the_settings_say_the_lifetimes(settings):
    assert (
        settings.STAFF_SESSION_IDLE_SECONDS,
        settings.STAFF_SESSION_MAX_AGE,
        settings.ENTITY_SESSION_MAX_AGE,
    ) == (
        30 * 60,
        12 * 3600,
        7 * 24 * 3600,
    )
    assert settings.SESSION_COOKIE_AGE == 7 * 24 * 3600 + 3600  # the portal ends it first, and says why


def test_staff_are_signed_out_after_30_minutes_without_activity(today, time_machine, clerk):
    today(date(2026, 10, 20))
    client = staff_client(clerk)
    time_machine.shift(timedelta(minutes=29))
    assert client.get("/staff/").status_code == 200
    time_machine.shift(timedelta(minutes=29))  # 29 minutes after the last request: still in
    assert client.get("/staff/").status_code == 200
    time_machine.shift(timedelta(minutes=30, seconds=1))
    response = client.get("/staff/entities/")
    assert (response.status_code, response["Location"]) == (302, "/staff/login/?next=/staff/entities/")
    assert not signed_in(client)
    page = client.get(response["Location"]).content.decode()
    assert "You were signed out after 30 minutes without activity. Please sign in again." in page


def test_a_progress_poll_does_not_keep_a_staff_session_alive(today, time_machine, clerk, department):
    from records.models import ImportJob

    today(date(2026, 10, 20))
    client = staff_client(clerk)
    poll = "/staff/imports/999999/status/"
    assert not ImportJob.objects.filter(pk=999999).exists()
    for _ in range(30):
        time_machine.shift(timedelta(minutes=1))
        assert client.get(poll).status_code == 404  # the poll itself is answered
    time_machine.shift(timedelta(minutes=1))
    response = client.get("/staff/")
    assert response.status_code == 302
    assert not signed_in(client)


def test_staff_sessions_end_12_hours_after_signing_in_whatever_the_activity(today, time_machine, clerk):
    today(date(2026, 10, 20))
    client = staff_client(clerk)
    for _ in range(35):  # a request every 20 minutes for 11 h 40 min
        time_machine.shift(timedelta(minutes=20))
        assert client.get("/staff/").status_code == 200
    time_machine.shift(timedelta(minutes=20, seconds=1))
    response = client.get("/staff/")
    assert (response.status_code, response["Location"]) == (302, "/staff/login/?next=/staff/")
    page = client.get(response["Location"]).content.decode()
    assert "You were signed out: a session lasts at most 12 hours. Please sign in again." in page


def test_every_kind_of_sign_in_starts_the_clocks(today, time_machine, client_for, clerk):
    today(date(2026, 10, 20))
    client = client_for(clerk)  # django.contrib.auth.login without a sign-in page
    time_machine.shift(timedelta(minutes=31))
    assert client.get("/staff/").status_code == 302


def test_a_session_from_before_the_limits_starts_its_clocks_at_its_first_request(
    today, time_machine, client_for, clerk
):
    from credit_portal.accounts.sessions import SEEN_AT, SIGNED_IN_AT

    today(date(2026, 10, 20))
    client = client_for(clerk)
    session = client.session
    del session[SIGNED_IN_AT], session[SEEN_AT]
    session.save()
    time_machine.shift(timedelta(hours=13))
    assert client.get("/staff/").status_code == 200
    time_machine.shift(timedelta(minutes=31))
    assert client.get("/staff/").status_code == 302


def test_superusers_count_as_staff_in_the_admin(today, time_machine, client_for, entity_user):
    User.objects.filter(pk=entity_user.pk).update(is_staff=True, is_superuser=True)
    entity_user.refresh_from_db()
    today(date(2026, 10, 20))
    client = client_for(entity_user)
    assert client.get("/admin/").status_code == 200
    time_machine.shift(timedelta(minutes=31))
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_business_users_are_not_idle_timed_but_end_after_7_days(today, time_machine, entity_user):
    today(date(2026, 10, 20))
    client = Client()
    assert (
        client.post("/my/login/", {"username": entity_user.username, "password": PASSWORD}).status_code == 302
    )
    time_machine.shift(timedelta(days=3))
    assert client.get("/my/").status_code == 200
    time_machine.shift(timedelta(days=3, hours=23))
    assert client.get("/my/").status_code == 200
    time_machine.shift(timedelta(hours=1, seconds=1))
    response = client.get("/my/")
    assert (response.status_code, response["Location"]) == (302, "/my/login/?next=/my/")
    assert (
        "You were signed out: a session lasts at most 7 days. Please sign in again."
        in client.get(response["Location"]).content.decode()
    )


# --- pages that show a secret ---------------------------------------------------------------------


def test_the_new_token_page_is_never_stored(client_for, department_admin):
    client = client_for(department_admin)
    assert client.get("/staff/tokens/")["Cache-Control"] == "no-store"
    response = client.post("/staff/tokens/", {"name": "hotline", "scopes": ["entities:read"]})
    assert response.status_code == 200
    assert "cp_" in response.content.decode()
    assert response["Cache-Control"] == "no-store"


def test_an_identity_reveal_is_never_stored(client_for, reviewer, entity):
    from records.models import EntityPerson

    link = EntityPerson.objects.get(entity=entity)
    response = client_for(reviewer).post(f"/staff/entities/{entity.code}/persons/{link.person_id}/reveal/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
