"""Credit pledges (信用承诺) and pre-permit education: matters and templates, applications with and
without a pledge, materials that follow (容缺受理), the overdue sweep, breaches and their negative
credit records, public and association pledges, the processing-time report, and bad input."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from credit_portal.accounts.actors import actor_for_user
from credit_portal.audit.models import AuditEvent
from credit_portal.errors import Conflict, NotFound
from credit_portal.notices.models import Notice
from credit_portal.workdays import services as workdays
from pledges import selectors, services, tasks
from pledges.models import (
    EducationAcknowledgement,
    MaterialSubmission,
    PermitApplication,
    Pledge,
)
from records import services as record_services
from records.models import CreditRecord, IndustryAssociation
from records.services import organisations, publication
from records.services.credit import add_months
from tests.pledges.support import (
    BASIS,
    CONSEQUENCES_ZH,
    PDF,
    SHANGHAI,
    SIGNER,
    SWEEP,
    TEXT_ZH,
    apply,
    break_pledge,
    counts,
    image,
    pdf,
    permit,
    sign,
)

pytestmark = pytest.mark.django_db

# --- matters and templates ----------------------------------------------------------------------


class TestMatters:
    def test_a_reviewer_publishes_a_matter_with_materials_template_and_education(self, matter):
        assert matter.department.code == "SZ-TEST"
        assert [(m.name_zh, m.pledge_may_replace, m.order) for m in matter.materials.order_by("order")] == [
            ("申请书", False, 1),
            ("设备布局图", True, 2),
            ("管理制度", True, 3),
        ]
        template = matter.current_template()
        assert (template.version, template.text_zh) == (1, TEXT_ZH)
        assert matter.education.get().checklist == [{"zh": "健康证明", "en": "Health certificates"}]
        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {"pledges.matter.created", "pledges.template.published", "pledges.education.saved"} <= actions

    def test_a_new_template_version_leaves_the_signed_pledge_as_it_was(
        self, matter, reviewer_actor, entity_actor, entity
    ):
        application = apply(entity_actor, matter, entity, pledge=sign())
        new = services.pledge_template_publish(
            actor=reviewer_actor, matter_id=matter.pk, text_zh="新承诺文本", consequences_zh="新后果"
        )
        assert new.version == 2
        pledge = Pledge.objects.get(application=application)
        assert pledge.template.version == 1
        assert pledge.text_signed.startswith(TEXT_ZH)
        same = services.pledge_template_publish(
            actor=reviewer_actor, matter_id=matter.pk, text_zh="新承诺文本", consequences_zh="新后果"
        )
        assert same.pk == new.pk  # publishing the same text again changes nothing

    def test_staff_edit_only_their_own_departments_matters(self, matter, other_department_reviewer, clerk):
        before = counts()
        with pytest.raises(NotFound):
            services.pledge_template_publish(
                actor=actor_for_user(other_department_reviewer),
                matter_id=matter.pk,
                text_zh="x",
                consequences_zh="y",
            )
        with pytest.raises(PermissionDenied):
            services.matter_save(
                actor=actor_for_user(clerk), data=services.MatterInput(code="x-y", name_zh="x"), materials=[]
            )
        assert counts() == before

    def test_a_code_is_unique_per_department(self, matter, reviewer_actor):
        with pytest.raises(Conflict):
            services.matter_save(
                actor=reviewer_actor,
                data=services.MatterInput(code="food-business", name_zh="重复"),
                materials=[],
            )

    def test_a_material_used_by_an_application_cannot_be_removed(
        self, matter, materials, reviewer_actor, entity_actor, entity
    ):
        apply(entity_actor, matter, entity)
        rows = [
            services.MaterialInput(
                id=m.pk, name_zh=m.name_zh, pledge_may_replace=m.pledge_may_replace, delete=i == 0
            )
            for i, m in enumerate(materials)
        ]
        with pytest.raises(ValidationError) as exc:
            services.matter_save(
                actor=reviewer_actor,
                matter_id=matter.pk,
                data=services.MatterInput(code="food-business", name_zh="食品经营许可"),
                materials=rows,
            )
        assert "materials.0.name_zh" in exc.value.message_dict
        assert matter.materials.count() == 3

    def test_links_must_be_web_addresses(self, matter, reviewer_actor):
        with pytest.raises(ValidationError) as exc:
            services.compliance_material_save(
                actor=reviewer_actor,
                matter_id=matter.pk,
                data=services.EducationInput(
                    title_zh="t", body_zh="b", links=[{"title": "x", "url": "javascript:alert(1)"}]
                ),
            )
        assert "links" in exc.value.message_dict

    def test_bad_matter_values_are_reported_together_and_nothing_is_written(self, reviewer_actor):
        before = counts()
        with pytest.raises(ValidationError) as exc:
            services.matter_save(
                actor=reviewer_actor,
                data=services.MatterInput(
                    code="Not A Code", name_zh="名\x00称", materials_due_days=0, statutory_days="abc"
                ),
                materials=[services.MaterialInput(name_zh="")],
            )
        assert set(exc.value.message_dict) == {
            "code",
            "name_zh",
            "materials_due_days",
            "statutory_days",
            "materials.0.name_zh",
        }
        assert counts() == before


# --- applications -------------------------------------------------------------------------------


class TestApplications:
    def test_pledge_signed_and_nothing_missing_is_accepted_on_the_spot(
        self, matter, entity_actor, entity, entity_user
    ):
        application = apply(entity_actor, matter, entity, pledge=sign())
        assert application.status == PermitApplication.Status.ACCEPTED
        assert application.accepted_at is not None
        pledge = application.pledge
        assert pledge.kind == Pledge.Kind.PERMIT
        assert pledge.status == Pledge.Status.ACTIVE
        assert pledge.materials_due_on is None
        assert (pledge.signer, pledge.signer_name, pledge.template.version) == (entity_user, SIGNER, 1)
        assert pledge.text_signed == TEXT_ZH + "\n\n" + matter.current_template().text_en
        assert pledge.consequences.startswith(CONSEQUENCES_ZH)
        assert pledge.number.startswith(f"CN-{timezone.localdate().year}-")
        assert MaterialSubmission.objects.filter(application=application).count() == 3
        # Making a pledge writes a neutral record of the pledge item, numbered with the pledge.
        record = pledge.record
        assert (record.item.code, record.department_id, record.decision_number, record.provenance) == (
            "pledge_performance",
            matter.department_id,
            pledge.number,
            "system",
        )
        assert (record.status, record.disclosure) == ("effective", "pending")
        assert Notice.objects.filter(kind="pledges.application_received").count() == 1  # the reviewer

    def test_pledge_with_missing_materials_is_accepted_with_materials_to_follow(
        self, matter, materials, entity_actor, entity
    ):
        application = apply(entity_actor, matter, entity, missing=materials[1:], pledge=sign())
        assert application.status == PermitApplication.Status.ACCEPTED_PENDING_MATERIALS
        assert set(application.missing_materials.all()) == set(materials[1:])
        assert application.pledge.materials_due_on == workdays.add_working_days(timezone.localdate(), 20)
        assert "容缺材料：设备布局图、管理制度" in application.pledge.record.content

    def test_without_a_pledge_the_application_is_submitted_for_normal_review(
        self, matter, entity_actor, entity
    ):
        application = apply(entity_actor, matter, entity)
        assert application.status == PermitApplication.Status.SUBMITTED
        assert application.accepted_at is None
        assert not Pledge.objects.exists()
        assert not CreditRecord.objects.exists()

    def test_without_a_pledge_no_material_may_follow(self, matter, materials, entity_actor, entity):
        before = counts()
        with pytest.raises(ValidationError) as exc:
            apply(entity_actor, matter, entity, missing=materials[1:2])
        assert set(exc.value.message_dict) == {f"material_{materials[1].pk}"}
        assert counts() == before

    def test_a_pledge_for_a_matter_that_allows_none_is_refused(self, no_pledge_matter, entity_actor, entity):
        before = counts()
        with pytest.raises(ValidationError) as exc:
            apply(entity_actor, no_pledge_matter, entity, pledge=sign())
        assert "pledge" in exc.value.message_dict
        material = no_pledge_matter.materials.get()
        with pytest.raises(ValidationError) as exc:
            apply(entity_actor, no_pledge_matter, entity, missing=[material], pledge=sign())
        assert f"material_{material.pk}" in exc.value.message_dict
        assert counts() == before

    def test_a_material_a_pledge_cannot_stand_in_for_must_be_uploaded(
        self, matter, materials, entity_actor, entity
    ):
        with pytest.raises(ValidationError) as exc:
            apply(entity_actor, matter, entity, missing=materials[:1], pledge=sign())
        assert f"material_{materials[0].pk}" in exc.value.message_dict

    def test_signing_needs_the_signers_own_name_a_tick_and_the_text_shown(self, matter, entity_actor, entity):
        before = counts()
        with pytest.raises(ValidationError) as exc:
            apply(entity_actor, matter, entity, pledge=sign(name="张三", confirmed=False))
        assert set(exc.value.message_dict) == {"signer_name", "confirmed"}
        with pytest.raises(ValidationError) as exc:
            apply(entity_actor, matter, entity, pledge=sign(version=99))
        assert "pledge" in exc.value.message_dict  # the text changed while it was being read
        assert counts() == before

    def test_signing_twice_is_refused(self, matter, entity_actor, entity):
        application = apply(entity_actor, matter, entity)
        pledge = services.application_pledge_sign(
            actor=entity_actor, number=application.number, signing=sign()
        )
        application.refresh_from_db()
        assert application.status == PermitApplication.Status.ACCEPTED
        assert application.accepted_at == pledge.signed_at
        before = counts()
        with pytest.raises(Conflict):
            services.application_pledge_sign(actor=entity_actor, number=application.number, signing=sign())
        assert counts() == before
        assert Pledge.objects.filter(application=application).count() == 1

    def test_another_entitys_application_is_not_found(
        self, matter, entity_actor, entity, other_entity_user, other_entity
    ):
        application = apply(entity_actor, matter, entity)
        other = actor_for_user(other_entity_user)
        before = counts()
        with pytest.raises(NotFound):
            services.application_pledge_sign(actor=other, number=application.number, signing=sign())
        with pytest.raises(NotFound):
            apply(other, matter, entity)  # applying for an entity one does not act for
        assert counts() == before

    def test_files_are_pdf_jpeg_or_png_up_to_20_mb(self, matter, materials, entity_actor, entity, settings):
        first, second, third = materials
        accepted = apply(
            entity_actor,
            matter,
            entity,
            uploads={first.pk: pdf(), second.pk: image("a.png"), third.pk: image("b.jpg", "JPEG")},
        )
        names = sorted(s.file.name.rpartition(".")[2] for s in accepted.submissions.all())
        assert names == ["jpg", "pdf", "png"]
        before = counts()
        bad = {
            "script.html": SimpleUploadedFile("script.html", b"<script>alert(1)</script>"),
            "fake.pdf": SimpleUploadedFile("fake.pdf", b"MZ\x90\x00 not a pdf"),
            "png-named.pdf": image("png-named.pdf"),
            "empty.pdf": SimpleUploadedFile("empty.pdf", b""),
            "broken.png": SimpleUploadedFile("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
            "nul\x00.pdf": pdf("nul\x00.pdf"),
        }
        for name, upload in bad.items():
            with pytest.raises(ValidationError) as exc:
                apply(
                    entity_actor,
                    matter,
                    entity,
                    uploads={first.pk: upload, second.pk: pdf(), third.pk: pdf()},
                )
            assert list(exc.value.message_dict) == [f"material_{first.pk}"], name
        settings.PLEDGE_MATERIAL_MAX_BYTES = 20 * 1024 * 1024
        big = SimpleUploadedFile("big.pdf", PDF + b"0" * (20 * 1024 * 1024))
        with pytest.raises(ValidationError) as exc:
            apply(entity_actor, matter, entity, uploads={first.pk: big, second.pk: pdf(), third.pk: pdf()})
        assert "at most 20 MB are accepted" in exc.value.message_dict[f"material_{first.pk}"][0]
        assert counts() == before

    def test_a_failure_after_files_were_stored_removes_them(
        self, matter, materials, entity_actor, entity, settings, monkeypatch
    ):
        from pledges.services import applications

        def boom(*args, **kwargs):
            raise RuntimeError("notice service down")

        monkeypatch.setattr(applications, "_notify_department", boom)
        before = counts()
        with pytest.raises(RuntimeError):
            apply(entity_actor, matter, entity, pledge=sign())
        assert counts() == before
        stored = (
            list((settings.MEDIA_ROOT / "materials").rglob("*.*")) if settings.MEDIA_ROOT.exists() else []
        )
        assert stored == []

    def test_the_decision_records_working_days_since_submission(
        self, matter, entity_actor, entity, reviewer_actor, entity_user, monkeypatch
    ):
        application = apply(entity_actor, matter, entity)
        PermitApplication.objects.filter(pk=application.pk).update(
            submitted_at=datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI)
        )
        decided = datetime(2026, 10, 15, 9, 0, tzinfo=SHANGHAI)
        monkeypatch.setattr(timezone, "now", lambda: decided)
        services.application_decide(
            actor=reviewer_actor,
            number=application.number,
            approve=True,
            reason="",
            permit=permit(start=decided.date()),
        )
        application.refresh_from_db()
        # National Day: Oct 1-8 off, Sat Oct 10 worked; the day of submission is not counted.
        assert (application.status, application.processing_days) == ("approved", 7)
        assert application.decided_by == reviewer_actor.user
        notice = Notice.objects.get(recipient=entity_user, kind="pledges.application_decided")
        assert notice.link == f"/my/applications/{application.number}/"

    def test_rejecting_needs_reasons_and_deciding_twice_is_harmless(
        self, matter, entity_actor, entity, reviewer_actor
    ):
        application = apply(entity_actor, matter, entity, pledge=sign())
        with pytest.raises(ValidationError) as exc:
            services.application_decide(actor=reviewer_actor, number=application.number, approve=False)
        assert "reason" in exc.value.message_dict
        services.application_decide(
            actor=reviewer_actor, number=application.number, approve=False, reason="条件不符"
        )
        services.application_decide(
            actor=reviewer_actor, number=application.number, approve=False, reason="again"
        )
        application.refresh_from_db()
        assert (application.status, application.decision_reason) == ("rejected", "条件不符")
        with pytest.raises(ValidationError):
            services.application_decide(actor=reviewer_actor, number=application.number, approve=True)
        # The decision notice repeats what breaking the pledge means.
        assert CONSEQUENCES_ZH in Notice.objects.get(kind="pledges.application_decided").body_zh

    def test_only_the_matters_department_decides(
        self, matter, entity_actor, entity, other_department_reviewer, credit_officer
    ):
        application = apply(entity_actor, matter, entity)
        before = counts()
        for user in (other_department_reviewer, credit_officer):
            with pytest.raises(NotFound):
                services.application_decide(
                    actor=actor_for_user(user), number=application.number, approve=True
                )
        assert counts() == before


# --- performance: kept, overdue, broken --------------------------------------------------------


class TestLifecycle:
    def test_missing_materials_supplied_in_time_keep_the_pledge_with_a_positive_record(
        self, matter, materials, entity_actor, entity
    ):
        application = apply(entity_actor, matter, entity, missing=materials[1:], pledge=sign())
        pledge = application.pledge
        services.material_supply(
            actor=entity_actor, number=application.number, material_id=materials[1].pk, upload=pdf()
        )
        pledge.refresh_from_db()
        assert pledge.status == Pledge.Status.ACTIVE  # one of two supplied
        with pytest.raises(ValidationError):  # the same material twice
            services.material_supply(
                actor=entity_actor, number=application.number, material_id=materials[1].pk, upload=pdf()
            )
        services.material_supply(
            actor=entity_actor, number=application.number, material_id=materials[2].pk, upload=image()
        )
        pledge.refresh_from_db()
        application.refresh_from_db()
        assert pledge.status == Pledge.Status.FULFILLED
        assert pledge.settled_at is not None
        assert application.status == PermitApplication.Status.ACCEPTED
        record = pledge.performance_record
        assert (record.item.code, record.department_id, record.decision_number, record.provenance) == (
            "pledge_performance",
            matter.department_id,
            f"{pledge.number}-LY",
            "system",
        )
        assert "已按期履行" in record.content
        # Nothing is left for the sweep.
        assert (
            services.pledges_flag_overdue(actor=SWEEP, today=pledge.materials_due_on + timedelta(days=30))
            == []
        )

    def test_breach_flagged_by_the_sweep_then_confirmed_writes_a_negative_record_and_tells_the_entity(
        self, matter, materials, entity_actor, entity, entity_user, reviewer, reviewer_actor, department_admin
    ):
        application = apply(entity_actor, matter, entity, missing=materials[1:], pledge=sign())
        pledge = application.pledge
        due = pledge.materials_due_on
        # On the due day the pledge is still in force; the day after, the sweep flags it.
        assert services.pledges_flag_overdue(actor=SWEEP, today=due) == []
        assert services.pledges_flag_overdue(actor=SWEEP, today=due + timedelta(days=1)) == [pledge.pk]
        pledge.refresh_from_db()
        assert pledge.status == Pledge.Status.OVERDUE
        flagged = Notice.objects.filter(kind="pledges.overdue")
        assert sorted(n.recipient.username for n in flagged) == ["dept_admin", "reviewer"]
        assert flagged.first().link == f"/staff/pledges/{pledge.number}/"
        # Idempotent: running again flags and notifies nothing more.
        assert services.pledges_flag_overdue(actor=SWEEP, today=due + timedelta(days=2)) == []
        assert flagged.count() == 2
        # The sweep only flags: no negative record yet.
        assert pledge.performance_record is None
        records_before = CreditRecord.objects.count()

        break_pledge(reviewer_actor, entity_actor, pledge.number, "逾期未补齐设备布局图和管理制度。")
        pledge.refresh_from_db()
        assert (pledge.status, pledge.settled_by, pledge.breach_reason) == (
            Pledge.Status.BROKEN,
            reviewer,
            "逾期未补齐设备布局图和管理制度。",
        )
        assert CreditRecord.objects.count() == records_before + 1
        record = pledge.performance_record
        assert (
            record.item.code,
            record.department_id,
            record.entity_id,
            record.decision_number,
            record.provenance,
            record.status,
        ) == (
            "pledge_breach",
            matter.department_id,
            entity.pk,
            f"{pledge.number}-SX",
            "system",
            "effective",
        )
        # Negative information of the default severity, disclosed for that severity's period under
        # the rule in force on the day (NDRC Order 36: general, 3 to 12 months; the maximum).
        assert (record.item.polarity, record.severity) == ("negative", "general")
        assert record.disclosure_ends_on == add_months(record.decision_date, 12)
        assert "违反" in record.content and "逾期未补齐" in record.content
        broken = Notice.objects.get(kind="pledges.broken")
        assert broken.recipient == entity_user
        assert broken.link == f"/my/pledges/{pledge.number}/"
        assert CONSEQUENCES_ZH in broken.body_zh
        # Confirming again changes nothing.
        services.pledge_confirm_breach(actor=reviewer_actor, number=pledge.number, reason="again")
        assert CreditRecord.objects.count() == records_before + 1

        # Materials uploaded after the breach was confirmed are refused, clearly.
        before = counts()
        with pytest.raises(ValidationError) as exc:
            services.material_supply(
                actor=entity_actor, number=application.number, material_id=materials[1].pk, upload=pdf()
            )
        assert "broken" in exc.value.message_dict["file"][0]
        assert counts() == before

        # The negative record is published by the disclosure sweep and shows on the public profile.
        publication.publish_due(actor=SWEEP, today=record.disclosure_due_on)
        record.refresh_from_db()
        assert record.disclosure == "published"

    def test_the_beat_task_runs_the_sweep(self, matter, materials, entity_actor, entity):
        application = apply(entity_actor, matter, entity, missing=materials[1:], pledge=sign())
        due = application.pledge.materials_due_on
        assert tasks.sweep_overdue_pledges((due + timedelta(days=1)).isoformat()) == 1
        assert tasks.sweep_overdue_pledges((due + timedelta(days=1)).isoformat()) == 0

    def test_the_sweep_skips_rejected_applications(
        self, matter, materials, entity_actor, entity, reviewer_actor
    ):
        application = apply(entity_actor, matter, entity, missing=materials[1:], pledge=sign())
        services.application_decide(
            actor=reviewer_actor, number=application.number, approve=False, reason="不符合条件"
        )
        assert (
            services.pledges_flag_overdue(
                actor=SWEEP, today=application.pledge.materials_due_on + timedelta(days=1)
            )
            == []
        )

    def test_materials_supplied_late_flag_the_pledge_and_staff_may_accept_them(
        self, matter, materials, entity_actor, entity, reviewer_actor
    ):
        application = apply(entity_actor, matter, entity, missing=materials[2:], pledge=sign())
        Pledge.objects.filter(application=application).update(
            materials_due_on=timezone.localdate() - timedelta(days=1)
        )
        services.material_supply(
            actor=entity_actor, number=application.number, material_id=materials[2].pk, upload=pdf()
        )
        pledge = Pledge.objects.get(application=application)
        assert pledge.status == Pledge.Status.OVERDUE
        assert Notice.objects.filter(kind="pledges.overdue").exists()
        services.pledge_accept_late(
            actor=reviewer_actor, number=pledge.number, reason="因系统故障延误，情有可原。"
        )
        pledge.refresh_from_db()
        assert pledge.status == Pledge.Status.FULFILLED
        assert "逾期补齐" in pledge.performance_record.content

    def test_a_breach_found_in_an_inspection_is_confirmed_the_same_way(
        self, matter, entity_actor, entity, reviewer_actor
    ):
        application = apply(entity_actor, matter, entity, pledge=sign())
        with pytest.raises(ValidationError) as exc:
            services.pledge_breach_notify(
                actor=reviewer_actor, number=application.pledge.number, grounds=" ", legal_basis=BASIS
            )
        assert list(exc.value.message_dict) == ["reason"]
        pledge = break_pledge(
            reviewer_actor, entity_actor, application.pledge.number, "现场检查发现经营场所与承诺不符。"
        )
        assert pledge.status == Pledge.Status.BROKEN
        assert pledge.performance_record.decision_number == f"{pledge.number}-SX"

    def test_the_public_page_follows_the_breach_record_when_it_is_revoked(
        self, matter, entity_actor, entity, reviewer_actor, client
    ):
        application = apply(entity_actor, matter, entity, pledge=sign())
        reason = "现场检查发现经营场所与承诺不符。"
        pledge = break_pledge(reviewer_actor, entity_actor, application.pledge.number, reason)
        page = client.get(f"/pledges/{pledge.number}/").content.decode()
        assert reason in page and "was revoked" not in page
        record_services.record_revoke(
            actor=reviewer_actor, record_id=pledge.performance_record_id, reason="复核撤销"
        )
        page = client.get(f"/pledges/{pledge.number}/").content.decode()
        assert "The finding of a breach was revoked" in page
        assert reason not in page
        assert "Finding revoked" in client.get("/pledges/").content.decode()

    def test_the_public_page_stops_telling_of_a_breach_whose_disclosure_period_ended(
        self, matter, entity_actor, entity, reviewer_actor, client
    ):
        application = apply(entity_actor, matter, entity, pledge=sign())
        reason = "承诺事项与实际经营不符。"
        pledge = break_pledge(
            reviewer_actor, entity_actor, application.pledge.number, reason, severity="general"
        )
        record = pledge.performance_record
        assert publication.publish_due(actor=reviewer_actor, today=record.disclosure_due_on)
        assert reason in client.get(f"/pledges/{pledge.number}/").content.decode()
        assert publication.end_due(actor=reviewer_actor, today=record.disclosure_ends_on + timedelta(days=1))
        page = client.get(f"/pledges/{pledge.number}/").content.decode()
        assert "The disclosure period of the record of the breach has ended." in page
        assert reason not in page
        assert "Disclosure period ended" in client.get("/pledges/").content.decode()

    def test_a_kept_pledge_cannot_be_declared_broken(
        self, matter, materials, entity_actor, entity, reviewer_actor
    ):
        application = apply(entity_actor, matter, entity, missing=materials[2:], pledge=sign())
        services.material_supply(
            actor=entity_actor, number=application.number, material_id=materials[2].pk, upload=pdf()
        )
        with pytest.raises(ValidationError) as exc:
            services.pledge_confirm_breach(actor=reviewer_actor, number=application.pledge.number, reason="x")
        assert "status" in exc.value.message_dict

    def test_only_staff_of_the_overseeing_department_confirm_a_breach(
        self, matter, entity_actor, entity, other_department_reviewer, credit_officer, clerk
    ):
        pledge = apply(entity_actor, matter, entity, pledge=sign()).pledge
        before = counts()
        for user in (other_department_reviewer, credit_officer):
            with pytest.raises(NotFound):
                services.pledge_confirm_breach(actor=actor_for_user(user), number=pledge.number, reason="x")
        for actor in (actor_for_user(clerk), entity_actor):
            with pytest.raises(PermissionDenied):
                services.pledge_confirm_breach(actor=actor, number=pledge.number, reason="x")
        assert counts() == before


# --- pre-permit education -----------------------------------------------------------------------


class TestEducation:
    def test_education_never_blocks_an_application(
        self, matter, materials, entity_actor, entity, other_entity, other_entity_user
    ):
        # Without any acknowledgement, every outcome is available.
        assert not EducationAcknowledgement.objects.exists()
        submitted = apply(entity_actor, matter, entity)
        on_the_spot = apply(entity_actor, matter, entity, pledge=sign())
        pending = apply(entity_actor, matter, entity, missing=materials[1:], pledge=sign())
        assert [submitted.status, on_the_spot.status, pending.status] == [
            "submitted",
            "accepted",
            "accepted_pending",
        ]
        assert not EducationAcknowledgement.objects.exists()
        # With it acknowledged, exactly the same.
        services.education_acknowledge(actor=entity_actor, matter_id=matter.pk, entity_code=entity.code)
        again = apply(entity_actor, matter, entity)
        assert again.status == submitted.status
        # Nothing about fees exists anywhere in the model.
        from django.apps import apps

        for model in apps.get_app_config("pledges").get_models():
            assert not [f.name for f in model._meta.get_fields() if "fee" in f.name or "price" in f.name], (
                model
            )

    def test_the_acknowledgement_is_recorded_once(self, matter, entity_actor, entity, entity_user):
        first = services.education_acknowledge(
            actor=entity_actor, matter_id=matter.pk, entity_code=entity.code
        )
        second = services.education_acknowledge(
            actor=entity_actor, matter_id=matter.pk, entity_code=entity.code
        )
        assert first.pk == second.pk
        assert (first.matter, first.entity, first.user) == (matter, entity, entity_user)
        assert AuditEvent.objects.filter(action="pledges.education.acknowledged").count() == 1

    def test_one_acknowledges_only_for_ones_own_entity(self, matter, other_entity_user, entity):
        with pytest.raises(NotFound):
            services.education_acknowledge(
                actor=actor_for_user(other_entity_user), matter_id=matter.pk, entity_code=entity.code
            )
        assert not EducationAcknowledgement.objects.exists()


# --- public and association pledges -------------------------------------------------------------


class TestPublicPledges:
    def test_an_entity_publishes_a_voluntary_pledge_that_becomes_a_record(
        self, entity_actor, entity, department
    ):
        until = timezone.localdate() + timedelta(days=365)
        pledge = services.public_pledge_publish(
            actor=entity_actor,
            entity_code=entity.code,
            text="本单位承诺明码标价，不销售假冒伪劣商品。",
            valid_until=until,
            signature=services.Signature(signer_name=SIGNER, confirmed=True),
        )
        assert (pledge.kind, pledge.status, pledge.valid_until, pledge.department) == (
            "public",
            "active",
            until,
            department,
        )
        record = pledge.record
        assert (record.item.code, record.decision_number, record.valid_to) == (
            "pledge_performance",
            pledge.number,
            until,
        )
        assert record.content.endswith("本单位承诺明码标价，不销售假冒伪劣商品。")
        assert list(selectors.public_pledges(entity.code.lower())) == [pledge]

    def test_bad_public_pledges_are_refused_whole(self, entity_actor, entity):
        before = counts()
        with pytest.raises(ValidationError) as exc:
            services.public_pledge_publish(
                actor=entity_actor,
                entity_code=entity.code,
                text="含\x00空字符",
                valid_until=timezone.localdate(),
                signature=services.Signature(signer_name="", confirmed=False),
            )
        assert set(exc.value.message_dict) == {"text", "valid_until", "signer_name", "confirmed"}
        assert counts() == before

    def test_an_association_registers_a_members_pledge(
        self, association, association_user, entity, entity_user, department
    ):
        actor = actor_for_user(association_user)
        pledge = services.association_pledge_register(
            actor=actor,
            association_id=association.pk,
            member_code=entity.code,
            text="遵守协会自律公约，诚信经营。",
            signature=services.Signature(signer_name=SIGNER, confirmed=True),
        )
        assert (pledge.kind, pledge.entity, pledge.association, pledge.signer) == (
            "association",
            entity,
            association,
            association_user,
        )
        assert "深圳市食品行业协会的信用承诺制度下" in pledge.record.content
        assert Notice.objects.get(kind="pledges.association_registered").recipient == entity_user

    def test_an_association_registers_only_its_members_pledges(
        self, association, association_user, other_entity, entity_actor
    ):
        before = counts()
        with pytest.raises(ValidationError) as exc:
            services.association_pledge_register(
                actor=actor_for_user(association_user),
                association_id=association.pk,
                member_code=other_entity.code,
                text="x",
                signature=services.Signature(signer_name=SIGNER, confirmed=True),
            )
        assert "member" in exc.value.message_dict
        with pytest.raises(NotFound):  # a member's own user is not the association
            services.association_pledge_register(
                actor=entity_actor,
                association_id=association.pk,
                member_code=other_entity.code,
                text="x",
                signature=services.Signature(signer_name=SIGNER, confirmed=True),
            )
        assert counts() == before

    def test_only_the_credit_office_registers_associations(self, reviewer, association_entity):
        with pytest.raises(PermissionDenied):
            organisations.association_register(
                actor=actor_for_user(reviewer), code=association_entity.code, pledge_system_zh="x"
            )
        assert not IndustryAssociation.objects.exists()

    def test_an_association_is_registered_once(self, association, credit_officer, association_entity):
        with pytest.raises(Conflict):
            organisations.association_register(
                actor=actor_for_user(credit_officer), code=association_entity.code, pledge_system_zh="x"
            )


# --- the processing-time report -----------------------------------------------------------------


class TestReport:
    def _decided(self, actor, matter, entity, *, pledge: bool, days: int, on: date):
        application = apply(actor, matter, entity, pledge=sign() if pledge else None)
        PermitApplication.objects.filter(pk=application.pk).update(
            status="approved",
            decided_at=datetime(on.year, on.month, on.day, 10, tzinfo=SHANGHAI),
            processing_days=days,
        )
        return application

    def test_medians_with_and_without_pledge_per_matter_in_one_query(
        self,
        matter,
        entity_actor,
        entity,
        reviewer_actor,
        credit_officer,
        other_department_reviewer,
        django_assert_num_queries,
    ):
        in_period = date(2026, 6, 15)
        for days in (1, 2, 6):
            self._decided(entity_actor, matter, entity, pledge=True, days=days, on=in_period)
        for days in (5, 9):
            self._decided(entity_actor, matter, entity, pledge=False, days=days, on=in_period)
        self._decided(entity_actor, matter, entity, pledge=False, days=40, on=date(2025, 1, 2))  # outside
        apply(entity_actor, matter, entity)  # undecided

        with django_assert_num_queries(1):
            rows = selectors.processing_report(reviewer_actor, start=date(2026, 1, 1), end=date(2026, 12, 31))
        assert [(r.code, r.with_count, r.with_median, r.without_count, r.without_median) for r in rows] == [
            ("food-business", 3, 2.0, 2, 7.0)
        ]
        assert rows[0].days_saved == 5.0
        # Period bounds are inclusive decision dates.
        assert selectors.processing_report(reviewer_actor, start=in_period, end=in_period)[0].with_count == 3
        assert (
            selectors.processing_report(reviewer_actor, start=date(2026, 6, 16), end=date(2026, 12, 31)) == []
        )
        # Another department sees none of it; the credit office sees every department's.
        assert (
            selectors.processing_report(
                actor_for_user(other_department_reviewer), start=date(2026, 1, 1), end=date(2026, 12, 31)
            )
            == []
        )
        assert (
            len(
                selectors.processing_report(
                    actor_for_user(credit_officer), start=date(2026, 1, 1), end=date(2026, 12, 31)
                )
            )
            == 1
        )


class TestLapse:
    """A pledge that can no longer be kept or broken lapses: neither kept nor broken, no record."""

    def test_rejecting_the_application_lapses_its_pledge(
        self, reviewer_actor, entity_actor, matter, materials, entity
    ):
        application = apply(entity_actor, matter, entity, missing=materials[2:], pledge=sign())
        pledge = application.pledge
        records = CreditRecord.objects.count()
        services.application_decide(
            actor=reviewer_actor, number=application.number, approve=False, reason="场所不符合要求"
        )
        pledge.refresh_from_db()
        assert pledge.status == Pledge.Status.LAPSED
        assert pledge.performance_record is None
        assert CreditRecord.objects.count() == records
        assert AuditEvent.objects.filter(action="pledges.pledge.lapsed", target_id=str(pledge.pk)).exists()
        # The sweep leaves it alone, also long after its due date.
        assert (
            services.pledges_flag_overdue(actor=SWEEP, today=pledge.materials_due_on + timedelta(days=60))
            == []
        )

    def test_the_sweep_lapses_a_voluntary_pledge_past_its_day_once(self, entity_actor, entity):
        until = timezone.localdate() + timedelta(days=10)
        pledge = services.public_pledge_publish(
            actor=entity_actor,
            entity_code=entity.code,
            text="本单位承诺明码标价。",
            valid_until=until,
            signature=services.Signature(signer_name=SIGNER, confirmed=True),
        )
        assert services.pledges_lapse_expired(actor=SWEEP, today=until) == []
        assert services.pledges_lapse_expired(actor=SWEEP, today=until + timedelta(days=1)) == [pledge.pk]
        assert services.pledges_lapse_expired(actor=SWEEP, today=until + timedelta(days=2)) == []
        pledge.refresh_from_db()
        assert pledge.status == Pledge.Status.LAPSED
