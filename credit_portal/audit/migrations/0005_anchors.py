"""Anchors of the audit chain's head, published and kept outside the database (docs/adr/0009).
Append-only like the events: the guard's function now names the table it refuses on."""

from django.db import migrations, models

SQL = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only: % refused on %', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_anchor_append_only
  BEFORE UPDATE OR DELETE ON audit_auditanchor
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS audit_anchor_append_only ON audit_auditanchor;
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only: % refused on audit_auditevent', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_keyed_chain")]

    operations = [
        migrations.CreateModel(
            name="AuditAnchor",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("anchored_at", models.DateTimeField(verbose_name="anchored at")),
                ("sequence", models.BigIntegerField(verbose_name="head event")),
                ("hash", models.CharField(max_length=64, verbose_name="head hash")),
            ],
            options={
                "verbose_name": "audit anchor",
                "verbose_name_plural": "audit anchors",
                "ordering": ["-id"],
            },
        ),
        migrations.RunSQL(SQL, REVERSE),
    ]
