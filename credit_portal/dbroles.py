"""Two database roles (docs/adr/0009-keyed-audit-chain-anchors-and-database-roles.md).

* The **owner** (``DATABASE_OWNER_URL``) owns the tables; only ``manage.py migrate`` connects as it.
* The **runtime role** (``DATABASE_URL``), which the web and the workers use, gets what they need and
  no more: SELECT, INSERT, UPDATE and DELETE on the portal's tables, but only SELECT and INSERT on
  the audit trail and its anchors, only SELECT on the migration history, USAGE of the sequences; no
  TRUNCATE, no TRIGGER, no REFERENCES, and, not owning anything, it cannot alter or drop a table,
  disable a trigger or change ownership. Default privileges give it the same on tables created later.

After every migration the owner grants these again (``grant_runtime_privileges``), so a new table is
covered and a new append-only table is narrowed. Without ``DATABASE_OWNER_URL`` one role does both,
as before; ``check --deploy`` warns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# Tables the runtime role may only read and append to.
APPEND_ONLY_TABLES = ("audit_auditevent", "audit_auditanchor")
# Tables the runtime role may only read.
READ_ONLY_TABLES = ("django_migrations",)
_CONNECTION_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT")


class RoleSetupError(Exception):
    """The two roles cannot be set up as configured; the message says what to fix."""


def runtime_role_name(alias: str = DEFAULT_DB_ALIAS) -> str:
    """The role of DATABASE_URL: the one to grant to."""
    return settings.DATABASES[alias].get("USER") or ""


@contextlib.contextmanager
def connected_as_owner(alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Within the block, the ``alias`` connection of this thread connects as the owner."""
    owner = settings.DATABASE_OWNER
    connection = connections[alias]
    saved = connection.settings_dict
    connection.close()
    connection.settings_dict = {
        **saved,
        **{key: owner[key] for key in _CONNECTION_KEYS if key in owner},
        "OPTIONS": {**saved.get("OPTIONS", {}), **owner.get("OPTIONS", {})},
    }
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict = saved


def grant_runtime_privileges(cursor, runtime_role: str) -> list[str]:
    """Run as the owner: give ``runtime_role`` exactly the runtime privileges on the tables and
    sequences of the current schema, now and (default privileges) for those the owner creates later.
    Idempotent. Returns warnings worth printing."""
    if not runtime_role:
        raise RoleSetupError("DATABASE_URL names no user: name the runtime role in it (postgres://ROLE@...)")
    cursor.execute("SELECT current_user, current_schema()")
    owner_role, schema = cursor.fetchone()
    if runtime_role == owner_role:
        raise RoleSetupError(
            f"DATABASE_URL and DATABASE_OWNER_URL both connect as {runtime_role!r}: the runtime role must "
            "be another role"
        )
    cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [runtime_role])
    row = cursor.fetchone()
    if row is None:
        raise RoleSetupError(
            f"the runtime role {runtime_role!r} of DATABASE_URL does not exist: create it first "
            f"(CREATE ROLE {runtime_role} LOGIN PASSWORD '...'; docker/postgres/initdb/ does it for "
            "docker compose)"
        )
    warnings = []
    if row[0]:
        warnings.append(
            f"the runtime role {runtime_role!r} is a superuser: no privilege can be withheld from it"
        )
    role = _ident(runtime_role)
    owner = _ident(owner_role)
    in_schema = f"IN SCHEMA {_ident(schema)}"
    statements = [
        f"GRANT USAGE ON SCHEMA {_ident(schema)} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES {in_schema} TO {role}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES {in_schema} FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES {in_schema} TO {role}",
        f"REVOKE UPDATE ON ALL SEQUENCES {in_schema} FROM {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} {in_schema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} {in_schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
    existing = {name for (name,) in cursor.fetchall()}
    for table in APPEND_ONLY_TABLES:
        if table in existing:
            statements.append(f"REVOKE UPDATE, DELETE ON {_ident(table)} FROM {role}")
    for table in READ_ONLY_TABLES:
        if table in existing:
            statements.append(f"REVOKE INSERT, UPDATE, DELETE ON {_ident(table)} FROM {role}")
    for statement in statements:
        cursor.execute(statement)
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tableowner <> %s ORDER BY tablename",
        [schema, owner_role],
    )
    foreign = [name for (name,) in cursor.fetchall()]
    if foreign:
        warnings.append(
            f"{len(foreign)} tables are not owned by {owner_role!r} (e.g. {', '.join(foreign[:3])}); "
            f"as a superuser: REASSIGN OWNED BY <their owner> TO {owner_role}"
        )
    cursor.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", [runtime_role, schema])
    if cursor.fetchone()[0]:
        warnings.append(
            f"the runtime role {runtime_role!r} may create objects in schema {schema!r}: "
            f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC, {runtime_role}"
        )
    return warnings


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
