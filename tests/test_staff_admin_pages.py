"""The department administrator's pages: API tokens and the audit trail."""

import re

import pytest

from credit_portal.accounts.models import ApiToken
from credit_portal.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_department_admin_issues_a_token_shown_once(client_for, department_admin, department):
    client = client_for(department_admin)
    response = client.post("/staff/tokens/", {"name": "市场监管系统", "scopes": ["entities:read"]})
    assert response.status_code == 200
    secret = re.search(r'value="(cp_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert (token.department, token.scopes, token.created_by) == (
        department,
        ["entities:read"],
        department_admin,
    )
    assert secret not in client.get("/staff/tokens/").content.decode()  # never shown again
    assert (
        client_for(None).get("/api/v1/entities/", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )


def test_token_form_refuses_unknown_scopes_and_past_expiry(client_for, department_admin):
    client = client_for(department_admin)
    response = client.post("/staff/tokens/", {"name": "x", "scopes": ["persons:identity"]})
    assert "scopes" in response.context["form"].errors
    response = client.post(
        "/staff/tokens/", {"name": "x", "scopes": ["entities:read"], "expires_at": "2001-01-01T00:00"}
    )
    assert "expires_at" in response.context["form"].errors
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("who", ["clerk", "reviewer", "entity_user"])
def test_only_administrators_manage_tokens(request, client_for, who, department):
    client = client_for(request.getfixturevalue(who))
    assert client.get("/staff/tokens/").status_code == 403
    assert client.post("/staff/tokens/", {"name": "x", "scopes": ["entities:read"]}).status_code == 403
    assert not ApiToken.objects.exists()


def test_revoking_another_departments_token_is_404_and_changes_nothing(
    client_for, department_admin, other_department, token_for
):
    token_for(other_department, "entities:read")
    token = ApiToken.objects.get()
    response = client_for(department_admin).post(f"/staff/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_department_admin_revokes_own_token(client_for, department_admin, department, token_for):
    api = token_for(department, "entities:read")
    token = ApiToken.objects.get()
    assert client_for(department_admin).post(f"/staff/tokens/{token.pk}/revoke/").status_code == 302
    assert api.get("/api/v1/entities/").status_code == 401


def test_audit_trail_shows_own_department_only(
    client_for, department_admin, other_department_clerk, entity, other_entity
):
    from credit_portal.accounts.actors import actor_for_user
    from records import services

    services.entity_update(
        actor=actor_for_user(other_department_clerk),
        code=other_entity.code,
        data=services.EntityInput(code=other_entity.code, name_zh="广州市改名有限公司", division="440106"),
    )
    response = client_for(department_admin).get("/staff/audit/", {"action": "records.entity"})
    assert response.status_code == 200
    events = response.context["events"]
    assert AuditEvent.objects.filter(action="records.entity.updated").count() == 1
    assert all(e.actor_department_id == department_admin.department_id for e in events)
    assert "广州市改名有限公司" not in response.content.decode()


def test_audit_trail_needs_audit_read(client_for, clerk):
    assert client_for(clerk).get("/staff/audit/").status_code == 403


def test_credit_office_sees_every_department_and_pages_by_id(
    client_for, credit_officer, entity, other_entity
):
    client = client_for(credit_officer)
    response = client.get("/staff/audit/")
    ids = [e.pk for e in response.context["events"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == AuditEvent.objects.count()  # fewer than a page here
    older = client.get("/staff/audit/", {"before": ids[1]}).context["events"]
    assert [e.pk for e in older] == ids[2:]
