"""Sending notices and marking them read.

A notify call inserts the notices that do not exist yet (one per recipient and ``dedupe_key``),
records one audit event for the call and, in the same transaction, the ``email_notices`` task for
the new notices in the outbox (handed to the broker on commit, or by the outbox sweep). A sweep that runs every few minutes may therefore call ``notify_*`` with
the same key each time: the recipients are notified, and emailed, once.

A notice's ``link`` is a path of this portal, given as a ``credit_portal.links.Route`` (the page
it leads to) by the services, which never build addresses themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from credit_portal.accounts.models import Department, User
from credit_portal.audit import services as audit
from credit_portal.links import Route, path_of
from credit_portal.notices import selectors
from credit_portal.notices.models import Notice
from credit_portal.outbox import services as outbox

if TYPE_CHECKING:
    from credit_portal.accounts.actors import Actor

_INSERT_BATCH = 500
EMAIL_TASK = "credit_portal.notices.tasks.email_notices"


@transaction.atomic
def notify_department(
    *,
    actor: Actor,
    department: Department,
    capability: str,
    kind: str,
    subject_zh: str,
    subject_en: str,
    body_zh: str,
    body_en: str,
    link: str | Route,
    dedupe_key: str,
) -> list[Notice]:
    """Notify every active staff member of ``department`` whose role grants ``capability``.

    Returns the notices created by this call: recipients who already hold a notice with
    ``dedupe_key`` get nothing new."""
    recipients = list(selectors.recipients_for(department, capability))
    return _notify(
        actor=actor,
        recipients=recipients,
        department=department,
        audit_target=department,
        audit_data={"capability": capability},
        kind=kind,
        subject_zh=subject_zh,
        subject_en=subject_en,
        body_zh=body_zh,
        body_en=body_en,
        link=link,
        dedupe_key=dedupe_key,
    )


@transaction.atomic
def notify_user(
    *,
    actor: Actor,
    user: User,
    kind: str,
    subject_zh: str,
    subject_en: str,
    body_zh: str,
    body_en: str,
    link: str | Route,
    dedupe_key: str,
) -> list[Notice]:
    """Notify one user (staff or entity). An inactive user gets nothing. Returns the notice created
    by this call, or nothing if the user already holds one with ``dedupe_key``."""
    return _notify(
        actor=actor,
        recipients=[user] if user.is_active else [],
        department=user.department,
        audit_target=user,
        audit_data={},
        kind=kind,
        subject_zh=subject_zh,
        subject_en=subject_en,
        body_zh=body_zh,
        body_en=body_en,
        link=link,
        dedupe_key=dedupe_key,
    )


def mark_read(*, user: User, notice_ids: Iterable[int] | None = None) -> int:
    """Mark ``user``'s own unread notices read: those in ``notice_ids``, or all of them for None.
    Ids of other users' notices are ignored. Returns how many were marked."""
    qs = Notice.objects.filter(recipient=user, read_at__isnull=True)
    if notice_ids is not None:
        qs = qs.filter(pk__in=list(notice_ids))
    return qs.update(read_at=timezone.now())


# --- internals ----------------------------------------------------------------------------------


def _notify(
    *,
    actor: Actor,
    recipients: list[User],
    department: Department | None,
    audit_target,
    audit_data: dict,
    kind: str,
    subject_zh: str,
    subject_en: str,
    body_zh: str,
    body_en: str,
    link: str | Route,
    dedupe_key: str,
) -> list[Notice]:
    now = timezone.now()
    fields = {
        "department": department,
        "kind": kind,
        "subject_zh": subject_zh,
        "subject_en": subject_en,
        "body_zh": body_zh,
        "body_en": body_en,
        "link": path_of(link),
        "dedupe_key": dedupe_key,
        "created_at": now,
    }
    # Validate the content once, whether or not anybody is to receive it.
    Notice(**fields).full_clean(exclude=["recipient"], validate_unique=False, validate_constraints=False)
    if not recipients:
        return []
    new_ids = _insert_missing([Notice(recipient=user, **fields) for user in recipients])
    if not new_ids:
        # Everybody already has this notice: nothing changed, so nothing to audit or email.
        return []
    created = list(Notice.objects.filter(pk__in=new_ids).select_related("recipient").order_by("pk"))
    audit.log(
        actor=actor,
        action="notices.sent",
        target=audit_target,
        data={
            **audit_data,
            "kind": kind,
            "dedupe_key": dedupe_key,
            "department_id": department.pk if department is not None else None,
            "recipient_ids": [n.recipient_id for n in created],
            "notice_ids": [n.pk for n in created],
        },
    )
    to_email = [n.pk for n in created if n.recipient.email]
    if to_email:
        outbox.enqueue(EMAIL_TASK, to_email)
    return created


def _insert_missing(notices: list[Notice]) -> list[int]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the ids of the rows this call inserted.

    ``bulk_create(ignore_conflicts=True)`` does not say which rows were new, and asking beforehand
    races with a concurrent sweep; the database answers exactly and without extra locking."""
    meta = Notice._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    columns = ", ".join(qn(f.column) for f in fields)
    conflict = ", ".join(qn(meta.get_field(name).column) for name in ("recipient", "dedupe_key"))
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    inserted: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(notices), _INSERT_BATCH):
            batch = notices[start : start + _INSERT_BATCH]
            values = ", ".join([row] * len(batch))
            # Identifiers come from the model's metadata; every value is a query parameter.
            sql = f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT ({conflict}) DO NOTHING RETURNING {pk}"  # noqa: S608
            params = [f.get_db_prep_save(f.pre_save(n, add=True), connection) for n in batch for f in fields]
            cursor.execute(sql, params)
            inserted.extend(r[0] for r in cursor.fetchall())
    return inserted
