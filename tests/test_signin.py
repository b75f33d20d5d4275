"""Sign-in throttling: lockouts per account and per address at every door, what they say, their
audit events, and lifting them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from credit_portal.accounts.capabilities import StaffRole
from credit_portal.accounts.models import SignInLockout, User
from credit_portal.audit.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"  # tests.factories
DOORS = ["/staff/login/", "/my/login/", "/admin/login/"]


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SIGNIN_ACCOUNT_FAILURES = 3
    settings.SIGNIN_ADDRESS_FAILURES = 5
    settings.SIGNIN_FAILURE_WINDOW = 15 * 60
    settings.SIGNIN_LOCKOUT_SECONDS = 15 * 60


def sign_in(client: Client, door: str, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(door, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def lockout_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="accounts.signin.locked_out").order_by("id"))


LOCKED_EN = (
    "Too many failed sign-in attempts. Signing in is locked: try again after 2026-10-20 10:15 "
    "(Beijing time), in 15 minutes."
)


@pytest.mark.parametrize("door", DOORS)
def test_an_account_is_locked_after_n_failures_at_every_door(door, today, department, clerk):
    if door == "/admin/login/":
        User.objects.filter(pk=clerk.pk).update(is_staff=True, is_superuser=True)
    today(date(2026, 10, 20))
    client = Client()
    for _ in range(2):
        response = sign_in(client, door, clerk.username, "wrong-password")
        assert response.status_code == 200
        assert LOCKED_EN not in response.content.decode()
    response = sign_in(client, door, clerk.username, "wrong-password")
    assert LOCKED_EN in response.content.decode()
    if door != "/admin/login/":
        assert response.status_code == 429
        assert response["Retry-After"] == "900"
    # The right password does not open it either while it is locked, and is not even checked.
    response = sign_in(client, door, clerk.username, PASSWORD)
    assert LOCKED_EN in response.content.decode()
    assert not signed_in(client)

    lockout = SignInLockout.objects.get()
    assert (lockout.kind, lockout.subject, lockout.user, lockout.failures) == (
        "account",
        clerk.username,
        clerk,
        3,
    )
    [event] = lockout_events()
    assert event.target_id == str(lockout.pk)
    assert event.actor_label == "system:sign-in guard"
    assert event.after == {
        "kind": "account",
        "subject": clerk.username,
        "failures": 3,
        "window_seconds": 900,
        "locked_until": "2026-10-20T02:15:00Z",
    }


def test_the_lockout_ends_by_itself_and_survives_a_redis_flush(today, time_machine, department, clerk):
    today(date(2026, 10, 20))
    client = Client()
    for _ in range(3):
        sign_in(client, "/staff/login/", clerk.username, "wrong-password")
    cache.clear()  # the counters are gone (another process, a restarted Redis): the lockout is not
    assert sign_in(client, "/staff/login/", clerk.username, PASSWORD).status_code == 429
    time_machine.shift(timedelta(minutes=14, seconds=59))
    assert sign_in(client, "/staff/login/", clerk.username, PASSWORD).status_code == 429
    time_machine.shift(timedelta(seconds=2))
    response = sign_in(client, "/staff/login/", clerk.username, PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/staff/")
    assert signed_in(client)
    assert len(lockout_events()) == 1


def test_the_message_is_in_chinese_on_a_chinese_page(today, department, clerk):
    today(date(2026, 10, 20))
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    for _ in range(3):
        response = sign_in(client, "/staff/login/", clerk.username, "wrong-password")
    page = response.content.decode()
    assert '<html lang="zh-Hans">' in page
    assert "2026-10-20 10:15" in page


def test_a_successful_sign_in_starts_the_account_count_again(department, clerk):
    client = Client()
    for _ in range(2):
        sign_in(client, "/staff/login/", clerk.username, "wrong-password")
    assert sign_in(client, "/staff/login/", clerk.username, PASSWORD).status_code == 302
    other = Client()
    for _ in range(2):
        assert sign_in(other, "/staff/login/", clerk.username, "wrong-password").status_code == 200
    assert not SignInLockout.objects.exists()


def test_an_unknown_account_name_is_locked_exactly_like_a_real_one(today, department, clerk):
    """Otherwise the lockout would tell which names exist."""
    today(date(2026, 10, 20))
    pages = {}
    for username, address in ((clerk.username, "203.0.113.1"), ("nobody-has-this-name", "203.0.113.2")):
        client = Client()
        responses = [sign_in(client, "/staff/login/", username, "wrong-password", address) for _ in range(4)]
        assert [r.status_code for r in responses] == [200, 200, 429, 429]
        pages[username] = [
            r.content.decode().replace(username, "<name>").split('name="csrfmiddlewaretoken"')[0]
            for r in responses
        ]
    assert pages[clerk.username] == pages["nobody-has-this-name"]
    assert sorted(SignInLockout.objects.values_list("subject", "user")) == [
        (clerk.username, clerk.pk),
        ("nobody-has-this-name", None),
    ]


def test_an_address_is_locked_after_n_failures_across_accounts(today, department, clerk, reviewer):
    today(date(2026, 10, 20))
    client = Client()
    names = ["alpha", "bravo", "charlie", "delta"]
    for name in names:
        assert sign_in(client, "/my/login/", name, "wrong-password").status_code == 200
    response = sign_in(client, "/my/login/", "echo", "wrong-password")
    assert response.status_code == 429
    assert LOCKED_EN in response.content.decode()
    # Every account is closed from that address, even with the right password ...
    assert sign_in(client, "/staff/login/", reviewer.username, PASSWORD).status_code == 429
    # ... and open from another.
    assert (
        sign_in(Client(), "/staff/login/", reviewer.username, PASSWORD, address="198.51.100.9").status_code
        == 302
    )
    lockout = SignInLockout.objects.get(kind="address")
    assert (lockout.subject, lockout.failures, lockout.user) == ("203.0.113.7", 5, None)
    assert [e.after["subject"] for e in lockout_events()] == ["203.0.113.7"]


def test_concurrent_failures_past_the_limit_lock_once(today, department, clerk):
    today(date(2026, 10, 20))
    client = Client()
    codes = [sign_in(client, "/staff/login/", clerk.username, "wrong-password").status_code for _ in range(6)]
    assert codes == [200, 200, 429, 429, 429, 429]
    assert len(lockout_events()) == 1


def test_business_accounts_sign_in_with_their_email_address_in_any_case(client):
    f.entity_user("founder@example.org")
    response = sign_in(client, "/my/login/", "Founder@Example.ORG", PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/my/")


# --- lifting ---------------------------------------------------------------------------------------


def _lock(client: Client, username: str, address: str = "203.0.113.7") -> SignInLockout:
    for _ in range(3):
        sign_in(client, "/staff/login/", username, "wrong-password", address=address)
    return SignInLockout.objects.get(kind="account", subject=username)


def test_a_department_admin_lifts_a_lockout_of_its_own_staff(client_for, department, clerk, department_admin):
    lockout = _lock(Client(), clerk.username)
    admin = client_for(department_admin)
    page = admin.get("/staff/sign-in-lockouts/")
    assert page.status_code == 200
    assert clerk.username in page.content.decode()
    response = admin.post(f"/staff/sign-in-lockouts/{lockout.pk}/lift/")
    assert (response.status_code, response["Location"]) == (302, "/staff/sign-in-lockouts/")
    lockout.refresh_from_db()
    assert lockout.lifted_by == department_admin and lockout.lifted_at is not None
    event = AuditEvent.objects.get(action="accounts.signin.lockout_lifted")
    assert (event.actor_label, event.target_id) == (f"user:{department_admin.username}", str(lockout.pk))
    assert event.data == {"kind": "account", "subject": clerk.username}
    # Open again, with a fresh count of failures.
    client = Client()
    assert sign_in(client, "/staff/login/", clerk.username, "wrong-password").status_code == 200
    assert sign_in(client, "/staff/login/", clerk.username, PASSWORD).status_code == 302
    page = admin.get("/staff/sign-in-lockouts/").content.decode()
    assert f"Sign-in is open again for {clerk.username}." in page
    assert "No lockout in force." in page


def test_lifting_again_changes_nothing(client_for, department, clerk, department_admin):
    lockout = _lock(Client(), clerk.username)
    admin = client_for(department_admin)
    admin.post(f"/staff/sign-in-lockouts/{lockout.pk}/lift/")
    admin.post(f"/staff/sign-in-lockouts/{lockout.pk}/lift/")
    assert AuditEvent.objects.filter(action="accounts.signin.lockout_lifted").count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [("clerk", 403), ("reviewer", 403), ("other_admin", 404), ("entity_user", 403), ("anonymous", 302)],
)
def test_others_cannot_lift_a_lockout(request, client_for, department, other_department, clerk, who, status):
    lockout = _lock(Client(), clerk.username)
    if who == "other_admin":
        user = f.staff(other_department, StaffRole.DEPARTMENT_ADMIN, "other_admin")
    elif who == "anonymous":
        user = None
    else:
        user = request.getfixturevalue(who)
    before = AuditEvent.objects.count()
    response = client_for(user).post(f"/staff/sign-in-lockouts/{lockout.pk}/lift/")
    assert response.status_code == status
    lockout.refresh_from_db()
    assert lockout.lifted_at is None
    assert AuditEvent.objects.count() == before
    assert sign_in(Client(), "/staff/login/", clerk.username, PASSWORD).status_code == 429


def test_a_department_admin_does_not_see_addresses_or_other_departments(
    client_for, department, other_department, department_admin, other_department_clerk
):
    _lock(Client(), other_department_clerk.username)
    for name in ("a", "b", "c", "d", "e"):
        sign_in(Client(), "/my/login/", name, "wrong-password", address="192.0.2.44")
    assert SignInLockout.objects.filter(kind="address", subject="192.0.2.44").exists()
    page = client_for(department_admin).get("/staff/sign-in-lockouts/").content.decode()
    assert other_department_clerk.username not in page
    assert "192.0.2.44" not in page
    assert "No lockout in force." in page


def test_the_credit_office_lifts_an_address_lockout(client_for, credit_officer):
    for name in ("a", "b", "c", "d", "e"):
        sign_in(Client(), "/my/login/", name, "wrong-password", address="192.0.2.44")
    lockout = SignInLockout.objects.get(kind="address")
    office = client_for(credit_officer)
    assert "192.0.2.44" in office.get("/staff/sign-in-lockouts/").content.decode()
    assert office.post(f"/staff/sign-in-lockouts/{lockout.pk}/lift/").status_code == 302
    lockout.refresh_from_db()
    assert lockout.lifted_by == credit_officer
    assert sign_in(Client(), "/my/login/", "a", "wrong-password", address="192.0.2.44").status_code == 200


def test_a_superuser_lifts_lockouts_in_the_admin(client_for, department, clerk, other_department):
    superuser = f.staff(other_department, StaffRole.CLERK, "root")
    User.objects.filter(pk=superuser.pk).update(is_staff=True, is_superuser=True)
    superuser.refresh_from_db()
    lockout = _lock(Client(), clerk.username)
    admin = client_for(superuser)
    assert clerk.username in admin.get("/admin/accounts/signinlockout/").content.decode()
    response = admin.post(
        "/admin/accounts/signinlockout/", {"action": "lift", "_selected_action": [lockout.pk]}
    )
    assert response.status_code == 302
    lockout.refresh_from_db()
    assert lockout.lifted_by == superuser
    assert AuditEvent.objects.get(action="accounts.signin.lockout_lifted").actor_label == "user:root"
    assert sign_in(Client(), "/staff/login/", clerk.username, PASSWORD).status_code == 302
