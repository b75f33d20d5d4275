"""The audit chain becomes keyed (HMAC-SHA256 under AUDIT_CHAIN_KEY, docs/adr/0009).

Rows already written are left exactly as they are, marked scheme 1 (plain SHA-256): rewriting them
would mean disabling the table's guard and replacing the trail's history with a new one. Instead, when
there are such rows, one keyed event is appended, ``audit.chain.keyed``, saying how many rows came
before and which was the last: its keyed hash covers that row's hash, so the unkeyed rows are sealed
by it, and the verifier refuses an unkeyed row after the first keyed one."""

from django.db import migrations, models
from django.utils import timezone

# The advisory lock of credit_portal.audit.services: no other writer appends meanwhile.
CHAIN_LOCK_KEY = 0x43505F4155444954


def seal_unkeyed_rows(apps, schema_editor):
    from credit_portal.audit import chain

    AuditEvent = apps.get_model("audit", "AuditEvent")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
        cursor.execute("SELECT id, hash FROM audit_auditevent ORDER BY id DESC LIMIT 1")
        head = cursor.fetchone()
        if head is None:
            return  # an empty trail: every row will be keyed
        cursor.execute("SELECT count(*) FROM audit_auditevent")
        (count,) = cursor.fetchone()
        cursor.execute("SELECT nextval(pg_get_serial_sequence('audit_auditevent', 'id'))")
        (event_id,) = cursor.fetchone()
    last_id, last_hash = head
    event = AuditEvent(
        id=event_id,
        occurred_at=timezone.now(),
        actor_kind="system",
        actor_label="system:migrate",
        action="audit.chain.keyed",
        target_type="",
        target_id="",
        target_repr="",
        data={"unkeyed_rows": count, "last_unkeyed_event": last_id, "scheme": "HMAC-SHA256"},
        prev_hash=last_hash,
    )
    event.hash = chain.seal(event, last_hash)
    event.save(using=schema_editor.connection.alias, force_insert=True)


def refuse_to_unkey(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    if AuditEvent.objects.using(schema_editor.connection.alias).filter(scheme=2).exists():
        raise RuntimeError(
            "the audit trail holds keyed rows; going back to the unkeyed chain would leave them "
            "unverifiable (and the trail is append-only)"
        )


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_department_index")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16),
            preserve_default=False,
        ),
        # Every row so far was hashed with plain SHA-256 ...
        migrations.AddField(
            model_name="auditevent",
            name="scheme",
            field=models.PositiveSmallIntegerField(
                choices=[(1, "SHA-256 (before the chain was keyed)"), (2, "HMAC-SHA256")], default=1
            ),
        ),
        # ... every row from now on is keyed.
        migrations.AlterField(
            model_name="auditevent",
            name="scheme",
            field=models.PositiveSmallIntegerField(
                choices=[(1, "SHA-256 (before the chain was keyed)"), (2, "HMAC-SHA256")], default=2
            ),
        ),
        migrations.RunPython(seal_unkeyed_rows, refuse_to_unkey),
    ]
