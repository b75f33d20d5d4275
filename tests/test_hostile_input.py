"""No 500 on any input: dates before every rule, out-of-range numbers, NUL in the address, JSON
nested absurdly deep or holding lone surrogates, bodies over the limit, invalid filters — each a
clear 400 (413, 404) or a per-row error in an import; and invisible control characters refused in
names and free text on every door, with an error naming the character."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from credit_portal.accounts.actors import actor_for_user
from credit_portal.accounts.capabilities import TOKEN_SCOPES
from credit_portal.audit.models import AuditEvent
from credit_portal.idempotency.services import submission_key_issue
from credit_portal.text import character_name, refuse_invisible
from credit_portal.workdays.models import DeadlineRule
from records import services
from records.models import Complaint, CreditRecord, MarketEntity, Objection, RecordChange, RecordProposal
from records.services import objections, publication
from tests import factories as f
from tests.test_imports import csv_bytes, outcome, rejected, row
from tests.test_imports import run as run_import
from tests.test_records import SWEEP, punishment
from tests.test_records_staff import form_data

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 4)
BEFORE_RULES = (
    "Decisions dated before 2000-01-01 cannot be recorded: no disclosure deadline rule covers them."
)
ZWSP = "Contains an invisible character, U+200B ZERO WIDTH SPACE, at position 2: delete it (or type the text again) and resubmit."
RLO = "Contains an invisible character, U+202E RIGHT-TO-LEFT OVERRIDE, at position 3: delete it (or type the text again) and resubmit."
MONTHS = "Give a whole number of months from 0 to 36 (the longest disclosure period of any rule)."


@pytest.fixture(autouse=True)
def _clock(today):
    today(TODAY, tick=True)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api(department, token_for):
    return token_for(department, sorted(TOKEN_SCOPES))


def post_json(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def api_record_body(entity, **changes):
    body = {
        "item": "admin_punishment",
        "code": entity.code,
        "decision_number": "深市监罚〔2026〕9号",
        "decision_date": "2026-09-30",
        "legal_basis": "《中华人民共和国产品质量法》第四十九条",
        "severity": "general",
        "content": "罚款5.5万元",
        "fields": {
            "party_category": "法人及非法人组织",
            "facts": "销售不合格产品",
            "punishment_category": "罚款",
        },
    }
    body.update(changes)
    return body


def footprint():
    return (
        CreditRecord.objects.count(),
        RecordChange.objects.count(),
        RecordProposal.objects.count(),
        AuditEvent.objects.count(),
        MarketEntity.objects.count(),
        Complaint.objects.count(),
        Objection.objects.count(),
    )


@pytest.fixture
def record(reviewer, entity):
    """An effective, published punishment of ``department``, decided 2026-09-30."""
    made = services.record_create(actor=actor_for_user(reviewer), data=punishment(entity), provenance="api")
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
    made.refresh_from_db()
    return made


# --- dates before every rule ---------------------------------------------------------------------


class TestDatesBeforeEveryRule:
    def test_api_refuses_a_decision_of_1999_naming_the_earliest_date(self, api, entity):
        before = footprint()
        response = post_json(api, "/api/v1/records/", api_record_body(entity, decision_date="1999-12-31"))
        assert response.status_code == 400
        assert response.json()["errors"] == {"decision_date": [BEFORE_RULES]}
        assert footprint() == before

    def test_staff_form_refuses_a_decision_of_1999(self, client_for, reviewer, entity):
        before = footprint()
        response = client_for(reviewer).post(
            "/staff/records/new/?item=admin_punishment", form_data(entity, decision_date="1999-06-01")
        )
        assert response.status_code == 200
        assert response.context["form"].errors["decision_date"] == [BEFORE_RULES]
        assert footprint() == before

    def test_staff_correction_form_refuses_a_decision_of_1999(self, client_for, reviewer, entity):
        client = client_for(reviewer)
        client.post("/staff/records/new/?item=admin_punishment", form_data(entity))
        record = CreditRecord.objects.get()
        before = footprint()
        response = client.post(
            f"/staff/records/{record.pk}/correct/",
            form_data(entity, decision_date="1999-12-31", reason="日期更正"),
        )
        assert response.status_code == 200
        assert response.context["form"].errors["decision_date"] == [BEFORE_RULES]
        assert footprint() == before
        record.refresh_from_db()
        assert (record.version, record.decision_date) == (1, date(2026, 9, 30))

    def test_an_objections_correction_to_1999_is_refused_and_changes_nothing(
        self, record, entity_user, reviewer, client_for
    ):
        objection = objections.objection_submit(
            actor=actor_for_user(entity_user), record_id=record.pk, grounds="日期有误。"
        )
        before = footprint()
        response = client_for(reviewer).post(
            f"/staff/objections/{objection.pk}/",
            {
                "decision": "upheld",
                "answer": "更正决定日期。",
                "outcome": "correct",
                "party_name": record.party_name,
                "decision_date": "1999-12-31",
                "severity": record.severity,
                "legal_basis": record.legal_basis,
                "content": record.content,
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors["decision_date"] == [BEFORE_RULES]
        assert footprint() == before
        objection.refresh_from_db()
        record.refresh_from_db()
        assert (objection.status, record.decision_date, record.version) == ("pending", date(2026, 9, 30), 1)

    def test_a_clerks_correction_to_1999_is_refused_not_proposed(self, record, clerk):
        before = footprint()
        response = post_json(
            _clerk_api(clerk),
            f"/api/v1/records/{record.pk}/correct/",
            {**api_record_body(record.entity, decision_date="1999-12-31"), "reason": "日期有误"},
        )
        assert response.status_code == 400
        assert response.json()["errors"] == {"decision_date": [BEFORE_RULES]}
        assert footprint() == before

    def test_a_revocation_before_the_decision_is_refused(self, api, record):
        before = footprint()
        response = post_json(
            api, f"/api/v1/records/{record.pk}/revoke/", {"reason": "复议撤销", "revoked_on": "1999-12-31"}
        )
        assert response.status_code == 400
        assert response.json()["errors"] == {
            "revoked_on": ["The decision cannot be revoked before it was taken (2026-09-30)."]
        }
        assert footprint() == before

    def test_a_revocation_in_the_future_is_refused(self, api, record):
        before = footprint()
        tomorrow = (TODAY + timedelta(days=1)).isoformat()
        response = post_json(
            api, f"/api/v1/records/{record.pk}/revoke/", {"reason": "复议撤销", "revoked_on": tomorrow}
        )
        assert response.status_code == 400
        assert response.json()["errors"] == {
            "revoked_on": ["The date of revocation cannot be in the future."]
        }
        assert footprint() == before

    def test_a_revocation_no_withdrawal_rule_covers_is_refused_on_every_door(
        self, api, record, reviewer, clerk, client_for
    ):
        """The withdrawal deadline is counted under the rule in force on the day of revocation; a
        day before the first such rule gets a message naming it, not a LookupError."""
        DeadlineRule.objects.filter(key="disclosure.withdraw").update(effective_from=date(2026, 11, 1))
        expected = [
            "Revocations dated before 2026-11-01 cannot be recorded: no withdrawal deadline rule covers them."
        ]
        before = footprint()
        body = {"reason": "复议撤销", "revoked_on": "2026-10-15"}
        response = post_json(api, f"/api/v1/records/{record.pk}/revoke/", body)
        assert (response.status_code, response.json()["errors"]) == (400, {"revoked_on": expected})
        clerk_response = post_json(_clerk_api(clerk), f"/api/v1/records/{record.pk}/revoke/", body)
        assert (clerk_response.status_code, clerk_response.json()["errors"]) == (
            400,
            {"revoked_on": expected},
        )
        page = client_for(reviewer).post(f"/staff/records/{record.pk}/revoke/", body, follow=True)
        assert page.redirect_chain == [(f"/staff/records/{record.pk}/", 302)]
        assert expected[0] in page.content.decode()
        assert footprint() == before
        record.refresh_from_db()
        assert record.status == "effective"

    def test_an_import_with_one_row_of_1999_imports_the_others_and_reports_that_row(self, reviewer, entity):
        content = csv_bytes(
            [
                row(entity, "G-1"),
                row(entity, "G-2", decided="1999-12-31"),
                row(entity, "G-3", decided="2026-10-09"),
            ]
        )
        job = run_import(actor_for_user(reviewer), content)
        assert outcome(job) == ("done", 3, 3, 2, 0, 1)
        assert rejected(job) == {3: {"处罚决定日期": [BEFORE_RULES]}}  # row 1 is the header
        assert sorted(CreditRecord.objects.values_list("decision_number", flat=True)) == ["G-1", "G-3"]

    def test_an_import_row_no_rule_can_plan_is_refused_alone(self, reviewer, entity, monkeypatch):
        """A row the validator let through but planning cannot place (a rule changed meanwhile)
        is refused on its own: the other rows of the batch are written."""
        from records.services import credit

        real = credit.disclosure_plan

        def plan(clean, validator, calendar, days):
            if clean.decision_number == "P-2":
                raise LookupError("no deadline rule 'disclosure.publish' is in force")
            return real(clean, validator, calendar, days)

        monkeypatch.setattr(credit, "disclosure_plan", plan)
        job = run_import(actor_for_user(reviewer), csv_bytes([row(entity, "P-1"), row(entity, "P-2")]))
        assert outcome(job) == ("done", 2, 2, 1, 0, 1)
        assert rejected(job) == {
            3: {
                "处罚决定日期": [
                    "No disclosure deadline can be planned for this decision date under the rules in force: check the date."
                ]
            }
        }
        assert list(CreditRecord.objects.values_list("decision_number", flat=True)) == ["P-1"]


def _clerk_api(clerk):
    client = Client()
    client.force_login(clerk)
    return client


# --- numbers out of range ------------------------------------------------------------------------


class TestDisclosureMonths:
    @pytest.mark.parametrize("months", [37, 40_000, 10**30])
    def test_api_refuses_months_over_every_rule_and_the_column(self, api, entity, months):
        before = footprint()
        response = post_json(api, "/api/v1/records/", api_record_body(entity, disclosure_months=months))
        assert response.status_code == 400
        assert response.json()["errors"] == {"disclosure_months": [MONTHS]}
        assert footprint() == before

    def test_api_refuses_months_for_an_item_without_severity_rules(self, api, entity):
        before = footprint()
        body = api_record_body(
            entity,
            item="admin_permit",
            valid_from="2026-09-30",
            valid_to="2027-09-30",
            disclosure_months=40_000,
            fields={
                "party_category": "法人及非法人组织",
                "decision_doc_name": "许可决定书",
                "permit_category": "普通",
            },
        )
        response = post_json(api, "/api/v1/records/", body)
        assert response.status_code == 400
        assert response.json()["errors"] == {"disclosure_months": [MONTHS]}
        assert footprint() == before

    def test_an_import_row_with_months_out_of_range_is_refused_alone(self, reviewer, entity):
        headers = [*_import_headers(), "公示期限（月）"]
        rows = [[*row(entity, "M-1"), ""], [*row(entity, "M-2"), "40000"]]
        job = run_import(actor_for_user(reviewer), csv_bytes(rows, headers=headers))
        assert outcome(job) == ("done", 2, 2, 1, 0, 1)
        assert rejected(job) == {3: {"公示期限（月）": [MONTHS]}}

    def test_the_validator_refuses_negative_months(self, reviewer, entity):
        with pytest.raises(ValidationError) as refused:
            services.record_create(
                actor=actor_for_user(reviewer),
                data=punishment(entity, disclosure_months=-1),
                provenance="form",
            )
        assert refused.value.message_dict == {"disclosure_months": [MONTHS]}
        assert not CreditRecord.objects.exists()


def _import_headers():
    from tests.test_imports import HEADERS

    return list(HEADERS)


# --- the address: NUL in the query and in the path -----------------------------------------------


def _string_routes():
    """Every URL pattern with a string (or slug) segment, with that segment made a NUL."""
    out = []

    def walk(resolver, prefix):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if route.startswith("admin/"):
                    continue
                if route.startswith("^") or "(?P<" in route:
                    path = re.sub(r"\(\?P<\w+>[^)]*\)", "%00", route.lstrip("^").rstrip("$")).replace(
                        "\\.", "."
                    )
                else:
                    if not re.search(r"<(str|slug|path):", route):
                        continue
                    path = re.sub(r"<(?:str|slug|path):\w+>", "%00", route)
                    path = re.sub(r"<int:\w+>", "1", path)
                out.append("/" + path)

    walk(get_resolver(), "")
    return sorted(set(out))


STRING_ROUTES = _string_routes()


class TestNulInTheAddress:
    def test_every_url_pattern_with_a_string_segment_is_covered(self):
        assert len(STRING_ROUTES) >= 30
        assert "/api/v1/entities/%00/" in STRING_ROUTES
        assert "/staff/entities/%00/" in STRING_ROUTES
        assert "/my/pledges/%00/" in STRING_ROUTES

    @pytest.mark.parametrize("path", STRING_ROUTES)
    def test_nul_in_a_path_segment_is_404_for_every_identity(
        self, path, client_for, credit_officer, entity_user, api
    ):
        before = footprint()
        for client in (Client(), client_for(credit_officer), client_for(entity_user), api):
            for method in (client.get, client.post):
                response = method(path)
                assert response.status_code == 404, (path, method, response.status_code)
        assert footprint() == before

    def test_nul_in_a_path_segment_of_the_api_is_a_json_404(self, api):
        response = api.get("/api/v1/entities/%00/")
        assert (response.status_code, response["Content-Type"], response.json()) == (
            404,
            "application/json",
            {"detail": "Not found."},
        )

    @pytest.mark.parametrize(
        "path, parameter",
        [
            ("/api/v1/records/?entity=%00", "entity"),
            ("/api/v1/records/?item=a%00b", "item"),
            ("/api/v1/entities/?q=%00", "q"),
            ("/api/v1/changes/?cursor=%00", "cursor"),
            ("/api/v1/public/records/?department=%00", "department"),
            ("/api/v1/records/?x%00=1", "x\\x00"),
        ],
    )
    def test_nul_in_a_query_parameter_of_the_api_is_a_400_naming_it(self, api, path, parameter):
        response = api.get(path)
        assert response.status_code == 400
        assert response.json() == {
            "detail": "The address has invalid query parameters.",
            "errors": {parameter: ["Null characters are not allowed."]},
        }

    @pytest.mark.parametrize(
        "path", ["/?q=%00", "/staff/records/new/?item=%00", "/staff/records/?status=%00", "/my/?entity=%00"]
    )
    def test_nul_in_a_query_parameter_of_a_page_is_a_400_page(self, path, client_for, credit_officer):
        response = client_for(credit_officer).get(path)
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert "The address has invalid query parameters." in response.content.decode()

    def test_a_nul_posted_as_the_item_of_the_record_form_is_no_500(self, client_for, reviewer, entity):
        response = client_for(reviewer).post("/staff/records/new/", {"item": "\x00", "code": entity.code})
        assert response.status_code == 200
        assert not CreditRecord.objects.exists()


# --- bodies: deep, invalid Unicode, too large ----------------------------------------------------


class TestBodies:
    def test_json_nested_100000_levels_deep_is_a_400(self, api):
        before = footprint()
        response = api.post(
            "/api/v1/entities/", "[" * 100_000 + "]" * 100_000, content_type="application/json"
        )
        assert (response.status_code, response.json()) == (
            400,
            {"detail": "JSON nested more than 32 levels deep is not accepted."},
        )
        assert footprint() == before

    def test_json_nested_33_levels_is_refused_32_is_parsed(self, api, entity):
        deep = {"fields": {"facts": {}}}
        inner = deep["fields"]["facts"]
        for _ in range(31):
            inner["x"] = {}
            inner = inner["x"]
        response = post_json(api, "/api/v1/records/", deep)
        assert response.json() == {"detail": "JSON nested more than 32 levels deep is not accepted."}
        shallow = {"fields": {"facts": "x"}}
        assert (
            post_json(api, "/api/v1/records/", shallow).json()["detail"] == "The request has invalid fields."
        )

    def test_a_lone_surrogate_in_json_is_a_400(self, api):
        before = footprint()
        response = api.post(
            "/api/v1/complaints/",
            '{"external_reference": "\\ud800", "kind": "complaint"}',
            content_type="application/json",
        )
        assert (response.status_code, response.json()) == (
            400,
            {"detail": "The JSON holds a string that is not valid Unicode (a lone surrogate)."},
        )
        assert footprint() == before

    @pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
    def test_a_10_mb_body_to_the_api_is_a_json_413(self, api, entity, content_type):
        before = footprint()
        padding = "x" * (10 * 1024 * 1024)
        body = (
            json.dumps({"content": padding}) if content_type == "application/json" else "content=" + padding
        )
        response = api.post("/api/v1/records/", body, content_type=content_type)
        assert response.status_code == 413
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "detail": "The request body is too large: at most 2621440 bytes are accepted."
        }
        assert footprint() == before

    def test_an_unknown_api_address_is_a_json_404(self, api):
        response = api.get("/api/v1/nothing-here/")
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


# --- invalid filters -----------------------------------------------------------------------------


class TestInvalidFilters:
    @pytest.mark.parametrize(
        "query, errors",
        [
            ({"status": "nonsense"}, {"status": ['"nonsense" is not a valid choice.']}),
            ({"item": "no_such_item"}, {"item": ["Unknown catalogue item."]}),
            ({"department": "NO-SUCH"}, {"department": ["Unknown department."]}),
            (
                {"entity": "NOT-A-CODE"},
                {"entity": ["A unified social credit code has 18 characters; this one has 10."]},
            ),
            (
                {"cursor": "zzz"},
                {"cursor": ["Not a cursor of this list: use the next or previous link of a page."]},
            ),
            ({"page_size": "0"}, {"page_size": ["Give a whole number from 1 to 500."]}),
            ({"page_size": "many"}, {"page_size": ["Give a whole number from 1 to 500."]}),
        ],
    )
    def test_records_list_refuses_each_invalid_parameter_by_name(self, api, query, errors):
        response = api.get("/api/v1/records/", query)
        assert response.status_code == 400
        assert response.json() == {"detail": "The request has invalid fields.", "errors": errors}

    def test_every_invalid_filter_is_named_at_once(self, api):
        response = api.get("/api/v1/records/", {"status": "x", "item": "y", "department": "z"})
        assert set(response.json()["errors"]) == {"status", "item", "department"}

    def test_a_cursor_with_a_position_that_is_no_id_is_a_400(self, api):
        import base64

        forged = base64.b64encode(b"p=not-a-number").decode()
        response = api.get("/api/v1/records/", {"cursor": forged})
        assert response.status_code == 400
        assert response.json()["errors"] == {
            "cursor": ["Not a cursor of this list: use the next or previous link of a page."]
        }

    def test_a_valid_filter_still_filters(self, api, record, entity):
        response = api.get("/api/v1/records/", {"status": "effective", "entity": entity.code.lower()})
        assert [r["id"] for r in response.json()["results"]] == [record.pk]

    @pytest.mark.parametrize(
        "query, errors",
        [
            ({"cursor": "-1"}, {"cursor": ["Give the next_cursor you received, or 0."]}),
            ({"cursor": "9" * 30}, {"cursor": ["Give the next_cursor you received, or 0."]}),
            ({"limit": "0"}, {"limit": ["Give a whole number from 1 to 1000."]}),
            ({"cursor": "x", "limit": "y"}, {
                "cursor": ["Give the next_cursor you received, or 0."],
                "limit": ["Give a whole number from 1 to 1000."],
            }),
        ],
    )  # fmt: skip
    def test_change_feed_names_its_invalid_parameters(self, api, query, errors):
        response = api.get("/api/v1/changes/", query)
        assert response.status_code == 400
        assert response.json() == {"detail": "The request has invalid parameters.", "errors": errors}

    @pytest.mark.parametrize(
        "query, errors",
        [
            ({"division": "44"}, {"division": ["This value does not match the required pattern."]}),
            ({"division": "999999"}, {"division": ["Unknown administrative division code."]}),
        ],
    )
    def test_entity_search_refuses_an_invalid_division(self, api, query, errors):
        response = api.get("/api/v1/entities/", query)
        assert (response.status_code, response.json()["errors"]) == (400, errors)


# --- invisible control characters ----------------------------------------------------------------


REFUSED = [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
    "\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u200e", "\u00ad", "\x01", "\x1b", "\x7f", "\x85",
    "\u2028", "\u2029", "\ud800",
]  # fmt: skip


class TestTheHelper:
    @pytest.mark.parametrize("char", REFUSED)
    def test_each_invisible_character_is_refused_naming_it(self, char):
        with pytest.raises(ValidationError) as refused:
            refuse_invisible(f"腾{char}讯")
        assert refused.value.messages == [
            f"Contains an invisible character, {character_name(char)}, at position 2: delete it (or type the text again) and resubmit."
        ]

    def test_the_names_of_characters(self):
        assert [character_name(c) for c in ("\u200b", "\u202e", "\ufeff", "\x1b", "\ud800")] == [
            "U+200B ZERO WIDTH SPACE",
            "U+202E RIGHT-TO-LEFT OVERRIDE",
            "U+FEFF ZERO WIDTH NO-BREAK SPACE",
            "U+001B CONTROL CHARACTER",
            "U+D800 SURROGATE",
        ]

    def test_free_text_keeps_tabs_and_line_breaks_names_do_not(self):
        assert refuse_invisible("第一行\n第二行\t完") == "第一行\n第二行\t完"
        with pytest.raises(ValidationError) as refused:
            refuse_invisible("腾\n讯", single_line=True)
        assert "U+000A LINE FEED" in refused.value.messages[0]

    def test_visible_text_of_every_script_passes(self):
        text = "深圳市腾讯计算机系统有限公司 Tencent Café — «ＡＢＣ» ①②③ 😀\u3000全角空格"
        assert refuse_invisible(text, single_line=True) == text

    def test_a_nul_keeps_its_message(self):
        with pytest.raises(ValidationError) as refused:
            refuse_invisible("a\x00b")
        assert refused.value.messages == ["Null characters are not allowed."]


class TestEveryDoorRefusesInvisibleCharacters:
    def test_api_entity_name_with_a_zero_width_space(self, department, token_for):
        api = token_for(department, "entities:write")
        before = footprint()
        response = post_json(
            api,
            "/api/v1/entities/",
            {"code": f.uscc(n=77), "name_zh": "腾\u200b讯科技有限公司", "division": "440305"},
        )
        assert response.status_code == 400
        assert response.json()["errors"] == {"name_zh": [ZWSP]}
        assert footprint() == before

    def test_staff_form_entity_name_with_a_zero_width_space(self, client_for, clerk):
        before = footprint()
        response = client_for(clerk).post(
            "/staff/entities/new/",
            {
                "code": f.uscc(n=78),
                "name_zh": "腾\u200b讯科技有限公司",
                "division": "440305",
                "status": "active",
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors["name_zh"] == [ZWSP]
        assert footprint() == before

    def test_a_persons_name_with_a_bidirectional_override(self, department, token_for):
        api = token_for(department, "entities:write")
        before = footprint()
        response = post_json(
            api,
            "/api/v1/entities/",
            {
                "code": f.uscc(n=79),
                "name_zh": "深圳市测试有限公司",
                "division": "440305",
                "legal_representative": {"name": "马某\u202e某", "id_number": f.resident_id()},
            },
        )
        assert response.status_code == 400
        assert response.json()["errors"] == {
            "legal_representative.name": [
                "Contains an invisible character, U+202E RIGHT-TO-LEFT OVERRIDE, at position 3: delete it (or type the text again) and resubmit."
            ]
        }
        assert footprint() == before

    def test_api_record_content_with_a_bidirectional_override(self, api, entity):
        before = footprint()
        response = post_json(api, "/api/v1/records/", api_record_body(entity, content="罚款\u202e5.5万元"))
        assert response.status_code == 400
        assert response.json()["errors"] == {"content": [RLO]}
        assert footprint() == before

    def test_api_record_party_name_refuses_a_line_break(self, api, entity):
        response = post_json(api, "/api/v1/records/", api_record_body(entity, party_name="腾讯\n公司"))
        assert response.json()["errors"]["party_name"] == [
            "Contains an invisible character, U+000A LINE FEED, at position 3: delete it (or type the text again) and resubmit."
        ]

    def test_structured_fields_refuse_invisible_characters(self, api, entity):
        body = api_record_body(entity)
        body["fields"]["facts"] = "销\u2066售不合格产品"
        response = post_json(api, "/api/v1/records/", body)
        assert response.json()["errors"] == {
            "fields.facts": [
                "Contains an invisible character, U+2066 LEFT-TO-RIGHT ISOLATE, at position 2: delete it (or type the text again) and resubmit."
            ]
        }
        assert not CreditRecord.objects.exists()

    def test_staff_record_form_legal_basis_with_a_zero_width_joiner(self, client_for, reviewer, entity):
        before = footprint()
        response = client_for(reviewer).post(
            "/staff/records/new/?item=admin_punishment", form_data(entity, legal_basis="《\u200d产品质量法》")
        )
        assert response.status_code == 200
        assert response.context["form"].errors["legal_basis"] == [
            "Contains an invisible character, U+200D ZERO WIDTH JOINER, at position 2: delete it (or type the text again) and resubmit."
        ]
        assert footprint() == before

    def test_an_import_row_with_a_zero_width_space_in_the_party_name_is_refused_alone(self, reviewer, entity):
        content = csv_bytes([row(entity, "Z-1"), row(entity, "Z-2", 行政相对人名称="腾\u200b讯")])
        job = run_import(actor_for_user(reviewer), content)
        assert outcome(job) == ("done", 2, 2, 1, 0, 1)
        assert rejected(job) == {3: {"行政相对人名称": [ZWSP]}}

    def test_a_reason_for_revocation_with_a_byte_order_mark(self, api, record):
        response = post_json(api, f"/api/v1/records/{record.pk}/revoke/", {"reason": "复议\ufeff撤销"})
        assert response.status_code == 400
        assert response.json()["errors"] == {
            "reason": [
                "Contains an invisible character, U+FEFF ZERO WIDTH NO-BREAK SPACE, at position 3: delete it (or type the text again) and resubmit."
            ]
        }
        record.refresh_from_db()
        assert record.status == "effective"

    def test_api_complaint_with_a_bidirectional_override(self, department, token_for):
        api = token_for(department, "complaints:write")
        before = footprint()
        response = post_json(
            api,
            "/api/v1/complaints/",
            {
                "external_reference": "HOT-9",
                "kind": "complaint",
                "entity_name": "深圳市测试有限公司",
                "department": department.code,
                "description": "出售\u202e过期食品",
            },
        )
        assert response.status_code == 400
        assert response.json()["errors"] == {"description": [RLO]}
        assert footprint() == before

    def test_public_complaint_form_entity_name_with_a_zero_width_space(self, client_for, department):
        before = footprint()
        response = client_for(None).post(
            "/complaints/new/",
            {
                "submission_key": submission_key_issue("public.complaint"),
                "kind": "complaint",
                "entity_name": "腾\u200b讯",
                "department": department.code,
                "description": "出售过期食品",
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors["entity_name"] == [ZWSP]
        assert footprint() == before

    def test_public_objection_grounds_with_an_isolate(self, record, client_for):
        before = footprint()
        response = client_for(None).post(
            "/objections/new/",
            {
                "submission_key": submission_key_issue("public.objection"),
                "record": record.pk,
                "name": "王某某",
                "id_number": f.resident_id(birth="19880512", seq="271"),
                "contact": "13812345678",
                "grounds": "我\u2067并非当事人。",
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors["grounds"] == [
            "Contains an invisible character, U+2067 RIGHT-TO-LEFT ISOLATE, at position 2: delete it (or type the text again) and resubmit."
        ]
        assert footprint() == before

    def test_my_objection_grounds_with_a_word_joiner(self, record, entity_user, client_for):
        before = footprint()
        response = client_for(entity_user).post(
            f"/my/objections/new/{record.pk}/",
            {"submission_key": submission_key_issue("my.objection"), "grounds": "金\u2060额有误"},
        )
        assert response.status_code == 200
        assert response.context["form"].errors["grounds"] == [
            "Contains an invisible character, U+2060 WORD JOINER, at position 2: delete it (or type the text again) and resubmit."
        ]
        assert footprint() == before

    def test_a_public_pledge_with_a_zero_width_space(self, client_for, entity_user, entity):
        from pledges.models import Pledge

        response = client_for(entity_user).post(
            "/my/pledges/public/new/",
            {
                "entity": entity.code,
                "text": "本企业\u200b承诺守法经营。",
                "signer_name": "企业用户",
                "confirmed": "on",
            },
        )
        assert response.status_code == 400
        assert (
            "Contains an invisible character, U+200B ZERO WIDTH SPACE, at position 4: delete it (or type the text again) and resubmit."
            in response.content.decode()
        )
        assert not Pledge.objects.exists()

    def test_a_name_without_the_invisible_character_is_found_by_search(self, department, token_for):
        """The reason for refusing: with the character removed, the name is found."""
        api = token_for(department, "entities:write,entities:read")
        code = f.uscc(n=80)
        refused = post_json(
            api,
            "/api/v1/entities/",
            {"code": code, "name_zh": "腾\u200b讯科技有限公司", "division": "440305"},
        )
        assert refused.status_code == 400
        created = post_json(
            api, "/api/v1/entities/", {"code": code, "name_zh": "腾讯科技有限公司", "division": "440305"}
        )
        assert created.status_code == 201
        found = api.get("/api/v1/entities/", {"q": "腾讯"}).json()["results"]
        assert [e["code"] for e in found] == [code]

    def test_the_credit_offices_rule_and_calendar_texts_refuse_invisible_characters(self, credit_officer):
        from credit_portal.workdays import services as workdays
        from credit_portal.workdays.models import CalendarDay

        actor = actor_for_user(credit_officer)
        rules = DeadlineRule.objects.count()
        with pytest.raises(ValidationError) as refused:
            workdays.deadline_rule_set(
                actor=actor,
                key="disclosure.publish",
                working_days=7,
                effective_from=date(2027, 1, 1),
                basis_zh="依\u202e据",
                basis_en="Basis",
            )
        assert refused.value.message_dict == {
            "basis_zh": [
                "Contains an invisible character, U+202E RIGHT-TO-LEFT OVERRIDE, at position 2: delete it (or type the text again) and resubmit."
            ]
        }
        with pytest.raises(ValidationError) as refused:
            workdays.calendar_day_set(actor=actor, day=date(2027, 1, 1), kind="holiday", name_zh="元\u200b旦")
        assert refused.value.message_dict == {"name_zh": [ZWSP]}
        assert (DeadlineRule.objects.count(), CalendarDay.objects.count()) == (rules, 0)


def test_accounts_refuse_invisible_characters_in_names(department):
    from django.core.exceptions import ValidationError as DjangoValidationError

    from credit_portal.accounts.actors import system_actor
    from credit_portal.accounts.models import ApiToken, Division
    from credit_portal.accounts.services import department_create, token_issue
    from credit_portal.web.forms import SignUpForm, TokenIssueForm

    with pytest.raises(DjangoValidationError) as exc:
        department_create(
            actor=system_actor("tests"), code="ZW-TEST", name_zh="深圳\u200b市场监管局",
            division=Division.objects.get(code="440300"), level="municipal",
        )  # fmt: skip
    assert "U+200B" in str(exc.value)
    with pytest.raises(DjangoValidationError):
        token_issue(
            actor=system_actor("tests"), department=department, scopes=["records:read"], name="A\u202eB"
        )
    assert not ApiToken.objects.exists()
    signup = SignUpForm(
        {"full_name": "张\u200d三", "email": "a@example.org", "password1": "x", "password2": "x"}
    )
    assert not signup.is_valid() and "U+200D" in str(signup.errors["full_name"])
    token = TokenIssueForm({"name": "接口\ufeff", "scopes": ["records:read"]})
    assert not token.is_valid() and "name" in token.errors
