"""Disclosure follows corrections and the catalogue: a corrected record stands exactly as if it had
been recorded with the corrected values; changing an item's use scope or period re-plans the
records already recorded under it; every decision is planned under a period rule (2019 notice,
NDRC Order 58, NDRC Order 36), never "published forever"."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from credit_portal.accounts.actors import actor_for_user, system_actor
from credit_portal.audit.models import AuditEvent
from disclosure.models import PublicIndexEntry
from records import services
from records.fields import RecordInput
from records.models import CatalogueItem, CreditRecord, DisclosurePeriodRule, RecordChange
from records.services import catalogue, publication

pytestmark = pytest.mark.django_db
SWEEP = system_actor("tests")


@pytest.fixture(autouse=True)
def _clock(today):
    today(date(2026, 11, 20))


@pytest.fixture
def reviewer_actor(reviewer):
    return actor_for_user(reviewer)


@pytest.fixture
def office(credit_officer):
    return actor_for_user(credit_officer)


def punishment(entity, number="深市监罚〔2026〕101号", decided=date(2026, 9, 30), **kw) -> RecordInput:
    return RecordInput(
        item=kw.pop("item", "admin_punishment"),
        code=entity.code,
        decision_number=number,
        decision_date=decided,
        legal_basis="《中华人民共和国产品质量法》第四十九条",
        severity=kw.pop("severity", "general"),
        content="罚款5.5万元",
        fields=kw.pop(
            "fields",
            {"party_category": "法人及非法人组织", "facts": "销售不合格产品", "punishment_category": "罚款"},
        ),
        **kw,
    )


def published(actor, entity, on: date, **kw) -> CreditRecord:
    record = services.record_create(actor=actor, data=punishment(entity, **kw), provenance="api")
    publication.publish_due(actor=SWEEP, today=on)
    record.refresh_from_db()
    assert record.disclosure == "published"
    return record


def correct(actor, record, reason="更正", **changes) -> CreditRecord:
    data = punishment(record.entity, record.decision_number, **changes)
    return services.record_correct(actor=actor, record_id=record.pk, data=data, reason=reason)


def in_public_index(record) -> bool:
    return PublicIndexEntry.objects.filter(record_id=record.pk).exists()


class TestCorrectionReplans:
    def test_a_new_decision_date_moves_the_due_date_the_lateness_and_the_end(
        self, reviewer_actor, entity, today
    ):
        # Decided Wed 30 Sep (due Thu 15 Oct after the national holiday), published Tue 20 Oct.
        today(date(2026, 10, 20))
        record = published(reviewer_actor, entity, date(2026, 10, 20))
        assert (record.disclosure_due_on, record.published_late_days) == (date(2026, 10, 15), 3)
        assert record.disclosure_ends_on == date(2027, 9, 30)
        today(date(2026, 11, 20))
        # The decision was in fact taken on Mon 12 Oct: due Wed 21 Oct, so it was published on time.
        corrected = correct(reviewer_actor, record, decided=date(2026, 10, 12))
        assert (corrected.disclosure, corrected.status) == ("published", "corrected")
        assert (corrected.disclosure_due_on, corrected.published_late_days) == (date(2026, 10, 21), 0)
        assert corrected.disclosure_ends_on == date(2027, 10, 12)
        assert in_public_index(corrected)

    def test_an_earlier_decision_date_makes_a_timely_publication_late(self, reviewer_actor, entity, today):
        today(date(2026, 10, 20))
        record = published(reviewer_actor, entity, date(2026, 10, 20), decided=date(2026, 10, 12))
        assert record.published_late_days == 0
        corrected = correct(reviewer_actor, record, decided=date(2026, 9, 30))
        assert (corrected.disclosure_due_on, corrected.published_late_days) == (date(2026, 10, 15), 3)

    def test_a_general_record_corrected_to_minor_leaves_public_view(self, reviewer_actor, entity):
        record = published(reviewer_actor, entity, date(2026, 10, 15))
        assert in_public_index(record)
        corrected = correct(reviewer_actor, record, severity="minor")
        assert corrected.disclosure == "withdrawn"
        assert corrected.withdrawn_at is not None and corrected.withdrawal_due_on == date(2026, 11, 25)
        assert (corrected.disclosure_due_on, corrected.disclosure_ends_on) == (None, None)
        assert not in_public_index(corrected)
        # The sweep does not bring it back.
        assert publication.publish_due(actor=SWEEP, today=date(2026, 11, 20)) == []

    def test_a_record_corrected_to_an_authorised_use_item_leaves_public_view(self, reviewer_actor, entity):
        record = published(reviewer_actor, entity, date(2026, 10, 15))
        corrected = correct(reviewer_actor, record, item="contract_performance", severity="", fields={})
        assert (corrected.item.code, corrected.disclosure) == ("contract_performance", "withdrawn")
        assert not in_public_index(corrected)

    def test_a_pending_record_corrected_to_minor_is_no_longer_due(self, reviewer_actor, entity, today):
        today(date(2026, 10, 9))
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        assert record.disclosure == "pending"
        corrected = correct(reviewer_actor, record, severity="minor")
        assert (corrected.disclosure, corrected.disclosure_due_on) == ("none", None)
        assert publication.publish_due(actor=SWEEP, today=date(2026, 10, 20)) == []

    def test_a_minor_record_corrected_to_general_becomes_due_and_is_published_late(
        self, reviewer_actor, entity
    ):
        record = services.record_create(
            actor=reviewer_actor, data=punishment(entity, severity="minor"), provenance="api"
        )
        assert record.disclosure == "none"
        corrected = correct(reviewer_actor, record, severity="general")
        assert (corrected.disclosure, corrected.disclosure_due_on) == ("pending", date(2026, 10, 15))
        [row] = publication.publish_due(actor=SWEEP, today=date(2026, 11, 20))
        assert row.record_id == record.pk and row.late_days == 26

    def test_the_end_date_follows_the_period_rule_of_the_corrected_severity(self, reviewer_actor, entity):
        record = published(reviewer_actor, entity, date(2026, 10, 15), severity="serious")
        assert record.disclosure_ends_on == date(2029, 9, 30)  # Order 36: serious, at most 3 years
        corrected = correct(reviewer_actor, record, severity="general")
        assert corrected.disclosure_ends_on == date(2027, 9, 30)  # general, at most 1 year

    def test_a_correction_that_puts_the_period_in_the_past_takes_the_record_down(
        self, reviewer_actor, entity
    ):
        record = published(reviewer_actor, entity, date(2026, 10, 15), disclosure_months=3)
        corrected = correct(reviewer_actor, record, decided=date(2026, 8, 3), disclosure_months=3)
        assert (corrected.status, corrected.disclosure, corrected.disclosure_ends_on) == (
            "expired",
            "ended",
            date(2026, 11, 3),
        )
        assert not in_public_index(corrected)
        change = RecordChange.objects.filter(record=record).latest("id")
        assert (change.kind, change.payload["status"]) == ("corrected", "expired")


class TestPeriodRules:
    def test_the_rule_table_holds_the_2019_notice_order_58_and_order_36(self):
        rows = list(
            DisclosurePeriodRule.objects.order_by("effective_from", "severity").values_list(
                "effective_from", "severity", "min_months", "max_months", "published_by_default"
            )
        )
        assert rows == [
            (date(2019, 1, 1), "general", 3, 12, True),
            (date(2019, 1, 1), "minor", 0, 3, False),
            (date(2019, 1, 1), "serious", 6, 36, True),
            (date(2023, 5, 1), "general", 3, 36, True),
            (date(2023, 5, 1), "minor", 0, 3, False),
            (date(2023, 5, 1), "serious", 3, 36, True),
            (date(2026, 4, 1), "general", 3, 12, True),
            (date(2026, 4, 1), "minor", 0, 3, False),
            (date(2026, 4, 1), "serious", 12, 36, True),
        ]
        order_58 = DisclosurePeriodRule.objects.get(effective_from=date(2023, 5, 1), severity="general")
        assert "第58号" in order_58.basis_zh and "Order No. 58" in order_58.basis_en

    def test_a_decision_under_order_58_is_published_three_years(self, reviewer_actor, entity):
        record = services.record_create(
            actor=reviewer_actor, data=punishment(entity, decided=date(2025, 6, 3)), provenance="api"
        )
        assert record.disclosure_ends_on == date(2028, 6, 3)

    def test_order_58_allows_a_serious_violation_three_months_and_no_less(self, reviewer_actor, entity):
        record = services.record_create(
            actor=reviewer_actor,
            data=punishment(entity, "A-1", decided=date(2025, 6, 3), severity="serious", disclosure_months=3),
            provenance="api",
        )
        assert record.disclosure_ends_on == date(2025, 9, 3) and record.status == "expired"
        with pytest.raises(ValidationError) as exc:
            services.record_create(
                actor=reviewer_actor,
                data=punishment(
                    entity, "A-2", decided=date(2025, 6, 3), severity="serious", disclosure_months=2
                ),
                provenance="api",
            )
        assert "Order No. 58" in exc.value.message_dict["disclosure_months"][0] or "第58号" in str(exc.value)

    def test_a_decision_older_than_every_period_rule_is_refused_with_the_earliest_date(
        self, reviewer_actor, entity
    ):
        with pytest.raises(ValidationError) as exc:
            services.record_create(
                actor=reviewer_actor, data=punishment(entity, decided=date(2018, 6, 1)), provenance="api"
            )
        [message] = exc.value.message_dict["decision_date"]
        assert "2019-01-01" in message
        assert not CreditRecord.objects.exists()

    def test_a_permit_older_than_the_period_rules_is_planned_by_its_validity(self, reviewer_actor, entity):
        permit = RecordInput(
            item="admin_permit",
            code=entity.code,
            decision_number="深市监许〔2017〕1号",
            decision_date=date(2017, 3, 1),
            content="食品经营许可",
            valid_from=date(2017, 3, 1),
            valid_to=date(2027, 2, 28),
            fields={
                "party_category": "legal_person",
                "decision_doc_name": "食品经营许可决定书",
                "permit_category": "普通",
            },
        )
        record = services.record_create(actor=reviewer_actor, data=permit, provenance="api")
        assert (record.disclosure, record.disclosure_ends_on) == ("pending", date(2027, 2, 28))

    def test_a_decision_before_every_deadline_rule_is_refused_naming_the_earliest_date(
        self, reviewer_actor, entity
    ):
        permit = RecordInput(
            item="admin_permit",
            code=entity.code,
            decision_number="深市监许〔1999〕1号",
            decision_date=date(1999, 12, 31),
            content="食品经营许可",
            valid_from=date(1999, 12, 31),
            valid_to=date(2030, 1, 1),
            fields={
                "party_category": "legal_person",
                "decision_doc_name": "食品经营许可决定书",
                "permit_category": "普通",
            },
        )
        with pytest.raises(ValidationError) as exc:
            services.record_create(actor=reviewer_actor, data=permit, provenance="api")
        assert "2000-01-01" in exc.value.message_dict["decision_date"][0]


class TestCatalogueReplans:
    def test_an_item_no_longer_public_takes_its_records_out_of_public_view_at_once(
        self, reviewer_actor, office, entity, other_entity, today
    ):
        today(date(2026, 10, 9))
        shown = published(reviewer_actor, entity, date(2026, 10, 9), decided=date(2026, 9, 20))
        waiting = services.record_create(
            actor=reviewer_actor,
            data=punishment(other_entity, "B-2", decided=date(2026, 10, 8)),
            provenance="api",
        )
        today(date(2026, 11, 20))
        catalogue.catalogue_item_update(
            actor=office, code="admin_punishment", changes={"use_scope": "government"}
        )
        shown.refresh_from_db()
        waiting.refresh_from_db()
        assert (shown.disclosure, shown.withdrawal_due_on) == ("withdrawn", date(2026, 11, 25))
        assert not in_public_index(shown)
        assert (waiting.disclosure, waiting.disclosure_due_on) == ("none", None)
        event = AuditEvent.objects.get(action="records.catalogue.records_replanned")
        assert event.data["withdrawn"] == [shown.pk] and event.data["changed"] == 2
        assert publication.publish_due(actor=SWEEP, today=date(2026, 11, 20)) == []

    def test_an_item_made_public_puts_its_records_on_the_seven_day_track(
        self, reviewer_actor, office, entity
    ):
        catalogue.catalogue_item_update(
            actor=office, code="admin_punishment", changes={"use_scope": "government"}
        )
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        assert record.disclosure == "none"
        catalogue.catalogue_item_update(
            actor=office, code="admin_punishment", changes={"use_scope": "public"}
        )
        record.refresh_from_db()
        # Due 7 working days after the catalogue made it public (Fri 20 Nov), not on the decision's
        # own deadline (15 Oct), which did not bind the department while the item was not public.
        assert (record.disclosure, record.disclosure_due_on, record.disclosure_ends_on) == (
            "pending",
            date(2026, 12, 1),
            date(2027, 9, 30),
        )

    def test_a_fixed_period_that_is_over_ends_the_records_and_tells_the_feed(
        self, reviewer_actor, office, entity
    ):
        record = published(reviewer_actor, entity, date(2026, 10, 15))
        catalogue.catalogue_item_update(
            actor=office, code="admin_punishment", changes={"period_kind": "fixed", "fixed_months": 1}
        )
        record.refresh_from_db()
        assert (record.status, record.disclosure, record.disclosure_ends_on) == (
            "expired",
            "ended",
            date(2026, 10, 30),
        )
        assert RecordChange.objects.filter(record=record).latest("id").kind == "expired"

    def test_editing_a_name_re_plans_nothing(self, reviewer_actor, office, entity):
        record = published(reviewer_actor, entity, date(2026, 10, 15))
        catalogue.catalogue_item_update(
            actor=office, code="admin_punishment", changes={"name_en": "Punishments"}
        )
        assert not AuditEvent.objects.filter(action="records.catalogue.records_replanned").exists()
        record.refresh_from_db()
        assert record.disclosure == "published"

    def test_revoked_records_are_not_brought_back(self, reviewer_actor, office, entity):
        record = published(reviewer_actor, entity, date(2026, 10, 15))
        services.record_revoke(actor=reviewer_actor, record_id=record.pk, reason="复议撤销")
        catalogue.catalogue_item_update(
            actor=office, code="admin_punishment", changes={"use_scope": "government"}
        )
        catalogue.catalogue_item_update(
            actor=office, code="admin_punishment", changes={"use_scope": "public"}
        )
        record.refresh_from_db()
        assert (record.status, record.disclosure) == ("revoked", "withdrawn")

    def test_the_replan_is_set_based(self, reviewer_actor, office, entity, django_assert_max_num_queries):
        for n in range(30):
            services.record_create(
                actor=reviewer_actor,
                data=punishment(entity, f"C-{n}", decided=date(2026, 9, 1 + n % 28)),
                provenance="api",
            )
        publication.publish_due(actor=SWEEP, today=date(2026, 11, 20))
        with django_assert_max_num_queries(25):
            catalogue.catalogue_item_update(
                actor=office, code="admin_punishment", changes={"use_scope": "government"}
            )
        assert CreditRecord.objects.filter(disclosure="withdrawn").count() == 30
        assert CatalogueItem.objects.get(code="admin_punishment").use_scope == "government"


class TestLateIsLate:
    def test_a_publication_on_a_holiday_after_the_due_date_is_late(self, reviewer_actor, entity, today):
        # Decided Wed 4 Nov 2026: due Fri 13 Nov; published on Sat 14 Nov, not a working day. No
        # working day passed, yet the deadline did: one working day late, not on time.
        today(date(2026, 11, 14))
        record = services.record_create(
            actor=reviewer_actor, data=punishment(entity, decided=date(2026, 11, 4)), provenance="api"
        )
        assert record.disclosure_due_on == date(2026, 11, 13)
        [row] = publication.publish_due(actor=SWEEP, today=date(2026, 11, 14))
        assert row.late_days == 1

    def test_a_correction_to_a_period_already_over_judges_the_lateness_again(
        self, reviewer_actor, entity, today
    ):
        today(date(2026, 10, 20))
        record = published(
            reviewer_actor, entity, date(2026, 10, 20), decided=date(2026, 10, 12), disclosure_months=3
        )
        assert record.published_late_days == 0
        today(date(2026, 11, 20))
        corrected = correct(reviewer_actor, record, decided=date(2026, 8, 3), disclosure_months=3)
        assert corrected.disclosure == "ended" and corrected.published_late_days > 0


class TestRuleChangesReplan:
    def test_records_planned_before_a_rule_was_entered_follow_it_with_the_command(
        self, reviewer_actor, entity, today
    ):
        from io import StringIO

        from django.core.management import call_command

        # As a deployment that entered Order 58 late would hold it: a 2025 general decision planned
        # under the 2019 notice (one year), taken down after it.
        record = services.record_create(
            actor=reviewer_actor, data=punishment(entity, decided=date(2025, 6, 3)), provenance="api"
        )
        CreditRecord.objects.filter(pk=record.pk).update(
            disclosure_ends_on=date(2026, 6, 3), disclosure="ended", status="expired"
        )
        out = StringIO()
        call_command(
            "replan_disclosure", "--since", "2023-05-01", "--until", "2026-04-01", "--dry-run", stdout=out
        )
        assert "1 record(s) would change" in out.getvalue()
        record.refresh_from_db()
        assert record.disclosure == "ended"
        call_command("replan_disclosure", "--since", "2023-05-01", "--until", "2026-04-01", stdout=StringIO())
        record.refresh_from_db()
        # Order 58: at most three years — published again until 3 June 2028.
        assert (record.status, record.disclosure, record.disclosure_ends_on) == (
            "effective",
            "pending",
            date(2028, 6, 3),
        )
        assert AuditEvent.objects.filter(action="records.period_rules.records_replanned").count() == 1

    def test_a_new_rule_re_plans_the_decisions_it_governs(self, reviewer_actor, office, entity, today):
        today(date(2026, 11, 20))
        record = published(reviewer_actor, entity, date(2026, 11, 20), decided=date(2026, 11, 2))
        assert record.disclosure_ends_on == date(2027, 11, 2)
        catalogue.period_rule_add(
            actor=office,
            effective_from=date(2026, 11, 1),
            severity="general",
            min_months=3,
            max_months=6,
            published_by_default=True,
            restorable=True,
            basis_zh="测试规则",
            basis_en="A test rule",
        )
        record.refresh_from_db()
        assert record.disclosure_ends_on == date(2027, 5, 2)
        older = services.record_create(
            actor=reviewer_actor, data=punishment(entity, "E-2", decided=date(2026, 10, 12)), provenance="api"
        )
        assert older.disclosure_ends_on == date(2027, 10, 12)  # the rule does not reach back
