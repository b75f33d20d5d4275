"""Working days of the People's Republic of China.

One calendar for every deadline: official holidays and adjusted working days from the
``chinesecalendar`` package for the years it covers, overridden by the editable ``CalendarDay``
table, which also carries later years once the State Council publishes them. The day of the decision
is not counted: a decision on Wed 2026-09-30 plus 7 working days is due on Thu 2026-10-15.

Working days in SQL
-------------------
Bulk work (``UPDATE ... SET due = ...`` over a million rows) cannot call Python per row, so the
calendar is also materialised in ``workdays_workdayindex`` (model ``WorkdayIndex``), one row per day
from 2000-01-01 to 31 December two years after the latest year the calendar knows (the package's
last year, or the latest ``HolidayNotice``/``CalendarDay`` year). ``rebuild_index()`` regenerates it
from the ``WorkingCalendar`` after every calendar edit commits, so SQL and Python always agree.
Two SQL functions (STABLE, STRICT, PARALLEL SAFE; created by migration 0003) read it:

``cp_add_working_days(d date, n int) RETURNS date``
    The n-th working day after ``d`` (``d`` itself not counted; ``d`` for n = 0), exactly as
    ``add_working_days(d, n)``. ``UPDATE records SET due = cp_add_working_days(decided_on, 7)``.

``cp_working_days_between(a date, b date) RETURNS int``
    Working days after ``a`` up to and including ``b`` (0 when ``b <= a``), exactly as
    ``working_days_between(a, b)``: ``cp_working_days_between(d, cp_add_working_days(d, n)) = n``.
    "How many working days late": ``cp_working_days_between(due, published_on)``.

Both raise (SQLSTATE 22008, a ``DataError`` in Django) when a date, or the result, lies outside the
index: never NULL or a wrong date. NULL arguments give NULL. Deadlines of the ``DeadlineRule`` table
are ``deadline(key, start)`` in Python; in SQL, join the rule in force and pass its ``working_days``.
"""

from __future__ import annotations

import secrets
import threading
from datetime import date, timedelta

import chinese_calendar
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from credit_portal import memo
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.cache import shared_cache_available
from credit_portal.outbox import services as outbox
from credit_portal.text import invisible_error
from credit_portal.workdays.models import CalendarDay, DeadlineRule, HolidayNotice, WorkdayIndex

_VERSION_KEY = "workdays:version"
RENEW_VERSION_TASK = "credit_portal.workdays.tasks.renew_calendar_version"
_local = threading.local()


def _package_years() -> range:
    first = min(chinese_calendar.constants.holidays).year
    last = max(max(chinese_calendar.constants.holidays), max(chinese_calendar.constants.workdays)).year
    return range(first, last + 1)


PACKAGE_YEARS = _package_years()
# The package's own tables. ``chinese_calendar.is_workday`` validates the year with min()/max() over
# every holiday on each call (~30 µs); the index rebuild asks about 11,000 days, so look up directly,
# with the package's logic: an adjusted working day, or a weekday that is not a holiday.
_PACKAGE_WORKDAYS = chinese_calendar.constants.workdays
_PACKAGE_HOLIDAYS = chinese_calendar.constants.holidays


class WorkingCalendar:
    """An immutable snapshot of the calendar. Cheap to query in a loop."""

    def __init__(self, overrides: dict[date, bool], notice_years: frozenset[int]):
        self._overrides = overrides  # date -> is a working day
        self._notice_years = notice_years

    def is_working_day(self, day: date) -> bool:
        override = self._overrides.get(day)
        if override is not None:
            return override
        if day.year in PACKAGE_YEARS:
            return day in _PACKAGE_WORKDAYS or (day.weekday() < 5 and day not in _PACKAGE_HOLIDAYS)
        return day.weekday() < 5

    def is_authoritative(self, day: date) -> bool:
        """Whether the official holiday arrangement for ``day``'s year is known. Deadlines falling
        in a year that is not are provisional (weekends only) until its notice is entered."""
        return day.year in PACKAGE_YEARS or day.year in self._notice_years

    def latest_known_year(self) -> int:
        """The latest year with official data: the package's last year, or the latest year of an
        entered notice or calendar day, whichever is later."""
        return max([PACKAGE_YEARS[-1], *self._notice_years, *(d.year for d in self._overrides)])

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself is never counted)."""
        if days < 0:
            raise ValueError("days must not be negative")
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``).
        ``working_days_between(d, add_working_days(d, n)) == n``."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count


def _load() -> WorkingCalendar:
    overrides = {
        d: kind == CalendarDay.Kind.WORKDAY for d, kind in CalendarDay.objects.values_list("date", "kind")
    }
    years = frozenset(HolidayNotice.objects.values_list("year", flat=True))
    return WorkingCalendar(overrides, years)


def get_calendar() -> WorkingCalendar:
    """The current calendar. Each process keeps a copy and reloads it when the shared version
    (renewed on every edit) changes, so an edit is seen everywhere at once."""
    version = _current_version()
    cached = getattr(_local, "calendar", None)
    if cached is None or _local.version != version:
        _local.calendar = _load()
        _local.version = version
    return _local.calendar


def _current_version() -> str:
    """The shared version, created when missing. A missing key must not read as a constant: a
    process that loaded while the key was missing would hold that constant, and take a calendar
    read after an edit for current once the key goes missing again (Redis restarted or flushed).

    With Redis unavailable there is no shared version: every call gets a fresh one, so the calendar
    is read from the database each time (two small tables) and an edit made by any process is
    seen at once, until Redis answers again."""
    version = cache.get(_VERSION_KEY)
    if version is None:
        if not shared_cache_available():
            return secrets.token_hex(8)
        version = secrets.token_hex(8)
        if not cache.add(_VERSION_KEY, version, timeout=None):  # another process was first
            version = cache.get(_VERSION_KEY) or version
    return version


def invalidate() -> None:
    """Make every process reload the calendar. Called after a calendar edit commits.

    The version is a fresh random token, not a counter: a counter starts again from 1 when Redis
    loses its keys (a restart, a flush) and can come back to the very number a process holds with
    an older calendar, which would then never reload.

    When Redis does not take the new version (it is down), a process that loaded the calendar
    before the outage would take its copy for current once Redis is back with the old version: a
    task in the outbox renews the version again once the broker, and Redis, are back."""
    _local.calendar = None
    if not renew_shared_version():
        with transaction.atomic():
            outbox.enqueue(RENEW_VERSION_TASK, unless_pending=True)


def renew_shared_version() -> bool:
    """Set a fresh shared version; whether Redis took it."""
    cache.set(_VERSION_KEY, secrets.token_hex(8), timeout=None)
    return shared_cache_available()


def add_working_days(start: date, days: int) -> date:
    return get_calendar().add_working_days(start, days)


def is_working_day(day: date) -> bool:
    return get_calendar().is_working_day(day)


def working_days_between(start: date, end: date) -> int:
    return get_calendar().working_days_between(start, end)


def is_provisional(day: date | None) -> bool:
    """Whether a deadline falling on ``day`` is provisional: its year's official holiday
    arrangement is not known yet (neither the ``chinesecalendar`` package nor an entered notice
    covers it), so it was counted with weekends only. The one test behind every "provisional" a
    company or the public reads — pages (``{% provisional_mark %}``), notices and the API's
    ``*_provisional`` booleans. False for no date."""
    return day is not None and not get_calendar().is_authoritative(day)


def unannounced_years(today: date) -> list[int]:
    """This year and, from October on, next year, when their official arrangement is unknown.
    Shown on the staff dashboard: deadlines running into such a year are provisional."""
    years = [today.year, today.year + 1] if today.month >= 10 else [today.year]
    calendar = get_calendar()
    return [y for y in years if not calendar.is_authoritative(date(y, 1, 1))]


# --- the working-day index (for SQL) -------------------------------------------------------------

INDEX_FIRST_DAY = date(2000, 1, 1)
# Years past the latest known one that the index still covers (counting weekends only), so that a
# deadline started late in the last known year can be computed in SQL.
INDEX_YEARS_AHEAD = 2


def index_last_day(calendar: WorkingCalendar) -> date:
    return date(calendar.latest_known_year() + INDEX_YEARS_AHEAD, 12, 31)


def write_index(cursor, calendar: WorkingCalendar) -> int:
    """Replace the content of the index with ``calendar``'s days, in the caller's transaction.
    Shared by ``rebuild_index()`` and the data migration (which passes a calendar built from the
    historical models). One DELETE and one INSERT from three arrays, sent as array literals (the
    driver adapting 30,000 values one by one takes longer than the whole insert)."""
    days, working, ordinals = [], [], []
    ordinal = 0
    day, last = INDEX_FIRST_DAY, index_last_day(calendar)
    one = timedelta(days=1)
    while day <= last:
        is_working = calendar.is_working_day(day)
        if is_working:
            ordinal += 1
        days.append(day.isoformat())
        working.append("t" if is_working else "f")
        ordinals.append(str(ordinal))
        day += one
    table = WorkdayIndex._meta.db_table
    cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (the model's own table name)
    cursor.execute(
        f"INSERT INTO {table} (date, is_working, ordinal) "  # noqa: S608
        "SELECT * FROM unnest(%s::date[], %s::boolean[], %s::integer[])",
        ["{" + ",".join(column) + "}" for column in (days, working, ordinals)],
    )
    return len(days)


def rebuild_index() -> int:
    """Regenerate ``workdays_workdayindex`` from the calendar as it is committed now. Returns the
    number of rows written.

    The table is locked in EXCLUSIVE mode (readers go on seeing the previous content until commit;
    a concurrent rebuild waits) and the calendar is read from the database *after* the lock is
    taken, not from this process's cached copy: of two rebuilds racing after two edits, the one
    that writes last has read last, so the table never ends up older than the calendar."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {WorkdayIndex._meta.db_table} IN EXCLUSIVE MODE")
        return write_index(cursor, _load())


def _calendar_changed() -> None:
    """After a calendar edit commits: every process reloads, and the SQL index follows."""
    invalidate()
    rebuild_index()


# --- deadline rules ------------------------------------------------------------------------------


def deadline_days(key: str, on: date) -> int:
    """The number of working days the rule ``key`` in force on ``on`` allows: the rule with the
    latest ``effective_from`` not after ``on``. A deadline keeps the rule in force on the day it
    started, so pass the start date (the decision date), not today."""
    days = (
        DeadlineRule.objects.filter(key=key, effective_from__lte=on)
        .order_by("-effective_from")
        .values_list("working_days", flat=True)
        .first()
    )
    if days is None:
        if DeadlineRule.objects.filter(key=key).exists():
            raise LookupError(f"no deadline rule {key!r} is in force on {on.isoformat()}")
        raise LookupError(f"unknown deadline rule {key!r}")
    return days


# How long a process keeps the rules in force for the texts that state them (a changed regulation
# is a new rule, entered a few times a year; the deadlines themselves always read the table).
RULES_SHOWN_SECONDS = 600


@memo.per_process(RULES_SHOWN_SECONDS)
def _days_in_force_today() -> dict[str, int]:
    """Every rule's working days in force today, in one query."""
    today = timezone.localdate()
    days: dict[str, int] = {}
    for key, working_days in (
        DeadlineRule.objects.filter(effective_from__lte=today)
        .order_by("key", "-effective_from")
        .values_list("key", "working_days")
    ):
        days.setdefault(key, working_days)
    return days


def days_in_force(key: str) -> int:
    """The working days the rule ``key`` in force today allows, for a text that states the
    deadline ("within 7 working days of the decision"): every page and notice says what the rule
    says, without a query per page (kept per process for ``RULES_SHOWN_SECONDS``). A deadline is
    counted with ``deadline(key, start)``, never with this."""
    try:
        return _days_in_force_today()[key]
    except KeyError:
        raise LookupError(f"no deadline rule {key!r} is in force today") from None


def earliest_rule_date(key: str) -> date | None:
    """The first day any version of the rule ``key`` is in force (None for an unknown rule): a
    deadline that starts earlier has no rule, and the door refuses it naming this date rather
    than failing with ``LookupError``."""
    return (
        DeadlineRule.objects.filter(key=key)
        .order_by("effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )


class DeadlineSchedule:
    """Every version of one deadline rule, loaded once: for bulk work that needs the rule in force
    on many different dates (a file of decisions) without a query per row."""

    def __init__(self, key: str):
        self.key = key
        self._rules = list(
            DeadlineRule.objects.filter(key=key)
            .order_by("-effective_from")
            .values_list("effective_from", "working_days")
        )
        if not self._rules:
            raise LookupError(f"unknown deadline rule {key!r}")

    @property
    def earliest(self) -> date:
        """The day the first version of the rule took effect: no deadline before it."""
        return self._rules[-1][0]

    def days(self, on: date) -> int:
        for effective_from, days in self._rules:
            if effective_from <= on:
                return days
        raise LookupError(f"no deadline rule {self.key!r} is in force on {on.isoformat()}")


def deadline(key: str, start: date) -> date:
    """The last day of the deadline ``key`` started on ``start`` (``start`` itself not counted)."""
    return add_working_days(start, deadline_days(key, start))


_RULE_FIELDS = ["key", "working_days", "effective_from", "basis_zh", "basis_en"]


@transaction.atomic
def deadline_rule_set(
    *,
    actor,
    key: str,
    working_days: int,
    effective_from: date,
    basis_zh: str,
    basis_en: str,
    validate_only: bool = False,
) -> DeadlineRule | None:
    """Create or change the rule ``key`` taking effect on ``effective_from``. A changed regulation
    is a new rule with a later date: deadlines started before it keep the old number. Changing an
    existing rule rewrites history for deadlines recomputed later, hence the audit ``before``.
    Every error at once; ``validate_only``: check, write nothing, return None."""
    actor.require(Cap.CALENDAR_MANAGE)
    errors = _invisible_errors(basis_zh=basis_zh, basis_en=basis_en)
    existing = DeadlineRule.objects.select_for_update().filter(key=key, effective_from=effective_from).first()
    before = audit.snapshot(existing, _RULE_FIELDS) if existing else None
    rule = existing or DeadlineRule(key=key, effective_from=effective_from)
    rule.working_days, rule.basis_zh, rule.basis_en = working_days, basis_zh, basis_en
    _raise_with_model_errors(rule, errors)
    if validate_only:
        return None
    rule.save()
    transaction.on_commit(lambda: _days_in_force_today.forget(every_language=True))
    audit.log(
        actor=actor,
        action="workdays.deadline_rule.set",
        target=rule,
        before=before,
        after=audit.snapshot(rule, _RULE_FIELDS),
    )
    return rule


def _invisible_errors(*, single_line: bool = False, **texts: str) -> dict[str, list[str]]:
    return {
        name: [problem]
        for name, value in texts.items()
        if (problem := invisible_error(str(value or ""), single_line=single_line))
    }


def _raise_with_model_errors(instance, errors: dict[str, list[str]]) -> None:
    """The model's own checks on the fields not refused already, and every error at once."""
    try:
        instance.full_clean(exclude=list(errors))
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


# --- edits (audited) ---------------------------------------------------------------------------


@transaction.atomic
def calendar_day_set(
    *, actor, day: date, kind: str, name_zh: str = "", name_en: str = "", validate_only: bool = False
) -> CalendarDay | None:
    """Record that ``day`` is a holiday or an adjusted working day, every error at once.
    ``validate_only``: check, write nothing, return None. Side effects: audit event; after commit,
    calendar reload in every process and a rebuild of the SQL index."""
    actor.require(Cap.CALENDAR_MANAGE)
    errors = _invisible_errors(single_line=True, name_zh=name_zh, name_en=name_en)
    existing = CalendarDay.objects.select_for_update().filter(date=day).first() if day else None
    before = audit.snapshot(existing, ["date", "kind", "name_zh", "name_en"]) if existing else None
    entry = existing or CalendarDay(date=day)
    entry.kind, entry.name_zh, entry.name_en = kind, name_zh, name_en
    _raise_with_model_errors(entry, errors)
    if validate_only:
        return None
    entry.save()
    audit.log(
        actor=actor,
        action="workdays.day.set",
        target=entry,
        before=before,
        after=audit.snapshot(entry, ["date", "kind", "name_zh", "name_en"]),
    )
    transaction.on_commit(_calendar_changed)
    return entry


@transaction.atomic
def calendar_day_remove(*, actor, day: date) -> None:
    actor.require(Cap.CALENDAR_MANAGE)
    entry = CalendarDay.objects.select_for_update().filter(date=day).first()
    if entry is None:
        return
    before = audit.snapshot(entry, ["date", "kind", "name_zh", "name_en"])
    audit.log(actor=actor, action="workdays.day.removed", target=entry, before=before)
    entry.delete()
    transaction.on_commit(_calendar_changed)


@transaction.atomic
def holiday_notice_record(*, actor, year: int, title: str, published_on: date) -> HolidayNotice:
    """Mark ``year``'s official arrangement as entered: its deadlines stop being provisional."""
    actor.require(Cap.CALENDAR_MANAGE)
    notice, created = HolidayNotice.objects.update_or_create(
        year=year, defaults={"title": title, "published_on": published_on}
    )
    audit.log(
        actor=actor,
        action="workdays.notice.recorded",
        target=notice,
        after={"year": year, "title": title, "published_on": published_on, "created": created},
    )
    transaction.on_commit(_calendar_changed)
    return notice
