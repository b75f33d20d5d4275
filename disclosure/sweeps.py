"""The disclosure sweep: keeps "disclosed within 7 working days" and the end of disclosure periods.

Run by beat every few minutes (``disclosure.tasks.sweep_disclosures``). Every step is idempotent,
so a sweep may run as often as it likes, two may run at once, and one that runs after the worker
was down catches up:

1. publish what awaits publication (``records.services.publication.publish_due``, in batches,
   ``FOR UPDATE SKIP LOCKED``); a record published after its due date is marked late there, with
   the delay in working days counted up to ``today``;
2. take down what has reached the end of its disclosure period (``end_due``, likewise);
3. warn the recording departments of records still awaiting publication that are due within one
   working day or already overdue (drafts awaiting review, mostly), and of revoked records still
   published after their withdrawal deadline (which should never happen: revocation withdraws at
   once). Notices are deduplicated per department, kind and day: once a day, whatever the number
   of runs;
4. hand over to the objection and complaint escalations.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, DateField, Func, IntegerField, Min, Q, Value
from django.utils import timezone

from credit_portal.accounts.actors import Actor, system_actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from credit_portal.links import Route
from credit_portal.notices import services as notices
from credit_portal.workdays import rules
from credit_portal.workdays import services as workdays
from records.models import CreditRecord
from records.services import publication

logger = logging.getLogger(__name__)

ACTOR_NAME = "disclosure-sweep"
BATCH_SIZE = 5000
# Who is told: the department's reviewers (who confirm drafts, so that they can be published)
# and its administrators. Both calls share the dedupe key, so an administrator, who holds both
# capabilities, gets one notice.
RECIPIENT_CAPABILITIES = (Cap.RECORDS_CONFIRM, Cap.TOKENS_MANAGE)

KIND_AT_RISK = "disclosure.at_risk"
KIND_OVERDUE = "disclosure.overdue"
KIND_WITHDRAWAL_OVERDUE = "disclosure.withdrawal_overdue"

Pending = CreditRecord.Disclosure.PENDING
Published = CreditRecord.Disclosure.PUBLISHED


class AddWorkingDays(Func):
    """``cp_add_working_days(d, n)``: the n-th working day after ``d`` (the SQL twin of
    ``workdays.add_working_days``)."""

    function = "cp_add_working_days"
    output_field = DateField()


class WorkingDaysBetween(Func):
    """``cp_working_days_between(a, b)``: working days after ``a`` up to and including ``b``."""

    function = "cp_working_days_between"
    output_field = IntegerField()


def next_working_day(today: date) -> Func:
    """The last day a record "due within one working day" of ``today`` may be due on, in SQL."""
    return AddWorkingDays(Value(today, output_field=DateField()), Value(1))


def sweep(*, today: date | None = None, batch_size: int = BATCH_SIZE, actor: Actor | None = None) -> dict:
    """One complete sweep. Returns what it did, as counts."""
    actor = actor or system_actor(ACTOR_NAME)
    today = today or timezone.localdate()
    published, late = publish_all(actor=actor, today=today, batch_size=batch_size)
    ended = end_all(actor=actor, today=today, batch_size=batch_size)
    escalated = escalate_pending(actor=actor, today=today)
    withdrawal = escalate_withdrawal_overdue(actor=actor, today=today)
    others = other_escalations(actor=actor, today=today)
    return {
        "today": today.isoformat(),
        "published": published,
        "published_late": late,
        "ended": ended,
        **escalated,
        **withdrawal,
        **others,
    }


def publish_all(*, actor: Actor, today: date, batch_size: int = BATCH_SIZE) -> tuple[int, int]:
    """Publish batches until a batch comes back short. Returns (published, of which late).

    A short batch also ends the loop when a concurrent sweep holds the other rows (SKIP LOCKED):
    that sweep publishes them."""
    published = late = 0
    while True:
        rows = publication.publish_due(actor=actor, today=today, limit=batch_size)
        published += len(rows)
        late += sum(1 for r in rows if r.late_days)
        if len(rows) < batch_size:
            return published, late


def end_all(*, actor: Actor, today: date, batch_size: int = BATCH_SIZE) -> int:
    """End batches of disclosure periods until a batch comes back short. Returns how many."""
    ended = 0
    while True:
        ids = publication.end_due(actor=actor, today=today, limit=batch_size)
        ended += len(ids)
        if len(ids) < batch_size:
            return ended


# --- escalation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingCounts:
    department_id: int
    at_risk: int  # due today or on the next working day
    due_today: int
    overdue: int
    drafts: int  # of all of these, awaiting review
    earliest_due: date


def pending_by_department(today: date) -> list[PendingCounts]:
    """Records awaiting publication due within one working day of ``today`` (today included) or
    overdue, counted per department in one query (through the partial index on pending due
    dates)."""
    rows = (
        CreditRecord.objects.filter(disclosure=Pending, disclosure_due_on__lte=next_working_day(today))
        .values("department_id")
        .annotate(
            at_risk=Count("pk", filter=Q(disclosure_due_on__gte=today)),
            due_today=Count("pk", filter=Q(disclosure_due_on=today)),
            overdue=Count("pk", filter=Q(disclosure_due_on__lt=today)),
            drafts=Count("pk", filter=Q(status=CreditRecord.Status.DRAFT)),
            earliest_due=Min("disclosure_due_on"),
        )
        .order_by("department_id")
    )
    return [PendingCounts(**row) for row in rows]


def escalate_pending(*, actor: Actor, today: date) -> dict:
    """Warn each department with records at risk of missing the deadline, or past it."""
    groups = pending_by_department(today)
    departments = Department.objects.in_bulk([g.department_id for g in groups])
    counts = {"at_risk": 0, "overdue": 0, "notices": 0}
    # The notices state the deadline of the rule in force today.
    days = workdays.deadline_days(rules.DISCLOSURE_PUBLISH, today) if groups else 0
    for group in groups:
        department = departments[group.department_id]
        counts["at_risk"] += group.at_risk
        counts["overdue"] += group.overdue
        if group.at_risk:
            counts["notices"] += _notify(
                actor, department, KIND_AT_RISK, today, *_at_risk_text(group, days), anchor="at_risk"
            )
        if group.overdue:
            counts["notices"] += _notify(
                actor, department, KIND_OVERDUE, today, *_overdue_text(group, days), anchor="overdue"
            )
    if counts["overdue"]:
        logger.warning("%d record(s) overdue for publication on %s", counts["overdue"], today)
    return counts


def escalate_withdrawal_overdue(*, actor: Actor, today: date) -> dict:
    """Revoked records still published after their withdrawal deadline. ``record_revoke``
    withdraws at once, so this should find nothing; if it does, the department is told and the
    log says so loudly."""
    rows = (
        CreditRecord.objects.filter(disclosure=Published, withdrawal_due_on__lt=today)
        .values("department_id")
        .annotate(n=Count("pk"))
        .order_by("department_id")
    )
    groups = {row["department_id"]: row["n"] for row in rows}
    total = sum(groups.values())
    sent = 0
    if groups:
        days = workdays.deadline_days(rules.DISCLOSURE_WITHDRAW, today)
        logger.error(
            "%d record(s) still published after their withdrawal deadline (departments %s)",
            total,
            sorted(groups),
        )
        for department in Department.objects.filter(pk__in=groups).order_by("pk"):
            n = groups[department.pk]
            sent += _notify(
                actor,
                department,
                KIND_WITHDRAWAL_OVERDUE,
                today,
                "已撤销的信用记录超期仍在公示",
                "Revoked records still published after their withdrawal deadline",
                f"{n} 条已撤销的信用记录超过撤下期限（撤销之日起{days}个工作日）仍在公示，请立即处理并联系信用办。",
                f"{n} revoked record(s) are still published after their withdrawal deadline "
                f"({days} working days after the revocation). Withdraw them now and tell the credit office.",
                anchor="not_withdrawn",
            )
    return {"withdrawal_overdue": total, "withdrawal_notices": sent}


def _at_risk_text(g: PendingCounts, days: int) -> tuple[str, str, str, str]:
    """``days``: the working days the publication rule in force allows."""
    subject_zh = f"{g.at_risk} 条信用记录即将超过公示期限"
    subject_en = f"{g.at_risk} credit record(s) due for publication within 1 working day"
    body_zh = (
        f"{g.at_risk} 条待公示的信用记录须在1个工作日内（含今天）上网公示，其中 {g.due_today} 条今天到期"
        f"（最早期限 {g.earliest_due.isoformat()}）。"
        f"待审核的草稿共 {g.drafts} 条：请审核确认，以便按时公示（行政决定作出之日起{days}个工作日内）。"
    )
    body_en = (
        f"{g.at_risk} credit record(s) awaiting publication are due within 1 working day (today "
        f"included), {g.due_today} of them today (earliest deadline {g.earliest_due.isoformat()}). "
        f"Drafts awaiting review: {g.drafts}. Review and confirm them so that they are published on "
        f"time (within {days} working days of the decision)."
    )
    return subject_zh, subject_en, body_zh, body_en


def _overdue_text(g: PendingCounts, days: int) -> tuple[str, str, str, str]:
    subject_zh = f"{g.overdue} 条信用记录已超过公示期限"
    subject_en = f"{g.overdue} credit record(s) overdue for publication"
    body_zh = (
        f"{g.overdue} 条信用记录已超过公示期限（行政决定作出之日起{days}个工作日内）仍未公示"
        f"（最早期限 {g.earliest_due.isoformat()}）。待审核的草稿共 {g.drafts} 条。"
        "请尽快审核确认；公示时将记为逾期公示。"
    )
    body_en = (
        f"{g.overdue} credit record(s) have passed their publication deadline ({days} working days after "
        f"the decision) and are not yet published (earliest deadline {g.earliest_due.isoformat()}). "
        f"Drafts awaiting review: {g.drafts}. Review them now; they will be recorded as published late."
    )
    return subject_zh, subject_en, body_zh, body_en


def _notify(
    actor: Actor,
    department: Department,
    kind: str,
    today: date,
    subject_zh: str,
    subject_en: str,
    body_zh: str,
    body_en: str,
    *,
    anchor: str,
) -> int:
    """Notify the department's reviewers and administrators once per kind and day. Returns the
    number of notices created by this call (0 on every run after the first of the day)."""
    link = Route("staff:board_index", query={"department": department.pk, "section": anchor})
    key = f"{kind}:{department.code}:{today.isoformat()}"
    created = 0
    for capability in RECIPIENT_CAPABILITIES:
        created += len(
            notices.notify_department(
                actor=actor,
                department=department,
                capability=capability,
                kind=kind,
                subject_zh=subject_zh,
                subject_en=subject_en,
                body_zh=body_zh,
                body_en=body_en,
                link=link,
                dedupe_key=key,
            )
        )
    return created


# --- the other deadlines ---------------------------------------------------------------------------


def other_escalations(*, actor: Actor, today: date) -> dict:
    """Objections and complaints have deadlines of their own, escalated by their services. Those
    services are being written: a module that does not exist yet is skipped with a log line. (To
    make the calls unconditional, import the two functions at the top of this module and call them
    here.) An import error *inside* an existing module is raised, not skipped."""
    results = {}
    for label, module_name, function_name in (
        ("objections", "records.services.objections", "objections_escalate"),
        ("complaints", "records.services.complaints", "complaints_escalate"),
    ):
        function = _optional(module_name, function_name)
        if function is None:
            logger.info("%s does not exist yet: %s skipped", module_name, function_name)
            results[label] = None
        else:
            results[label] = function(actor=actor, today=today)
    return results


def _optional(module_name: str, function_name: str) -> Callable | None:
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return None
    return getattr(module, function_name)
