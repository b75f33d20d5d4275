"""The audit chain: append-only in the database, tamper-evident by hash."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction

from credit_portal.accounts.actors import system_actor
from credit_portal.audit import services as audit
from credit_portal.audit.models import AuditEvent
from credit_portal.audit.verification import verify

pytestmark = pytest.mark.django_db

ACTOR = system_actor("tests")


def _three_events():
    with transaction.atomic():
        return [audit.log(actor=ACTOR, action="tests.event", data={"n": n, "text": "信用"}) for n in range(3)]


def test_events_are_chained_by_hash():
    first, second, third = _three_events()
    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    assert [e.scheme for e in (first, second, third)] == [AuditEvent.Scheme.HMAC_SHA256] * 3
    result = verify()
    assert (result.checked, result.problems) == (3, [])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_log_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        audit.log(actor=ACTOR, action="tests.event")


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"]
)
def test_database_refuses_update_and_delete(statement):
    _three_events()
    with (
        pytest.raises((InternalError, ProgrammingError, IntegrityError)) as exc,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert "append-only" in str(exc.value)
    assert AuditEvent.objects.filter(action="tests.event").count() == 3


def test_orm_update_is_refused_too():
    event = _three_events()[0]
    event.action = "tampered"
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        event.save()


def _tamper(sql, params):
    """What someone with the table owner's rights could do: disable the guard, change a row."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_append_only")


def test_altered_row_is_detected_and_named():
    _first, second, _third = _three_events()
    _tamper("UPDATE audit_auditevent SET data = %s WHERE id = %s", ['{"n": 99, "text": "信用"}', second.pk])
    result = verify()
    assert [p.event_id for p in result.problems] == [second.pk]
    assert "altered" in result.problems[0].message
    assert result.checked == 3


def test_removed_row_is_detected_at_the_next_one():
    _first, second, third = _three_events()
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
    result = verify()
    assert [p.event_id for p in result.problems] == [third.pk]
    assert "removed" in result.problems[0].message


def test_rehashed_row_still_breaks_the_link_to_the_next():
    """Recomputing the hash of an altered row does not help: the next row still points at the old hash."""
    first, second, third = _three_events()
    second.data = {"n": 42, "text": "信用"}
    new_hash = audit.compute_hash(first.hash, second)
    _tamper(
        "UPDATE audit_auditevent SET data = %s, hash = %s WHERE id = %s",
        ['{"n": 42, "text": "信用"}', new_hash, second.pk],
    )
    assert [p.event_id for p in verify().problems] == [third.pk]


def test_verify_audit_command_exit_status(capsys):
    _, second, _ = _three_events()
    call_command("verify_audit")
    assert "audit chain intact: 3 events verified" in capsys.readouterr().out
    _tamper("UPDATE audit_auditevent SET action = 'forged' WHERE id = %s", [second.pk])
    with pytest.raises(CommandError, match=f"#{second.pk}"):
        call_command("verify_audit")


def test_verify_audit_command_exits_non_zero_from_the_shell():
    """The command-line contract: a broken chain is a non-zero exit status."""
    from django.core.management import ManagementUtility

    _, second, _ = _three_events()
    _tamper("UPDATE audit_auditevent SET action = 'forged' WHERE id = %s", [second.pk])
    with pytest.raises(SystemExit) as exc:
        ManagementUtility(["manage.py", "verify_audit"]).execute()
    assert exc.value.code != 0


def test_nightly_task_reports_the_break():
    from credit_portal.audit.tasks import verify_audit_chain

    _, second, _ = _three_events()
    assert verify_audit_chain() == {"checked": 3, "broken_at": None, "anchors": 0, "problems": []}
    _tamper("UPDATE audit_auditevent SET action = 'forged' WHERE id = %s", [second.pk])
    report = verify_audit_chain()
    assert (report["checked"], report["broken_at"]) == (3, second.pk)
    assert report["problems"] == [
        f"event #{second.pk}: its content does not match its keyed hash (the row was altered, or "
        "re-hashed without the key)"
    ]


def test_admin_changes_are_audited(client):
    from credit_portal.accounts.models import Division
    from tests import factories as f

    department = f.department("ADMIN-TEST")
    admin = f.staff(department, "credit_office", "superadmin")
    type(admin).objects.filter(pk=admin.pk).update(is_superuser=True, is_staff=True)
    client.force_login(admin)
    response = client.post(
        "/admin/accounts/division/add/",
        {
            "code": "440307",
            "name_zh": "龙岗区",
            "name_en": "Longgang District",
            "level": "county",
            "parent": "440300",
        },
    )
    assert response.status_code == 302
    assert Division.objects.filter(code="440307").exists()
    event = AuditEvent.objects.get(action="admin.accounts.division.added")
    assert event.actor_label == "user:superadmin"
    assert event.after["name_zh"] == "龙岗区"
    response = client.post(
        "/admin/accounts/division/440307/change/",
        {"code": "440307", "name_zh": "龙岗区", "name_en": "Longgang", "level": "county", "parent": "440300"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="admin.accounts.division.changed")
    assert (event.before, event.after) == ({"name_en": "Longgang District"}, {"name_en": "Longgang"})
    assert verify().ok
