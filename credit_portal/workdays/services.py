"""Working days of the People's Republic of China.

One calendar for every deadline: official holidays and adjusted working days from the
``chinesecalendar`` package for the years it covers, overridden by the editable ``CalendarDay``
table, which also carries later years once the State Council publishes them. The day of the decision
is not counted: a decision on Wed 2026-09-30 plus 7 working days is due on Thu 2026-10-15.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import chinese_calendar
from django.core.cache import cache
from django.db import transaction

from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.workdays.models import CalendarDay, HolidayNotice

_VERSION_KEY = "workdays:version"
_local = threading.local()


def _package_years() -> range:
    first = min(chinese_calendar.constants.holidays).year
    last = max(max(chinese_calendar.constants.holidays), max(chinese_calendar.constants.workdays)).year
    return range(first, last + 1)


PACKAGE_YEARS = _package_years()


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
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def is_authoritative(self, day: date) -> bool:
        """Whether the official holiday arrangement for ``day``'s year is known. Deadlines falling
        in a year that is not are provisional (weekends only) until its notice is entered."""
        return day.year in PACKAGE_YEARS or day.year in self._notice_years

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
    number (bumped on every edit) changes, so an edit is seen everywhere at once."""
    version = cache.get(_VERSION_KEY, 0)
    cached = getattr(_local, "calendar", None)
    if cached is None or _local.version != version:
        _local.calendar = _load()
        _local.version = version
    return _local.calendar


def invalidate() -> None:
    """Make every process reload the calendar. Called after a calendar edit commits."""
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:
        cache.set(_VERSION_KEY, 1, timeout=None)
    _local.calendar = None


def add_working_days(start: date, days: int) -> date:
    return get_calendar().add_working_days(start, days)


def is_working_day(day: date) -> bool:
    return get_calendar().is_working_day(day)


def working_days_between(start: date, end: date) -> int:
    return get_calendar().working_days_between(start, end)


def unannounced_years(today: date) -> list[int]:
    """This year and, from October on, next year, when their official arrangement is unknown.
    Shown on the staff dashboard: deadlines running into such a year are provisional."""
    years = [today.year, today.year + 1] if today.month >= 10 else [today.year]
    calendar = get_calendar()
    return [y for y in years if not calendar.is_authoritative(date(y, 1, 1))]


# --- edits (audited) ---------------------------------------------------------------------------


@transaction.atomic
def calendar_day_set(*, actor, day: date, kind: str, name_zh: str = "", name_en: str = "") -> CalendarDay:
    """Record that ``day`` is a holiday or an adjusted working day. Side effects: audit event,
    calendar reload in every process after commit."""
    actor.require(Cap.CALENDAR_MANAGE)
    existing = CalendarDay.objects.select_for_update().filter(date=day).first()
    before = audit.snapshot(existing, ["date", "kind", "name_zh", "name_en"]) if existing else None
    entry = existing or CalendarDay(date=day)
    entry.kind, entry.name_zh, entry.name_en = kind, name_zh, name_en
    entry.full_clean()
    entry.save()
    audit.log(
        actor=actor,
        action="workdays.day.set",
        target=entry,
        before=before,
        after=audit.snapshot(entry, ["date", "kind", "name_zh", "name_en"]),
    )
    transaction.on_commit(invalidate)
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
    transaction.on_commit(invalidate)


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
    transaction.on_commit(invalidate)
    return notice
