"""The audit trail survives its own database owner.

Whoever holds the table owner's rights (here: the role the suite runs as) can delete the newest rows
with the guard off, rewrite a row and recompute every later hash, truncate the table, or delete the
tail and let the portal chain new rows onto it. Each is found by ``verify_audit`` holding the keyed
chain against anchors kept outside the table (docs/adr/0009). The role the web and the workers run
as cannot do any of it in the first place.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.core.checks import Warning as CheckWarning
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from credit_portal import dbroles
from credit_portal.accounts.actors import actor_for_user, system_actor
from credit_portal.audit import chain, checks, verification
from credit_portal.audit import services as audit
from credit_portal.audit.anchors import ANCHOR_FILE_NAME
from credit_portal.audit.models import AuditAnchor, AuditEvent
from credit_portal.audit.tasks import anchor_audit_chain, verify_audit_chain
from records import services as records
from records.services import publication
from tests import factories as f
from tests.test_records import SWEEP, punishment

pytestmark = pytest.mark.django_db

ACTOR = system_actor("tests")


@pytest.fixture
def store(settings, tmp_path) -> Path:
    """This test's own anchor store."""
    settings.AUDIT_ANCHOR_DIR = tmp_path / "anchors"
    return settings.AUDIT_ANCHOR_DIR


def events(n: int, start: int = 0) -> list[AuditEvent]:
    with transaction.atomic():
        return [audit.log(actor=ACTOR, action="tests.tamper", data={"n": i}) for i in range(start, start + n)]


def as_owner(*statements, params=None) -> None:
    """What the table owner may do: here the suite's own role, which owns the tables."""
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params)


def replica_mode(*statements, params=None) -> None:
    """Statements with every trigger off (``session_replication_role = replica``), the guard too."""
    as_owner("SET session_replication_role = replica")
    try:
        as_owner(*statements, params=params)
    finally:
        as_owner("SET session_replication_role = DEFAULT")


def verify_ok(*args) -> str:
    out = io.StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue().strip()


def verify_fails(*args) -> str:
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit", *args, stdout=io.StringIO())
    return str(exc.value)


def file_source(store: Path, line: int) -> str:
    return f"{store / ANCHOR_FILE_NAME}, line {line}"


def stored_lines(store: Path) -> list[dict]:
    return [json.loads(line) for line in (store / ANCHOR_FILE_NAME).read_text().splitlines()]


# --- an intact trail --------------------------------------------------------------------------------


def test_an_intact_chain_verifies_against_its_anchors(store):
    events(5)
    first = audit.anchor_head()
    last = events(3, start=5)[-1]
    second = audit.anchor_head()
    assert (first.sequence, second.sequence) == (last.pk - 3, last.pk)
    assert verify_ok() == (
        f"audit chain intact: 8 events verified; consistent with 2 anchors; head #{last.pk} {last.hash}"
    )
    assert verify_audit_chain() == {"checked": 8, "broken_at": None, "anchors": 2, "problems": []}


def test_every_row_is_signed_with_the_key_so_recomputing_it_needs_the_key(settings):
    event = events(1)[0]
    key_id, key = chain.current_key()
    assert (event.scheme, event.key_id) == (AuditEvent.Scheme.HMAC_SHA256, key_id)
    assert len(key_id) == 16 and key_id not in settings.AUDIT_CHAIN_KEY
    # The same content under another key, or without one, gives another hash.
    assert chain.keyed_hash(event.prev_hash, event, key) == event.hash
    assert chain.keyed_hash(event.prev_hash, event, b"a guess") != event.hash
    assert chain.legacy_hash(event.prev_hash, event) != event.hash


# --- 1. the newest rows deleted in replica mode ----------------------------------------------------------


def test_newest_rows_deleted_in_replica_mode_are_a_missing_tail(store):
    kept = events(3)[-1]
    head = events(3, start=3)[-1]
    anchor = audit.anchor_head()
    # Guard off, rows gone, the published anchor too: what is left is a consistent chain.
    replica_mode(
        "DELETE FROM audit_auditevent WHERE id > %s", "DELETE FROM audit_auditanchor", params=[kept.pk]
    )
    assert AuditEvent.objects.count() == 3
    assert verification.verify().ok  # the chain alone cannot tell
    message = verify_fails()
    when = anchor.as_public()["anchored_at"]
    assert message == (
        "audit trail NOT intact (3 events read, 1 anchor checked):\n"
        f"  - missing tail: the trail ends at event #{kept.pk}, but the anchor of {when} "
        f"({file_source(store, 1)}) names event #{head.pk}: the rows after #{kept.pk} were deleted"
    )
    report = verify_audit_chain()
    assert (report["checked"], report["broken_at"], report["anchors"]) == (3, head.pk, 1)


# --- 2. a row rewritten, every later hash recomputed without the key -----------------------------------


def _recompute_from(event_id: int, rehash) -> None:
    """Rewrite the rows from ``event_id`` on, as an attacker who knows the algorithm but not the key:
    each row's link and hash recomputed with ``rehash(prev_hash, row) -> (scheme, key_id, hash)``."""
    prev = AuditEvent.objects.filter(id__lt=event_id).order_by("-id").values_list("hash", flat=True).first()
    prev = prev or chain.GENESIS_HASH
    for row in AuditEvent.objects.filter(id__gte=event_id).order_by("id"):
        scheme, key_id, new_hash = rehash(prev, row)
        replica_mode(
            "UPDATE audit_auditevent SET prev_hash = %s, scheme = %s, key_id = %s, hash = %s WHERE id = %s",
            params=[prev, scheme, key_id, new_hash, row.pk],
        )
        prev = new_hash


def _guessed_key(prev, row):
    row.key_id = "0123456789abcdef"
    return 2, row.key_id, chain.keyed_hash(prev, row, hashlib.sha256(b"a guessed key").digest())


def _reused_key_id(prev, row):
    # The row's own key id, an HMAC under a key that is not the portal's.
    return 2, row.key_id, hmac.new(b"not the key", (prev + row.action).encode(), hashlib.sha256).hexdigest()


def _unkeyed(prev, row):
    # Passed off as rows from before the chain was keyed (plain SHA-256, which anyone can compute).
    row.scheme = 1
    return 1, "", chain.legacy_hash(prev, row)


@pytest.mark.parametrize("rehash", [_reused_key_id, _guessed_key, _unkeyed])
def test_a_row_rewritten_with_every_later_hash_recomputed_without_the_key_is_found(store, rehash):
    first, second, *_rest, head = events(5)
    anchor = audit.anchor_head()
    replica_mode("UPDATE audit_auditevent SET data = %s WHERE id = %s", params=['{"n": 99}', second.pk])
    _recompute_from(second.pk, rehash)
    second.refresh_from_db()
    assert second.data == {"n": 99} and second.prev_hash == first.hash  # links fit again
    reason = {
        _reused_key_id: "its content does not match its keyed hash (the row was altered, or re-hashed "
        "without the key)",
        _guessed_key: "it was signed with key '0123456789abcdef', which is neither AUDIT_CHAIN_KEY nor "
        "one of AUDIT_CHAIN_RETIRED_KEYS",
        _unkeyed: f"it claims the unkeyed hash of the rows written before the chain was keyed, yet comes "
        f"after keyed event #{first.pk} (it was rewritten without the key)",
    }[rehash]
    problems = verify_fails().splitlines()[1:]
    assert problems[0] == f"  - event #{second.pk}: {reason}"
    assert problems[1].startswith(
        f"  - event #{head.pk} does not match the anchor of {anchor.as_public()['anchored_at']} "
        f"({file_source(store, 1)}): its hash is "
    )
    assert problems[1].endswith(
        f"the anchor says {anchor.hash[:16]}… (the trail was rewritten from there on)"
    )
    assert verify_audit_chain()["broken_at"] == second.pk


def test_a_trail_rewritten_as_unkeyed_from_its_first_row_is_found_by_the_anchor(store):
    """Passing every row off as from before the keying leaves a chain anyone can recompute: only the
    anchor, published before, tells."""
    first, *_rest, head = events(4)
    anchor = audit.anchor_head()
    replica_mode("UPDATE audit_auditevent SET data = %s WHERE id = %s", params=['{"n": 99}', first.pk])
    _recompute_from(first.pk, _unkeyed)
    assert verification.verify().ok
    problems = verify_fails().splitlines()[1:]
    assert len(problems) == 1
    assert problems[0].startswith(
        f"  - event #{head.pk} does not match the anchor of {anchor.as_public()['anchored_at']}"
    )


# --- 3. TRUNCATE ----------------------------------------------------------------------------------------


def test_a_truncated_table_is_found(store):
    events(2)
    older = audit.anchor_head()
    head = events(2, start=2)[-1]
    newest = audit.anchor_head()
    as_owner("TRUNCATE audit_auditevent, audit_auditanchor")
    assert verification.verify().ok  # an empty chain is a consistent chain
    assert verify_fails() == (
        "audit trail NOT intact (0 events read, 2 anchors checked):\n"
        f"  - truncated: the trail is empty, but the anchor of {newest.as_public()['anchored_at']} "
        f"({file_source(store, 2)}) names event #{head.pk} (and 1 older anchor beyond it)"
    )
    assert older.sequence < head.pk
    assert verify_audit_chain()["problems"][0].startswith("truncated: the trail is empty")


# --- 4. the tail deleted and re-chained ---------------------------------------------------------------


@pytest.mark.parametrize("reuse_ids", [True, False], ids=["ids-reused", "new-ids"])
def test_a_deleted_and_rechained_tail_is_found(store, reuse_ids):
    """The tail deleted with the guard off, then the portal itself appends new rows: the chain is
    keyed and consistent again; only the anchor of the old head tells."""
    kept = events(3)[-1]
    head = events(3, start=3)[-1]
    anchor = audit.anchor_head()
    replica_mode(
        "DELETE FROM audit_auditevent WHERE id > %s", "DELETE FROM audit_auditanchor", params=[kept.pk]
    )
    if reuse_ids:
        as_owner("SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), %s)", params=[kept.pk])
    new = events(3, start=100)
    assert ([e.pk for e in new][-1] == head.pk) is reuse_ids
    assert verification.verify().ok  # keyed and linked: the chain alone cannot tell
    when = anchor.as_public()["anchored_at"]
    problems = verify_fails().splitlines()[1:]
    if reuse_ids:
        assert problems == [
            f"  - event #{head.pk} does not match the anchor of {when} ({file_source(store, 1)}): its hash "
            f"is {new[-1].hash[:16]}…, the anchor says {anchor.hash[:16]}… (the trail was rewritten from "
            "there on)"
        ]
    else:
        assert problems == [
            f"  - event #{head.pk}, named by the anchor of {when} ({file_source(store, 1)}), is missing: "
            "rows were removed from the trail"
        ]


# --- anchors: where they are kept and where they come from ----------------------------------------


def test_anchor_command_writes_the_store_and_the_page_and_api_show_it(store):
    *_, head = events(2)
    out = io.StringIO()
    call_command("anchor_audit", stdout=out)
    anchor = AuditAnchor.objects.get()
    when = anchor.anchored_at.astimezone(UTC).isoformat()
    assert (anchor.sequence, anchor.hash) == (head.pk, head.hash)
    assert out.getvalue().strip() == (
        f"anchored event #{head.pk} {head.hash} at {anchor.anchored_at.isoformat()} "
        f"(appended to {store / ANCHOR_FILE_NAME})"
    )
    assert stored_lines(store) == [{"anchored_at": when, "hash": head.hash, "sequence": head.pk}]
    for language in ("en", "zh-hans"):
        page = Client(HTTP_ACCEPT_LANGUAGE=language).get("/audit/anchors/")
        assert page.status_code == 200
        text = page.content.decode()
        assert f'<code class="code">{head.hash}</code>' in text
        assert f'<td class="code">#{head.pk}</td>' in text
        assert 'lang="zh-Hans"' in text if language == "zh-hans" else '<html lang="en">' in text
    response = Client().get("/api/v1/audit/anchors/")
    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [{"sequence": head.pk, "hash": head.hash, "anchored_at": when.replace("+00:00", "Z")}],
    }


def test_anchoring_an_empty_trail_anchors_the_genesis_hash(store):
    anchor = audit.anchor_head()
    assert (anchor.sequence, anchor.hash) == (0, chain.GENESIS_HASH)
    assert verify_ok().startswith("audit chain intact: 0 events verified; consistent with 1 anchor;")


def test_the_daily_anchor_task_is_scheduled_and_writes_the_store(store, settings):
    from credit_portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["anchor-audit-chain"]
    assert entry["task"] == anchor_audit_chain.name and entry["task"] in app.tasks
    # At least daily, and before the nightly verification (02:30).
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {20})
    head = events(1)[0]
    assert anchor_audit_chain() == {"sequence": head.pk, "hash": head.hash}
    assert [line["sequence"] for line in stored_lines(store)] == [head.pk]
    assert AuditAnchor.objects.filter(sequence=head.pk, hash=head.hash).count() == 1


def test_the_anchor_page_is_paginated_newest_first(store):
    events(1)
    for _ in range(51):
        audit.anchor_head()
    newest = AuditAnchor.objects.order_by("-id").first()
    oldest = AuditAnchor.objects.order_by("id").first()
    newest_time = f'<time datetime="{newest.anchored_at.astimezone(UTC).isoformat()}">'
    oldest_time = f'<time datetime="{oldest.anchored_at.astimezone(UTC).isoformat()}">'
    first = Client().get("/audit/anchors/").content.decode()
    assert "51 anchors, newest first" in first
    assert first.count("<tr>") == 1 + 50
    assert first.index(newest_time) < first.index("</tbody>") and oldest_time not in first
    second = Client().get("/audit/anchors/?page=2").content.decode()
    assert second.count("<tr>") == 1 + 1
    assert oldest_time in second and newest_time not in second


def test_the_anchor_api_needs_no_account_is_throttled_and_documented(store):
    from credit_portal.api.throttling import ClientRateThrottle

    audit.anchor_head()
    original = ClientRateThrottle.THROTTLE_RATES
    ClientRateThrottle.THROTTLE_RATES = {**original, "anon": "2/min"}
    try:
        codes = [Client().get("/api/v1/audit/anchors/").status_code for _ in range(3)]
    finally:
        ClientRateThrottle.THROTTLE_RATES = original
    assert codes == [200, 200, 429]
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/audit/anchors/"]["get"]
    assert "security" not in operation and "security" not in schema  # no token asked for
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginatedAuditAnchorList"
    }
    item = schema["components"]["schemas"]["AuditAnchor"]
    assert set(item["properties"]) == {"sequence", "hash", "anchored_at"}


def test_a_saved_copy_of_the_published_anchors_convicts_a_trail_whose_store_was_also_wiped(store, tmp_path):
    """An outsider saved the API's answer; the owner then cut the tail and wiped the published
    anchors and the anchor file. The saved copy still tells."""
    kept = events(2)[-1]
    head = events(2, start=2)[-1]
    audit.anchor_head()
    saved = tmp_path / "saved-anchors.json"
    saved.write_text(Client().get("/api/v1/audit/anchors/").content.decode())
    replica_mode(
        "DELETE FROM audit_auditevent WHERE id > %s", "DELETE FROM audit_auditanchor", params=[kept.pk]
    )
    (store / ANCHOR_FILE_NAME).unlink()
    assert verify_ok().startswith("audit chain intact: 2 events verified; no anchors to check against yet")
    message = verify_fails("--anchors", str(saved))
    assert f"({saved}, item 1) names event #{head.pk}: the rows after #{kept.pk} were deleted" in message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_verify_fetches_anchors_from_the_api_of_a_running_portal_page_by_page(live_server, store, settings):
    settings.SITE_URL = live_server.url  # the pages' next links are at the portal's public address
    head = events(2)[-1]
    for _ in range(3):
        audit.anchor_head()
    url = f"{live_server.url}/api/v1/audit/anchors/?page_size=2"
    assert verify_ok("--anchors", url).startswith("audit chain intact: 2 events verified; consistent with 3 ")
    as_owner("TRUNCATE audit_auditevent")
    message = verify_fails("--anchors", url)
    assert f"names event #{head.pk} (and 2 older anchors beyond it)" in message
    assert message.startswith("audit trail NOT intact (0 events read, 3 anchors checked):\n  - truncated:")


def test_the_store_must_hold_every_published_anchor(store):
    events(1)
    anchor = audit.anchor_head()
    (store / ANCHOR_FILE_NAME).write_text("")
    assert verify_fails().splitlines()[1:] == [
        f"  - the anchor store {store} lacks 1 of the 1 anchors published in the database (the first: "
        f"event #{anchor.sequence} anchored {anchor.as_public()['anchored_at']})"
    ]


def test_an_unreadable_anchor_source_is_a_clear_error(store, tmp_path):
    events(1)
    audit.anchor_head()
    with (store / ANCHOR_FILE_NAME).open("a") as file:
        file.write('{"sequence": 1, "hash": "not-a-hash", "anchored_at": "2026-10-20T02:20:00+00:00"}\n')
    assert verify_fails() == (
        f"cannot read the anchors: {file_source(store, 2)}: 'hash' must be 64 lower-case hexadecimal digits"
    )
    assert verify_fails("--anchors", str(tmp_path / "nowhere")) == (
        f"cannot read the anchors: {tmp_path / 'nowhere'}: no such file or directory"
    )


# --- keys: rotation, and the chain as it was before keying --------------------------------------------


def test_after_a_key_rotation_old_rows_verify_with_the_retired_key(store, settings):
    old_rows = events(2)
    old_key = settings.AUDIT_CHAIN_KEY
    settings.AUDIT_CHAIN_KEY = "a-new-audit-chain-key"
    new_rows = events(2, start=2)
    assert len({e.key_id for e in old_rows}) == 1 and {e.key_id for e in new_rows} == {chain.current_key()[0]}
    assert old_rows[0].key_id != new_rows[0].key_id
    message = verify_fails()
    assert f"event #{old_rows[0].pk}: it was signed with key '{old_rows[0].key_id}'" in message
    settings.AUDIT_CHAIN_RETIRED_KEYS = [old_key]
    assert verify_ok().startswith("audit chain intact: 4 events verified;")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrating_an_existing_chain_keeps_its_rows_and_seals_them_with_one_keyed_event(store):
    """Rows hashed with plain SHA-256 before the chain was keyed stay as they were; the migration
    appends one keyed event saying so, which covers the last of them."""
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("audit", "0003_department_index")], [("audit", "0005_anchors")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        prev = chain.GENESIS_HASH
        with transaction.atomic(), connection.cursor() as cursor:
            for n in range(3):
                content = {
                    "occurred_at": datetime(2026, 10, 20, 9, n, tzinfo=UTC).isoformat(),
                    "actor_kind": "system", "actor_label": "system:old", "actor_user_id": None,
                    "actor_token_id": None, "actor_department_id": None, "action": "tests.old",
                    "target_type": "", "target_id": "", "target_repr": "", "before": None, "after": None,
                    "data": {"n": n},
                }  # fmt: skip
                canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                row_hash = hashlib.sha256((prev + canonical).encode()).hexdigest()
                cursor.execute(
                    "INSERT INTO audit_auditevent (occurred_at, actor_kind, actor_label, action, target_type,"
                    " target_id, target_repr, data, prev_hash, hash) VALUES (%s, 'system', 'system:old',"
                    " 'tests.old', '', '', '', %s, %s, %s)",
                    [datetime(2026, 10, 20, 9, n, tzinfo=UTC), json.dumps({"n": n}), prev, row_hash],
                )
                prev = row_hash
    finally:
        MigrationExecutor(connection).migrate(after)
    old = list(AuditEvent.objects.filter(action="tests.old").order_by("id"))
    seal = AuditEvent.objects.get(action="audit.chain.keyed")
    assert [e.scheme for e in old] == [AuditEvent.Scheme.SHA256] * 3
    assert [e.key_id for e in old] == [""] * 3
    assert (seal.scheme, seal.key_id, seal.prev_hash) == (
        AuditEvent.Scheme.HMAC_SHA256,
        chain.current_key()[0],
        prev,
    )
    assert (seal.actor_label, seal.data) == (
        "system:migrate",
        {"unkeyed_rows": 3, "last_unkeyed_event": old[-1].pk, "scheme": "HMAC-SHA256"},
    )
    new = events(1)[0]
    assert new.prev_hash == seal.hash
    assert verify_ok().startswith(
        "audit chain intact: 5 events verified, 3 of them from before the chain was keyed;"
    )
    # An old row altered and its successors recomputed: the seal's keyed hash no longer fits.
    replica_mode("UPDATE audit_auditevent SET data = '{\"n\": 9}' WHERE id = %s", params=[old[1].pk])
    _recompute_from(
        old[1].pk,
        lambda p, row: (1, "", chain.legacy_hash(p, row)) if row.scheme == 1 else (2, row.key_id, row.hash),
    )
    assert f"event #{seal.pk}: its content does not match its keyed hash" in verify_fails()


# --- the database roles ----------------------------------------------------------------------------------


@pytest.fixture
def runtime_role(db) -> str:
    """A runtime role for this test database, with exactly the grants `migrate` gives (created inside
    the test's transaction, so it is gone afterwards)."""
    name = f"{connection.settings_dict['NAME']}_runtime"[:63]
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{name}" NOLOGIN')
        assert dbroles.grant_runtime_privileges(cursor, name) == []
    return name


@contextlib.contextmanager
def acting_as(role: str):
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{role}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def run(*statements) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def refused(statement: str) -> str:
    """The statement fails for want of privilege (SQLSTATE 42501); returns PostgreSQL's message."""
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert exc.value.__cause__.pgcode == "42501", exc.value
    return str(exc.value).splitlines()[0]


def test_the_runtime_role_is_refused_truncate_update_delete_and_trigger_changes_on_the_audit_trail(
    runtime_role, store
):
    events(3)
    audit.anchor_head()
    with acting_as(runtime_role):
        for table in ("audit_auditevent", "audit_auditanchor"):
            assert refused(f"TRUNCATE {table}") == f"permission denied for table {table}"
            assert refused(f"UPDATE {table} SET hash = hash") == f"permission denied for table {table}"  # noqa: S608
            assert refused(f"DELETE FROM {table}") == f"permission denied for table {table}"  # noqa: S608
        # Only the owner may alter a table (PostgreSQL says "table" or "relation" by version).
        for statement in (
            "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only",
            "DROP TRIGGER audit_append_only ON audit_auditevent",
            "ALTER TABLE audit_auditevent OWNER TO CURRENT_USER",
            "DROP TABLE audit_auditevent",
        ):
            message = refused(statement)
            assert message.startswith("must be owner of ") and message.endswith(" audit_auditevent"), message
        assert refused(
            "CREATE TRIGGER t BEFORE INSERT ON audit_auditevent FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
        ) == ("permission denied for table audit_auditevent")
        assert refused("SET session_replication_role = replica") == (
            'permission denied to set parameter "session_replication_role"'
        )
        assert refused("SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), 1)").startswith(
            "permission denied for sequence"
        )
    assert AuditEvent.objects.count() == 3
    assert AuditAnchor.objects.count() == 1
    assert verify_ok().startswith("audit chain intact: 3 events verified; consistent with 1 anchor;")


def test_the_runtime_role_is_refused_truncate_on_the_records_tables(runtime_role, reviewer, entity, today):
    today(date(2026, 12, 4), tick=True)
    records.record_create(actor=actor_for_user(reviewer), data=punishment(entity), provenance="api")
    with acting_as(runtime_role):
        for table in (
            "records_creditrecord",
            "records_marketentity",
            "records_recordchange",
            "django_migrations",
        ):
            assert refused(f"TRUNCATE {table}") == f"permission denied for table {table}"
        assert refused("DELETE FROM django_migrations") == "permission denied for table django_migrations"
        assert refused("CREATE TABLE intruder (id int)") == "permission denied for schema public"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM records_creditrecord")
        assert cursor.fetchone() == (1,)


def test_the_runtime_role_does_the_portals_work(runtime_role, store, today):
    """What the web and the workers do goes through: registering, recording, publishing, auditing,
    anchoring and verifying, all as the runtime role."""
    today(date(2026, 12, 4), tick=True)
    with acting_as(runtime_role):
        department = f.department("RT-TEST")
        reviewer = f.staff(department, "reviewer", "rt_reviewer")
        entity = f.entity(department, code=f.uscc(n=7))
        record = records.record_create(
            actor=actor_for_user(reviewer), data=punishment(entity), provenance="api"
        )
        publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
        anchor = audit.anchor_head()
        result = verification.verify_with_anchors()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (runtime_role,)
    record.refresh_from_db()
    assert (record.status, record.disclosure) == ("effective", "published")
    assert anchor.sequence == AuditEvent.objects.order_by("-id").first().pk
    assert result.ok and result.checked == AuditEvent.objects.count()


def test_tables_created_after_the_grants_are_covered_by_default_privileges(runtime_role):
    as_owner("CREATE TABLE later_added (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, note text)")
    with acting_as(runtime_role):
        run("INSERT INTO later_added (note) VALUES ('ok')")
        assert refused("TRUNCATE later_added") == "permission denied for table later_added"
        with connection.cursor() as cursor:
            cursor.execute("SELECT note FROM later_added")
            assert cursor.fetchall() == [("ok",)]


def _url_for(user: str) -> str:
    from devtools.bench.connections import database_url

    return database_url(connection.settings_dict, user=user)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrate_runs_as_the_owner_and_grants_the_runtime_role(store):
    """``manage.py migrate`` with DATABASE_OWNER_URL connects as the owner and leaves DATABASE_URL's
    role with its runtime privileges; that role, connecting on its own, is refused TRUNCATE."""
    name = f"{connection.settings_dict['NAME']}_login"[:63]
    owner = connection.settings_dict["USER"] or "postgres"
    as_owner(f'DROP ROLE IF EXISTS "{name}"', f'CREATE ROLE "{name}" LOGIN')
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DJANGO_SETTINGS_MODULE": "credit_portal.settings.base",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": _url_for(name),
        "DATABASE_OWNER_URL": _url_for(owner),
        "AUDIT_ANCHOR_DIR": str(store),
    }
    probe = (
        "from django.db import connection, DatabaseError\n"
        "c = connection.cursor(); c.execute('SELECT current_user, count(*) FROM audit_auditevent')\n"
        "print(c.fetchone())\n"
        "try:\n    c.execute('TRUNCATE audit_auditevent')\nexcept DatabaseError as e:\n"
        "    print(str(e).splitlines()[0])\n"
    )
    try:
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        assert "No migrations to apply." in migrated.stdout
        assert f"Runtime privileges granted to {name} (the owner ran the migrations)." in migrated.stdout
        probed = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "shell", "-c", probe],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert probed.stdout.strip().splitlines()[-2:] == [
            f"('{name}', 0)",
            "permission denied for table audit_auditevent",
        ], probed.stdout + probed.stderr
    finally:
        as_owner(f'DROP OWNED BY "{name}"', f'DROP ROLE "{name}"')


def test_deploy_check_warns_of_a_single_role_and_not_of_two(settings, runtime_role):
    settings.DATABASE_OWNER = {}
    warnings = checks.database_roles(None)
    assert [w.id for w in warnings] == ["audit.W001"]
    assert isinstance(warnings[0], CheckWarning)
    # The web of a two-role setup need not know the owner's URL: its role owns nothing.
    with acting_as(runtime_role):
        assert checks.database_roles(None) == []
    settings.DATABASE_OWNER = {"USER": "credit_portal_owner", "HOST": "127.0.0.1", "NAME": "credit_portal"}
    assert checks.database_roles(None) == []
    settings.DATABASE_OWNER = {**settings.DATABASE_OWNER, "USER": settings.DATABASES["default"]["USER"]}
    assert [w.id for w in checks.database_roles(None)] == ["audit.W002"]


def test_granting_to_a_missing_or_the_same_role_is_refused_with_a_clear_message():
    with connection.cursor() as cursor:
        with pytest.raises(
            dbroles.RoleSetupError, match="the runtime role 'nobody_here' of DATABASE_URL does not exist"
        ):
            dbroles.grant_runtime_privileges(cursor, "nobody_here")
        cursor.execute("SELECT current_user")
        (me,) = cursor.fetchone()
        with pytest.raises(dbroles.RoleSetupError, match="both connect as"):
            dbroles.grant_runtime_privileges(cursor, me)


# --- performance ---------------------------------------------------------------------------------------


def _bulk_chain(count: int) -> str:
    """``count`` valid keyed rows, written with COPY in chunks (audit.log would take minutes).
    Returns the head hash."""
    key_id, key = chain.current_key()
    prev = chain.GENESIS_HASH
    moment = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
    row = AuditEvent(occurred_at=moment, actor_kind="system", actor_label="system:bulk", action="tests.bulk",
                     target_type="records.creditrecord", target_repr="", key_id=key_id, scheme=2)  # fmt: skip
    copy = (
        "COPY audit_auditevent (id, occurred_at, actor_kind, actor_label, action, target_type, target_id,"
        " target_repr, data, scheme, key_id, prev_hash, hash) FROM STDIN WITH (FORMAT csv)"
    )
    for first in range(1, count + 1, 10_000):
        buffer = io.StringIO()
        rows = csv.writer(buffer, quoting=csv.QUOTE_ALL)  # quoted: "" is an empty string, not NULL
        for n in range(first, min(first + 10_000, count + 1)):
            row.id, row.target_id, row.data = n, str(n), {"n": n, "text": "信用记录"}
            row_hash = chain.keyed_hash(prev, row, key)
            rows.writerow(
                [n, moment.isoformat(), "system", "system:bulk", "tests.bulk", "records.creditrecord", n, "",
                 json.dumps(row.data, ensure_ascii=False), 2, key_id, prev, row_hash]
            )  # fmt: skip
            prev = row_hash
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(copy, buffer)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), %s)", [count])
    return prev


_MEASURED = (
    "import atexit, resource, runpy, sys\n"
    "atexit.register(lambda: print('MAXRSS-KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    "sys.argv = ['manage.py', 'verify_audit']\n"
    "runpy.run_path('manage.py', run_name='__main__')\n"
)


def _verify_in_a_process_of_its_own(store: Path) -> tuple[str, int]:
    """`manage.py verify_audit` in a fresh process: its output and its peak memory (KiB)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "credit_portal.settings.test",
        "DATABASE_URL": _url_for(connection.settings_dict["USER"] or "postgres"),
        "AUDIT_ANCHOR_DIR": str(store),
    }
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _MEASURED], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    output, _, peak = done.stdout.strip().rpartition("MAXRSS-KB ")
    return output.strip(), int(peak)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_verify_audit_streams_a_100000_row_trail_with_bounded_memory(store):
    """The walk reads a batch at a time: its peak memory over 100,000 rows is that of an empty trail
    plus a batch, where holding every row would take some 250 MB more."""
    rows = 100_000
    empty, baseline = _verify_in_a_process_of_its_own(store)
    assert empty.startswith("audit chain intact: 0 events verified")
    head_hash = _bulk_chain(rows)
    audit.anchor_head()
    output, peak = _verify_in_a_process_of_its_own(store)
    assert output == (
        f"audit chain intact: {rows} events verified; consistent with 1 anchor; head #{rows} {head_hash}"
    )
    assert peak - baseline < 40 * 1024, f"verify_audit grew by {(peak - baseline) / 1024:.0f} MB"


def test_the_walk_goes_by_batches_of_rows(store):
    events(5)
    with CaptureQueriesContext(connection) as queries:
        result = verification.verify(batch_size=2)
    walking = [q["sql"] for q in queries.captured_queries if 'FROM "audit_auditevent"' in q["sql"]]
    assert result.checked == 5
    assert len(walking) == 4 and all(sql.endswith("LIMIT 2") for sql in walking)
