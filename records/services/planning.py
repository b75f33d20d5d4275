"""A record's public life, planned from its values: whether it is published, by when, until when.

One plan for every way a record's values are set or change — recorded (form, file, API), corrected,
or re-planned because the catalogue item's use scope or period changed — so that a corrected record
stands exactly as if it had been recorded that way: a new decision date moves its due date (and the
lateness judged against it) and its end date; a new severity or item applies that item's scope and
period rule; what may no longer be public leaves public view."""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from credit_portal.workdays import rules
from credit_portal.workdays import services as workdays
from records.models import CatalogueItem, CreditRecord

Status = CreditRecord.Status
Disclosure = CreditRecord.Disclosure
PUBLISH_RULE = rules.DISCLOSURE_PUBLISH
WITHDRAW_RULE = rules.DISCLOSURE_WITHDRAW


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, _calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Plan:
    """``disclosure`` is ``none`` (not published), ``pending`` (to be published by ``due_on``) or
    ``ended`` (public, but its period is already over)."""

    disclosure: str
    due_on: date | None
    ends_on: date | None

    def as_fields(self) -> dict[str, Any]:
        return {
            "disclosure": self.disclosure,
            "disclosure_due_on": self.due_on,
            "disclosure_ends_on": self.ends_on,
        }


NOT_DISCLOSED = Plan(Disclosure.NOT_DISCLOSED, None, None)


def plan(
    *,
    item: CatalogueItem,
    severity: str,
    decision_date: date,
    disclosure_months: int | None,
    valid_to: date | None,
    rule_for,
    calendar,
    publish_days: int,
    today: date,
) -> Plan:
    """A public item is due ``publish_days`` working days after the decision (the decision day not
    counted). Its period runs from the decision date: by severity under the rule in force on that
    date (minor violations are not published unless the department sets a period), until the end
    of validity, a fixed number of months, or until removed. A record whose period is already over
    is never published. ``rule_for(severity, decision_date)`` finds the period rule; validation
    refuses decisions no rule covers, so a missing rule here is a programming error."""
    if not item.is_public:
        return NOT_DISCLOSED
    ends = None
    if item.period_kind == CatalogueItem.PeriodKind.SEVERITY:
        rule = rule_for(severity, decision_date)
        if rule is None:
            raise LookupError(f"no disclosure-period rule for {severity!r} on {decision_date.isoformat()}")
        months = disclosure_months
        if months is None:
            months = rule.max_months if rule.published_by_default else 0
        if months == 0:
            return NOT_DISCLOSED
        ends = add_months(decision_date, months)
    elif item.period_kind == CatalogueItem.PeriodKind.VALIDITY:
        ends = valid_to
    elif item.period_kind == CatalogueItem.PeriodKind.FIXED:
        ends = add_months(decision_date, item.fixed_months)
    due = calendar.add_working_days(decision_date, publish_days)
    state = Disclosure.ENDED if ends is not None and ends <= today else Disclosure.PENDING
    return Plan(state, due, ends)


def plan_for_clean(clean, validator, calendar, publish_days: int) -> Plan:
    """The plan of validated values (``records.fields.CleanRecord``)."""
    return plan(
        item=clean.item,
        severity=clean.severity,
        decision_date=clean.decision_date,
        disclosure_months=clean.disclosure_months,
        valid_to=clean.valid_to,
        rule_for=validator.rule_for,
        calendar=calendar,
        publish_days=publish_days,
        today=validator.today,
    )


def late_days(calendar, due_on: date, published_on: date) -> int:
    """Working days a publication on ``published_on`` came after ``due_on``: 0 on or before the due
    date; at least 1 after it, even when the publication fell on a weekend or a holiday (whose
    working-day count would be 0) — late is late."""
    if published_on <= due_on:
        return 0
    return max(1, calendar.working_days_between(due_on, published_on))


# Fields ``apply`` may change.
PLANNED_FIELDS = [
    "status", "disclosure", "disclosure_due_on", "disclosure_ends_on", "published_late_days",
    "withdrawal_due_on", "withdrawn_at",
]  # fmt: skip


def apply(
    record: CreditRecord,
    new: Plan,
    *,
    calendar,
    today: date,
    now: datetime,
    withdrawal_due_on: date | None = None,
    revived_status: str = Status.CORRECTED,
    due_not_before: date | None = None,
) -> list[str]:
    """Bring the disclosure of an existing record (or anything with its fields) in line with
    ``new``, as if the record had been recorded with the values ``new`` was planned from. Returns
    the names of the fields that changed.

    - not to be published: a published record leaves public view (withdrawn now, with the 3-working-
      day withdrawal deadline); a pending one is no longer due;
    - to be published: a published record stays, its lateness judged against the new due date; any
      other becomes pending with the new due date (the sweep publishes it, late if that date passed);
    - its period already over: a published record is taken down (ended) and a pending one ends
      unpublished; a standing record becomes expired.
    A revoked or restored record has left the disclosure track for good and is not re-planned;
    a record whose period ended or that was withdrawn stays down unless the new plan publishes it.
    ``withdrawal_due_on``: the withdrawal deadline counted from ``today`` (computed when not given).
    ``revived_status``: the status of an expired record the new plan publishes again (``corrected``
    after a correction; ``effective`` when the catalogue changed). ``due_not_before``: a record that
    only now joins the disclosure track (its item was made public) is due no earlier than this, so
    that a department is not charged with a deadline that did not bind it."""
    if record.status in (Status.REVOKED, Status.RESTORED):
        return []
    before = {name: getattr(record, name) for name in PLANNED_FIELDS}
    current = record.disclosure
    record.disclosure_ends_on = new.ends_on
    if new.disclosure == Disclosure.NOT_DISCLOSED:
        record.disclosure_due_on = None
        if current == Disclosure.PUBLISHED:
            record.disclosure = Disclosure.WITHDRAWN
            record.withdrawn_at = now
            record.withdrawal_due_on = withdrawal_due_on or workdays.deadline(WITHDRAW_RULE, today)
        elif current == Disclosure.PENDING:
            record.disclosure = Disclosure.NOT_DISCLOSED
        record.published_late_days = None
    elif new.disclosure == Disclosure.PENDING:
        record.disclosure_due_on = new.due_on
        if current == Disclosure.PUBLISHED:
            published_on = timezone.localdate(record.published_at)
            record.published_late_days = late_days(calendar, new.due_on, published_on)
        else:
            if current == Disclosure.NOT_DISCLOSED and due_not_before and new.due_on < due_not_before:
                record.disclosure_due_on = due_not_before
            record.disclosure = Disclosure.PENDING
            record.published_late_days = None
            record.withdrawn_at = None
            record.withdrawal_due_on = None
            if record.status == Status.EXPIRED:
                record.status = revived_status
    else:  # ended: public, but its period is over
        record.disclosure_due_on = new.due_on
        if record.published_at is not None and current in (Disclosure.PUBLISHED, Disclosure.ENDED):
            published_on = timezone.localdate(record.published_at)
            record.published_late_days = late_days(calendar, new.due_on, published_on)
        if current in (Disclosure.PUBLISHED, Disclosure.PENDING, Disclosure.NOT_DISCLOSED):
            if current == Disclosure.PUBLISHED:
                record.withdrawn_at = now
            record.disclosure = Disclosure.ENDED
        if record.status in CreditRecord.LIVE_STATUSES:
            record.status = Status.EXPIRED
    return [name for name in PLANNED_FIELDS if getattr(record, name) != before[name]]


# --- the catalogue changed: re-plan the records of an item -----------------------------------------

_REPLAN_BATCH = 2000
_REPLAN_COLUMNS = [
    "id", "status", "disclosure", "decision_date", "severity", "disclosure_months", "valid_to",
    "disclosure_due_on", "disclosure_ends_on", "published_at", "published_late_days", "withdrawal_due_on",
    "withdrawn_at",
]  # fmt: skip


class _Row:
    """The planned fields of one record, as ``apply`` reads and writes them."""

    __slots__ = _REPLAN_COLUMNS

    def __init__(self, values):
        for name, value in zip(_REPLAN_COLUMNS, values, strict=True):
            setattr(self, name, value)


def item_replan(
    *,
    item: CatalogueItem,
    today: date,
    rule_for,
    decided_from: date | None = None,
    decided_before: date | None = None,
    severity: str | None = None,
    write: bool = True,
) -> dict[str, list[int]]:
    """Re-plan every record of ``item`` after its use scope or period changed, in batches of
    ``_REPLAN_BATCH``: one read and one ``UPDATE ... FROM (VALUES ...)`` per batch, the plans of
    records sharing a decision date and period computed once. Runs inside the caller's transaction
    (the catalogue edit), so the edit and its consequences commit together. Returns the ids of the
    records that left public view, that were taken down or ended because their period is over, and
    that became due for publication. ``decided_from``/``decided_before``/``severity`` narrow it to
    the records a period rule governs; ``write=False`` only counts (a dry run)."""
    calendar = workdays.get_calendar()
    publish = workdays.DeadlineSchedule(PUBLISH_RULE)
    withdrawal_due_on = workdays.deadline(WITHDRAW_RULE, today)
    due_not_before = calendar.add_working_days(today, publish.days(today))
    now = timezone.now()
    plans: dict[tuple, Plan] = {}
    outcome: dict[str, list[int]] = {"withdrawn": [], "ended": [], "pending": [], "changed": []}
    last_id = 0
    qs = CreditRecord.objects.filter(item=item).exclude(status__in=[Status.REVOKED, Status.RESTORED])
    if decided_from is not None:
        qs = qs.filter(decision_date__gte=decided_from)
    if decided_before is not None:
        qs = qs.filter(decision_date__lt=decided_before)
    if severity is not None:
        qs = qs.filter(severity=severity)
    while True:
        # Locked, in id order: a revocation, a correction or the sweep's publication of one of
        # these rows waits for this transaction instead of being overwritten by a stale plan.
        batch = [
            _Row(values)
            for values in qs.filter(pk__gt=last_id)
            .order_by("pk")
            .select_for_update()
            .values_list(*_REPLAN_COLUMNS)[:_REPLAN_BATCH]
        ]
        if not batch:
            break
        last_id = batch[-1].id
        changed = []
        for row in batch:
            key = (row.decision_date, row.severity, row.disclosure_months, row.valid_to)
            new = plans.get(key)
            if new is None:
                new = plans[key] = plan(
                    item=item,
                    severity=row.severity,
                    decision_date=row.decision_date,
                    disclosure_months=row.disclosure_months,
                    valid_to=row.valid_to,
                    rule_for=rule_for,
                    calendar=calendar,
                    publish_days=publish.days(row.decision_date),
                    today=today,
                )
            was = row.disclosure
            if apply(
                row,
                new,
                calendar=calendar,
                today=today,
                now=now,
                withdrawal_due_on=withdrawal_due_on,
                revived_status=Status.EFFECTIVE,
                due_not_before=due_not_before,
            ):
                changed.append(row)
                if was == Disclosure.PUBLISHED and row.disclosure == Disclosure.WITHDRAWN:
                    outcome["withdrawn"].append(row.id)
                elif row.disclosure == Disclosure.ENDED and was != Disclosure.ENDED:
                    outcome["ended"].append(row.id)
                elif row.disclosure == Disclosure.PENDING and was != Disclosure.PENDING:
                    outcome["pending"].append(row.id)
        if changed:
            if write:
                _write_rows(changed)
            outcome["changed"].extend(row.id for row in changed)
    return outcome


def _write_rows(rows: list[_Row]) -> None:
    columns = PLANNED_FIELDS
    types = {
        "status": "varchar", "disclosure": "varchar", "disclosure_due_on": "date", "disclosure_ends_on": "date",
        "published_late_days": "integer", "withdrawal_due_on": "date", "withdrawn_at": "timestamptz",
    }  # fmt: skip
    placeholders = ", ".join(
        "(%s::bigint, " + ", ".join(f"%s::{types[c]}" for c in columns) + ")" for _ in rows
    )
    params: list[Any] = []
    for row in rows:
        params.append(row.id)
        params.extend(getattr(row, c) for c in columns)
    assignments = ", ".join(f"{c} = v.{c}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE records_creditrecord r SET {assignments}, updated_at = %s "  # noqa: S608 - fixed names
            f"FROM (VALUES {placeholders}) AS v(id, {', '.join(columns)}) WHERE r.id = v.id",
            [timezone.now(), *params],
        )
