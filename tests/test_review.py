"""Who may record what: a clerk's imports are drafts and a clerk's corrections and revocations are
proposals, which a reviewer of the department confirms; the reviewers' queue and notices; items
that only their workflow writes; the columns the national field standards make mandatory."""

import json
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credit_portal.accounts.actors import actor_for_user
from credit_portal.audit.models import AuditEvent
from credit_portal.errors import Conflict, NotFound
from credit_portal.notices.models import Notice
from records import services
from records.fields import RecordInput
from records.imports import runner
from records.models import CreditRecord, ImportJob, RecordChange, RecordProposal
from records.services import publication, review
from tests import factories as f
from tests.test_imports import csv_bytes, row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(today, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    today(date(2026, 10, 20), tick=True)


@pytest.fixture
def clerk_actor(clerk):
    return actor_for_user(clerk)


@pytest.fixture
def reviewer_actor(reviewer):
    return actor_for_user(reviewer)


def punishment(entity, number="深市监罚〔2026〕201号", **kw) -> RecordInput:
    return RecordInput(
        item=kw.pop("item", "admin_punishment"),
        code=entity.code,
        decision_number=number,
        decision_date=kw.pop("decided", date(2026, 9, 30)),
        legal_basis=kw.pop("legal_basis", "《中华人民共和国产品质量法》第四十九条"),
        severity=kw.pop("severity", "general"),
        content=kw.pop("content", "罚款5.5万元"),
        fields={
            "party_category": "法人及非法人组织",
            "facts": "销售不合格产品",
            "punishment_category": "罚款",
        },
        **kw,
    )


def standing(reviewer_actor, entity, number="深市监罚〔2026〕201号") -> CreditRecord:
    return services.record_create(actor=reviewer_actor, data=punishment(entity, number), provenance="api")


def import_file(actor, entity, numbers) -> ImportJob:
    content = csv_bytes([row(entity, n) for n in numbers])
    job = runner.import_job_create(
        actor=actor, item_code="admin_punishment", uploaded_file=SimpleUploadedFile("batch.csv", content)
    )
    return runner.run_import(job.pk)


def notices(kind):
    return sorted((n.recipient.username, n.dedupe_key) for n in Notice.objects.filter(kind=kind))


class TestImportReview:
    def test_a_clerks_import_is_drafts_until_a_reviewer_confirms_the_batch(
        self, clerk_actor, reviewer_actor, entity, department_admin
    ):
        job = import_file(clerk_actor, entity, ["I-1", "I-2", "I-3"])
        assert job.created_count == 3
        records = CreditRecord.objects.filter(import_job=job)
        assert sorted(records.values_list("status", "disclosure")) == [("draft", "pending")] * 3
        assert not RecordChange.objects.exists()  # drafts do not reach connected systems
        assert publication.publish_due(actor=f.SYSTEM, today=date(2026, 10, 20)) == []
        assert notices("records.import_drafts") == [
            ("dept_admin", f"records.import_drafts:{job.pk}"),
            ("reviewer", f"records.import_drafts:{job.pk}"),
        ]

        confirmed = review.import_job_confirm(actor=reviewer_actor, job_id=job.pk)
        assert confirmed == sorted(records.values_list("pk", flat=True))
        assert set(records.values_list("status", flat=True)) == {"effective"}
        assert list(RecordChange.objects.order_by("id").values_list("record_id", "kind")) == [
            (pk, "created") for pk in confirmed
        ]
        event = AuditEvent.objects.get(action="records.import.confirmed")
        assert event.data == {"records": confirmed, "count": 3}
        # A retry confirms nothing more and writes nothing.
        assert review.import_job_confirm(actor=reviewer_actor, job_id=job.pk) == []
        assert RecordChange.objects.count() == 3
        assert len(publication.publish_due(actor=f.SYSTEM, today=date(2026, 10, 20))) == 3

    def test_a_department_whose_rule_says_so_takes_a_clerks_import_at_once(
        self, clerk_actor, department, entity
    ):
        type(department).objects.filter(pk=department.pk).update(clerk_imports_reviewed=False)
        clerk_actor.department.refresh_from_db()
        job = import_file(clerk_actor, entity, ["J-1"])
        assert CreditRecord.objects.get(import_job=job).status == "effective"
        assert RecordChange.objects.count() == 1

    def test_a_reviewers_import_is_effective_at_once(self, reviewer_actor, entity):
        job = import_file(reviewer_actor, entity, ["K-1"])
        assert CreditRecord.objects.get(import_job=job).status == "effective"

    def test_only_the_departments_reviewers_confirm_an_import(
        self, clerk_actor, other_department_reviewer, entity
    ):
        job = import_file(clerk_actor, entity, ["L-1"])
        with pytest.raises(PermissionDenied):
            review.import_job_confirm(actor=clerk_actor, job_id=job.pk)
        with pytest.raises(NotFound):
            review.import_job_confirm(actor=actor_for_user(other_department_reviewer), job_id=job.pk)
        assert CreditRecord.objects.get(import_job=job).status == "draft"

    def test_the_import_pages_say_the_rule_and_offer_the_batch_confirmation(
        self, client_for, clerk, reviewer, clerk_actor, entity
    ):
        page = client_for(clerk).get(reverse("staff:import_new"))
        assert "a clerk's imported rows are drafts until a reviewer" in page.content.decode()
        job = import_file(clerk_actor, entity, ["M-1", "M-2"])
        as_clerk = client_for(clerk).get(reverse("staff:import_detail", args=[job.pk])).content.decode()
        assert "2 imported records await review" in as_clerk
        assert reverse("staff:import_confirm", args=[job.pk]) not in as_clerk
        as_reviewer = client_for(reviewer)
        assert reverse("staff:import_confirm", args=[job.pk]) in as_reviewer.get(
            reverse("staff:import_detail", args=[job.pk])
        ).content.decode("utf-8")
        denied = client_for(clerk).post(reverse("staff:import_confirm", args=[job.pk]))
        assert denied.status_code == 403
        assert set(CreditRecord.objects.values_list("status", flat=True)) == {"draft"}
        response = as_reviewer.post(reverse("staff:import_confirm", args=[job.pk]))
        assert response.status_code == 302
        assert set(CreditRecord.objects.values_list("status", flat=True)) == {"effective"}


class TestProposals:
    def test_a_clerks_revocation_changes_nothing_until_a_reviewer_confirms_it(
        self, clerk_actor, reviewer_actor, entity, department_admin
    ):
        record = standing(reviewer_actor, entity)
        with pytest.raises(services.credit.ReviewRequired):
            services.record_revoke(actor=clerk_actor, record_id=record.pk, reason="复议撤销")
        proposal = review.record_change_propose(
            actor=clerk_actor,
            record_id=record.pk,
            kind="revocation",
            reason="复议撤销",
            revoked_on=date(2026, 10, 19),
        )
        record.refresh_from_db()
        assert (record.status, proposal.status, proposal.base_version) == ("effective", "pending", 1)
        assert notices("records.proposal") == [
            ("dept_admin", f"records.proposal:{proposal.pk}"),
            ("reviewer", f"records.proposal:{proposal.pk}"),
        ]
        review.proposal_confirm(actor=reviewer_actor, proposal_id=proposal.pk)
        record.refresh_from_db()
        proposal.refresh_from_db()
        assert (record.status, record.disclosure, proposal.status) == ("revoked", "withdrawn", "confirmed")
        revoked = AuditEvent.objects.get(action="records.record.revoked")
        assert revoked.after["proposal"] == proposal.pk and revoked.after["on"] == "2026-10-19"
        assert RecordChange.objects.filter(record=record).latest("id").kind == "revoked"
        # Confirming twice is harmless.
        assert review.proposal_confirm(actor=reviewer_actor, proposal_id=proposal.pk).status == "confirmed"
        assert AuditEvent.objects.filter(action="records.record.revoked").count() == 1

    def test_a_clerks_correction_applies_when_confirmed(self, clerk_actor, reviewer_actor, entity):
        record = standing(reviewer_actor, entity)
        proposal = review.record_change_propose(
            actor=clerk_actor,
            record_id=record.pk,
            kind="correction",
            data=punishment(entity, record.decision_number, content="罚款3万元"),
            reason="金额录入错误",
        )
        record.refresh_from_db()
        assert (record.content, record.version) == ("罚款5.5万元", 1)
        assert proposal.values["content"] == "罚款3万元"
        review.proposal_confirm(actor=reviewer_actor, proposal_id=proposal.pk, note="已核对原件")
        record.refresh_from_db()
        assert (record.content, record.version, record.status) == ("罚款3万元", 2, "corrected")
        assert record.versions.get(version=2).reason == "金额录入错误"

    def test_a_proposal_made_on_an_older_version_is_refused(self, clerk_actor, reviewer_actor, entity):
        record = standing(reviewer_actor, entity)
        proposal = review.record_change_propose(
            actor=clerk_actor, record_id=record.pk, kind="revocation", reason="撤销"
        )
        type(proposal).objects.filter(pk=proposal.pk).update(base_version=0)
        with pytest.raises(ValidationError) as exc:
            review.proposal_confirm(actor=reviewer_actor, proposal_id=proposal.pk)
        assert "version 0, now 1" in str(exc.value)
        record.refresh_from_db()
        assert record.status == "effective"

    def test_one_pending_proposal_per_record(self, clerk_actor, reviewer_actor, entity):
        record = standing(reviewer_actor, entity)
        review.record_change_propose(actor=clerk_actor, record_id=record.pk, kind="revocation", reason="撤销")
        with pytest.raises(Conflict):
            review.record_change_propose(
                actor=clerk_actor, record_id=record.pk, kind="revocation", reason="撤销"
            )
        assert RecordProposal.objects.count() == 1

    def test_a_proposal_is_validated_as_the_change_would_be(self, clerk_actor, reviewer_actor, entity):
        record = standing(reviewer_actor, entity)
        with pytest.raises(ValidationError) as exc:
            review.record_change_propose(
                actor=clerk_actor,
                record_id=record.pk,
                kind="revocation",
                reason="",
                revoked_on=date(2026, 9, 1),
            )
        assert set(exc.value.message_dict) == {"reason", "revoked_on"}
        with pytest.raises(ValidationError) as exc:
            review.record_change_propose(
                actor=clerk_actor,
                record_id=record.pk,
                kind="correction",
                data=punishment(entity, record.decision_number, legal_basis="", content=""),
                reason="更正",
            )
        assert {"legal_basis", "content"} <= set(exc.value.message_dict)
        assert not RecordProposal.objects.exists()

    def test_rejection_needs_a_note_and_keeps_the_record(self, clerk_actor, reviewer_actor, entity):
        record = standing(reviewer_actor, entity)
        proposal = review.record_change_propose(
            actor=clerk_actor, record_id=record.pk, kind="revocation", reason="撤销"
        )
        with pytest.raises(ValidationError):
            review.proposal_reject(actor=reviewer_actor, proposal_id=proposal.pk, note=" ")
        review.proposal_reject(actor=reviewer_actor, proposal_id=proposal.pk, note="撤销决定书尚未送达")
        proposal.refresh_from_db()
        record.refresh_from_db()
        assert (proposal.status, proposal.decision_note, record.status) == (
            "rejected",
            "撤销决定书尚未送达",
            "effective",
        )
        with pytest.raises(ValidationError):
            review.proposal_confirm(actor=reviewer_actor, proposal_id=proposal.pk)

    def test_only_the_proposer_withdraws_and_other_departments_see_nothing(
        self, clerk_actor, reviewer_actor, other_department_reviewer, department, entity
    ):
        record = standing(reviewer_actor, entity)
        proposal = review.record_change_propose(
            actor=clerk_actor, record_id=record.pk, kind="revocation", reason="撤销"
        )
        other_clerk = actor_for_user(f.staff(department, "clerk", "second_clerk"))
        with pytest.raises(PermissionDenied):
            review.proposal_withdraw(actor=other_clerk, proposal_id=proposal.pk)
        with pytest.raises(NotFound):
            review.proposal_confirm(actor=actor_for_user(other_department_reviewer), proposal_id=proposal.pk)
        with pytest.raises(PermissionDenied):
            review.proposal_confirm(actor=clerk_actor, proposal_id=proposal.pk)
        assert RecordProposal.objects.get().status == "pending"
        review.proposal_withdraw(actor=clerk_actor, proposal_id=proposal.pk)
        assert RecordProposal.objects.get().status == "withdrawn"

    def test_a_clerk_still_corrects_and_discards_a_draft_directly(self, clerk_actor, entity):
        draft = services.record_create(actor=clerk_actor, data=punishment(entity), provenance="form")
        assert draft.status == "draft"
        corrected = services.record_correct(
            actor=clerk_actor,
            record_id=draft.pk,
            data=punishment(entity, draft.decision_number, content="罚款1万元"),
            reason="笔误",
        )
        assert (corrected.status, corrected.content) == ("draft", "罚款1万元")
        assert (
            services.record_revoke(actor=clerk_actor, record_id=draft.pk, reason="误录").status == "revoked"
        )

    def test_the_pages_turn_a_clerks_change_into_a_proposal(
        self, client_for, clerk, reviewer, reviewer_actor, entity
    ):
        record = standing(reviewer_actor, entity)
        page = client_for(clerk).get(reverse("staff:record", args=[record.pk])).content.decode()
        assert "Propose the revocation" in page and "Propose a correction" in page
        response = client_for(clerk).post(
            reverse("staff:record_revoke", args=[record.pk]),
            {"reason": "复议撤销", "revoked_on": "2026-10-19"},
        )
        assert response.status_code == 302
        record.refresh_from_db()
        assert record.status == "effective"
        proposal = RecordProposal.objects.get()
        as_reviewer = client_for(reviewer)
        page = as_reviewer.get(reverse("staff:record", args=[record.pk])).content.decode()
        assert "A proposed revocation awaits review" in page
        queue = as_reviewer.get(reverse("staff:review_queue")).content.decode()
        assert record.decision_number in queue and "1 proposed change" in queue
        response = as_reviewer.post(
            reverse("staff:proposal_decide", args=[proposal.pk]), {"decision": "confirm"}
        )
        assert response.status_code == 302
        record.refresh_from_db()
        assert record.status == "revoked"

    def test_the_api_accepts_a_clerks_correction_for_review(self, client_for, clerk, reviewer_actor, entity):
        record = standing(reviewer_actor, entity)
        body = {
            "item": "admin_punishment", "code": entity.code, "decision_date": "2026-09-30", "severity": "general",
            "legal_basis": "《中华人民共和国产品质量法》第四十九条", "content": "罚款3万元", "reason": "金额录入错误",
            "fields": {"party_category": "法人及非法人组织", "facts": "销售不合格产品", "punishment_category": "罚款"},
        }  # fmt: skip
        response = client_for(clerk).post(
            f"/api/v1/records/{record.pk}/correct/", json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 202, response.content
        assert (response.json()["kind"], response.json()["status"]) == ("correction", "pending")
        record.refresh_from_db()
        assert record.content == "罚款5.5万元"


class TestQueue:
    def test_the_dashboard_and_the_queue_count_what_waits(
        self, client_for, clerk_actor, reviewer, reviewer_actor, entity, django_assert_max_num_queries
    ):
        services.record_create(actor=clerk_actor, data=punishment(entity, "Q-1"), provenance="form")
        import_file(clerk_actor, entity, ["Q-2", "Q-3"])
        record = standing(reviewer_actor, entity, "Q-4")
        review.record_change_propose(actor=clerk_actor, record_id=record.pk, kind="revocation", reason="撤销")
        assert review.needs_review(clerk_actor) and not review.needs_review(reviewer_actor)
        from records import selectors

        assert selectors.review_counts(reviewer_actor) == {
            "form": 1,
            "imported": 2,
            "proposals": 1,
            "total": 4,
        }
        client = client_for(reviewer)
        dashboard = client.get(reverse("staff:dashboard")).content.decode()
        assert "Waiting for review" in dashboard and "1 drafts from the form, 2 imported drafts" in dashboard
        with django_assert_max_num_queries(20):
            queue = client.get(reverse("staff:review_queue"))
        text = queue.content.decode()
        assert "Q-1" in text and "batch.csv" in text and "Q-4" in text
        assert client_for(None).get(reverse("staff:review_queue")).status_code in (302, 403)

    def test_a_clerks_form_draft_notifies_the_reviewers_once(self, clerk_actor, entity, reviewer):
        record = services.record_create(actor=clerk_actor, data=punishment(entity), provenance="form")
        assert notices("records.draft") == [("reviewer", f"records.draft:{record.pk}")]


class TestWhoMayRecordWhat:
    @pytest.mark.parametrize("item", ["serious_list", "abnormal_list", "pledge_breach", "pledge_performance"])
    def test_workflow_items_are_refused_on_the_form_file_and_api_paths(self, reviewer_actor, entity, item):
        data = RecordInput(
            item=item,
            code=entity.code,
            decision_number="W-1",
            decision_date=date(2026, 9, 30),
            severity="general",
        )
        for provenance in ("form", "file", "api"):
            with pytest.raises(ValidationError) as exc:
                services.record_create(actor=reviewer_actor, data=data, provenance=provenance)
            assert "recorded only by its own procedure" in exc.value.message_dict["item"][0]
        [result] = services.records_import(actor=reviewer_actor, rows=[(2, data)], provenance="file")
        assert result.outcome == "rejected" and "item" in result.errors
        assert not CreditRecord.objects.exists()
        # The procedure itself writes it.
        record = services.record_create(actor=reviewer_actor, data=data, provenance="system")
        assert record.item.code == item

    def test_workflow_items_are_not_offered_for_import_nor_on_the_record_form(
        self, client_for, reviewer, reviewer_actor
    ):
        assert "serious_list" not in [i.code for i in runner.importable_items(reviewer_actor)]
        page = client_for(reviewer).get(reverse("staff:record_create")).content.decode()
        assert "item=serious_list" not in page and "item=admin_punishment" in page
        with pytest.raises(ValidationError):
            runner.import_job_create(
                actor=reviewer_actor,
                item_code="serious_list",
                uploaded_file=SimpleUploadedFile("x.csv", b"a,b\n"),
            )

    def test_workflow_items_are_refused_by_the_api(self, token_for, department, entity):
        client = token_for(department, ["records:write"])
        response = client.post(
            "/api/v1/records/",
            json.dumps(
                {
                    "item": "serious_list",
                    "code": entity.code,
                    "decision_number": "S-1",
                    "decision_date": "2026-09-30",
                }
            ),
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "recorded only by its own procedure" in json.dumps(response.json(), ensure_ascii=False)
        assert not CreditRecord.objects.exists()

    def test_a_punishment_needs_its_legal_basis_and_content(self, reviewer_actor, entity):
        with pytest.raises(ValidationError) as exc:
            services.record_create(
                actor=reviewer_actor, data=punishment(entity, legal_basis="", content=""), provenance="api"
            )
        assert exc.value.message_dict["legal_basis"] == [
            "Required for an administrative punishment (national field standard)."
        ]
        assert "content" in exc.value.message_dict
        assert not CreditRecord.objects.exists()

    def test_a_permit_needs_its_content_and_validity(self, reviewer_actor, entity):
        permit = RecordInput(
            item="admin_permit",
            code=entity.code,
            decision_number="P-1",
            decision_date=date(2026, 9, 30),
            fields={
                "party_category": "legal_person",
                "decision_doc_name": "食品经营许可决定书",
                "permit_category": "普通",
            },
        )
        with pytest.raises(ValidationError) as exc:
            services.record_create(actor=reviewer_actor, data=permit, provenance="api")
        assert {"content", "valid_from", "valid_to"} <= set(exc.value.message_dict)

    def test_existing_rows_are_kept_and_a_correction_obeys_the_rule(self, reviewer_actor, entity):
        record = standing(reviewer_actor, entity)
        CreditRecord.objects.filter(pk=record.pk).update(
            legal_basis="", content=""
        )  # recorded before the rule
        record.refresh_from_db()
        assert record.legal_basis == ""
        with pytest.raises(ValidationError) as exc:
            services.record_correct(
                actor=reviewer_actor,
                record_id=record.pk,
                data=punishment(
                    entity, record.decision_number, legal_basis="", content="", severity="serious"
                ),
                reason="更正",
            )
        assert "legal_basis" in exc.value.message_dict

    def test_the_import_template_marks_the_mandatory_columns(self, reviewer_actor):
        from records.imports import parsing
        from records.models import CatalogueItem

        columns = {
            c.key: c.required for c in parsing.columns_for(CatalogueItem.objects.get(code="admin_punishment"))
        }
        assert columns["legal_basis"] and columns["content"]
        permit = {
            c.key: c.required for c in parsing.columns_for(CatalogueItem.objects.get(code="admin_permit"))
        }
        assert permit["valid_from"] and permit["valid_to"] and permit["content"]

    def test_revocation_dates_are_checked(self, reviewer_actor, entity):
        record = standing(reviewer_actor, entity)
        with pytest.raises(ValidationError) as exc:
            services.record_revoke(
                actor=reviewer_actor, record_id=record.pk, reason="撤销", revoked_on=date(2026, 9, 1)
            )
        assert "2026-09-30" in exc.value.message_dict["revoked_on"][0]
        with pytest.raises(ValidationError) as exc:
            services.record_revoke(
                actor=reviewer_actor, record_id=record.pk, reason="撤销", revoked_on=date(2026, 10, 21)
            )
        assert "future" in exc.value.message_dict["revoked_on"][0]
        record.refresh_from_db()
        assert record.status == "effective"


class TestDraftsAndWorkflowCorrections:
    def test_a_discarded_draft_leaves_no_trace_in_the_feed_nor_on_the_deadline(self, clerk_actor, entity):
        draft = services.record_create(actor=clerk_actor, data=punishment(entity), provenance="form")
        discarded = services.record_revoke(actor=clerk_actor, record_id=draft.pk, reason="误录")
        assert (discarded.status, discarded.disclosure, discarded.disclosure_due_on) == (
            "revoked",
            "none",
            None,
        )
        assert not RecordChange.objects.exists()
        assert AuditEvent.objects.get(action="records.record.discarded").data["records"] == [draft.pk]

    def test_a_reviewer_rejects_an_imported_batch(self, clerk_actor, reviewer_actor, entity):
        job = import_file(clerk_actor, entity, ["R-1", "R-2"])
        with pytest.raises(ValidationError):
            review.import_job_reject(actor=reviewer_actor, job_id=job.pk, reason="")
        ids = review.import_job_reject(actor=reviewer_actor, job_id=job.pk, reason="文件与原件不符")
        assert len(ids) == 2
        assert set(CreditRecord.objects.values_list("status", "disclosure")) == {("revoked", "none")}
        assert not RecordChange.objects.exists()
        assert review.import_job_confirm(actor=reviewer_actor, job_id=job.pk) == []

    def test_a_clerks_draft_whose_period_is_over_still_waits_for_review(
        self, clerk_actor, reviewer_actor, entity
    ):
        old = punishment(entity, "D-1", decided=date(2025, 6, 3), disclosure_months=3)
        draft = services.record_create(actor=clerk_actor, data=old, provenance="form")
        assert (draft.status, draft.disclosure) == ("draft", "ended")
        assert not RecordChange.objects.exists()
        confirmed = services.record_confirm(actor=reviewer_actor, record_id=draft.pk)
        assert confirmed.status == "expired"

    def test_a_workflow_record_keeps_its_item_and_its_severity_is_not_raised(self, reviewer_actor, entity):
        breach = services.record_create(
            actor=reviewer_actor,
            data=RecordInput(
                item="pledge_breach", code=entity.code, decision_number="CN-1-SX",
                decision_date=date(2026, 9, 30), severity="general", content="违背承诺",
            ),
            provenance="system",
        )  # fmt: skip
        for changes, field in (({"item": "serious_list"}, "item"), ({"severity": "serious"}, "severity")):
            data = RecordInput(
                item=changes.get("item", "pledge_breach"), code=entity.code, decision_number="CN-1-SX",
                decision_date=date(2026, 9, 30), severity=changes.get("severity", "general"), content="违背承诺",
            )  # fmt: skip
            with pytest.raises(ValidationError) as exc:
                services.record_correct(actor=reviewer_actor, record_id=breach.pk, data=data, reason="更正")
            assert field in exc.value.message_dict
        # Nor may a generic record become a workflow item.
        record = standing(reviewer_actor, entity)
        into = RecordInput(
            item="serious_list", code=entity.code, decision_number=record.decision_number,
            decision_date=date(2026, 9, 30), severity="serious", content="列入",
        )  # fmt: skip
        with pytest.raises(ValidationError) as exc:
            services.record_correct(actor=reviewer_actor, record_id=record.pk, data=into, reason="更正")
        assert "recorded only by its own procedure" in exc.value.message_dict["item"][0]
        # Lowering the severity of a breach, as an upheld objection may, is a correction.
        milder = RecordInput(
            item="pledge_breach", code=entity.code, decision_number="CN-1-SX",
            decision_date=date(2026, 9, 30), severity="minor", content="违背承诺", disclosure_months=3,
        )  # fmt: skip
        assert (
            services.record_correct(
                actor=reviewer_actor, record_id=breach.pk, data=milder, reason="异议成立"
            ).severity
            == "minor"
        )

    def test_a_proposal_is_checked_again_when_confirmed(self, clerk_actor, reviewer_actor, entity):
        from records.models import CatalogueItem

        record = standing(reviewer_actor, entity)
        proposal = review.record_change_propose(
            actor=clerk_actor,
            record_id=record.pk,
            kind="correction",
            data=punishment(entity, record.decision_number, content="罚款3万元"),
            reason="更正",
        )
        other = f.department("XX-TEST")
        CatalogueItem.objects.get(code="admin_punishment").recording_departments.set([other])
        with pytest.raises(ValidationError) as exc:
            review.proposal_confirm(actor=reviewer_actor, proposal_id=proposal.pk)
        assert "item" in exc.value.message_dict
        record.refresh_from_db()
        assert record.content == "罚款5.5万元"


# --- the review doors against every actor -------------------------------------------------------

ACTORS = [
    "anonymous", "entity_user", "other_entity_user", "clerk", "reviewer", "department_admin",
    "other_department_clerk", "other_department_reviewer", "credit_officer",
]  # fmt: skip
# Reviewers of the department and the credit office; a clerk holds no records:confirm (403), another
# department's reviewer learns nothing (404); sign-in first for the anonymous (302 to the login).
DECIDE = {
    "anonymous": 302, "entity_user": 403, "other_entity_user": 403, "clerk": 403, "reviewer": 302,
    "department_admin": 302, "other_department_clerk": 403, "other_department_reviewer": 404, "credit_officer": 302,
}  # fmt: skip


@pytest.fixture
def world(clerk, reviewer, entity, other_entity_user, entity_user):
    clerk_actor = actor_for_user(clerk)
    record = standing(actor_for_user(reviewer), entity, "MX-1")
    proposal = review.record_change_propose(
        actor=clerk_actor, record_id=record.pk, kind="revocation", reason="撤销"
    )
    job = import_file(clerk_actor, entity, ["MX-2"])
    return {"record": record, "proposal": proposal, "job": job}


def state():
    return (
        sorted(CreditRecord.objects.values_list("pk", "status", "disclosure")),
        sorted(RecordProposal.objects.values_list("pk", "status")),
        RecordChange.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("door", ["proposal_decide", "import_confirm", "import_reject"])
def test_review_doors_matrix(client_for, request, world, actor, door):
    client = client_for(None if actor == "anonymous" else request.getfixturevalue(actor))
    before = state()
    if door == "proposal_decide":
        url, body = reverse("staff:proposal_decide", args=[world["proposal"].pk]), {"decision": "confirm"}
    elif door == "import_confirm":
        url, body = reverse("staff:import_confirm", args=[world["job"].pk]), {}
    else:
        url, body = reverse("staff:import_reject", args=[world["job"].pk]), {"reason": "与原件不符"}
    response = client.post(url, body)
    expected = DECIDE[actor]
    assert response.status_code == expected
    allowed = expected == 302 and actor != "anonymous"
    if not allowed:
        assert state() == before
        assert world["record"].decision_number not in response.content.decode()
        return
    if door == "proposal_decide":
        world["record"].refresh_from_db()
        assert world["record"].status == "revoked"
    else:
        drafts = CreditRecord.objects.get(import_job=world["job"])
        assert drafts.status == ("effective" if door == "import_confirm" else "revoked")


@pytest.mark.parametrize("actor", ACTORS)
def test_the_queue_is_for_the_departments_reviewers(client_for, request, world, actor):
    client = client_for(None if actor == "anonymous" else request.getfixturevalue(actor))
    response = client.get(reverse("staff:review_queue"))
    expected = {
        "reviewer": 200,
        "department_admin": 200,
        "credit_officer": 200,
        "other_department_reviewer": 200,
    }
    assert response.status_code == expected.get(actor, 302 if actor == "anonymous" else 403)
    body = response.content.decode()
    # Another department's reviewer has a queue of their own, in which nothing of ours appears.
    assert ("MX-1" in body) == (actor in ("reviewer", "department_admin", "credit_officer"))


@pytest.mark.parametrize("actor", ["clerk", "other_department_clerk", "reviewer"])
def test_only_the_proposer_withdraws_through_the_page(client_for, request, world, actor):
    client = client_for(request.getfixturevalue(actor))
    before = state()
    response = client.post(reverse("staff:proposal_withdraw", args=[world["proposal"].pk]))
    if actor == "clerk":
        assert response.status_code == 302
        assert RecordProposal.objects.get().status == "withdrawn"
    else:
        assert response.status_code == 404
        assert state() == before


def test_the_reviewer_sees_what_a_correction_changes(client_for, clerk, reviewer, entity):
    record = standing(actor_for_user(reviewer), entity, "DF-1")
    review.record_change_propose(
        actor=actor_for_user(clerk),
        record_id=record.pk,
        kind="correction",
        data=punishment(entity, "DF-1", content="罚款3万元", severity="serious"),
        reason="金额录入错误",
    )
    from records import selectors

    changes = selectors.proposal_changes(RecordProposal.objects.get())
    assert [(label, now, proposed) for label, now, proposed in changes] == [
        ("Severity", "General", "Serious"),
        ("Content", "罚款5.5万元", "罚款3万元"),
    ]
    page = client_for(reviewer).get(reverse("staff:record", args=[record.pk])).content.decode()
    assert "What the correction changes" in page and "罚款3万元" in page
