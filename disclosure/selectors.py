"""Reads of the disclosure board and of the on-time rates. Scoping to the actor happens here.

The board's lists are querysets (paginated by the view: one COUNT and one page query each);
its counts take two aggregate queries, whatever the number of records. The on-time rates are one
aggregate query (``GROUP BY department, month`` of the due date) over every record that was due,
published or not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import BooleanField, Count, DateField, ExpressionWrapper, F, Func, Q, QuerySet, Value
from django.db.models.functions import TruncDate, TruncMonth
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from disclosure.sweeps import WorkingDaysBetween, next_working_day
from records.models import CatalogueItem, CreditRecord
from records.services.credit import add_months

Pending = CreditRecord.Disclosure.PENDING
Published = CreditRecord.Disclosure.PUBLISHED
Withdrawn = CreditRecord.Disclosure.WITHDRAWN

# The board's sections, in display order: (key, label).
SECTIONS = (
    ("due_today", _("Due today")),
    ("at_risk", _("Due within 1 working day")),
    ("overdue", _("Overdue")),
    ("late", _("Published late")),
    ("withdrawn", _("Withdrawn after revocation")),
    ("not_withdrawn", _("Still published after the withdrawal deadline")),
)
SECTION_KEYS = tuple(key for key, _label in SECTIONS)
# Sections over the chosen period; the others are about what is pending now.
PERIOD_SECTIONS = ("late", "withdrawn")
DEFAULT_PERIOD_MONTHS = 3
RATE_MONTHS = 12


@dataclass(frozen=True)
class Period:
    """Local dates ``since`` to ``until``, both included."""

    since: date
    until: date

    @classmethod
    def default(cls, today: date) -> Period:
        return cls(add_months(today, -DEFAULT_PERIOD_MONTHS), today)

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.since, time.min))

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after ``until``."""
        return timezone.make_aware(datetime.combine(self.until + timedelta(days=1), time.min))


def scoped_records(actor: Actor, department_id: int | None = None) -> QuerySet[CreditRecord]:
    """The records the board shows to ``actor``: their department's; for the credit office, every
    department's, or ``department_id``'s when given."""
    actor.require(Cap.RECORDS_READ)
    qs = CreditRecord.objects.all()
    if actor.can(Cap.ALL_DEPARTMENTS):
        return qs.filter(department_id=department_id) if department_id else qs
    if actor.department_id is None:
        return qs.none()
    return qs.filter(department_id=actor.department_id)


def _pending_filters(today: date) -> dict[str, Q]:
    return {
        "due_today": Q(disclosure=Pending, disclosure_due_on=today),
        "at_risk": Q(
            disclosure=Pending,
            disclosure_due_on__gte=today,
            disclosure_due_on__lte=next_working_day(today),
        ),
        "overdue": Q(disclosure=Pending, disclosure_due_on__lt=today),
    }


def _period_filters(today: date, period: Period) -> dict[str, Q]:
    return {
        "late": Q(published_late_days__gt=0, published_at__gte=period.start, published_at__lt=period.end),
        "withdrawn": Q(
            disclosure=Withdrawn,
            withdrawal_due_on__isnull=False,
            published_at__isnull=False,
            withdrawn_at__gte=period.start,
            withdrawn_at__lt=period.end,
        ),
        "not_withdrawn": Q(disclosure=Published, withdrawal_due_on__lt=today),
    }


def pending_counts(actor: Actor, *, today: date, department_id: int | None = None) -> dict[str, int]:
    """Records awaiting publication due today, within one working day (today included), and
    overdue: one query, through the partial index on pending due dates."""
    return (
        scoped_records(actor, department_id)
        .filter(disclosure=Pending, disclosure_due_on__lte=next_working_day(today))
        .aggregate(
            **{key: Count("pk", filter=condition) for key, condition in _pending_filters(today).items()}
        )
    )


def board_counts(
    actor: Actor, *, today: date, period: Period, department_id: int | None = None
) -> dict[str, int]:
    """How many records each section holds, in two queries: one over records awaiting
    publication (partial index on their due dates), one over the period."""
    counts = pending_counts(actor, today=today, department_id=department_id)
    qs = scoped_records(actor, department_id)
    periodic = _period_filters(today, period)
    any_of = Q()
    for condition in periodic.values():
        any_of |= condition
    counts.update(
        qs.filter(any_of)
        .annotate(withdrawn_on=TruncDate("withdrawn_at"))
        .aggregate(
            **{key: Count("pk", filter=condition) for key, condition in periodic.items()},
            withdrawn_late=Count(
                "pk", filter=periodic["withdrawn"] & Q(withdrawn_on__gt=F("withdrawal_due_on"))
            ),
        )
    )
    return counts


def board_list(
    actor: Actor, section: str, *, today: date, period: Period, department_id: int | None = None
) -> QuerySet[CreditRecord]:
    """The rows of one section, with what each row needs to be shown (no query per row)."""
    if section not in SECTION_KEYS:
        raise ValueError(f"unknown section: {section!r}")
    conditions = {**_pending_filters(today), **_period_filters(today, period)}
    qs = (
        scoped_records(actor, department_id)
        .filter(conditions[section])
        .select_related("department", "item")
        .defer("fields", "content", "legal_basis", "remarks")
    )
    today_value = Value(today, output_field=DateField())
    if section in ("due_today", "at_risk"):
        return qs.order_by("disclosure_due_on", "id")
    if section == "overdue":
        return qs.annotate(overdue_days=WorkingDaysBetween(F("disclosure_due_on"), today_value)).order_by(
            "disclosure_due_on", "id"
        )
    if section == "late":
        return qs.order_by("-published_at", "-id")
    if section == "withdrawn":
        withdrawn_on = TruncDate("withdrawn_at")
        return qs.annotate(
            withdrawn_on=withdrawn_on,
            withdrawn_in_time=ExpressionWrapper(
                Q(withdrawn_on__lte=F("withdrawal_due_on")), output_field=BooleanField()
            ),
            withdrawal_late_days=WorkingDaysBetween(F("withdrawal_due_on"), withdrawn_on),
        ).order_by("-withdrawn_at", "-id")
    # not_withdrawn
    return qs.annotate(
        withdrawal_overdue_days=WorkingDaysBetween(F("withdrawal_due_on"), today_value)
    ).order_by("withdrawal_due_on", "id")


# --- on-time rates -----------------------------------------------------------------------------
#
# The rate is about deadlines, so records are counted in the month they were DUE
# (``disclosure_due_on``), published or not. A record counts once its due date has passed (due
# before ``today``), so a month still running is measured on the deadlines already behind it:
#
# - on time: published, ``published_late_days = 0`` (on or before the due date);
# - late: published after the due date;
# - overdue, not yet published: not published although its due date has passed — a draft
#   awaiting review, a stuck import, a record the sweep has not reached; and also a record revoked
#   or whose disclosure period ended after its due date without having been published.
#
# Only records of public catalogue items on the disclosure track count. Left out: records their
# item or severity keeps from disclosure (``disclosure = 'none'``), and records that left the track
# lawfully before their due date without being published — revoked (withdrawn on or before the due
# date) or whose disclosure period had ended by then. The rate is on time / due: an overdue record
# lowers the rate of the month it was due in until it is published, and then counts as late.

NotDisclosed = CreditRecord.Disclosure.NOT_DISCLOSED
Ended = CreditRecord.Disclosure.ENDED

# A record due in the window is counted unless it left the disclosure track before its due date
# without having been published.
_COUNTED = (
    Q(published_at__isnull=False)
    | Q(disclosure=Pending)
    | (Q(disclosure=Withdrawn) & Q(GreaterThan(TruncDate("withdrawn_at"), F("disclosure_due_on"))))
    | Q(disclosure=Ended, disclosure_ends_on__gt=F("disclosure_due_on"))
)


class _AnyOf(Func):
    """``value = ANY(array)``: with an ``ArraySubquery``, the subquery runs once (an InitPlan) and
    the records are filtered without a join, whose row estimate for the small catalogue table
    could lead the planner astray."""

    arg_joiner = " = ANY("
    template = "(%(expressions)s))"
    output_field = BooleanField()


def _of_a_public_item() -> _AnyOf:
    public_items = (
        CatalogueItem.objects.filter(use_scope=CatalogueItem.UseScope.PUBLIC).order_by().values("pk")
    )
    return _AnyOf(F("item_id"), ArraySubquery(public_items))


def month_window(until: date, months: int = RATE_MONTHS) -> list[date]:
    """The first days of the ``months`` calendar months ending with ``until``'s, oldest first."""
    last = until.replace(day=1)
    return [add_months(last, -n) for n in range(months - 1, -1, -1)]


def on_time_rows(
    *, until: date, today: date, department_id: int | None = None, actor: Actor | None = None
) -> list[dict]:
    """Per department and month of the due date, over the 12 months ending with ``until``'s month:
    the records due (before ``today``), how many of them were published, and how many on time
    (see the definition above). ONE aggregate query; plain dicts, so that they can be cached.

    With ``actor``: scoped like the board. Without: every department (the public page)."""
    months = month_window(until)
    first, after = months[0], min(add_months(months[-1], 1), today)
    if actor is not None:
        qs = scoped_records(actor, department_id)
    else:
        qs = (
            CreditRecord.objects.filter(department_id=department_id)
            if department_id
            else CreditRecord.objects.all()
        )
    rows = (
        qs.filter(disclosure_due_on__gte=first, disclosure_due_on__lt=after)
        .exclude(disclosure=NotDisclosed)
        .filter(_COUNTED, _of_a_public_item())
        .annotate(month=TruncMonth("disclosure_due_on", output_field=DateField()))
        .values("department_id", "department__code", "department__name_zh", "department__name_en", "month")
        .annotate(
            due=Count("pk"),
            published=Count("pk", filter=Q(published_at__isnull=False)),
            on_time=Count("pk", filter=Q(published_at__isnull=False, published_late_days=0)),
        )
        .order_by("department__code", "month")
    )
    return [
        {
            "department_id": r["department_id"],
            "code": r["department__code"],
            "name_zh": r["department__name_zh"],
            "name_en": r["department__name_en"],
            "month": r["month"],
            "due": r["due"],
            "published": r["published"],
            "on_time": r["on_time"],
        }
        for r in rows
    ]


@dataclass(frozen=True)
class Rate:
    """Records due in a month (or over several): ``due = on_time + late + overdue``."""

    due: int
    published: int
    on_time: int

    @property
    def late(self) -> int:
        """Published after the due date."""
        return self.published - self.on_time

    @property
    def overdue(self) -> int:
        """Due date passed, not published."""
        return self.due - self.published

    @property
    def percent(self) -> float | None:
        """On time out of due, in percent to one decimal; None when nothing was due."""
        if not self.due:
            return None
        return round(100 * self.on_time / self.due, 1)


@dataclass
class DepartmentRates:
    code: str
    name_zh: str
    name_en: str
    cells: list[Rate | None] = field(default_factory=list)  # one per month; None: nothing due

    @property
    def name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh

    @property
    def total(self) -> Rate:
        cells = [c for c in self.cells if c is not None]
        return Rate(sum(c.due for c in cells), sum(c.published for c in cells), sum(c.on_time for c in cells))


@dataclass
class OnTimeTable:
    months: list[date]
    departments: list[DepartmentRates]

    @property
    def first(self) -> date:
        return self.months[0]

    @property
    def last(self) -> date:
        return self.months[-1]


def on_time_table(rows: list[dict], until: date) -> OnTimeTable:
    """Arrange ``on_time_rows`` as a table: one row per department, one cell per month."""
    months = month_window(until)
    index = {m: i for i, m in enumerate(months)}
    departments: dict[str, DepartmentRates] = {}
    for row in rows:
        dept = departments.get(row["code"])
        if dept is None:
            dept = departments[row["code"]] = DepartmentRates(
                row["code"], row["name_zh"], row["name_en"], [None] * len(months)
            )
        dept.cells[index[row["month"]]] = Rate(row["due"], row["published"], row["on_time"])
    return OnTimeTable(months, list(departments.values()))
