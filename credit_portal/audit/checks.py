"""Deployment checks of the database roles (``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Tags, register
from django.core.checks import Warning as CheckWarning
from django.db import DatabaseError, connection

HINT = (
    "Give the web and the workers a role that does not own the tables (DATABASE_URL) and let only "
    "migrate connect as the owner (DATABASE_OWNER_URL); README: 'Two database roles'."
)


def _connected_role_is_confined() -> bool:
    """Whether this process's role neither is a superuser nor owns the audit trail: a runtime
    process of a two-role setup, which need not know the owner's password. False when the
    database cannot tell (not reachable, not migrated)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT r.rolsuper, c.relowner = r.oid FROM pg_roles r, pg_class c "
                "WHERE r.rolname = current_user AND c.oid = to_regclass('audit_auditevent')"
            )
            row = cursor.fetchone()
    except DatabaseError:
        return False
    return row is not None and not row[0] and not row[1]


@register(Tags.security, deploy=True)
def database_roles(app_configs, **kwargs):
    runtime = settings.DATABASES["default"].get("USER") or ""
    owner = settings.DATABASE_OWNER
    if owner:
        if (owner.get("USER") or "") == runtime:
            return [
                CheckWarning(
                    f"DATABASE_OWNER_URL and DATABASE_URL connect as the same role ({runtime or 'default'}).",
                    hint=HINT,
                    id="audit.W002",
                )
            ]
        return []
    if _connected_role_is_confined():
        return []
    return [
        CheckWarning(
            "DATABASE_OWNER_URL is not set: the web and the workers connect as the role that owns the "
            "tables, which can truncate the audit trail, disable its guard and rewrite it.",
            hint=HINT,
            id="audit.W001",
        )
    ]
