"""Stop sharing, not only stop publishing.

A record that no longer stands — revoked, expired (its disclosure period ended) or restored — keeps
its status, identifiers and dates for other departments, through the API, the change feed (its
older entries included) and the staff pages, but not its content; its recording department (and
the credit office) keep everything. Live records are shared as before. And the public never sees
the identity numbers of the persons behind an entity or a record, masked or not.

No service produces ``restored`` yet (restoration has no workflow so far): those records are set to
it with a queryset update, as the credit report tests do."""

from datetime import date

import pytest
from django.utils import timezone

from credit_portal.accounts.actors import actor_for_user, system_actor
from records import services
from records.fields import RecordInput
from records.identifiers import mask_identity_number
from records.models import CreditRecord, RecordChange
from records.services import publication
from records.visibility import SHARED_FIELDS, WITHHELD_FIELDS
from tests import factories as f

pytestmark = pytest.mark.django_db
SWEEP = system_actor("tests")
WITHHELD = ("revoked", "expired", "restored")
LANGUAGES = ("en", "zh-hans")
STATUS_LABELS = {
    "en": {"revoked": "Revoked", "expired": "Disclosure period ended", "restored": "Credit restored"},
    "zh-hans": {"revoked": "已撤销", "expired": "公示期满", "restored": "已完成信用修复"},
}


def decision(entity, number: str, **overrides) -> RecordInput:
    """A complete punishment decision whose every content value carries ``number``, so that a
    response can be searched for any trace of it."""
    data = {
        "item": "admin_punishment",
        "code": entity.code,
        "decision_number": number,
        "decision_date": date(2026, 9, 30),
        "legal_basis": f"《产品质量法》第四十九条（依据{number}）",
        "severity": "general",
        "content": f"罚款5万元（内容{number}）",
        "remarks": f"备注{number}",
        "fields": {
            "party_category": "legal_person",
            "facts": f"销售不合格产品（事实{number}）",
            "punishment_category": "fine",
            "fine_amount": "5",
            "legal_rep_name": "马某某",
            "legal_rep_id_type": "resident_id",
            "legal_rep_id_number": f.resident_id(),
        },
    }
    data.update(overrides)
    return RecordInput(**data)


def traces(number: str) -> list[str]:
    """What of a record's content (and of its correction) must not reach another department."""
    return [f"依据{number}", f"内容{number}", f"备注{number}", f"事实{number}", f"更正{number}"]


def record_with_history(actor, entity, number: str, **overrides) -> CreditRecord:
    """Created, then corrected: two feed entries that carry content before the record stops standing."""
    record = services.record_create(actor=actor, data=decision(entity, number, **overrides), provenance="api")
    corrected = decision(entity, number, **overrides)
    corrected.content = f"罚款3万元（内容{number}）"
    return services.record_correct(
        actor=actor, record_id=record.pk, data=corrected, reason=f"金额有误（更正{number}）"
    )


@pytest.fixture
def records(today, reviewer, entity):
    """One live record and one of each status that is no longer shared, all of ``department``."""
    today(date(2026, 10, 20))
    actor = actor_for_user(reviewer)
    made = {
        "live": record_with_history(actor, entity, "LIVE-1"),
        "revoked": record_with_history(actor, entity, "REV-1"),
        # A 3-month period: the sweep ends it while the others stay published.
        "expired": record_with_history(actor, entity, "EXP-1", disclosure_months=3),
        "restored": record_with_history(actor, entity, "RST-1"),
    }
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 20))
    services.record_revoke(actor=actor, record_id=made["revoked"].pk, reason="复议撤销")
    assert publication.end_due(actor=SWEEP, today=date(2027, 1, 4)) == [made["expired"].pk]
    CreditRecord.objects.filter(pk=made["restored"].pk).update(
        status=CreditRecord.Status.RESTORED,
        disclosure=CreditRecord.Disclosure.WITHDRAWN,
        withdrawn_at=timezone.now(),
    )
    for key, record in made.items():
        record.refresh_from_db()
        assert record.status == ("corrected" if key == "live" else key)  # corrected is a live status
    return made


@pytest.fixture
def own(token_for, department):
    return token_for(department, "records:read")


@pytest.fixture
def other(token_for, other_department):
    return token_for(other_department, "records:read")


def withheld_view(full: dict) -> dict:
    return {**full, **dict.fromkeys(WITHHELD_FIELDS), "content_withheld": True}


# --- the agency API: detail, list --------------------------------------------------------------


class TestRecordsApi:
    @pytest.mark.parametrize("status", WITHHELD)
    def test_another_department_gets_status_identifiers_and_dates_but_no_content(
        self, records, own, other, status
    ):
        record = records[status]
        full = own.get(f"/api/v1/records/{record.pk}/")
        shared = other.get(f"/api/v1/records/{record.pk}/")
        assert (full.status_code, shared.status_code) == (200, 200)
        assert shared.json() == withheld_view(full.json())
        body = shared.json()
        assert (body["id"], body["decision_number"], body["status"], body["entity"], body["department"]) == (
            record.pk, record.decision_number, status, record.entity.code, record.department.code
        )  # fmt: skip
        assert (body["decision_date"], body["party_name"]) == ("2026-09-30", record.party_name)
        assert body["disclosure_ends_on"] == record.disclosure_ends_on.isoformat()
        assert body["published_at"] is not None
        assert body["withdrawn_at"] is not None
        for trace in traces(record.decision_number):
            assert trace not in shared.content.decode()

    @pytest.mark.parametrize("status", WITHHELD)
    def test_the_recording_department_keeps_everything(self, records, own, status):
        record = records[status]
        body = own.get(f"/api/v1/records/{record.pk}/").json()
        assert body["content_withheld"] is False
        assert (body["legal_basis"], body["severity"], body["content"], body["remarks"]) == (
            record.legal_basis, "general", f"罚款3万元（内容{record.decision_number}）", record.remarks
        )  # fmt: skip
        assert body["fields"]["facts"] == f"销售不合格产品（事实{record.decision_number}）"
        assert body["fields"]["legal_rep_id_number"] == mask_identity_number(f.resident_id())

    @pytest.mark.parametrize("status", WITHHELD)
    def test_the_credit_office_reads_everything_through_the_api_too(
        self, records, own, client_for, credit_officer, status
    ):
        pk = records[status].pk
        body = client_for(credit_officer).get(f"/api/v1/records/{pk}/").json()
        assert body == own.get(f"/api/v1/records/{pk}/").json()
        assert body["content_withheld"] is False

    def test_live_records_are_shared_in_full_with_everyone(self, records, own, other):
        record = records["live"]
        full = own.get(f"/api/v1/records/{record.pk}/").json()
        assert other.get(f"/api/v1/records/{record.pk}/").json() == full
        assert full["content_withheld"] is False
        assert full["content"] == "罚款3万元（内容LIVE-1）"
        assert full["fields"]["fine_amount"] == "5"

    def test_the_list_withholds_row_by_row(self, records, own, other, entity):
        def rows(client):
            response = client.get("/api/v1/records/", {"entity": entity.code})
            assert response.status_code == 200
            return {r["decision_number"]: r for r in response.json()["results"]}

        mine, theirs = rows(own), rows(other)
        assert set(theirs) == set(mine) == {"LIVE-1", "REV-1", "EXP-1", "RST-1"}
        assert theirs["LIVE-1"] == mine["LIVE-1"]
        assert mine["LIVE-1"]["content_withheld"] is False
        for number in ("REV-1", "EXP-1", "RST-1"):
            assert theirs[number] == withheld_view(mine[number])
            assert mine[number]["content"] == f"罚款3万元（内容{number}）"

    def test_a_department_keeps_its_own_withheld_records_while_others_are_withheld_from_it(
        self, records, token_for, other_department, other_department_reviewer, entity
    ):
        theirs = record_with_history(actor_for_user(other_department_reviewer), entity, "GZ-REV-1")
        services.record_revoke(
            actor=actor_for_user(other_department_reviewer), record_id=theirs.pk, reason="撤销"
        )
        rows = (
            token_for(other_department, "records:read").get("/api/v1/records/", {"status": "revoked"}).json()
        )
        by_number = {r["decision_number"]: r for r in rows["results"]}
        assert set(by_number) == {"REV-1", "GZ-REV-1"}
        assert by_number["GZ-REV-1"]["content"] == "罚款3万元（内容GZ-REV-1）"
        assert by_number["GZ-REV-1"]["content_withheld"] is False
        assert by_number["REV-1"]["content"] is None
        assert by_number["REV-1"]["content_withheld"] is True

    def test_the_list_costs_the_same_queries_for_many_rows(
        self, records, other, reviewer, entity, django_assert_max_num_queries
    ):
        actor = actor_for_user(reviewer)
        for n in range(20):
            record = services.record_create(actor=actor, data=decision(entity, f"MANY-{n}"), provenance="api")
            if n % 2:
                services.record_revoke(actor=actor, record_id=record.pk, reason="撤销")
        with django_assert_max_num_queries(4):  # 3 today: the token, its last use, one page
            response = other.get("/api/v1/records/", {"entity": entity.code})
        results = response.json()["results"]
        assert len(results) == 24
        assert sum(r["content_withheld"] for r in results) == 13

    def test_the_representation_has_no_key_that_is_neither_shared_nor_withheld(self, records, other):
        # A field added to the serializer must be placed on one side or the other deliberately.
        body = other.get(f"/api/v1/records/{records['revoked'].pk}/").json()
        assert set(body) <= SHARED_FIELDS | set(WITHHELD_FIELDS)
        assert set(WITHHELD_FIELDS) <= set(body)

    def test_the_schema_says_the_content_may_be_null(self, client):
        schema = client.get("/api/schema/", {"format": "json"}).json()
        record = schema["components"]["schemas"]["Record"]["properties"]
        for name in WITHHELD_FIELDS:
            assert record[name]["nullable"] is True, name
            assert "content_withheld" in record[name]["description"], name
        assert record["content_withheld"]["type"] == "boolean"
        entry = schema["components"]["schemas"]["ChangeFeedEntry"]["properties"]
        assert entry["content_withheld"]["type"] == "boolean"
        assert "null" in entry["data"]["description"]


# --- the change feed --------------------------------------------------------------------------


def feed(client, **params) -> dict:
    response = client.get("/api/v1/changes/", {"cursor": 0, **params})
    assert response.status_code == 200
    return response.json()


class TestChangeFeed:
    @pytest.mark.parametrize("status", WITHHELD)
    def test_no_entry_of_a_withheld_record_carries_its_content_old_ones_included(
        self, records, own, other, status
    ):
        record = records[status]
        mine = [c for c in feed(own)["changes"] if c["record"] == record.pk]
        theirs = [c for c in feed(other)["changes"] if c["record"] == record.pk]
        expected_kinds = {
            "revoked": ["created", "corrected", "revoked"],
            "expired": ["created", "corrected", "expired"],
            "restored": ["created", "corrected"],  # set by an update: no service emits it yet
        }[status]
        assert [c["kind"] for c in theirs] == [c["kind"] for c in mine] == expected_kinds
        for entry_mine, entry_theirs in zip(mine, theirs, strict=True):
            assert entry_mine["content_withheld"] is False
            assert entry_theirs["content_withheld"] is True
            assert {k: v for k, v in entry_theirs.items() if k not in ("data", "content_withheld")} == {
                k: v for k, v in entry_mine.items() if k not in ("data", "content_withheld")
            }
            assert entry_theirs["data"] == {**entry_mine["data"], **dict.fromkeys(WITHHELD_FIELDS)}
            assert entry_theirs["data"]["decision_number"] == record.decision_number
        assert mine[0]["data"]["content"] == f"罚款5万元（内容{record.decision_number}）"
        assert mine[1]["data"]["content"] == f"罚款3万元（内容{record.decision_number}）"
        text = other.get("/api/v1/changes/", {"cursor": 0}).content.decode()
        for trace in traces(record.decision_number):
            assert trace not in text

    def test_live_records_entries_are_unchanged_for_everyone(self, records, own, other):
        pk = records["live"].pk
        mine = [c for c in feed(own)["changes"] if c["record"] == pk]
        theirs = [c for c in feed(other)["changes"] if c["record"] == pk]
        assert theirs == mine
        assert [(c["kind"], c["content_withheld"], c["data"]["content"]) for c in mine] == [
            ("created", False, "罚款5万元（内容LIVE-1）"),
            ("corrected", False, "罚款3万元（内容LIVE-1）"),
        ]

    def test_the_cursor_walks_the_same_entries_for_every_department(self, records, own, other):
        def walk(client) -> list[tuple]:
            pages, cursor = [], 0
            while True:
                page = feed(client, cursor=cursor, limit=3)
                pages.append(
                    ([(c["id"], c["kind"], c["record"], c["version"]) for c in page["changes"]],
                     page["next_cursor"], page["has_more"])
                )  # fmt: skip
                if not page["has_more"]:
                    return pages
                cursor = page["next_cursor"]

        mine = walk(own)
        assert walk(other) == mine
        ids = [entry[0] for page in mine for entry in page[0]]
        assert ids == sorted(RecordChange.objects.values_list("id", flat=True))
        assert len(ids) == 10  # four created, four corrected, one revoked, one expired
        assert mine[-1][1] == ids[-1]
        assert feed(other, cursor=ids[-1]) == {"changes": [], "next_cursor": ids[-1], "has_more": False}

    def test_the_feed_costs_the_same_queries_for_many_entries(
        self, records, other, reviewer, entity, django_assert_max_num_queries
    ):
        actor = actor_for_user(reviewer)
        for n in range(20):
            record = services.record_create(actor=actor, data=decision(entity, f"MANY-{n}"), provenance="api")
            services.record_revoke(actor=actor, record_id=record.pk, reason="撤销")
        with django_assert_max_num_queries(4):  # 3 today: the token, its last use, one page
            page = feed(other, limit=1000)
        assert len(page["changes"]) == 50
        assert sum(c["content_withheld"] for c in page["changes"]) == 48  # all but the live record's two


# --- the staff pages --------------------------------------------------------------------------


class TestStaffRecordPage:
    @pytest.mark.parametrize("status", WITHHELD)
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_another_departments_staff_see_what_became_of_it_not_its_content(
        self, records, client_for, other_department_reviewer, status, language
    ):
        record = records[status]
        response = client_for(other_department_reviewer).get(
            f"/staff/records/{record.pk}/", HTTP_ACCEPT_LANGUAGE=language
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert record.decision_number in html
        assert STATUS_LABELS[language][status] in html
        assert response.context["content_withheld"] is True
        assert response.context["structured"] == []
        for trace in traces(record.decision_number):
            assert trace not in html
        # The notice's Chinese text is in the catalogue once merged; the English one is its msgid.
        if language == "en":
            assert "its content is no longer shared with other departments" in html

    @pytest.mark.parametrize("status", WITHHELD)
    @pytest.mark.parametrize("who", ["reviewer", "clerk", "credit_officer"])
    def test_the_recording_department_and_the_credit_office_see_everything(
        self, request, records, client_for, status, who
    ):
        record = records[status]
        response = client_for(request.getfixturevalue(who)).get(f"/staff/records/{record.pk}/")
        assert response.status_code == 200
        html = response.content.decode()
        assert response.context["content_withheld"] is False
        for trace in traces(record.decision_number):
            assert trace in html, trace

    def test_live_records_are_shown_in_full_to_other_departments(
        self, records, client_for, other_department_reviewer
    ):
        html = (
            client_for(other_department_reviewer)
            .get(f"/staff/records/{records['live'].pk}/")
            .content.decode()
        )
        for trace in traces("LIVE-1"):
            assert trace in html, trace


# --- the public never sees identity numbers ---------------------------------------------------


@pytest.fixture
def published(today, reviewer, entity):
    today(date(2026, 10, 20))
    record = services.record_create(
        actor=actor_for_user(reviewer), data=decision(entity, "PUB-1"), provenance="api"
    )
    publication.publish_due(actor=SWEEP, today=date(2026, 10, 20))
    record.refresh_from_db()
    assert record.disclosure == CreditRecord.Disclosure.PUBLISHED
    assert record.fields["legal_rep_id_number"]["masked"] == mask_identity_number(f.resident_id())
    return record


def assert_no_identity_number(text: str, number: str) -> None:
    assert number not in text
    assert mask_identity_number(number) not in text
    assert number[:4] + "**" not in text


class TestPublicIdentityNumbers:
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_the_public_profile_names_the_legal_representative_without_a_number(
        self, client, entity, legal_rep_id, published, language
    ):
        response = client.get(f"/entities/{entity.code}/", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        html = response.content.decode()
        assert "马某某" in html
        assert {"en": "Legal representative", "zh-hans": "法定代表人"}[language] in html
        assert "PUB-1" in html
        assert_no_identity_number(html, legal_rep_id)

    @pytest.mark.parametrize("language", LANGUAGES)
    def test_the_public_record_page_has_no_identity_number_nor_document_type(
        self, client, published, language
    ):
        response = client.get(f"/records/{published.pk}/", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        html = response.content.decode()
        assert "马某某" in html
        assert "销售不合格产品（事实PUB-1）" in html
        assert_no_identity_number(html, f.resident_id())
        for label in (
            "Legal representative's identity",
            "Resident identity card",
            "法定代表人证件",
            "居民身份证",
        ):
            assert label not in html
        assert [label for label, _ in response.context["fields"]][:2] == [
            {"en": "Party category", "zh-hans": "行政相对人类别"}[language],
            {"en": "Legal representative", "zh-hans": "法定代表人"}[language],
        ]

    @pytest.mark.parametrize("language", LANGUAGES)
    def test_the_public_objection_form_shows_the_record_without_an_identity_number(
        self, client, published, language
    ):
        response = client.get("/objections/new/", {"record": published.pk}, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        html = response.content.decode()
        assert "PUB-1" in html and "马某某" in html
        assert_no_identity_number(html, f.resident_id())

    @pytest.mark.parametrize("language", LANGUAGES)
    def test_the_public_api_has_no_identity_number(self, client, published, language):
        response = client.get("/api/v1/public/records/", {"q": "PUB-1"}, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        [row] = response.json()["results"]
        assert row["decision_number"] == "PUB-1"
        assert row["fields"]["legal_rep_name"] == "马某某"
        assert "legal_rep_id_number" not in row["fields"]
        assert "legal_rep_id_type" not in row["fields"]
        assert_no_identity_number(response.content.decode(), f.resident_id())

    def test_staff_and_the_entitys_members_still_see_the_masked_number(
        self, client_for, entity, legal_rep_id, other_department_reviewer, entity_user, published
    ):
        masked = mask_identity_number(legal_rep_id)
        staff = client_for(other_department_reviewer).get(f"/staff/entities/{entity.code}/").content.decode()
        member = client_for(entity_user).get(f"/my/entities/{entity.code}/").content.decode()
        staff_record = client_for(other_department_reviewer).get(f"/staff/records/{published.pk}/")
        for html in (staff, member, staff_record.content.decode()):
            assert masked in html
            assert legal_rep_id not in html


class TestCreditReports:
    """A credit report is a door too: another department's or agency's report on the entity lists a
    record that no longer stands with its identifiers, dates and status, not its content."""

    def _document(self, actor, entity):
        from disclosure.models import CreditReport
        from disclosure.reports import services as reports

        report = reports.report_request(actor=actor, code=entity.code, today=date(2026, 10, 20))
        return reports.build_rendition(CreditReport.objects.get(pk=report.pk)).document

    def _lines(self, document):
        return {
            line["decision_number"]: line
            for section in document["sections"].values()
            for line in section.get("records", [])
        }

    def test_another_departments_report_carries_no_content_of_an_expired_record(
        self, records, other_department_reviewer, entity
    ):
        lines = self._lines(self._document(actor_for_user(other_department_reviewer), entity))
        expired = lines[records["expired"].decision_number]
        assert (expired["legal_basis"], expired["content"], expired["severity"], expired["fields"]) == (
            "",
            "",
            None,
            [],
        )
        assert "content_withheld" in expired["labels"] and expired["status"] == "expired"
        live = lines[records["live"].decision_number]
        assert live["content"] == records["live"].content and "content_withheld" not in live["labels"]

    def test_the_recording_departments_report_carries_everything(self, records, reviewer, entity):
        lines = self._lines(self._document(actor_for_user(reviewer), entity))
        expired = lines[records["expired"].decision_number]
        assert (
            expired["content"] == records["expired"].content and "content_withheld" not in expired["labels"]
        )
