"""What the stage apps' procedures do to the hub's records through ``records`` services: write a
record as a department (``workflow_record_create``), restore credit (``record_restore``) and end a
designation (``record_end``). Each transition leaves public view as its rule says, tells connected
systems through the change feed, is audited in its own transaction, and does nothing the second time."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from credit_portal.accounts.actors import actor_for_user, system_actor
from credit_portal.audit.models import AuditEvent
from credit_portal.errors import NotFound
from credit_portal.workdays import services as workdays
from records import selectors, services
from records.fields import RecordInput
from records.models import CreditRecord, RecordChange, RecordVersion
from records.services import publication
from tests import factories as f

pytestmark = pytest.mark.django_db
SWEEP = system_actor("tests")
Status = CreditRecord.Status
Disclosure = CreditRecord.Disclosure


@pytest.fixture(autouse=True)
def _clock(today):
    today(date(2026, 12, 4), tick=True)


@pytest.fixture
def reviewer_actor(reviewer):
    return actor_for_user(reviewer)


def punishment(entity, number="深市监罚〔2026〕1号", decided=date(2026, 9, 30)) -> RecordInput:
    return RecordInput(
        item="admin_punishment",
        code=entity.code,
        decision_number=number,
        decision_date=decided,
        legal_basis="《中华人民共和国产品质量法》第四十九条",
        severity="general",
        content="罚款5.5万元",
        fields={
            "party_category": "法人及非法人组织",
            "facts": "销售不合格产品",
            "punishment_category": "罚款",
            "fine_amount": "5.5",
            "legal_rep_name": "马某某",
            "legal_rep_id_number": f.resident_id(),
        },
    )


def published_punishment(actor, entity, number="深市监罚〔2026〕1号") -> CreditRecord:
    record = services.record_create(actor=actor, data=punishment(entity, number), provenance="api")
    publication.publish_due(actor=SWEEP, today=date(2026, 12, 4))
    record.refresh_from_db()
    assert record.disclosure == Disclosure.PUBLISHED
    return record


def designation(actor, entity, number="深市监异〔2026〕5号", decided=date(2026, 11, 2)) -> CreditRecord:
    return services.workflow_record_create(
        actor=actor,
        item="abnormal_list",
        entity_code=entity.code,
        decision_number=number,
        decision_date=decided,
        content="未按规定期限公示年度报告，列入经营异常名录。",
    )


def events(record, action) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, target_id=str(record.pk)))


def feed_kinds(record) -> list[str]:
    return list(RecordChange.objects.filter(record=record).order_by("id").values_list("kind", flat=True))


def feed(client) -> list[dict]:
    response = client.get("/api/v1/changes/", {"cursor": 0})
    assert response.status_code == 200
    return response.json()["changes"]


class TestWritingAsADepartment:
    def test_an_entitys_act_is_recorded_for_the_overseeing_department_by_the_procedure(
        self, department, entity
    ):
        writer = services.department_writer(department, system_name="listings")
        record = services.workflow_record_create(
            actor=writer,
            item="pledge_performance",
            entity_code=entity.code,
            decision_number="CN-2026-AAAAAAAA",
            content="承" * 5000,
            remarks="注" * 3000,
        )
        assert (record.department, record.provenance, record.status) == (department, "system", "effective")
        assert (record.item.code, record.entity_id, record.decision_date) == (
            "pledge_performance",
            entity.pk,
            date(2026, 12, 4),
        )
        assert (len(record.content), len(record.remarks)) == (4000, 2000)  # cut to the record's limits
        created = AuditEvent.objects.get(action="records.record.created", target_id=str(record.pk))
        assert created.actor_label == "system:listings"
        assert feed_kinds(record) == ["created"]

    def test_a_staff_decision_is_the_deciding_departments_record_of_a_workflow_only_item(
        self, reviewer_actor, department, entity
    ):
        record = designation(reviewer_actor, entity)
        assert (record.item.code, record.department, record.provenance) == (
            "abnormal_list",
            department,
            "system",
        )
        assert record.decision_date == date(2026, 11, 2)
        assert record.disclosure == Disclosure.PENDING
        assert AuditEvent.objects.get(action="records.record.created").actor_label == "user:reviewer"

    def test_the_record_form_provenance_still_refuses_a_workflow_only_item(self, reviewer_actor, entity):
        with pytest.raises(ValidationError) as caught:
            services.workflow_record_create(
                actor=reviewer_actor,
                item="serious_list",
                entity_code=entity.code,
                decision_number="X-1",
                content="列入严重失信主体名单",
                provenance="form",
            )
        assert "item" in caught.value.message_dict
        assert not CreditRecord.objects.exists()


class TestRestore:
    def test_restored_credit_leaves_public_view_and_the_feed_says_so(
        self, reviewer_actor, entity, token_for, department, other_department
    ):
        record = published_punishment(reviewer_actor, entity)
        restored = services.record_restore(
            actor=reviewer_actor,
            record_id=record.pk,
            reason="已纠正失信行为并履行处罚",
            restored_on=date(2026, 12, 3),
        )
        record.refresh_from_db()
        assert (record.status, record.disclosure) == (Status.RESTORED, Disclosure.WITHDRAWN)
        assert restored.status == Status.RESTORED
        assert record.withdrawn_at is not None
        assert record.withdrawal_due_on == workdays.deadline("disclosure.withdraw", date(2026, 12, 3))
        assert record.version == 1 and RecordVersion.objects.filter(record=record).count() == 1
        assert feed_kinds(record) == ["created", "restored"]
        change = RecordChange.objects.filter(record=record).last()
        assert (change.payload["status"], change.payload["disclosure"]) == ("restored", "withdrawn")
        (event,) = events(record, "records.record.restored")
        assert event.before == {"status": "effective", "disclosure": "published"}
        assert event.after == {
            "status": "restored",
            "disclosure": "withdrawn",
            "reason": "已纠正失信行为并履行处罚",
            "on": "2026-12-03",
        }
        assert not CreditRecord.objects.filter(disclosure=Disclosure.PUBLISHED).exists()
        history = selectors.record_history(record)
        assert [e.action for e in history["events"]] == ["records.record.created", "records.record.restored"]
        assert [c.kind for c in history["changes"]] == ["created", "restored"]
        # Stop sharing: another department learns what became of it, not what it said.
        theirs = [c for c in feed(token_for(other_department, "records:read")) if c["record"] == record.pk]
        assert [c["kind"] for c in theirs] == ["created", "restored"]
        assert all(c["content_withheld"] for c in theirs)
        mine = [c for c in feed(token_for(department, "records:read")) if c["record"] == record.pk]
        assert not any(c["content_withheld"] for c in mine)

    def test_restoring_again_changes_nothing_and_writes_nothing(self, reviewer_actor, entity):
        record = published_punishment(reviewer_actor, entity)
        first = services.record_restore(actor=reviewer_actor, record_id=record.pk, reason="修复")
        again = services.record_restore(actor=reviewer_actor, record_id=record.pk, reason="再次修复")
        assert (again.status, again.withdrawn_at, again.updated_at) == (
            first.status,
            first.withdrawn_at,
            first.updated_at,
        )
        assert len(events(record, "records.record.restored")) == 1
        assert feed_kinds(record) == ["created", "restored"]

    def test_a_record_not_yet_published_is_restored_before_it_ever_is(self, reviewer_actor, entity):
        record = services.record_create(actor=reviewer_actor, data=punishment(entity), provenance="api")
        services.record_restore(actor=reviewer_actor, record_id=record.pk, reason="修复")
        record.refresh_from_db()
        assert (record.status, record.disclosure, record.published_at) == ("restored", "withdrawn", None)
        assert publication.publish_due(actor=SWEEP, today=date(2026, 12, 4)) == []

    def test_another_departments_record_is_not_found_and_stays_as_it_was(
        self, reviewer_actor, entity, other_department_reviewer
    ):
        record = published_punishment(reviewer_actor, entity)
        with pytest.raises(NotFound):
            services.record_restore(
                actor=actor_for_user(other_department_reviewer), record_id=record.pk, reason="修复"
            )
        record.refresh_from_db()
        assert (record.status, record.disclosure) == (Status.EFFECTIVE, Disclosure.PUBLISHED)
        assert feed_kinds(record) == ["created"]
        assert not events(record, "records.record.restored")

    def test_the_credit_office_restores_any_departments_record(self, reviewer_actor, entity, credit_officer):
        record = published_punishment(reviewer_actor, entity)
        services.record_restore(actor=actor_for_user(credit_officer), record_id=record.pk, reason="修复")
        record.refresh_from_db()
        assert record.status == Status.RESTORED

    def test_only_standing_negative_information_is_restored(self, reviewer_actor, entity):
        revoked = published_punishment(reviewer_actor, entity, "R-1")
        services.record_revoke(actor=reviewer_actor, record_id=revoked.pk, reason="复议撤销")
        permit = services.record_create(
            actor=reviewer_actor,
            data=RecordInput(
                item="admin_permit",
                code=entity.code,
                decision_number="P-1",
                decision_date=date(2026, 11, 2),
                content="食品经营许可",
                valid_from=date(2026, 11, 2),
                valid_to=date(2031, 11, 1),
                fields={
                    "party_category": "legal_person",
                    "decision_doc_name": "食品经营许可决定书",
                    "permit_category": "普通",
                },
            ),
            provenance="api",
        )
        for record, field in ((revoked, "status"), (permit, "item")):
            with pytest.raises(ValidationError) as caught:
                services.record_restore(actor=reviewer_actor, record_id=record.pk, reason="修复")
            assert list(caught.value.message_dict) == [field]
        assert not AuditEvent.objects.filter(action="records.record.restored").exists()

    def test_a_reason_and_a_date_that_is_not_in_the_future_are_required(self, reviewer_actor, entity):
        record = published_punishment(reviewer_actor, entity)
        with pytest.raises(ValidationError) as caught:
            services.record_restore(
                actor=reviewer_actor, record_id=record.pk, reason=" ", restored_on=date(2026, 12, 5)
            )
        assert set(caught.value.message_dict) == {"reason", "restored_on"}
        with pytest.raises(ValidationError) as caught:
            services.record_restore(
                actor=reviewer_actor, record_id=record.pk, reason="修复", restored_on=date(2026, 9, 29)
            )
        assert set(caught.value.message_dict) == {"restored_on"}
        record.refresh_from_db()
        assert record.status == Status.EFFECTIVE


class TestEndOfADesignation:
    def test_an_ended_designation_leaves_public_view_and_the_feed_says_so(self, reviewer_actor, entity):
        record = designation(reviewer_actor, entity)
        publication.publish_due(actor=SWEEP, today=date(2026, 12, 4))
        ended = services.record_end(
            actor=reviewer_actor, record_id=record.pk, reason="已补报年度报告，移出经营异常名录"
        )
        record.refresh_from_db()
        assert ended.status == Status.EXPIRED
        assert (record.status, record.disclosure, record.disclosure_ends_on) == (
            Status.EXPIRED,
            Disclosure.ENDED,
            date(2026, 12, 4),
        )
        assert record.withdrawn_at is not None and record.published_at is not None
        assert feed_kinds(record) == ["created", "expired"]
        change = RecordChange.objects.filter(record=record).last()
        assert (change.payload["status"], change.payload["disclosure_ends_on"]) == ("expired", "2026-12-04")
        assert [e.action for e in selectors.record_history(record)["events"]] == [
            "records.record.created",
            "records.record.ended",
        ]
        (event,) = events(record, "records.record.ended")
        assert event.before == {"status": "effective", "disclosure": "published", "disclosure_ends_on": None}
        assert event.after == {
            "status": "expired",
            "disclosure": "ended",
            "disclosure_ends_on": "2026-12-04",
            "reason": "已补报年度报告，移出经营异常名录",
        }
        # The disclosure sweep has nothing more to do with it.
        assert publication.end_due(actor=SWEEP, today=date(2026, 12, 4)) == []

    def test_ending_again_changes_nothing_and_writes_nothing(self, reviewer_actor, entity):
        record = designation(reviewer_actor, entity)
        first = services.record_end(actor=reviewer_actor, record_id=record.pk, reason="移出")
        again = services.record_end(
            actor=reviewer_actor, record_id=record.pk, reason="再次移出", ended_on=date(2026, 12, 1)
        )
        assert (again.status, again.disclosure_ends_on, again.updated_at) == (
            first.status,
            first.disclosure_ends_on,
            first.updated_at,
        )
        assert len(events(record, "records.record.ended")) == 1
        assert feed_kinds(record) == ["created", "expired"]

    def test_a_designation_ended_before_publication_is_never_published(self, reviewer_actor, entity):
        record = designation(reviewer_actor, entity)
        services.record_end(
            actor=reviewer_actor, record_id=record.pk, reason="撤销列入", ended_on=date(2026, 12, 2)
        )
        record.refresh_from_db()
        assert (record.status, record.disclosure, record.disclosure_ends_on) == (
            "expired",
            "ended",
            date(2026, 12, 2),
        )
        assert (record.published_at, record.withdrawn_at) == (None, None)
        assert publication.publish_due(actor=SWEEP, today=date(2026, 12, 4)) == []

    def test_only_a_standing_designation_ends_this_way(
        self, reviewer_actor, entity, other_department_reviewer
    ):
        punished = published_punishment(reviewer_actor, entity, "P-1")
        restored = designation(reviewer_actor, entity, "L-1")
        services.record_restore(actor=reviewer_actor, record_id=restored.pk, reason="信用修复")
        for record, field in ((punished, "item"), (restored, "status")):
            with pytest.raises(ValidationError) as caught:
                services.record_end(actor=reviewer_actor, record_id=record.pk, reason="移出")
            assert list(caught.value.message_dict) == [field]
        listed = designation(reviewer_actor, entity, "L-2")
        with pytest.raises(NotFound):
            services.record_end(
                actor=actor_for_user(other_department_reviewer), record_id=listed.pk, reason="移出"
            )
        with pytest.raises(ValidationError) as caught:
            services.record_end(
                actor=reviewer_actor, record_id=listed.pk, reason="移出", ended_on=date(2026, 10, 30)
            )
        assert list(caught.value.message_dict) == ["ended_on"]
        assert not AuditEvent.objects.filter(action="records.record.ended").exists()
        listed.refresh_from_db()
        assert listed.status == Status.EFFECTIVE
