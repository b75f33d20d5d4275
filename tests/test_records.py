"""Credit records: one validation for every door, drafts and review, corrections, revocations,
set-based imports, publication within 7 working days, the end of disclosure periods."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from credit_portal.accounts.actors import actor_for_user, system_actor
from credit_portal.accounts.capabilities import StaffRole
from credit_portal.audit.models import AuditEvent
from credit_portal.errors import Conflict, NotFound
from records import services
from records.fields import RecordInput
from records.models import CreditRecord, RecordChange, RecordVersion
from records.services import publication
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(today):
    """The decisions in these tests are dated in 2026 and their disclosure periods are counted from
    them: run on a fixed day after them, not on whatever day the suite runs."""
    today(date(2026, 12, 4), tick=True)


SWEEP = system_actor("tests")


def punishment(entity, number="深市监罚〔2026〕1号", decided=date(2026, 9, 30), **kw) -> RecordInput:
    fields = {
        "party_category": "法人及非法人组织",
        "facts": "销售不合格产品",
        "punishment_category": "罚款",
        "fine_amount": "5.5",
        "legal_rep_name": "马某某",
        "legal_rep_id_number": f.resident_id(),
        **kw.pop("fields", {}),
    }
    return RecordInput(
        item=kw.pop("item", "admin_punishment"),
        code=entity.code,
        decision_number=number,
        decision_date=decided,
        legal_basis="《中华人民共和国产品质量法》第四十九条",
        severity=kw.pop("severity", "general"),
        content="罚款5.5万元",
        fields=fields,
        **kw,
    )


@pytest.fixture
def reviewer_actor(reviewer):
    return actor_for_user(reviewer)


@pytest.fixture
def clerk_actor(clerk):
    return actor_for_user(clerk)


class TestCreate:
    def test_reviewer_creates_an_effective_public_record_due_in_seven_working_days(
        self, reviewer_actor, entity
    ):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="form")
        assert record.status == CreditRecord.Status.EFFECTIVE
        assert record.disclosure == CreditRecord.Disclosure.PENDING
        assert record.disclosure_due_on == date(2026, 10, 15)  # National Day 2026
        assert record.disclosure_ends_on == date(2027, 9, 30)  # general: 12 months under Order 36
        assert record.fields["fine_amount"] == "5.5"
        assert record.fields["punishment_category"] == "fine"
        assert record.fields["legal_rep_id_number"]["masked"].startswith("4401*")
        assert f.resident_id() not in str(record.fields)
        assert RecordVersion.objects.get(record=record).version == 1
        assert list(RecordChange.objects.values_list("kind", flat=True)) == ["created"]
        change = RecordChange.objects.get()
        assert (
            change.payload["fields"]["legal_rep_id_number"] == record.fields["legal_rep_id_number"]["masked"]
        )
        assert AuditEvent.objects.filter(action="records.record.created", target_id=str(record.pk)).exists()

    def test_clerk_creates_a_draft_for_review(self, clerk_actor, reviewer_actor, entity):
        record = services.record_create(actor=clerk_actor, data=punishment(entity), provenance="form")
        assert record.status == CreditRecord.Status.DRAFT
        assert publication.publish_due(actor=SWEEP, today=date(2026, 10, 9)) == []
        services.record_confirm(actor=reviewer_actor, record_id=record.pk)
        record.refresh_from_db()
        assert record.status == CreditRecord.Status.EFFECTIVE

    def test_minor_violations_are_not_published_unless_a_period_is_set(self, reviewer_actor, entity, today):
        today(date(2026, 10, 20))
        quiet = services.record_create(
            actor=reviewer_actor, data=punishment(entity, "A-1", severity="轻微"), provenance="api"
        )
        assert quiet.disclosure == CreditRecord.Disclosure.NOT_DISCLOSED
        shown = services.record_create(
            actor=reviewer_actor,
            data=punishment(entity, "A-2", severity="minor", disclosure_months=2),
            provenance="api",
        )
        assert (shown.disclosure, shown.disclosure_ends_on) == ("pending", date(2026, 11, 30))

    def test_period_rule_in_force_on_the_decision_date_applies(self, reviewer_actor, entity):
        old = services.record_create(
            actor=reviewer_actor,
            data=punishment(
                entity, "B-1", decided=date(2026, 3, 10), severity="serious", disclosure_months=6
            ),
            provenance="api",
        )
        assert old.disclosure_months == 6  # the 2019 rule allowed 6-36 months
        with pytest.raises(ValidationError) as exc:
            services.record_create(
                actor=reviewer_actor,
                data=punishment(
                    entity, "B-2", decided=date(2026, 4, 10), severity="serious", disclosure_months=6
                ),
                provenance="api",
            )
        assert "disclosure_months" in exc.value.message_dict

    def test_every_error_at_once_and_nothing_written(self, reviewer_actor, entity):
        before = (CreditRecord.objects.count(), AuditEvent.objects.count(), RecordChange.objects.count())
        bad = punishment(
            entity,
            number="",
            decided="2026-02-30",
            severity="very bad",
            item="admin_punishment",
            fields={"punishment_category": "flogging", "fine_amount": "-3", "legal_rep_id_number": "123"},
        )
        bad.code = "91440300MA5D1234X0"
        with pytest.raises(ValidationError) as exc:
            services.record_create(actor=reviewer_actor, data=bad, provenance="api")
        assert set(exc.value.message_dict) == {
            "code", "decision_number", "decision_date", "severity",
            "fields.punishment_category", "fields.fine_amount", "fields.legal_rep_id_number",
        }  # fmt: skip
        assert (
            CreditRecord.objects.count(),
            AuditEvent.objects.count(),
            RecordChange.objects.count(),
        ) == before

    def test_duplicate_decision_number_is_a_conflict(self, reviewer_actor, entity):
        services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        with pytest.raises(Conflict):
            services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        assert CreditRecord.objects.count() == 1

    def test_unknown_entity_is_refused(self, reviewer_actor, entity):
        data = punishment(entity)
        data.code = f.uscc(n=9_999_999)
        with pytest.raises(ValidationError) as exc:
            services.record_create(actor=reviewer_actor, data=data, provenance="api")
        assert exc.value.message_dict["code"] == [
            "No entity is registered under this unified social credit code."
        ]

    def test_decision_dates_in_many_office_formats(self, reviewer_actor, entity):
        for n, text in enumerate(["2026/9/30", "20260930", "2026年9月30日", "2026.09.30", "2026-09-30"]):
            record = services.record_create(
                actor=reviewer_actor, data=punishment(entity, f"D-{n}", decided=text), provenance="api"
            )
            assert record.decision_date == date(2026, 9, 30)


class TestPublication:
    def test_sweep_publishes_once_even_when_run_twice(self, reviewer_actor, entity):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        first = publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
        second = publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
        assert [p.record_id for p in first] == [record.pk]
        assert second == []
        record.refresh_from_db()
        assert (record.disclosure, record.published_late_days) == ("published", 0)
        assert AuditEvent.objects.filter(action="disclosure.records.published").count() == 1

    def test_worker_down_across_the_deadline_publishes_late_and_says_by_how_much(
        self, reviewer_actor, entity
    ):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        # Due 2026-10-15; nothing ran until Tuesday 2026-10-20: 3 working days late (16, 19, 20).
        publication.publish_due(actor=SWEEP, today=date(2026, 10, 20))
        record.refresh_from_db()
        assert (record.disclosure, record.published_late_days) == ("published", 3)

    def test_period_end_takes_the_record_down_and_tells_the_feed(self, reviewer_actor, entity):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
        assert publication.end_due(actor=SWEEP, today=date(2027, 9, 29)) == []
        assert publication.end_due(actor=SWEEP, today=date(2027, 9, 30)) == [record.pk]
        record.refresh_from_db()
        assert (record.status, record.disclosure) == ("expired", "ended")
        assert list(RecordChange.objects.filter(record=record).values_list("kind", flat=True)) == [
            "created",
            "expired",
        ]
        assert publication.end_due(actor=SWEEP, today=date(2027, 10, 30)) == []

    def test_a_record_whose_period_is_over_when_recorded_is_never_published(self, reviewer_actor, entity):
        record = services.record_create(
            actor=reviewer_actor, data=punishment(entity, decided=date(2019, 5, 6)), provenance="file"
        )
        assert (record.status, record.disclosure) == ("expired", "ended")
        assert publication.publish_due(actor=SWEEP, today=date(2026, 10, 9)) == []


class TestCorrectAndRevoke:
    def test_revoked_record_is_withdrawn_at_once_with_a_three_day_deadline(self, reviewer_actor, entity):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        publication.publish_due(actor=SWEEP, today=date(2026, 10, 9))
        services.record_revoke(
            actor=reviewer_actor, record_id=record.pk, reason="复议撤销", revoked_on=date(2026, 10, 30)
        )
        record.refresh_from_db()
        assert (record.status, record.disclosure) == ("revoked", "withdrawn")
        assert record.withdrawal_due_on == date(2026, 11, 4)
        assert record.withdrawn_at is not None
        assert list(RecordChange.objects.filter(record=record).values_list("kind", flat=True)) == [
            "created",
            "revoked",
        ]

    def test_correction_is_a_new_version_that_reaches_the_feed(self, reviewer_actor, entity):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        fixed = punishment(entity, fields={"fine_amount": "3"})
        fixed.content = "罚款3万元"
        services.record_correct(actor=reviewer_actor, record_id=record.pk, data=fixed, reason="金额录入错误")
        record.refresh_from_db()
        assert (record.version, record.status, record.fields["fine_amount"]) == (2, "corrected", "3")
        assert [v.snapshot["content"] for v in record.versions.order_by("version")] == [
            "罚款5.5万元",
            "罚款3万元",
        ]
        change = RecordChange.objects.filter(record=record).last()
        assert (change.kind, change.version, change.payload["content"]) == ("corrected", 2, "罚款3万元")

    def test_other_department_cannot_touch_the_record(self, reviewer_actor, other_department, entity):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        outsider = actor_for_user(f.staff(other_department, StaffRole.REVIEWER))
        with pytest.raises(NotFound):
            services.record_revoke(actor=outsider, record_id=record.pk, reason="x")
        record.refresh_from_db()
        assert record.status == "effective"


class TestImport:
    def test_import_keeps_good_rows_rejects_bad_ones_and_is_idempotent(self, reviewer_actor, entity):
        rows = [
            (2, punishment(entity, "F-1")),
            (3, punishment(entity, "F-2", decided="not a date")),
            (4, punishment(entity, "F-1")),  # same decision number twice in one file
            (5, punishment(entity, "F-3")),
        ]
        results = services.records_import(actor=reviewer_actor, rows=rows, provenance="file")
        assert [(r.row, r.outcome) for r in results] == [
            (2, "created"),
            (3, "rejected"),
            (4, "rejected"),
            (5, "created"),
        ]
        assert "decision_date" in results[1].errors
        assert "row 2" in results[2].errors["decision_number"][0]
        counts = (CreditRecord.objects.count(), RecordChange.objects.count(), RecordVersion.objects.count())
        again = services.records_import(actor=reviewer_actor, rows=rows, provenance="file")
        assert [(r.row, r.outcome) for r in again] == [
            (2, "unchanged"),
            (3, "rejected"),
            (4, "rejected"),
            (5, "unchanged"),
        ]
        assert (
            CreditRecord.objects.count(),
            RecordChange.objects.count(),
            RecordVersion.objects.count(),
        ) == counts

    def test_changed_row_for_a_recorded_decision_is_rejected(self, reviewer_actor, entity):
        services.records_import(
            actor=reviewer_actor, rows=[(2, punishment(entity, "G-1"))], provenance="file"
        )
        changed = punishment(entity, "G-1", fields={"fine_amount": "9"})
        [result] = services.records_import(actor=reviewer_actor, rows=[(2, changed)], provenance="file")
        assert result.outcome == "rejected"
        assert "correct that record" in result.errors["decision_number"][0]
