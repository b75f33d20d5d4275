"""The working-day calendar: official holidays, adjusted working days, the editable table."""

from datetime import date

import pytest

from credit_portal.accounts.actors import system_actor
from credit_portal.audit.models import AuditEvent
from credit_portal.workdays import services as workdays
from credit_portal.workdays.models import CalendarDay

pytestmark = pytest.mark.django_db


def test_national_day_2026_decision_plus_seven_working_days():
    # Oct 1-7 are holidays; Saturday Oct 10 is an adjusted working day.
    assert workdays.add_working_days(date(2026, 9, 30), 7) == date(2026, 10, 15)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 9, 30), True),
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, adjusted working day
        (date(2026, 10, 11), False),  # Sunday
    ],
)
def test_days_around_national_day_2026(day, working):
    assert workdays.is_working_day(day) is working


def test_decision_day_is_not_counted():
    assert workdays.add_working_days(date(2026, 11, 2), 1) == date(2026, 11, 3)  # Monday -> Tuesday
    assert workdays.add_working_days(date(2026, 11, 6), 1) == date(2026, 11, 9)  # Friday -> Monday
    assert workdays.add_working_days(date(2026, 11, 7), 1) == date(2026, 11, 9)  # Saturday -> Monday
    assert workdays.add_working_days(date(2026, 11, 2), 0) == date(2026, 11, 2)


def test_working_days_between_is_the_inverse():
    start = date(2026, 9, 28)
    for n in range(0, 25):
        assert workdays.working_days_between(start, workdays.add_working_days(start, n)) == n
    assert workdays.working_days_between(date(2026, 10, 15), date(2026, 9, 30)) == 0


def test_years_without_official_data_count_weekends_only_until_entered():
    assert workdays.add_working_days(date(2027, 1, 29), 1) == date(2027, 2, 1)
    assert not workdays.get_calendar().is_authoritative(date(2027, 6, 1))


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run an edit as if committed: calendar edits reload every process's calendar on commit."""

    def run(edit, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return edit(actor=system_actor("tests"), **kwargs)

    return run


def test_editable_table_overrides_and_is_seen_at_once(committed):
    assert workdays.is_working_day(date(2027, 2, 8))
    committed(workdays.calendar_day_set, day=date(2027, 2, 8), kind=CalendarDay.Kind.HOLIDAY, name_zh="春节")
    assert not workdays.is_working_day(date(2027, 2, 8))
    committed(workdays.calendar_day_set, day=date(2027, 2, 6), kind=CalendarDay.Kind.WORKDAY)
    assert workdays.is_working_day(date(2027, 2, 6))
    assert workdays.add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 6)
    committed(
        workdays.holiday_notice_record,
        year=2027,
        title="2027年部分节假日安排的通知",
        published_on=date(2026, 11, 20),
    )
    assert workdays.get_calendar().is_authoritative(date(2027, 6, 1))
    assert workdays.unannounced_years(date(2026, 11, 27)) == []
    committed(workdays.calendar_day_remove, day=date(2027, 2, 8))
    assert workdays.is_working_day(date(2027, 2, 8))
    actions = list(AuditEvent.objects.filter(action__startswith="workdays.").values_list("action", flat=True))
    assert sorted(actions) == sorted(
        ["workdays.day.set", "workdays.day.set", "workdays.notice.recorded", "workdays.day.removed"]
    )


def test_table_also_corrects_years_the_package_covers(committed):
    committed(workdays.calendar_day_set, day=date(2026, 10, 9), kind=CalendarDay.Kind.HOLIDAY)
    assert workdays.add_working_days(date(2026, 9, 30), 7) == date(2026, 10, 16)


def test_a_weekday_cannot_be_made_an_adjusted_working_day():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        workdays.calendar_day_set(
            actor=system_actor("tests"), day=date(2027, 3, 3), kind=CalendarDay.Kind.WORKDAY
        )
    assert not CalendarDay.objects.exists()


def test_unannounced_years_from_october():
    assert workdays.unannounced_years(date(2026, 9, 1)) == []
    assert workdays.unannounced_years(date(2026, 11, 27)) == [2027]
