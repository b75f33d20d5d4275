"""The working-day calendar: official holidays, adjusted working days, the editable table."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from credit_portal.accounts.actors import system_actor
from credit_portal.audit.models import AuditEvent
from credit_portal.workdays import services as workdays
from credit_portal.workdays.models import CalendarDay, DeadlineRule

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


def test_package_years_agree_with_the_package():
    """The calendar reads the package's tables directly (for speed); it must say what it says."""
    import chinese_calendar

    calendar = workdays.WorkingCalendar({}, frozenset())
    day = date(workdays.PACKAGE_YEARS[0], 1, 1)
    while day.year in workdays.PACKAGE_YEARS:
        assert calendar.is_working_day(day) is chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


# --- deadline rules ------------------------------------------------------------------------------


def _urlpatterns():
    """The portal's URLs with the deadline rules page wired in under the staff namespace, as
    credit_portal/urls.py does (or will)."""
    from django.urls import include, path

    from credit_portal import urls as root
    from credit_portal.workdays import views as workdays_views

    staff = list(root.staff_patterns)
    if not any(getattr(p, "name", None) == "deadline_rules" for p in staff):
        staff.append(path("calendar/deadlines/", workdays_views.deadline_rules, name="deadline_rules"))
    rest = [p for p in root.urlpatterns if str(p.pattern) != "staff/"]
    return [path("staff/", include((staff, "staff"))), *rest]


urlpatterns = _urlpatterns()
with_deadline_page = pytest.mark.urls(__name__)


@pytest.mark.parametrize(
    ("key", "days"),
    [
        ("disclosure.publish", 7),
        ("disclosure.withdraw", 3),
        ("objection.answer", 5),
        ("complaint.answer", 10),
    ],
)
def test_seeded_rules(key, days):
    assert workdays.deadline_days(key, date(2026, 9, 30)) == days
    rule = DeadlineRule.objects.get(key=key)
    assert rule.effective_from == date(2000, 1, 1)
    assert rule.basis_zh
    assert rule.basis_en


def test_seeded_bases():
    publish = DeadlineRule.objects.get(key="disclosure.publish")
    assert "国办发〔2019〕35号" in publish.basis_zh
    assert "7" in publish.basis_zh
    assert "service standard" in DeadlineRule.objects.get(key="complaint.answer").basis_en


def test_deadline_counts_working_days_from_the_start():
    assert workdays.deadline("disclosure.publish", date(2026, 9, 30)) == date(2026, 10, 15)
    # Oct 8, Oct 9, then Saturday Oct 10, an adjusted working day.
    assert workdays.deadline("disclosure.withdraw", date(2026, 9, 30)) == date(2026, 10, 10)


def test_a_later_rule_takes_over_only_from_its_date():
    workdays.deadline_rule_set(
        actor=system_actor("tests"),
        key="disclosure.publish",
        working_days=5,
        effective_from=date(2027, 1, 1),
        basis_zh="新规定",
        basis_en="New regulation",
    )
    assert workdays.deadline_days("disclosure.publish", date(2026, 12, 31)) == 7
    assert workdays.deadline_days("disclosure.publish", date(2027, 1, 1)) == 5
    assert workdays.deadline_days("disclosure.publish", date(2030, 6, 1)) == 5
    # A deadline keeps the rule in force on the day it started, even if it ends under the new one.
    assert workdays.deadline("disclosure.publish", date(2026, 12, 30)) == date(2027, 1, 8)
    assert workdays.deadline("disclosure.publish", date(2027, 1, 4)) == date(2027, 1, 11)


def test_unknown_key_or_no_rule_in_force_is_a_lookup_error():
    with pytest.raises(LookupError, match=re.escape("'disclosure.pubilsh'")):
        workdays.deadline_days("disclosure.pubilsh", date(2026, 9, 30))
    with pytest.raises(LookupError, match=re.escape("'disclosure.publish' is in force on 1999-12-31")):
        workdays.deadline("disclosure.publish", date(1999, 12, 31))


def test_an_edit_is_audited_with_before_and_after():
    workdays.deadline_rule_set(
        actor=system_actor("tests"),
        key="objection.answer",
        working_days=4,
        effective_from=date(2000, 1, 1),
        basis_zh="更正",
        basis_en="Corrected",
    )
    event = AuditEvent.objects.get(action="workdays.deadline_rule.set")
    assert event.target_type == "workdays.deadlinerule"
    assert event.before["working_days"] == 5
    assert event.after == {
        "key": "objection.answer",
        "working_days": 4,
        "effective_from": "2000-01-01",
        "basis_zh": "更正",
        "basis_en": "Corrected",
    }
    assert DeadlineRule.objects.filter(key="objection.answer").count() == 1
    assert workdays.deadline_days("objection.answer", date(2026, 1, 5)) == 4


def test_invalid_rules_are_refused():
    from django.core.exceptions import ValidationError

    for bad in ({"key": "Disclosure Publish"}, {"working_days": 0}):
        fields = {
            "key": "disclosure.publish",
            "working_days": 6,
            "effective_from": date(2028, 1, 1),
            "basis_zh": "x",
            "basis_en": "x",
        } | bad
        with pytest.raises(ValidationError):
            workdays.deadline_rule_set(actor=system_actor("tests"), **fields)
    assert not DeadlineRule.objects.filter(effective_from=date(2028, 1, 1)).exists()


def test_only_the_calendar_managers_may_edit_rules(clerk):
    from django.core.exceptions import PermissionDenied

    from credit_portal.accounts.actors import actor_for_user

    with pytest.raises(PermissionDenied):
        workdays.deadline_rule_set(
            actor=actor_for_user(clerk),
            key="disclosure.publish",
            working_days=1,
            effective_from=date(2027, 1, 1),
            basis_zh="x",
            basis_en="x",
        )


def _rule_post(**overrides):
    return {
        "rule-key": "disclosure.publish",
        "rule-working_days": "5",
        "rule-effective_from": "2027-01-01",
        "rule-basis_zh": "新规定",
        "rule-basis_en": "New regulation",
    } | overrides


@with_deadline_page
def test_a_clerks_post_changes_nothing(clerk, client_for):
    response = client_for(clerk).post(reverse("staff:deadline_rules"), _rule_post())
    assert response.status_code == 403
    assert not DeadlineRule.objects.filter(effective_from=date(2027, 1, 1)).exists()
    assert not AuditEvent.objects.filter(action="workdays.deadline_rule.set").exists()


@with_deadline_page
def test_the_credit_office_saves_a_rule_through_the_page(credit_officer, client_for):
    client = client_for(credit_officer)
    response = client.post(reverse("staff:deadline_rules"), _rule_post())
    assert response.status_code == 302
    assert response["Location"] == "/staff/calendar/#deadline-rules"
    assert workdays.deadline_days("disclosure.publish", date(2027, 1, 1)) == 5
    event = AuditEvent.objects.get(action="workdays.deadline_rule.set")
    assert event.actor_label == "user:credit_officer"
    # An unknown key or a non-positive number comes back with errors, and nothing is saved.
    response = client.post(
        reverse("staff:deadline_rules"), _rule_post(**{"rule-key": "made.up", "rule-working_days": "0"})
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"key", "working_days"}
    assert AuditEvent.objects.filter(action="workdays.deadline_rule.set").count() == 1


@with_deadline_page
def test_calendar_page_shows_the_rules_and_the_form_to_the_credit_office_only(
    clerk, credit_officer, client_for
):
    page = client_for(clerk).get("/staff/calendar/").content.decode()
    assert "disclosure.publish" in page
    assert 'id="deadline-rules"' in page
    assert reverse("staff:deadline_rules") not in page
    page = client_for(credit_officer).get("/staff/calendar/").content.decode()
    assert f'action="{reverse("staff:deadline_rules")}"' in page
    assert 'name="rule-working_days"' in page
    assert client_for(clerk).get(reverse("staff:deadline_rules")).status_code == 200


def test_calendar_page_renders_with_the_project_urls(credit_officer, client_for):
    """Whether or not the deadline rules page is wired in yet, the calendar page works."""
    response = client_for(credit_officer).get("/staff/calendar/")
    assert response.status_code == 200
    assert "disclosure.publish" in response.content.decode()


def test_rule_rows_mark_what_is_in_force():
    from credit_portal.workdays.templatetags.workdays import rule_rows

    for effective_from in (date(2026, 1, 1), date(2027, 1, 1)):
        workdays.deadline_rule_set(
            actor=system_actor("tests"),
            key="complaint.answer",
            working_days=8,
            effective_from=effective_from,
            basis_zh="x",
            basis_en="x",
        )
    rows = [
        (r.rule.effective_from, r.status)
        for r in rule_rows(date(2026, 11, 27))
        if r.rule.key == "complaint.answer"
    ]
    assert rows == [
        (date(2027, 1, 1), "scheduled"),
        (date(2026, 1, 1), "in_force"),
        (date(2000, 1, 1), "superseded"),
    ]
