"""The staff door for records and the catalogue."""

import json
from datetime import date

import pytest

from credit_portal.accounts.actors import actor_for_user
from credit_portal.audit.models import AuditEvent
from records import services
from records.models import CatalogueItem, CreditRecord, DisclosurePeriodRule, RecordChange
from tests import factories as f
from tests.test_records import punishment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(today):
    """The decisions in these tests are dated in 2026 and their disclosure periods are counted from
    them: run on a fixed day after them, not on whatever day the suite runs."""
    today(date(2026, 12, 4), tick=True)


def form_data(entity, number="深市监罚〔2026〕77号", **overrides):
    data = {
        "item": "admin_punishment",
        "code": entity.code,
        "decision_number": number,
        "decision_date": "2026-09-30",
        "legal_basis": "《产品质量法》第四十九条",
        "severity": "general",
        "content": "罚款2万元",
        "f_party_category": "legal_person",
        "f_facts": "销售不合格产品",
        "f_punishment_category": "fine",
        "f_fine_amount": "2",
        "f_legal_rep_id_number": f.resident_id(),
    }
    data.update(overrides)
    return data


class TestRecording:
    def test_clerk_records_a_draft_and_a_reviewer_confirms_it(self, client_for, clerk, reviewer, entity):
        response = client_for(clerk).post("/staff/records/new/?item=admin_punishment", form_data(entity))
        assert response.status_code == 302, response.context and response.context["form"].errors
        record = CreditRecord.objects.get()
        assert (record.status, record.provenance, record.department_id) == (
            "draft",
            "form",
            clerk.department_id,
        )
        page = client_for(reviewer).get(f"/staff/records/{record.pk}/").content.decode()
        assert "Confirm this draft" in page
        assert f.resident_id() not in page
        assert client_for(reviewer).post(f"/staff/records/{record.pk}/confirm/").status_code == 302
        record.refresh_from_db()
        assert record.status == "effective"

    def test_form_shows_every_service_error_on_its_field(self, client_for, clerk, entity):
        response = client_for(clerk).post(
            "/staff/records/new/?item=admin_punishment",
            form_data(entity, code="91440300MA5D1234X0", f_fine_amount="abc", f_legal_rep_id_number="12"),
        )
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {"code", "f_fine_amount", "f_legal_rep_id_number"}
        assert not CreditRecord.objects.exists()

    def test_duplicate_decision_number_is_a_field_error(self, client_for, reviewer, entity):
        client = client_for(reviewer)
        client.post("/staff/records/new/?item=admin_punishment", form_data(entity))
        response = client.post("/staff/records/new/?item=admin_punishment", form_data(entity))
        assert "decision_number" in response.context["form"].errors
        assert CreditRecord.objects.count() == 1

    def test_correct_and_revoke_through_the_pages(self, client_for, reviewer, entity):
        client = client_for(reviewer)
        client.post("/staff/records/new/?item=admin_punishment", form_data(entity))
        record = CreditRecord.objects.get()
        response = client.post(
            f"/staff/records/{record.pk}/correct/",
            form_data(entity, content="罚款1万元", f_fine_amount="1", reason="金额更正"),
        )
        assert response.status_code == 302, response.context["form"].errors
        record.refresh_from_db()
        assert (record.version, record.content, record.status) == (2, "罚款1万元", "corrected")
        response = client.post(
            f"/staff/records/{record.pk}/revoke/", {"revoked_on": "2026-11-02", "reason": "撤销"}
        )
        assert response.status_code == 302
        record.refresh_from_db()
        assert record.status == "revoked"
        page = client.get(f"/staff/records/{record.pk}/").content.decode()
        assert "records.record.revoked" in page and "金额更正" in page

    def test_other_department_sees_the_record_but_cannot_change_it(
        self, client_for, reviewer, other_department_reviewer, entity
    ):
        record = services.record_create(
            actor=actor_for_user(reviewer), data=punishment(entity), provenance="api"
        )
        client = client_for(other_department_reviewer)
        page = client.get(f"/staff/records/{record.pk}/")
        assert page.status_code == 200
        assert "Correct" not in page.content.decode().split("<h2>History")[0].split("Disclosure")[-1]
        before = (RecordChange.objects.count(), AuditEvent.objects.count())
        assert (
            client.post(
                f"/staff/records/{record.pk}/revoke/", {"revoked_on": "2026-11-02", "reason": "x"}
            ).status_code
            == 404
        )
        assert client.get(f"/staff/records/{record.pk}/correct/").status_code == 404
        record.refresh_from_db()
        assert record.status == "effective"
        assert (RecordChange.objects.count(), AuditEvent.objects.count()) == before
        assert client.get("/staff/records/").context["page_obj"].paginator.count == 0

    @pytest.mark.parametrize(("who", "status"), [("entity_user", 403), (None, 302)])
    def test_only_staff_reach_the_records(self, client_for, request, who, status, entity):
        user = request.getfixturevalue(who) if who else None
        assert client_for(user).get("/staff/records/").status_code == status
        assert (
            client_for(user).post("/staff/records/new/?item=admin_punishment", form_data(entity)).status_code
            == status
        )
        assert not CreditRecord.objects.exists()

    def test_list_queries_do_not_grow_with_rows(
        self, client_for, reviewer, entity, django_assert_max_num_queries
    ):
        actor = actor_for_user(reviewer)
        for n in range(30):
            services.record_create(actor=actor, data=punishment(entity, f"Q-{n}"), provenance="api")
        client = client_for(reviewer)
        with django_assert_max_num_queries(8):
            response = client.get("/staff/records/")
        assert len(response.context["page_obj"]) == 30


class TestCatalogue:
    def test_everyone_on_staff_reads_the_catalogue(self, client_for, clerk):
        page = client_for(clerk).get("/staff/catalogue/")
        assert page.status_code == 200
        assert len(page.context["items"]) == 21  # the national catalogue, pledge breaches apart
        assert client_for(clerk).get("/staff/catalogue/admin_punishment/").status_code == 403

    def test_credit_office_edits_an_item_and_it_is_audited(self, client_for, credit_officer, department):
        item = CatalogueItem.objects.get(code="honours")
        client = client_for(credit_officer)
        fields = [
            {
                "key": "honour_name",
                "label_zh": "荣誉名称",
                "label_en": "Honour",
                "type": "text",
                "required": True,
            }
        ]
        response = client.post(
            "/staff/catalogue/honours/",
            {
                "name_zh": item.name_zh,
                "name_en": item.name_en,
                "polarity": "positive",
                "use_scope": "public",
                "period_kind": "fixed",
                "fixed_months": "36",
                "recording_departments": [department.pk],
                "is_active": "on",
                "fields": json.dumps(fields, ensure_ascii=False),
            },
        )
        assert response.status_code == 302, response.context["form"].errors
        item.refresh_from_db()
        assert (item.period_kind, item.fixed_months, item.fields[0]["key"]) == ("fixed", 36, "honour_name")
        assert list(item.recording_departments.all()) == [department]
        event = AuditEvent.objects.get(action="records.catalogue.updated")
        assert event.after["recording_departments"] == [department.code]

    def test_bad_field_definitions_are_refused(self, client_for, credit_officer):
        client = client_for(credit_officer)
        item = CatalogueItem.objects.get(code="honours")
        base = {
            "name_zh": item.name_zh, "name_en": item.name_en, "polarity": "positive", "use_scope": "public",
            "period_kind": "validity", "is_active": "on",
        }  # fmt: skip
        for bad in [
            "{not json",
            json.dumps([{"key": "Bad Key", "label_zh": "x", "label_en": "x"}]),
            json.dumps([{"key": "a", "label_zh": "x", "label_en": "x", "type": "choice"}]),
        ]:
            response = client.post("/staff/catalogue/honours/", {**base, "fields": bad})
            assert response.status_code == 200
            assert "fields" in response.context["form"].errors
        assert not AuditEvent.objects.filter(action="records.catalogue.updated").exists()

    def test_a_department_outside_the_list_may_not_record_the_item(
        self, client_for, credit_officer, other_department, reviewer, entity
    ):
        item = CatalogueItem.objects.get(code="admin_punishment")
        item.recording_departments.set([other_department])
        response = client_for(reviewer).post("/staff/records/new/?item=admin_punishment", form_data(entity))
        # Refused before the form: the chooser again, with the reason, without the item.
        assert response.status_code == 403
        page = response.content.decode()
        assert "Your department may not record this catalogue item." in page
        assert 'href="?item=admin_punishment' not in page
        assert not CreditRecord.objects.exists()

    def test_new_period_rule_applies_from_its_date(self, client_for, credit_officer, reviewer, entity):
        response = client_for(credit_officer).post(
            "/staff/catalogue/",
            {
                "effective_from": "2027-01-01", "severity": "general", "min_months": "3", "max_months": "6",
                "published_by_default": "on", "restorable": "on", "basis_zh": "新规则", "basis_en": "New rule",
            },
        )  # fmt: skip
        assert response.status_code == 302
        assert DisclosurePeriodRule.objects.filter(effective_from=date(2027, 1, 1)).exists()
        actor = actor_for_user(reviewer)
        old = services.record_create(actor=actor, data=punishment(entity, "P-1"), provenance="api")
        assert old.disclosure_ends_on == date(2027, 9, 30)

    def test_clerk_cannot_add_a_rule(self, client_for, clerk):
        before = DisclosurePeriodRule.objects.count()
        response = client_for(clerk).post(
            "/staff/catalogue/", {"effective_from": "2027-01-01", "severity": "general"}
        )
        assert response.status_code == 403
        assert DisclosurePeriodRule.objects.count() == before
