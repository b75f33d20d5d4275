"""The working-day index: SQL functions computing deadlines in set-based queries, derived from and
agreeing with the Python calendar."""

from datetime import date

import pytest
from django.core.management import call_command
from django.db import DataError, connection, transaction

from credit_portal.accounts.actors import system_actor
from credit_portal.workdays import services as workdays
from credit_portal.workdays.models import CalendarDay, WorkdayIndex

pytestmark = pytest.mark.django_db


def _sql(query: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def _add(d: date, n: int) -> date:
    return _sql("SELECT cp_add_working_days(%s, %s)", [d, n])[0][0]


def _between(a: date, b: date) -> int:
    return _sql("SELECT cp_working_days_between(%s, %s)", [a, b])[0][0]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run an edit as if committed: the index is rebuilt when a calendar edit commits."""

    def run(edit, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return edit(actor=system_actor("tests"), **kwargs)

    return run


def test_migrations_built_the_index_over_the_known_years_plus_two():
    last_known = workdays.PACKAGE_YEARS[-1]
    first, last, count = _sql("SELECT min(date), max(date), count(*) FROM workdays_workdayindex")[0]
    assert first == date(2000, 1, 1)
    assert last == date(last_known + 2, 12, 31)
    assert count == (last - first).days + 1


def test_every_row_is_derived_from_the_python_calendar():
    calendar = workdays.get_calendar()
    ordinal = 0
    for row in WorkdayIndex.objects.order_by("date"):
        assert row.is_working is calendar.is_working_day(row.date), row.date
        ordinal += row.is_working
        assert row.ordinal == ordinal, row.date


def test_sql_agrees_with_python_around_national_day_2026():
    rows = _sql(
        """
        SELECT d::date, n, cp_add_working_days(d::date, n),
               cp_working_days_between(d::date, cp_add_working_days(d::date, n))
        FROM generate_series('2026-09-01'::date, '2026-10-31'::date, '1 day') AS d,
             generate_series(0, 30) AS n
        """
    )
    assert len(rows) == 61 * 31
    calendar = workdays.get_calendar()
    for start, n, due, between in rows:
        assert due == calendar.add_working_days(start, n), (start, n)
        assert between == n, (start, n)
    assert _add(date(2026, 9, 30), 7) == date(2026, 10, 15)


def test_working_days_between_agrees_with_python_for_every_pair():
    rows = _sql(
        """
        SELECT a::date, b::date, cp_working_days_between(a::date, b::date)
        FROM generate_series('2026-09-20'::date, '2026-10-20'::date, '1 day') AS a,
             generate_series('2026-09-20'::date, '2026-10-20'::date, '1 day') AS b
        """
    )
    calendar = workdays.get_calendar()
    for a, b, between in rows:
        assert between == calendar.working_days_between(a, b), (a, b)
    assert _between(date(2026, 10, 15), date(2026, 9, 30)) == 0


def test_weekend_and_holiday_starts():
    assert _add(date(2026, 11, 7), 0) == date(2026, 11, 7)  # Saturday, n = 0: the day itself
    assert _add(date(2026, 11, 7), 1) == date(2026, 11, 9)  # Saturday -> Monday
    assert _add(date(2026, 11, 8), 1) == date(2026, 11, 9)  # Sunday -> Monday
    assert _add(date(2026, 10, 3), 1) == date(2026, 10, 8)  # inside the National Day holiday
    assert _between(date(2026, 11, 7), date(2026, 11, 8)) == 0


def test_a_year_without_official_data_counts_weekends_only():
    assert _add(date(2027, 1, 29), 1) == date(2027, 2, 1)
    rows = _sql(
        """
        SELECT d::date, n, cp_add_working_days(d::date, n)
        FROM generate_series('2027-01-01'::date, '2027-12-31'::date, '1 day') AS d,
             generate_series(0, 30, 3) AS n
        """
    )
    calendar = workdays.get_calendar()
    for start, n, due in rows:
        assert due == calendar.add_working_days(start, n), (start, n)


def test_calendar_edits_reach_sql_on_commit(committed):
    assert _add(date(2027, 2, 5), 1) == date(2027, 2, 8)
    committed(workdays.calendar_day_set, day=date(2027, 2, 8), kind=CalendarDay.Kind.HOLIDAY, name_zh="春节")
    assert _add(date(2027, 2, 5), 1) == date(2027, 2, 9)
    committed(workdays.calendar_day_set, day=date(2027, 2, 6), kind=CalendarDay.Kind.WORKDAY)
    assert _add(date(2027, 2, 5), 1) == date(2027, 2, 6)
    assert _between(date(2027, 2, 5), date(2027, 2, 9)) == 2
    committed(workdays.calendar_day_remove, day=date(2027, 2, 8))
    assert _add(date(2027, 2, 6), 1) == date(2027, 2, 8)
    for n in range(0, 31):
        assert _add(date(2027, 2, 1), n) == workdays.add_working_days(date(2027, 2, 1), n)


def test_a_later_notice_extends_the_index(committed):
    last_known = workdays.PACKAGE_YEARS[-1]
    far = date(last_known + 4, 6, 1)
    with pytest.raises(DataError), transaction.atomic():
        _add(far, 1)
    committed(
        workdays.holiday_notice_record,
        year=last_known + 2,
        title="部分节假日安排的通知",
        published_on=date(last_known + 1, 11, 20),
    )
    assert _sql("SELECT max(date) FROM workdays_workdayindex")[0][0] == date(last_known + 4, 12, 31)
    assert _add(far, 1) == workdays.add_working_days(far, 1)


def test_an_uncommitted_edit_does_not_touch_the_index():
    workdays.calendar_day_set(
        actor=system_actor("tests"), day=date(2027, 2, 8), kind=CalendarDay.Kind.HOLIDAY
    )
    assert _add(date(2027, 2, 5), 1) == date(2027, 2, 8)


@pytest.mark.parametrize(
    ("query", "params", "message"),
    [
        (
            "SELECT cp_add_working_days(%s, 1)",
            [date(1999, 12, 31)],
            "1999-12-31 is outside the working-day index",
        ),
        (
            "SELECT cp_add_working_days(%s, 0)",
            [date(2100, 1, 1)],
            "2100-01-01 is outside the working-day index",
        ),
        (
            "SELECT cp_add_working_days(max(date) - 5, 30) FROM workdays_workdayindex",
            [],
            "beyond the working-day index",
        ),
        (
            "SELECT cp_working_days_between(%s, %s)",
            [date(2026, 1, 1), date(2100, 1, 1)],
            "outside the working-day index",
        ),
        (
            "SELECT cp_working_days_between(%s, %s)",
            [date(1990, 1, 1), date(2026, 1, 1)],
            "outside the working-day index",
        ),
        ("SELECT cp_add_working_days(%s, -1)", [date(2026, 1, 5)], "must not be negative"),
    ],
)
def test_outside_the_index_raises(query, params, message):
    with pytest.raises(DataError, match=message), transaction.atomic():
        _sql(query, params)


def test_an_empty_index_says_so():
    with pytest.raises(DataError, match="index is empty"), transaction.atomic():
        WorkdayIndex.objects.all().delete()
        _add(date(2026, 1, 5), 1)


def test_null_in_null_out():
    assert _sql(
        "SELECT cp_add_working_days(NULL, 7), cp_working_days_between(NULL, %s)", [date(2026, 1, 5)]
    ) == [(None, None)]


def test_functions_work_in_set_based_updates():
    """The use they are for: UPDATE ... SET due = ... RETURNING lateness, in one statement."""
    _sql("CREATE TEMPORARY TABLE t_decisions (decided_on date, published_on date, due date)")
    _sql(
        "INSERT INTO t_decisions (decided_on, published_on) VALUES "
        "('2026-09-30', '2026-10-19'), ('2026-09-28', '2026-10-09'), ('2026-10-10', NULL)"
    )
    rows = _sql(
        "UPDATE t_decisions SET due = cp_add_working_days(decided_on, 7) "
        "RETURNING decided_on, due, cp_working_days_between(due, published_on)"
    )
    assert sorted(rows) == [
        (date(2026, 9, 28), date(2026, 10, 13), 0),
        (date(2026, 9, 30), date(2026, 10, 15), 2),
        (date(2026, 10, 10), date(2026, 10, 20), None),  # from an adjusted working Saturday,
    ]


def test_rebuild_is_repeatable_and_the_command_runs(capsys):
    before = list(WorkdayIndex.objects.values_list("date", "is_working", "ordinal"))
    assert workdays.rebuild_index() == len(before)
    assert list(WorkdayIndex.objects.values_list("date", "is_working", "ordinal")) == before
    call_command("rebuild_workday_index")
    assert f"{len(before)} days" in capsys.readouterr().out
