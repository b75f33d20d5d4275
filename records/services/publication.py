"""The public life of records, set-based: publish what is due, end what has reached the end of its
disclosure period. Each function handles one batch in one transaction, locking its rows with
``FOR UPDATE SKIP LOCKED`` so that two sweeps running at once never publish a record twice, and
selects through partial indexes on the due dates, so its cost grows with what is due, not with the
size of the table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from credit_portal.accounts.actors import Actor
from credit_portal.audit import services as audit
from records.models import CreditRecord, RecordChange
from records.services.credit import _emit

LIVE = tuple(CreditRecord.LIVE_STATUSES)
# The publishing selection spells the statuses out as the partial index record_publishable_due_idx
# does, so that the planner matches the two.
assert LIVE == ("effective", "under_objection", "corrected")  # noqa: S101 - keep the SQL in step


@dataclass(frozen=True)
class Published:
    record_id: int
    department_id: int
    late_days: int


def publish_due(
    *, actor: Actor, today: date, limit: int = 5000, at: datetime | None = None
) -> list[Published]:
    """Publish up to ``limit`` records awaiting publication whose status lets them stand. A record
    published after its due date is marked late, with the delay in working days (calendar in SQL:
    ``cp_working_days_between``). ``at`` is the publication time, now unless a past day is being
    replayed (demo data), so that ``published_at`` and the lateness count the same day. Times come
    from the application's clock, never the database's ``now()``, so that one clock decides."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            WITH due AS (
                SELECT id FROM records_creditrecord
                WHERE disclosure = 'pending' AND status IN ('effective', 'under_objection', 'corrected')
                ORDER BY disclosure_due_on, id
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED
            )
            UPDATE records_creditrecord r
               SET disclosure = 'published',
                   published_at = %(at)s,
                   published_late_days = CASE
                       WHEN %(today)s <= r.disclosure_due_on THEN 0
                       -- late is late, also when published on a weekend or holiday after the due date
                       ELSE GREATEST(1, cp_working_days_between(r.disclosure_due_on, %(today)s))
                   END
              FROM due
             WHERE r.id = due.id
            RETURNING r.id, r.department_id, r.published_late_days
            """,
            {"limit": limit, "today": today, "at": at or timezone.now()},
        )
        rows = [Published(*row) for row in cursor.fetchall()]
        if rows:
            audit.log(
                actor=actor,
                action="disclosure.records.published",
                data={
                    "on": today,
                    "records": sorted(r.record_id for r in rows),
                    "late": sorted(r.record_id for r in rows if r.late_days),
                },
            )
    return rows


def end_due(*, actor: Actor, today: date, limit: int = 5000) -> list[int]:
    """Take down up to ``limit`` published records whose disclosure period has ended: they leave
    public view, their status becomes expired, and the change feed says so."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH due AS (
                    SELECT id FROM records_creditrecord
                    WHERE disclosure = 'published' AND disclosure_ends_on <= %(today)s
                    ORDER BY disclosure_ends_on, id
                    LIMIT %(limit)s
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE records_creditrecord r
                   SET disclosure = 'ended',
                       withdrawn_at = %(now)s,
                       status = CASE WHEN r.status = ANY(%(live)s) THEN 'expired' ELSE r.status END
                  FROM due
                 WHERE r.id = due.id
                RETURNING r.id
                """,
                {"live": list(LIVE), "limit": limit, "today": today, "now": timezone.now()},
            )
            ids = sorted(row[0] for row in cursor.fetchall())
        if ids:
            audit.log(actor=actor, action="disclosure.records.ended", data={"on": today, "records": ids})
            records = list(
                CreditRecord.objects.select_related("item", "entity", "department").filter(pk__in=ids)
            )
            _emit(records, RecordChange.Kind.EXPIRED)
    return ids
