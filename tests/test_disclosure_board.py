"""The disclosure board (staff), the on-time rates (staff chart, table and CSV; public page) and the
dashboard panel. The whole clock stands still on the day each test chooses (the ``today`` fixture:
14 October 2026 unless a test moves it) and the periods are chosen by query parameters: nothing
here depends on the real date."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit_portal.accounts.actors import actor_for_user, system_actor
from credit_portal.accounts.capabilities import StaffRole
from credit_portal.csvsafe import safe_row
from disclosure import charts, selectors, staff_panels, views_board
from records import services
from records.models import CatalogueItem, CreditRecord
from records.services import publication
from tests import factories as f
from tests.test_records import punishment
from tests.test_reports import permit

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")  # settings.TIME_ZONE
TODAY = date(2026, 10, 14)  # Wednesday; the next working day is Thursday 15 October
DECIDED = date(2026, 9, 30)  # due 15 October (National Day holiday in between)
BOARD = "/staff/disclosure/"
ON_TIME = "/staff/disclosure/on-time/"
ON_TIME_CSV = "/staff/disclosure/on-time.csv"
PUBLIC = "/disclosure/on-time/"
PUBLIC_CSV = "/disclosure/on-time.csv"


def at(year, month, day, hour=10, minute=0) -> datetime:
    """An aware datetime, local time (Asia/Shanghai)."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def record(actor, entity, number, decided=DECIDED, **state) -> CreditRecord:
    """A record written through the service, then put in the state the test needs."""
    created = services.record_create(
        actor=actor, data=punishment(entity, number, decided=decided), provenance="form"
    )
    if state:
        CreditRecord.objects.filter(pk=created.pk).update(**state)
        created.refresh_from_db()
    return created


def published(actor, entity, number, when, late=0, **state) -> CreditRecord:
    return record(
        actor, entity, number, disclosure="published", published_at=when, published_late_days=late, **state
    )


@pytest.fixture(autouse=True)
def board_clock(today):
    """The whole clock stands at 10:00 on ``TODAY``: the board's day and the day records are
    written on (their disclosure plans), whatever day the suite runs."""
    today(TODAY)


@pytest.fixture
def clerk_actor(clerk):
    return actor_for_user(clerk)


@pytest.fixture
def reviewer_actor(reviewer):
    return actor_for_user(reviewer)


@pytest.fixture
def other_clerk_actor(other_department):
    return actor_for_user(f.staff(other_department, StaffRole.CLERK, "other_clerk"))


@pytest.fixture
def board_records(clerk_actor, reviewer_actor, other_clerk_actor, entity, other_entity):
    """One record for each of the board's sections (and some for none), as of 14 October 2026."""
    withdrawn = {"status": "revoked", "disclosure": "withdrawn", "withdrawal_due_on": date(2026, 10, 9)}
    return {
        "due_today": record(clerk_actor, entity, "DUE-TODAY", disclosure_due_on=TODAY),
        "at_risk": record(clerk_actor, entity, "AT-RISK"),  # due 15 October
        "overdue": record(clerk_actor, entity, "OVERDUE", disclosure_due_on=date(2026, 10, 12)),
        "later": record(clerk_actor, entity, "LATER", decided=date(2026, 10, 12)),  # due 21 October
        "late": published(reviewer_actor, entity, "LATE-RECENT", at(2026, 9, 20), late=3),
        "late_old": published(reviewer_actor, entity, "LATE-OLD", at(2026, 5, 6), late=2),
        "on_time": published(reviewer_actor, entity, "ON-TIME", at(2026, 9, 21)),
        "withdrawn_ok": record(
            reviewer_actor,
            entity,
            "WITHDRAWN-OK",
            published_at=at(2026, 9, 1),
            published_late_days=0,
            withdrawn_at=at(2026, 10, 9, 23, 30),
            **withdrawn,
        ),
        "withdrawn_late": record(
            reviewer_actor,
            entity,
            "WITHDRAWN-LATE",
            published_at=at(2026, 9, 1),
            published_late_days=0,
            withdrawn_at=at(2026, 10, 12),
            **withdrawn,
        ),
        # Revoked before it was ever published: nothing was withdrawn from public view.
        "never_public": record(
            reviewer_actor, entity, "NEVER-PUBLIC", withdrawn_at=at(2026, 10, 12), **withdrawn
        ),
        "theirs": record(
            other_clerk_actor, other_entity, "THEIRS-OVERDUE", disclosure_due_on=date(2026, 10, 12)
        ),
    }


def _numbers(response) -> list[str]:
    return [r.decision_number for r in response.context["page_obj"]]


# --- the board -----------------------------------------------------------------------------------


class TestBoard:
    def test_counts_and_lists_for_the_department(self, client_for, clerk, board_records):
        client = client_for(clerk)
        response = client.get(BOARD)
        assert response.status_code == 200
        counts = response.context["counts"]
        assert {k: counts[k] for k in selectors.SECTION_KEYS} == {
            "due_today": 1,
            "at_risk": 2,  # due today and due tomorrow
            "overdue": 1,  # not the other department's
            "late": 1,  # 20 September is in the last 3 months; 6 May is not
            "withdrawn": 2,
            "not_withdrawn": 0,
        }
        assert counts["withdrawn_late"] == 1
        assert response.context["section"] == "overdue"
        assert _numbers(response) == ["OVERDUE"]
        row = response.context["page_obj"][0]
        assert row.overdue_days == 2  # 13 and 14 October
        assert f'href="/staff/records/{board_records["overdue"].pk}/"' in response.text
        assert "THEIRS-OVERDUE" not in response.text

        assert _numbers(client.get(BOARD, {"section": "due_today"})) == ["DUE-TODAY"]
        assert _numbers(client.get(BOARD, {"section": "at_risk"})) == ["DUE-TODAY", "AT-RISK"]

    def test_published_late_in_the_chosen_period_with_the_delay(self, client_for, clerk, board_records):
        client = client_for(clerk)
        response = client.get(BOARD, {"section": "late"})
        assert _numbers(response) == ["LATE-RECENT"]
        assert response.context["period"] == selectors.Period(date(2026, 7, 14), TODAY)
        assert response.context["page_obj"][0].published_late_days == 3

        response = client.get(BOARD, {"section": "late", "since": "2026-04-01", "until": "2026-10-14"})
        assert _numbers(response) == ["LATE-RECENT", "LATE-OLD"]
        assert response.context["counts"]["late"] == 2
        response = client.get(BOARD, {"section": "late", "since": "2026-05-01", "until": "2026-05-31"})
        assert _numbers(response) == ["LATE-OLD"]

    def test_withdrawn_after_revocation_with_whether_within_the_deadline(
        self, client_for, clerk, board_records
    ):
        response = client_for(clerk).get(BOARD, {"section": "withdrawn"})
        rows = {r.decision_number: r for r in response.context["page_obj"]}
        assert set(rows) == {"WITHDRAWN-OK", "WITHDRAWN-LATE"}
        # Withdrawn at 23:30 local on the due day: in time (the UTC date would be the same day too).
        assert (rows["WITHDRAWN-OK"].withdrawn_in_time, rows["WITHDRAWN-OK"].withdrawn_on) == (
            True,
            date(2026, 10, 9),
        )
        # Due Friday 9 October, withdrawn Monday 12: 2 working days late (Saturday 10 was a working day).
        assert (rows["WITHDRAWN-LATE"].withdrawn_in_time, rows["WITHDRAWN-LATE"].withdrawal_late_days) == (
            False,
            2,
        )
        assert "No, 2 working days late" in response.text

    def test_still_published_after_the_withdrawal_deadline_is_shown(self, client_for, clerk, board_records):
        CreditRecord.objects.filter(pk=board_records["on_time"].pk).update(
            status="revoked", withdrawal_due_on=date(2026, 10, 12)
        )
        response = client_for(clerk).get(BOARD, {"section": "not_withdrawn"})
        assert response.context["counts"]["not_withdrawn"] == 1
        assert _numbers(response) == ["ON-TIME"]
        assert response.context["page_obj"][0].withdrawal_overdue_days == 2

    def test_the_credit_office_sees_every_department_and_can_filter(
        self, client_for, credit_officer, other_department, board_records
    ):
        client = client_for(credit_officer)
        response = client.get(BOARD)
        assert response.context["counts"]["overdue"] == 2
        assert _numbers(response) == ["OVERDUE", "THEIRS-OVERDUE"]
        assert "Test department GZ-TEST" in response.text  # the department column

        response = client.get(BOARD, {"department": other_department.pk})
        assert response.context["counts"]["overdue"] == 1
        assert response.context["counts"]["at_risk"] == 0
        assert _numbers(response) == ["THEIRS-OVERDUE"]

    def test_a_department_filter_is_ignored_for_other_staff(
        self, client_for, clerk, other_department, board_records
    ):
        response = client_for(clerk).get(BOARD, {"department": other_department.pk})
        assert "department" not in response.context["form"].fields
        assert _numbers(response) == ["OVERDUE"]

    def test_bad_parameters_fall_back_to_the_defaults(self, client_for, clerk, board_records):
        response = client_for(clerk).get(
            BOARD, {"section": "everything", "since": "2026-10-14", "until": "2026-01-01", "page": "x"}
        )
        assert response.status_code == 200
        assert response.context["section"] == "overdue"
        assert response.context["period"] == selectors.Period(date(2026, 7, 14), TODAY)
        assert "The period must not end before it starts." in response.text

    def test_query_count_does_not_grow_with_the_rows(
        self, client_for, clerk_actor, credit_officer, entity, board_records
    ):
        client = client_for(credit_officer)
        client.get(BOARD)  # warm up (session, content types)

        def count(section):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(BOARD, {"section": section})
            assert response.status_code == 200
            return len(queries), response

        before = {s: count(s)[0] for s in selectors.SECTION_KEYS}
        for n in range(60):
            record(clerk_actor, entity, f"MORE-{n}", disclosure_due_on=date(2026, 10, 12))
        after = {s: count(s)[0] for s in selectors.SECTION_KEYS}
        assert after == before
        assert max(after.values()) <= 12
        _, response = count("overdue")
        assert len(response.context["page_obj"]) == 50  # 50 a page
        assert response.context["page_obj"].paginator.count == 62

    def test_anonymous_is_sent_to_sign_in_and_entity_users_are_refused(self, client_for, entity_user):
        for url in (BOARD, ON_TIME, ON_TIME_CSV):
            response = client_for(None).get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(f"/staff/login/?next={url}")
            assert client_for(entity_user).get(url).status_code == 403

    def test_every_staff_role_may_look(self, client_for, clerk, reviewer, department_admin, credit_officer):
        for user in (clerk, reviewer, department_admin, credit_officer):
            assert client_for(user).get(BOARD).status_code == 200


class TestDashboard:
    def test_panel_counts_and_nav_item(self, client_for, clerk, board_records, monkeypatch):
        monkeypatch.setattr(staff_panels, "timezone", SimpleNamespace(localdate=lambda: TODAY))
        response = client_for(clerk).get("/staff/")
        assert response.status_code == 200
        panels = dict(response.context["panels"])
        assert panels["staff/disclosure/panel.html"] == {"at_risk": 2, "overdue": 1, "all_departments": False}
        assert 'href="/staff/disclosure/"' in response.text  # navigation
        assert "Disclosure deadlines" in response.text

    def test_panel_for_the_credit_office_counts_every_department(self, credit_officer, board_records):
        actor = actor_for_user(credit_officer)
        assert selectors.pending_counts(actor, today=TODAY) == {"due_today": 1, "at_risk": 2, "overdue": 2}


# --- on-time rates -------------------------------------------------------------------------------


@pytest.fixture
def rates(reviewer_actor, entity, other_entity, other_department):
    """Published records, counted in the month they were due. Department SZ-TEST: due in August
    1 on time; due in September 3 on time (one of them published in August) and 1 late; due in
    October, before 14 October, 1 on time. GZ-TEST: due in September, 1 late. Outside the 12
    months: one due in October 2025."""
    mine = [
        ("AUG-1", date(2026, 8, 12), at(2026, 8, 11), 0),
        ("SEP-1", date(2026, 9, 2), at(2026, 8, 31), 0),
        ("SEP-2", date(2026, 9, 15), at(2026, 9, 15), 0),
        ("SEP-3", date(2026, 9, 30), at(2026, 9, 30, 23, 59), 0),
        ("SEP-LATE", date(2026, 9, 14), at(2026, 9, 18), 4),
        ("OCT-1", date(2026, 10, 9), at(2026, 10, 1, 0, 30), 0),
        ("OLD", date(2025, 10, 31), at(2025, 11, 3), 1),
    ]
    for number, due, when, late in mine:
        published(reviewer_actor, entity, number, when, late, disclosure_due_on=due)
    theirs = actor_for_user(f.staff(other_department, StaffRole.REVIEWER, "other_reviewer_2"))
    published(theirs, other_entity, "GZ-SEP-LATE", at(2026, 9, 9), 2, disclosure_due_on=date(2026, 9, 7))


class TestOnTimeRates:
    def test_the_numbers_exactly_in_one_query(self, rates, django_assert_num_queries):
        with django_assert_num_queries(1):
            rows = selectors.on_time_rows(until=date(2026, 10, 14), today=TODAY)
        table = selectors.on_time_table(rows, date(2026, 10, 14))
        assert [m.isoformat() for m in (table.first, table.last)] == ["2025-11-01", "2026-10-01"]
        by_code = {d.code: d for d in table.departments}
        sz, gz = by_code["SZ-TEST"], by_code["GZ-TEST"]
        cells = dict(zip([m.strftime("%Y-%m") for m in table.months], sz.cells, strict=True))
        assert cells["2026-08"] == selectors.Rate(due=1, published=1, on_time=1)
        assert cells["2026-08"].percent == 100.0
        # By the due date: SEP-1, published on 31 August, counts in September.
        assert cells["2026-09"] == selectors.Rate(due=4, published=4, on_time=3)
        assert (cells["2026-09"].late, cells["2026-09"].overdue, cells["2026-09"].percent) == (1, 0, 75.0)
        assert (cells["2026-10"].due, cells["2026-10"].percent) == (1, 100.0)
        assert cells["2026-07"] is None and cells["2025-11"] is None
        assert (sz.total.due, sz.total.on_time, sz.total.percent) == (6, 5, 83.3)
        assert (gz.total.due, gz.total.on_time, gz.total.late, gz.total.percent) == (1, 0, 1, 0.0)

    def test_staff_page_chart_and_table_for_the_department(self, client_for, clerk, rates):
        response = client_for(clerk).get(ON_TIME, {"until": "2026-10"})
        assert response.status_code == 200
        text = response.text
        title = "On-time publication rate by department, 2025-11 to 2026-10"
        assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in text
        assert 'aria-labelledby="on-time-chart-title on-time-chart-desc"' in text
        assert f'<title id="on-time-chart-title">{title}</title>' in text
        assert '<desc id="on-time-chart-desc">' in text
        assert "Test department SZ-TEST: 83.3% (5/6 on time, 0 overdue)" in text  # the text alternative
        assert '<table id="on-time-table">' in text
        assert f"{title}: data table" in text
        assert "75.0%<br><small>3/4</small>" in text
        assert "GZ-TEST" not in text  # another department's
        assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")

    def test_credit_office_sees_every_department_and_can_filter(
        self, client_for, credit_officer, other_department, rates
    ):
        client = client_for(credit_officer)

        def shown(**params):
            response = client.get(ON_TIME, {"until": "2026-10", **params})
            return [d.code for d in response.context["table"].departments]

        assert shown() == ["GZ-TEST", "SZ-TEST"]
        assert shown(department=other_department.pk) == ["GZ-TEST"]

    def test_csv_export(self, client_for, clerk, rates):
        response = client_for(clerk).get(ON_TIME_CSV, {"until": "2026-10"})
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="on-time-rates-2025-11-2026-10.csv"'
        content = response.content.decode("utf-8")
        assert content.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))
        assert rows[0] == [
            "Department code",
            "Department",
            "Month due",
            "Records due",
            "Published on time",
            "Published late",
            "Overdue, not yet published",
            "On-time rate (%)",
        ]
        assert len(rows) == 1 + 12  # one department, 12 months
        assert ["SZ-TEST", "Test department SZ-TEST", "2026-09", "4", "3", "1", "0", "75.0"] in rows
        assert ["SZ-TEST", "Test department SZ-TEST", "2026-07", "0", "0", "0", "0", ""] in rows

    def test_csv_cells_cannot_become_formulas(self, client_for, credit_officer, rates):
        evil = f.department("EVIL", name_zh="@恶意", name_en='=HYPERLINK("http://evil.example","x")')
        CreditRecord.objects.filter(decision_number="AUG-1").update(department=evil)
        rows = list(
            csv.reader(io.StringIO(client_for(credit_officer).get(ON_TIME_CSV, {"until": "2026-10"}).text))
        )
        names = {row[1] for row in rows[1:] if row[0] == "EVIL"}
        assert names == {'\'=HYPERLINK("http://evil.example","x")'}
        assert safe_row(["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "ok", 5, "a=b"]) == [
            "'=1+1",
            "'+1",
            "'-1",
            "'@SUM(A1)",
            "'\tx",
            "'\rx",
            "ok",
            "5",
            "a=b",
        ]

    def test_chart_svg_is_escaped_and_accessible(self):
        svg = charts.line_chart(
            chart_id="c",
            title="<Rates & more>",
            description="desc",
            labels=["2026-09", "2026-10", "2026-11"],
            series=[charts.Series("<b>Dept</b>", [50.0, None, 100.0], ["1/2", "", "3/3"])],
        )
        assert '<title id="c-title">&lt;Rates &amp; more&gt;</title>' in svg
        assert "<b>" not in svg and "&lt;b&gt;Dept&lt;/b&gt;" in svg
        assert svg.count("<polyline") == 0  # the gap leaves two single points
        assert svg.count("<circle") == 3  # two points and the legend's marker
        assert "&lt;b&gt;Dept&lt;/b&gt; · 2026-09: 50% (1/2)" in svg

    def test_the_month_picker_shows_the_last_month_shown(self, client_for, clerk, rates):
        client = client_for(clerk)
        # None chosen: this month, the last of the 12 the chart and the tables show.
        response = client.get(ON_TIME)
        assert response.context["month_labels"][-1] == "2026-10"
        assert '<input type="month" name="until" value="2026-10"' in response.text
        chosen = client.get(ON_TIME, {"until": "2026-08"})
        assert chosen.context["month_labels"][-1] == "2026-08"
        assert '<input type="month" name="until" value="2026-08"' in chosen.text
        public = client_for(None).get(PUBLIC)
        assert '<input type="month" name="until" value="2026-10"' in public.text

    def test_the_legend_is_text_under_the_chart_with_each_full_name(self):
        long_name = "Guangdong State-owned Assets Supervision and Administration Commission"
        html = charts.line_chart(
            chart_id="c",
            title="t",
            description="d",
            labels=["2026-09", "2026-10"],
            series=[charts.Series(long_name, [50.0, 100.0]), charts.Series("<i>B</i>", [None, 0.0])],
        )
        drawing, legend = html.split("</svg>", 1)[0], html.split("</svg>", 1)[1]
        assert long_name not in drawing.replace(f"<title>{long_name} ·", "")  # only in the points' tooltips
        assert legend.startswith('<ul class="chart-legend" id="c-legend"><li><svg ')
        names = re.findall(r"<span>(.*?)</span></li>", legend)
        assert names == [long_name, "&lt;i&gt;B&lt;/i&gt;"]  # whole, not cut at 28 characters; escaped
        assert legend.count('aria-hidden="true"') == 2  # the swatches; the names are read


class TestPublicPage:
    def test_anonymous_sees_rates_and_the_rule_without_personal_data(self, client_for, rates, entity):
        response = client_for(None).get(PUBLIC, {"until": "2026-10"})
        assert response.status_code == 200
        text = response.text
        assert "The 7-working-day rule" in text
        assert "Test department SZ-TEST" in text and "Test department GZ-TEST" in text
        assert "75.0%<br><small>3/4</small>" in text
        assert 'role="img"' in text
        for private in ("SEP-LATE", "AUG-1", entity.code, entity.name_zh, entity.name_en, "马某某"):
            assert private not in text
        assert "department" not in response.context["form"].fields

    def test_department_names_in_the_active_language(self, client_for, rates):
        text = client_for(None).get(PUBLIC, {"until": "2026-10"}, HTTP_ACCEPT_LANGUAGE="zh-hans").text
        assert "测试部门SZ-TEST" in text and "Test department SZ-TEST" not in text

    def test_the_aggregate_is_cached_for_ten_minutes(
        self, client_for, rates, reviewer_actor, entity, django_assert_max_num_queries
    ):
        client = client_for(None)
        assert "3/4" in client.get(PUBLIC, {"until": "2026-10"}).text
        published(reviewer_actor, entity, "SEP-4", at(2026, 9, 25), disclosure_due_on=date(2026, 9, 25))
        with django_assert_max_num_queries(0):
            assert "3/4" in client.get(PUBLIC, {"until": "2026-10"}).text  # from the cache
        key = views_board.PUBLIC_CACHE_KEY.format(month="2026-10", today="2026-10-14")
        redis = cache._cache.get_client(key)
        assert 590 <= redis.ttl(cache.make_and_validate_key(key)) <= 600
        cache.delete(key)
        assert "4/5" in client.get(PUBLIC, {"until": "2026-10"}).text

    def test_public_csv(self, client_for, rates):
        response = client_for(None).get(PUBLIC_CSV, {"until": "2026-10"})
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert ["GZ-TEST", "Test department GZ-TEST", "2026-09", "1", "0", "1", "0", "0.0"] in rows

    def test_a_bad_month_falls_back_to_this_month(self, client_for):
        response = client_for(None).get(PUBLIC, {"until": "1850-13"})
        assert response.status_code == 200
        assert response.context["table"].last == TODAY.replace(day=1)


# --- what the on-time rate counts: every record that was due, published or not -------------------

SEPT_1 = date(2026, 9, 1)  # Tuesday: due Thursday 10 September
SWEEP = system_actor("tests")


def publish_on(day: date) -> None:
    """The publishing sweep as it ran at 10:00 on ``day``: every standing record awaiting
    publication is published, marked late by the working days past its due date."""
    publication.publish_due(actor=SWEEP, today=day, at=at(day.year, day.month, day.day))


def decided(actor, entity, number, on=SEPT_1, **kw) -> CreditRecord:
    """A punishment recorded through the service with every field: effective when a reviewer
    records it, a draft awaiting review when a clerk does."""
    return services.record_create(
        actor=actor, data=punishment(entity, number, decided=on, **kw), provenance="form"
    )


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The text of each row of the table ``table_id`` (header row included), tags stripped."""
    table = re.search(rf'<table id="{table_id}"[^>]*>(.*?)</table>', html, re.S).group(1)
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    ]


def september(rows: list[dict], code: str = "SZ-TEST") -> selectors.Rate | None:
    table = selectors.on_time_table(rows, TODAY)
    department = next((d for d in table.departments if d.code == code), None)
    return None if department is None else department.cells[table.months.index(date(2026, 9, 1))]


@pytest.fixture
def three_due(clerk_actor, reviewer_actor, entity):
    """Department SZ-TEST, three records due on 10 September: one published on time, one
    published 3 working days late, one a clerk's draft never reviewed, so still unpublished."""
    on_time = decided(reviewer_actor, entity, "ON-TIME")
    publish_on(date(2026, 9, 3))
    late = decided(reviewer_actor, entity, "LATE")
    publish_on(date(2026, 9, 15))
    draft = decided(clerk_actor, entity, "DRAFT")
    records = {"on_time": on_time, "late": late, "draft": draft}
    for r in records.values():
        r.refresh_from_db()
    assert {k: (r.disclosure_due_on, r.disclosure, r.published_late_days) for k, r in records.items()} == {
        "on_time": (date(2026, 9, 10), "published", 0),
        "late": (date(2026, 9, 10), "published", 3),
        "draft": (date(2026, 9, 10), "pending", None),
    }
    return records


class TestOnTimeCountsEveryRecordDue:
    def test_one_on_time_one_late_one_overdue_draft_is_one_third_on_time(self, three_due):
        rows = selectors.on_time_rows(until=TODAY, today=TODAY)
        assert [(r["code"], r["month"], r["due"], r["published"], r["on_time"]) for r in rows] == [
            ("SZ-TEST", date(2026, 9, 1), 3, 2, 1)
        ]
        cell = september(rows)
        assert (cell.due, cell.on_time, cell.late, cell.overdue, cell.percent) == (3, 1, 1, 1, 33.3)

    def test_the_staff_page_shows_overdue_beside_on_time_and_late(self, client_for, clerk, three_due):
        response = client_for(clerk).get(ON_TIME, {"until": "2026-10"})
        assert response.status_code == 200
        assert table_rows(response.text, "on-time-totals") == [
            [
                "Department",
                "Records due",
                "Published on time",
                "Published late",
                "Overdue, not yet published",
                "On-time rate",
            ],
            ["Test department SZ-TEST", "3", "1", "1", "1", "33.3%"],
        ]
        monthly = table_rows(response.text, "on-time-table")
        assert monthly[0][11] == "2026-09"
        assert monthly[1][11] == "33.3% 1/3 1 overdue, not yet published"
        assert monthly[1][12] == "— none due"  # October: nothing due before today
        assert monthly[1][13] == "33.3% 1/3 1 overdue, not yet published"  # the 12 months
        assert "Test department SZ-TEST: 33.3% (1/3 on time, 1 overdue)" in response.text  # chart text
        assert "Test department SZ-TEST · 2026-09: 33.3% (1/3 on time, 1 overdue)</title>" in response.text
        # The definition is on the page.
        assert "Its due date has passed and it is not published: drafts awaiting review" in response.text
        assert "Not counted: records due today or later" in response.text

    def test_an_overdue_record_published_later_counts_as_late(self, three_due, reviewer_actor):
        services.record_confirm(actor=reviewer_actor, record_id=three_due["draft"].pk)
        publish_on(TODAY)
        cell = september(selectors.on_time_rows(until=TODAY, today=TODAY))
        assert (cell.due, cell.on_time, cell.late, cell.overdue, cell.percent) == (3, 1, 2, 0, 33.3)

    def test_a_department_that_never_publishes_shows_zero_percent_not_no_data(
        self, client_for, credit_officer, other_clerk_actor, other_entity
    ):
        for number in ("GZ-DRAFT-1", "GZ-DRAFT-2"):
            decided(other_clerk_actor, other_entity, number)
        for url in (ON_TIME, PUBLIC):
            response = client_for(credit_officer if url == ON_TIME else None).get(url, {"until": "2026-10"})
            assert table_rows(response.text, "on-time-totals")[1:] == [
                ["Test department GZ-TEST", "2", "0", "0", "2", "0.0%"]
            ]
            assert (
                table_rows(response.text, "on-time-table")[1][11] == "0.0% 0/2 2 overdue, not yet published"
            )
            assert "Test department GZ-TEST: 0.0% (0/2 on time, 2 overdue)" in response.text
            assert "No records were due in these 12 months." not in response.text
            gz = response.context["table"].departments[0]
            assert [c.percent if c else None for c in gz.cells] == [None] * 10 + [0.0, None]

    def test_records_not_due_yet_are_not_counted(
        self, client_for, clerk, clerk_actor, reviewer_actor, entity
    ):
        published_early = decided(reviewer_actor, entity, "PUBLISHED-EARLY", on=date(2026, 9, 30))
        publish_on(TODAY)
        due_today = decided(clerk_actor, entity, "DUE-TODAY", on=date(2026, 9, 29))
        due_later = decided(clerk_actor, entity, "DUE-LATER", on=date(2026, 10, 12))
        published_early.refresh_from_db()
        assert (published_early.disclosure_due_on, published_early.published_late_days) == (
            date(2026, 10, 15),
            0,
        )
        assert (due_today.disclosure_due_on, due_later.disclosure_due_on) == (TODAY, date(2026, 10, 21))

        assert selectors.on_time_rows(until=TODAY, today=TODAY) == []
        response = client_for(clerk).get(ON_TIME)
        assert response.context["table"].departments == []
        assert "No records were due in these 12 months." in response.text

        def october(today):
            rows = selectors.on_time_rows(until=TODAY, today=today)
            return [(r["month"], r["due"], r["published"], r["on_time"]) for r in rows]

        # A record counts from the day after its due date: overdue if still unpublished.
        assert october(date(2026, 10, 15)) == [(date(2026, 10, 1), 1, 0, 0)]
        assert october(date(2026, 10, 16)) == [(date(2026, 10, 1), 2, 1, 1)]
        assert october(date(2026, 10, 22)) == [(date(2026, 10, 1), 3, 1, 1)]

    def test_a_record_revoked_before_its_due_date_is_not_counted(self, today, reviewer_actor, entity):
        today(date(2026, 9, 8))
        published_then_revoked = decided(reviewer_actor, entity, "PUBLISHED-THEN-REVOKED")
        publish_on(date(2026, 9, 8))
        revoked_early = decided(reviewer_actor, entity, "REVOKED-EARLY")
        on_due_day = decided(reviewer_actor, entity, "REVOKED-ON-THE-DUE-DAY")
        after_due = decided(reviewer_actor, entity, "REVOKED-AFTER-THE-DUE-DATE")
        minor = decided(reviewer_actor, entity, "MINOR", severity="minor")
        assert (minor.disclosure, minor.disclosure_due_on) == ("none", None)  # minor: not published

        def revoke(record):
            services.record_revoke(actor=reviewer_actor, record_id=record.pk, reason="复议撤销")

        revoke(revoked_early)
        today(date(2026, 9, 10), time(23, 30))
        revoke(on_due_day)
        today(date(2026, 9, 11), time(0, 30))  # still 10 September in UTC
        revoke(after_due)
        today(date(2026, 9, 20))
        revoke(published_then_revoked)
        today(TODAY)

        assert set(CreditRecord.objects.values_list("decision_number", "disclosure", "published_at")) == {
            ("PUBLISHED-THEN-REVOKED", "withdrawn", at(2026, 9, 8)),
            ("REVOKED-EARLY", "withdrawn", None),
            ("REVOKED-ON-THE-DUE-DAY", "withdrawn", None),
            ("REVOKED-AFTER-THE-DUE-DATE", "withdrawn", None),
            ("MINOR", "none", None),
        }
        # Counted: the record published on time (revoked later), and the one revoked after its
        # due date without ever having been published (overdue, never published).
        cell = september(selectors.on_time_rows(until=TODAY, today=TODAY))
        assert (cell.due, cell.on_time, cell.late, cell.overdue, cell.percent) == (2, 1, 0, 1, 50.0)

    def test_a_record_whose_period_ended_before_it_was_due_is_not_counted(
        self, today, reviewer_actor, entity
    ):
        """Recorded after its disclosure period ended, a record is never published: not counted when
        the period ended by its due date, counted as not published when it outlasted it."""
        today(date(2026, 9, 25))
        short = services.record_create(
            actor=reviewer_actor,
            data=permit(entity, "PERMIT-ENDED-BEFORE-DUE", SEPT_1, valid_to=date(2026, 9, 9)),
            provenance="api",
        )
        missed = services.record_create(
            actor=reviewer_actor,
            data=permit(entity, "PERMIT-ENDED-AFTER-DUE", SEPT_1, valid_to=date(2026, 9, 20)),
            provenance="api",
        )
        today(TODAY)
        assert [(r.disclosure, r.disclosure_due_on, r.disclosure_ends_on) for r in (short, missed)] == [
            ("ended", date(2026, 9, 10), date(2026, 9, 9)),
            ("ended", date(2026, 9, 10), date(2026, 9, 20)),
        ]
        cell = september(selectors.on_time_rows(until=TODAY, today=TODAY))
        assert (cell.due, cell.on_time, cell.overdue, cell.percent) == (1, 0, 1, 0.0)

    def test_records_of_items_that_are_not_public_are_not_counted_or_shown(
        self, client_for, credit_officer, three_due
    ):
        secret_department = f.department("SECRET-DEPT", name_en="Unseen department")
        secret_actor = actor_for_user(f.staff(secret_department, StaffRole.REVIEWER, "secret_reviewer"))
        secret_entity = f.entity(secret_department, code=f.uscc(n=7))
        hidden = decided(secret_actor, secret_entity, "HIDDEN-ITEM")
        # An item whose use scope is no longer public: its records stay out of the rates.
        CreditRecord.objects.filter(pk=hidden.pk).update(
            item=CatalogueItem.objects.get(code="contract_performance")
        )
        rows = selectors.on_time_rows(until=TODAY, today=TODAY)
        assert [r["code"] for r in rows] == ["SZ-TEST"]
        public = client_for(None)
        for page in (PUBLIC, PUBLIC_CSV):
            text = public.get(page, {"until": "2026-10"}).content.decode("utf-8-sig")
            assert "SZ-TEST" in text
            assert "SECRET-DEPT" not in text and "Unseen department" not in text and "HIDDEN-ITEM" not in text
        # The credit office's department filter lists every department; the rates do not.
        staff = client_for(credit_officer)
        assert [d.code for d in staff.get(ON_TIME).context["table"].departments] == ["SZ-TEST"]
        assert "SECRET-DEPT" not in staff.get(ON_TIME_CSV).content.decode("utf-8-sig")

    def test_the_public_page_and_the_staff_pages_agree(
        self, client_for, credit_officer, rates, three_due, other_clerk_actor, other_entity
    ):
        decided(other_clerk_actor, other_entity, "GZ-DRAFT")
        staff, public = client_for(credit_officer), client_for(None)
        staff_page = staff.get(ON_TIME, {"until": "2026-10"})
        public_page = public.get(PUBLIC, {"until": "2026-10"})
        for table_id in ("on-time-totals", "on-time-table"):
            assert table_rows(staff_page.text, table_id) == table_rows(public_page.text, table_id)
        assert table_rows(public_page.text, "on-time-totals")[1:] == [
            ["Test department GZ-TEST", "2", "0", "1", "1", "0.0%"],
            ["Test department SZ-TEST", "9", "6", "2", "1", "66.7%"],
        ]
        assert staff_page.context["chart"] == public_page.context["chart"]
        staff_csv = staff.get(ON_TIME_CSV, {"until": "2026-10"}).content
        assert staff_csv == public.get(PUBLIC_CSV, {"until": "2026-10"}).content
        # A department's own staff see the same numbers for their department.
        own = client_for(credit_officer).get(
            ON_TIME, {"until": "2026-10", "department": three_due["draft"].department_id}
        )
        assert table_rows(own.text, "on-time-totals")[1:] == [
            ["Test department SZ-TEST", "9", "6", "2", "1", "66.7%"]
        ]

    def test_csv_has_the_overdue_column_and_agrees_with_the_table(self, client_for, clerk, three_due):
        response = client_for(clerk).get(ON_TIME_CSV, {"until": "2026-10"})
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0][2:] == [
            "Month due",
            "Records due",
            "Published on time",
            "Published late",
            "Overdue, not yet published",
            "On-time rate (%)",
        ]
        assert rows[1:] == [
            [
                "SZ-TEST",
                "Test department SZ-TEST",
                m,
                *(("3", "1", "1", "1", "33.3") if m == "2026-09" else ("0",) * 4 + ("",)),
            ]
            for m in [f"2025-{n}" for n in ("11", "12")] + [f"2026-{n:02d}" for n in range(1, 11)]
        ]

    def test_query_count_does_not_grow_with_the_records(
        self, client_for, credit_officer, clerk_actor, reviewer_actor, other_clerk_actor, entity, other_entity
    ):
        staff, public = client_for(credit_officer), client_for(None)
        staff.get(ON_TIME)  # warm up (session, content types)

        def count(client, url):
            cache.clear()
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, {"until": "2026-10"}).status_code == 200
            return len(queries)

        pages = ((staff, ON_TIME), (staff, ON_TIME_CSV), (public, PUBLIC), (public, PUBLIC_CSV))
        decided(reviewer_actor, entity, "FIRST")
        before = [count(c, u) for c, u in pages]
        for n in range(12):
            decided(clerk_actor, entity, f"DRAFT-{n}", on=date(2026, 1 + n % 9, 5))
            decided(other_clerk_actor, other_entity, f"GZ-DRAFT-{n}", on=date(2026, 1 + n % 9, 6))
        publish_on(TODAY)
        for n in range(12):
            decided(reviewer_actor, entity, f"PENDING-{n}", on=date(2026, 2 + n % 8, 3))
        after = [count(c, u) for c, u in pages]
        assert after == before
        assert max(after) <= 8

    def test_both_languages(self, client_for, three_due):
        client = client_for(None)
        zh = client.get(PUBLIC, {"until": "2026-10"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert '<html lang="zh-Hans">' in zh.text
        assert table_rows(zh.text, "on-time-totals")[1][0] == "测试部门SZ-TEST"
        assert table_rows(zh.text, "on-time-totals")[1][1:] == ["3", "1", "1", "1", "33.3%"]
        assert table_rows(zh.text, "on-time-totals")[0][0] == "部门"
        assert "7 个工作日公示规则" in zh.text
        rows = list(
            csv.reader(
                io.StringIO(
                    client.get(
                        PUBLIC_CSV, {"until": "2026-10"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
                    ).content.decode("utf-8-sig")
                )
            )
        )
        assert rows[0][:2] == ["部门代码", "部门"]
        assert ["SZ-TEST", "测试部门SZ-TEST", "2026-09", "3", "1", "1", "1", "33.3"] in rows
        en = client.get(PUBLIC, {"until": "2026-10"}, HTTP_ACCEPT_LANGUAGE="en")
        assert '<html lang="en">' in en.text
        assert table_rows(en.text, "on-time-totals")[1] == [
            "Test department SZ-TEST",
            "3",
            "1",
            "1",
            "1",
            "33.3%",
        ]
