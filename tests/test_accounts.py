"""Departments, roles, API tokens and the shared machinery of the doors."""

import hashlib
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from credit_portal.accounts.actors import actor_for_user, system_actor
from credit_portal.accounts.capabilities import ROLE_CAPABILITIES, Cap, StaffRole, parse_scopes
from credit_portal.accounts.models import ApiToken
from credit_portal.accounts.services import token_revoke
from credit_portal.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_roles_grow_by_inclusion():
    clerk, reviewer, admin, office = (ROLE_CAPABILITIES[r] for r in StaffRole)
    assert clerk < reviewer < admin < office
    assert Cap.ALL_DEPARTMENTS in office and Cap.ALL_DEPARTMENTS not in admin
    assert Cap.PERSONS_IDENTITY not in clerk


def test_entity_users_and_public_hold_no_staff_capability(entity_user):
    actor = actor_for_user(entity_user)
    assert actor.capabilities == frozenset({Cap.OWN_ENTITY})
    assert actor_for_user(None).capabilities == frozenset()


def test_scopes_are_validated():
    assert parse_scopes(" entities:write , entities:read,entities:read") == [
        "entities:read",
        "entities:write",
    ]
    with pytest.raises(ValueError, match="unknown scope"):
        parse_scopes("entities:read,persons:identity")
    with pytest.raises(ValueError, match="at least one"):
        parse_scopes(" , ")


class TestIssueApiTokenCommand:
    def test_prints_the_secret_once_and_stores_only_its_digest(self, department):
        out = StringIO()
        call_command(
            "issue_api_token",
            "--department",
            department.code.lower(),
            "--scopes",
            "entities:read",
            stdout=out,
            stderr=StringIO(),
        )
        secret = out.getvalue().splitlines()[1].strip()
        token = ApiToken.objects.get()
        assert secret.startswith("cp_") and len(secret) > 40
        assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in str(ApiToken.objects.values().get())
        assert token.scopes == ["entities:read"]
        assert token.department == department
        assert AuditEvent.objects.filter(action="accounts.token.issued", target_id=str(token.pk)).exists()
        response = Client().get("/api/v1/entities/", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--department", "NOPE", "--scopes", "entities:read"], "unknown or inactive department"),
            (["--department", "SZ-TEST", "--scopes", "entities:delete"], "unknown scope"),
        ],
    )
    def test_bad_arguments_fail_and_issue_nothing(self, department, args, message):
        with pytest.raises(CommandError, match=message):
            call_command("issue_api_token", *args, stdout=StringIO())
        assert not ApiToken.objects.exists()


def test_revoked_and_expired_tokens_are_refused(department, token_for):
    client = token_for(department, "entities:read")
    assert client.get("/api/v1/entities/").status_code == 200
    token_revoke(actor=system_actor("tests"), token=ApiToken.objects.get())
    response = client.get("/api/v1/entities/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_department_admin_cannot_revoke_another_departments_token(
    department, other_department, department_admin
):
    from django.core.exceptions import PermissionDenied

    from credit_portal.accounts.services import token_issue

    token, _ = token_issue(
        actor=system_actor("tests"), department=other_department, scopes="entities:read", name="x"
    )
    with pytest.raises(PermissionDenied):
        token_revoke(actor=actor_for_user(department_admin), token=token)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_api_is_throttled_per_token(department, token_for, settings):
    from rest_framework.settings import api_settings

    from credit_portal.api.throttling import ClientRateThrottle

    rates = {"anon": "2/min", "token": "3/min"}
    original = ClientRateThrottle.THROTTLE_RATES
    ClientRateThrottle.THROTTLE_RATES = rates
    try:
        client = token_for(department, "entities:read")
        codes = [client.get("/api/v1/entities/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        other = token_for(department, "entities:read")
        assert other.get("/api/v1/entities/").status_code == 200  # its own bucket
        anon = [Client().get("/api/v1/entities/").status_code for _ in range(3)]
        assert anon == [401, 401, 429]
    finally:
        ClientRateThrottle.THROTTLE_RATES = original
    assert api_settings.DEFAULT_THROTTLE_RATES  # the configured defaults are untouched


def test_healthz(client):
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")


def test_every_page_offers_both_languages_and_the_switch_works(client):
    page = client.get("/").content.decode()
    assert 'name="language" value="zh-hans"' in page
    assert 'name="language" value="en"' in page
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert '<html lang="zh-Hans">' in page
    assert "公共信用信息查询" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Public credit information search" in client.get("/").content.decode()


def test_seed_demo_is_idempotent():
    call_command("seed_demo", "--quiet", stdout=StringIO(), stderr=StringIO())
    from records.models import EntityClaim, MarketEntity

    counts = (MarketEntity.objects.count(), EntityClaim.objects.count(), AuditEvent.objects.count())
    assert counts[0] == 300
    call_command("seed_demo", "--quiet", stdout=StringIO(), stderr=StringIO())
    assert (MarketEntity.objects.count(), EntityClaim.objects.count(), AuditEvent.objects.count()) == counts
    call_command(
        "seed_demo",
        "--quiet",
        "--entities",
        "1200",
        "--batch-size",
        "500",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    assert MarketEntity.objects.count() == 1500
    call_command(
        "seed_demo",
        "--quiet",
        "--entities",
        "1200",
        "--batch-size",
        "500",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    assert MarketEntity.objects.count() == 1500
    from records.models import MarketEntityGroupObjectPermission

    assert MarketEntityGroupObjectPermission.objects.count() == 1500
    call_command("verify_audit", stdout=StringIO())


@override_settings(DEBUG=False)
def test_production_settings_pass_the_deployment_checks():
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "credit_portal.settings.base",
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "a-much-longer-and-random-looking-secret-value-1234567890",
        "PERSONAL_DATA_KEY": "deploy-check",
        "AUDIT_CHAIN_KEY": "deploy-check",
        # Two roles, as deployed (docs/adr/0009): the owner's URL here names another role.
        "DATABASE_OWNER_URL": "postgres://credit_portal_owner@127.0.0.1:5432/credit_portal",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_staff_of_a_closed_department_lose_their_capabilities(clerk, department, client_for):
    department.is_active = False
    department.save(update_fields=["is_active"])
    clerk.refresh_from_db()
    assert actor_for_user(clerk).capabilities == frozenset()
    assert client_for(clerk).get("/staff/entities/").status_code == 403


def test_unsupported_api_methods_are_405(department, token_for, entity):
    client = token_for(department, "entities:read,entities:write")
    assert client.delete(f"/api/v1/entities/{entity.code}/").status_code == 405
    assert client.put("/api/v1/entities/", data="{}", content_type="application/json").status_code == 405
