"""The conventions every app follows, each with one home: ``NotFound`` (credit_portal.errors) is the
portal's 404 at every door; a department's row is found and locked by one helper
(credit_portal.rows); reference numbers are drawn and inserted in one place (credit_portal.numbers)
in their unchanged formats; a notice names the page it leads to (credit_portal.links.Route); a text
that states a deadline says what the rule in force says (credit_portal.workdays.rules). And guards
that keep it so: no service raises ``Http404`` or builds an address, no deadline rule key is
spelt out outside its one place."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest
from django.db import IntegrityError
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client

from credit_portal import links, numbers, rows
from credit_portal.accounts.actors import Actor, actor_for_user, system_actor
from credit_portal.errors import NotFound
from credit_portal.notices import services as notices
from credit_portal.notices.models import Notice
from credit_portal.workdays import rules
from credit_portal.workdays import services as workdays
from credit_portal.workdays.models import DeadlineRule
from disclosure import sweeps
from disclosure.reports import numbers as report_numbers
from pledges.services import common as pledge_common
from records.models import Complaint
from records.services import objections

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
OFFICE = system_actor("tests")


@pytest.fixture
def failing(settings):
    settings.ROOT_URLCONF = "tests.urls_failing"


def same_page(response) -> str:
    """The page without what differs between two requests anyway: the CSRF token (masked afresh
    each time) and the requested path (the language switch returns to it)."""
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return re.sub(r"/(staff|api/v1)/(not-found|http404)/", "/<path>/", text)


def complaint(department, number: str = "", **kw) -> Complaint:
    values = {
        "kind": Complaint.Kind.COMPLAINT,
        "channel": Complaint.Channel.WEB,
        "entity_name": "某某公司",
        "description": "无证经营",
        "answer_due_on": date(2026, 12, 18),
        **kw,
    }
    return Complaint(tracking_number=number, department=department, **values)


# --- NotFound: the portal's 404 at every door --------------------------------------------------------


class TestNotFoundAtTheDoors:
    def test_a_services_not_found_is_the_same_404_page_as_http404(self, failing, client_for, clerk):
        for client in (Client(), client_for(clerk)):
            raised = client.get("/staff/not-found/")
            django = client.get("/staff/http404/")
            assert raised.status_code == django.status_code == 404
            assert same_page(raised) == same_page(django)
            assert raised.templates[0].name == "404.html"
            assert "record 42" not in raised.content.decode()  # the message reveals nothing
        assert '<a href="/staff/">Go to the dashboard</a>' in client_for(clerk).get("/staff/not-found/").text

    def test_under_debug_another_address_gets_the_portals_page_the_machine_django_s(self, failing, settings):
        settings.DEBUG = True
        elsewhere = Client(REMOTE_ADDR="203.0.113.7")
        page = elsewhere.get("/staff/not-found/")
        assert page.status_code == 404 and "<h1>Not found</h1>" in page.text and "URLconf" not in page.text
        assert same_page(page) == same_page(elsewhere.get("/staff/http404/"))
        local = Client(REMOTE_ADDR="127.0.0.1").get("/staff/not-found/")
        assert local.status_code == 404 and "Page not found" in local.text

    def test_under_the_api_it_is_the_apis_404_body(self, failing):
        for path in ("/api/v1/not-found/", "/api/v1/http404/", "/api/v1/no-such-thing/"):
            response = Client().get(path)
            assert (response.status_code, response.json()) == (404, {"detail": "Not found."})

    def test_a_drf_view_whose_service_finds_nothing_answers_the_same_404(
        self, token_for, department, other_department
    ):
        theirs = complaint(other_department, "TS" + "2" * 12, channel=Complaint.Channel.API)
        theirs.submitted_by = other_department
        theirs.save()
        api = token_for(department, ["complaints:write"])
        for number in ("TS" + "3" * 12, theirs.tracking_number):  # missing, and another department's
            response = api.get(f"/api/v1/complaints/{number}/")
            assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


# --- one row of the actor's department --------------------------------------------------------------


class TestDepartmentRows:
    @pytest.fixture
    def both(self, department, other_department):
        mine = complaint(department, "TS" + "A" * 12)
        theirs = complaint(other_department, "TS" + "B" * 12)
        Complaint.objects.bulk_create([mine, theirs])
        return mine, theirs

    def test_a_department_acts_on_its_own_rows_only(self, both, clerk):
        mine, theirs = both
        actor = actor_for_user(clerk)
        assert rows.locked_department_row(Complaint.objects.all(), actor=actor, pk=mine.pk) == mine
        with pytest.raises(NotFound):
            rows.locked_department_row(Complaint.objects.all(), actor=actor, pk=theirs.pk)
        with pytest.raises(NotFound):
            rows.locked_department_row(Complaint.objects.all(), actor=actor, pk=0)
        assert list(rows.of_department(Complaint.objects.all(), actor)) == [mine]

    def test_the_credit_office_acts_on_every_departments_unless_the_act_is_the_departments(
        self, both, credit_officer
    ):
        office = actor_for_user(credit_officer)
        _mine, theirs = both
        assert rows.locked_department_row(Complaint.objects.all(), actor=office, pk=theirs.pk) == theirs
        with pytest.raises(NotFound):
            rows.locked_department_row(
                Complaint.objects.all(), actor=office, credit_office=False, pk=theirs.pk
            )

    def test_an_actor_without_a_department_finds_nothing(self, both):
        nobody = Actor(kind="system", system_name="none")
        assert list(rows.of_department(Complaint.objects.all(), nobody)) == []
        with pytest.raises(NotFound):
            rows.locked_department_row(Complaint.objects.all(), actor=nobody, pk=both[0].pk)

    def test_the_row_is_locked_for_the_transaction(self, both, clerk, django_assert_num_queries):
        with django_assert_num_queries(1) as captured:
            rows.locked_department_row(Complaint.objects.all(), actor=actor_for_user(clerk), pk=both[0].pk)
        assert 'FOR UPDATE OF "records_complaint"' in captured.captured_queries[0]["sql"]


# --- reference numbers -------------------------------------------------------------------------------


class TestReferenceNumbers:
    def test_every_format_is_as_before(self, today):
        today(date(2026, 11, 27))
        assert re.fullmatch(r"CN-2026-[23456789A-HJ-NP-Z]{8}", pledge_common.new_number("CN"))
        assert re.fullmatch(r"SQ-2026-[23456789A-HJ-NP-Z]{8}", pledge_common.new_number("SQ"))
        assert re.fullmatch(r"YY-[23456789A-HJ-NP-Z]{10}", objections.random_code("YY-", 10))
        assert re.fullmatch(r"TS[23456789A-HJ-NP-Z]{12}", objections.random_code("TS", 12))
        report = report_numbers.new_number(date(2026, 11, 27))
        assert re.fullmatch(r"CR20261127[0-9A-HJ-NP-RTUWXY]{11}", report)
        assert report_numbers.is_well_formed(report)

    def test_a_reference_typed_by_a_person_is_read_back(self):
        assert numbers.normalise_reference(" yy-ab cd ", "YY-") == "YY-ABCD"
        assert numbers.normalise_reference("ts 2345", "TS") == "TS2345"
        assert numbers.normalise_reference(None, "TS") == "TS"

    def test_a_number_already_taken_is_drawn_again(self, department):
        complaint(department, "TS" + "2" * 12).save()
        drawn = iter(["TS" + "2" * 12, "TS" + "3" * 12])
        saved = numbers.insert_numbered(
            complaint(department), field="tracking_number", new_number=lambda: next(drawn)
        )
        assert saved.pk is not None and saved.tracking_number == "TS" + "3" * 12
        assert Complaint.objects.count() == 2

    def test_after_the_last_attempt_the_collision_is_raised(self, department):
        complaint(department, "TS" + "2" * 12).save()
        calls = []

        def same() -> str:
            calls.append(1)
            return "TS" + "2" * 12

        with pytest.raises(IntegrityError):
            numbers.insert_numbered(
                complaint(department), field="tracking_number", new_number=same, attempts=3
            )
        assert len(calls) == 3 and Complaint.objects.count() == 1

    def test_another_conflict_is_the_callers_to_explain_or_to_answer(self, department):
        first = complaint(department, "TS" + "2" * 12, channel="api", external_reference="T-1")
        first.submitted_by = department
        first.save()
        twin = complaint(department, channel="api", external_reference="T-1")
        twin.submitted_by = department
        # The same ticket posted twice at once: the row already recorded is the answer.
        found = numbers.insert_numbered(
            twin,
            field="tracking_number",
            new_number=lambda: "TS" + "4" * 12,
            on_conflict=lambda: Complaint.objects.get(external_reference="T-1"),
        )
        assert found == first and Complaint.objects.count() == 1

        def refuse():
            raise ValueError("already there")

        with pytest.raises(ValueError, match="already there"):
            numbers.insert_numbered(
                twin, field="tracking_number", new_number=lambda: "TS" + "5" * 12, on_conflict=refuse
            )


# --- notice links ------------------------------------------------------------------------------------


def test_a_notice_names_its_page_and_stores_its_path(reviewer, department, published):
    route = links.Route("staff:board_index", query={"department": department.pk, "section": "overdue"})
    assert route.path() == f"/staff/disclosure/?department={department.pk}&section=overdue"
    assert links.Route("staff:complaint_detail", 7).path() == "/staff/complaints/7/"
    assert links.Route("staff:complaint_detail", 7) == links.Route("staff:complaint_detail", 7)
    assert links.path_of("/staff/") == "/staff/" and links.path_of("") == ""
    (notice,) = notices.notify_user(
        actor=OFFICE,
        user=reviewer,
        kind="tests.route",
        subject_zh="测试",
        subject_en="Test",
        body_zh="",
        body_en="",
        link=links.Route("staff:complaint_detail", 7),
        dedupe_key="tests.route",
    )
    assert Notice.objects.get(pk=notice.pk).link == "/staff/complaints/7/"


# --- deadline texts ----------------------------------------------------------------------------------


def set_rule(key: str, days: int, on: date, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        workdays.deadline_rule_set(
            actor=OFFICE, key=key, working_days=days, effective_from=on, basis_zh="测试", basis_en="Test"
        )


class TestDeadlineTexts:
    def test_the_pages_state_the_publication_rule_in_force(
        self, today, client_for, reviewer, django_capture_on_commit_callbacks
    ):
        from django.core.cache import caches

        today(date(2026, 12, 4))
        staff = client_for(reviewer)
        assert "within 7 working days of the decision" in staff.get("/staff/disclosure/").text
        assert "The 7-working-day rule" in Client().get("/disclosure/on-time/").text
        set_rule(rules.DISCLOSURE_PUBLISH, 5, date(2026, 12, 4), django_capture_on_commit_callbacks)
        assert workdays.days_in_force(rules.DISCLOSURE_PUBLISH) == 5
        board = staff.get("/staff/disclosure/").text
        assert "within 5 working days of the decision" in board
        on_time = Client().get("/disclosure/on-time/").text
        assert (
            "The 5-working-day rule" in on_time
            and "within 5 working days of the day they are made" in on_time
        )
        # The footer and the search page's introduction are kept for a few minutes, then follow.
        assert "disclosed within 7 working days of each decision." in Client().get("/").text
        caches["template_fragments"].clear()
        home = Client().get("/").text
        assert "disclosed within 5 working days of each decision." in home and "7 working days" not in home

    def test_a_rule_taking_effect_later_is_not_stated_before(self, today, django_capture_on_commit_callbacks):
        today(date(2026, 12, 4))
        set_rule(rules.DISCLOSURE_PUBLISH, 10, date(2027, 1, 1), django_capture_on_commit_callbacks)
        assert workdays.days_in_force(rules.DISCLOSURE_PUBLISH) == 7
        with pytest.raises(LookupError):
            workdays.days_in_force("no.such.rule")

    def test_the_template_tag_takes_a_rule_constant_and_refuses_anything_else(self):
        tag = '{% load workdays %}{% working_days "DISCLOSURE_WITHDRAW" %}'
        assert Template(tag).render(Context()) == "3"
        for wrong in ('"disclosure.withdraw"', '"NO_SUCH_RULE"', '"__doc__"'):
            with pytest.raises(TemplateSyntaxError):
                Template("{% load workdays %}{% working_days " + wrong + " %}").render(Context())

    def test_the_withdrawal_notice_states_the_withdrawal_rule_in_force(
        self, today, reviewer, entity, published, django_capture_on_commit_callbacks
    ):
        from records import services as record_services
        from records.fields import RecordInput
        from records.services import publication

        today(date(2026, 12, 4))
        record = record_services.record_create(
            actor=actor_for_user(reviewer),
            data=RecordInput(
                item="admin_punishment",
                code=entity.code,
                decision_number="W-1",
                decision_date=date(2026, 11, 2),
                legal_basis="《中华人民共和国产品质量法》第四十九条",
                severity="general",
                content="罚款",
                fields={
                    "party_category": "legal_person",
                    "facts": "销售不合格产品",
                    "punishment_category": "fine",
                },
            ),
            provenance="api",
        )
        publication.publish_due(actor=OFFICE, today=date(2026, 12, 4))
        # Revoked, but (as the sweep finds it) still published after its withdrawal deadline.
        type(record).objects.filter(pk=record.pk).update(
            status="revoked", withdrawal_due_on=date(2026, 12, 1)
        )
        set_rule(rules.DISCLOSURE_WITHDRAW, 2, date(2026, 12, 4), django_capture_on_commit_callbacks)
        sweeps.escalate_withdrawal_overdue(actor=OFFICE, today=date(2026, 12, 4))
        notice = Notice.objects.get(recipient=reviewer, kind=sweeps.KIND_WITHDRAWAL_OVERDUE)
        assert "（撤销之日起2个工作日）" in notice.body_zh
        assert "(2 working days after the revocation)" in notice.body_en

    def test_every_rule_constant_names_a_rule_of_the_table(self):
        keys = {v for k, v in vars(rules).items() if k.isupper()}
        assert keys == set(DeadlineRule.objects.values_list("key", flat=True))


# --- guards ------------------------------------------------------------------------------------------

SERVICE_MODULES = [
    *sorted((ROOT / "records" / "services").glob("*.py")),
    *sorted((ROOT / "pledges" / "services").glob("*.py")),
    *sorted((ROOT / "disclosure" / "reports").glob("*.py")),
    *sorted(ROOT.glob("credit_portal/*/services.py")),
    ROOT / "disclosure" / "sweeps.py",
    *(ROOT / app / "selectors.py" for app in ("records", "pledges", "disclosure")),
    ROOT / "records" / "access.py",
    ROOT / "pledges" / "access.py",
]


def _source(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_services_raise_domain_errors_and_name_pages_without_building_them(path):
    """``Http404`` and ``get_object_or_404`` are the doors' (``NotFound`` is the services'), and so is
    ``reverse``: a service names a page with ``credit_portal.links.Route``."""
    found = []
    for node in ast.walk(_source(path)):
        if isinstance(node, ast.ImportFrom) and node.module in (
            "django.http",
            "django.shortcuts",
            "django.urls",
        ):
            found += [f"{node.lineno}: from {node.module} import {a.name}" for a in node.names]
        elif isinstance(node, ast.Name) and node.id in ("Http404", "get_object_or_404", "reverse"):
            found.append(f"{node.lineno}: {node.id}")
    assert found == []


APPS = (
    "credit_portal",
    "records",
    "pledges",
    "appraisals",
    "listings",
    "punishments",
    "restoration",
    "disclosure",
)
RULE_FUNCTIONS = {"deadline", "deadline_days", "earliest_rule_date", "DeadlineSchedule", "days_in_force"}


def test_deadline_rule_keys_are_spelt_out_only_in_their_one_place():
    """Every deadline rule is named by a constant of ``credit_portal.workdays.rules`` (migrations keep
    their own copies, as they must)."""
    keys = {v for k, v in vars(rules).items() if k.isupper()}
    found = []
    sources = [p for app in APPS for p in sorted((ROOT / app).rglob("*.py"))]
    for path in sources:
        relative = path.relative_to(ROOT)
        if "migrations" in relative.parts or relative == Path("credit_portal/workdays/rules.py"):
            continue
        for node in ast.walk(_source(path)):
            if isinstance(node, ast.Constant) and node.value in keys:
                found.append(f"{relative}:{node.lineno} {node.value!r}")
            elif isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name in RULE_FUNCTIONS and node.args and isinstance(node.args[0], ast.Constant):
                    found.append(f"{relative}:{node.lineno} {name}({node.args[0].value!r})")
    assert found == []
