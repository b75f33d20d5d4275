"""Who may record what, the two pledge points: approving a permit application writes the permit
record (catalogue item ``admin_permit``) for the deciding department; a breach of a pledge is found
only after notice of the intended finding and a defence window in working days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from credit_portal.accounts.actors import actor_for_user
from credit_portal.audit.models import AuditEvent
from credit_portal.notices import tasks as notice_tasks
from credit_portal.notices.models import Notice
from credit_portal.workdays.models import DeadlineRule, HolidayNotice
from pledges import services, tasks
from pledges.models import BreachNotice, PermitApplication, Pledge
from records.models import CreditRecord
from records.services import publication
from tests.pledges.support import CONSEQUENCES_ZH, SWEEP, apply, counts, pdf, permit, sign

pytestmark = pytest.mark.django_db

# Monday 2026-09-28: five working days later is Saturday 2026-10-10 (Sep 29, Sep 30, then the
# National Day holiday Oct 1-7, then Oct 8, Oct 9 and the adjusted working Saturday Oct 10).
SERVED_ON = date(2026, 9, 28)
DEFENCE_DUE = date(2026, 10, 10)
GROUNDS = "逾期未补齐设备布局图，经电话催告仍未补齐。"


def state() -> dict:
    out = counts()
    out["notices"] = sorted(BreachNotice.objects.values_list("pk", "status", "defence"))
    out["pledges"] = sorted(Pledge.objects.values_list("number", "status"))
    out["applications"] = sorted(PermitApplication.objects.values_list("number", "status", "permit_record"))
    return out


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def pledged(today, matter, materials, entity_actor, entity):
    """An application accepted on ``SERVED_ON`` with a material to follow under a pledge in force."""
    today(SERVED_ON)
    return apply(entity_actor, matter, entity, missing=materials[2:], pledge=sign())


# --- the permit record --------------------------------------------------------------------------


class TestPermitRecord:
    def test_approval_writes_the_permit_record_of_the_department_disclosed_within_7_working_days(
        self, today, matter, entity_actor, entity, reviewer_actor, department
    ):
        today(date(2026, 9, 30))
        application = apply(entity_actor, matter, entity, pledge=sign())
        services.application_decide(
            actor=reviewer_actor, number=application.number, approve=True, reason="", permit=permit()
        )
        application.refresh_from_db()
        record = application.permit_record
        assert application.status == "approved"
        assert (
            record.item.code,
            record.department_id,
            record.entity_id,
            record.party_name,
            record.decision_number,
            record.decision_date,
            record.content,
            record.valid_from,
            record.valid_to,
            record.provenance,
            record.status,
        ) == (
            "admin_permit",
            department.pk,
            entity.pk,
            entity.name_zh,
            "深市监许〔2026〕0123号",
            date(2026, 9, 30),
            "准予食品经营许可：热食类食品制售。",
            date(2026, 9, 30),
            date(2026, 9, 30) + timedelta(days=5 * 365),
            "form",
            "effective",
        )
        assert record.fields == {
            "party_category": "legal_person",
            "legal_rep_name": "马某某",
            "decision_doc_name": "食品经营许可决定书",
            "permit_category": "ordinary",
            "certificate_name": "食品经营许可证",
            "certificate_number": "JY14403050001234",
            "permit_status": "valid",
            "source_unit": department.name_zh,
        }
        assert application.number in record.remarks and "credit pledge" in record.remarks
        # Disclosed like any permit: due 7 working days after the decision (Oct 1-7 off), public
        # until the end of its validity.
        assert (record.disclosure, record.disclosure_due_on, record.disclosure_ends_on) == (
            "pending",
            date(2026, 10, 15),
            record.valid_to,
        )
        event = AuditEvent.objects.get(action="pledges.application.approved")
        assert (event.after["permit_record"], event.after["decision_number"]) == (
            record.pk,
            "深市监许〔2026〕0123号",
        )
        body = Notice.objects.get(kind="pledges.application_decided").body_zh
        assert "食品经营许可决定书（深市监许〔2026〕0123号）" in body
        publication.publish_due(actor=SWEEP, today=date(2026, 10, 15))
        record.refresh_from_db()
        assert record.disclosure == "published"

    def test_a_retried_approval_writes_nothing_more(self, matter, entity_actor, entity, reviewer_actor):
        application = apply(entity_actor, matter, entity)
        services.application_decide(
            actor=reviewer_actor, number=application.number, approve=True, permit=permit()
        )
        before = state()
        again = services.application_decide(
            actor=reviewer_actor,
            number=application.number,
            approve=True,
            permit=permit(decision_number="深市监许〔2026〕9999号"),
        )
        assert state() == before
        assert again.permit_record.decision_number == "深市监许〔2026〕0123号"
        assert CreditRecord.objects.filter(item__code="admin_permit").count() == 1

    def test_the_approval_reports_every_missing_or_wrong_field_at_once_and_writes_nothing(
        self, matter, entity_actor, entity, reviewer_actor
    ):
        application = apply(entity_actor, matter, entity)
        before = state()
        with pytest.raises(ValidationError) as exc:
            services.application_decide(
                actor=reviewer_actor, number=application.number, approve=True, permit=services.PermitInput()
            )
        assert sorted(exc.value.message_dict) == [
            "content",
            "decision_doc_name",
            "decision_number",
            "permit_category",
            "valid_from",
            "valid_to",
        ]
        assert all(m == ["This field is required."] for m in exc.value.message_dict.values())
        with pytest.raises(ValidationError) as exc:
            services.application_decide(
                actor=reviewer_actor,
                number=application.number,
                approve=True,
                permit=permit(
                    permit_category="lifetime", valid_from="2026-13-01", certificate_number="x" * 101
                ),
            )
        assert sorted(exc.value.message_dict) == ["certificate_number", "permit_category", "valid_from"]
        assert "普通 / 特许" in exc.value.message_dict["permit_category"][0]
        with pytest.raises(ValidationError) as exc:
            services.application_decide(
                actor=reviewer_actor,
                number=application.number,
                approve=True,
                permit=permit(valid_from=date(2026, 6, 1), valid_to=date(2026, 5, 31)),
            )
        assert exc.value.message_dict == {"valid_to": ["The end of validity is before its start."]}
        assert state() == before

    def test_the_approval_form_shows_every_error_at_once(
        self, client_for, reviewer, matter, entity_actor, entity
    ):
        application = apply(entity_actor, matter, entity)
        before = state()
        response = client_for(reviewer).post(
            f"/staff/pledges/applications/{application.number}/decide/",
            {"decision": "approve", "valid_from": "2026/2/30", "permit_category": ""},
        )
        assert response.status_code == 400
        body = text(response)
        # The summary above the form names each field with its error.
        for line in (
            "Number of the permit decision: This field is required.",
            "Title of the permit decision: This field is required.",
            "Permit category: This field is required.",
            "Valid from: Not a date: 2026/2/30 (use YYYY-MM-DD).",
            "Valid to: This field is required.",
            "Content of the permit: This field is required.",
        ):
            assert line in body
        assert body.count('class="error"') == 6
        assert 'name="decision_doc_name"' in body and 'value="ordinary"' in body
        assert state() == before

    def test_a_decision_number_the_department_already_recorded_is_refused_on_its_field(
        self, matter, entity_actor, entity, reviewer_actor
    ):
        first = apply(entity_actor, matter, entity)
        second = apply(entity_actor, matter, entity)
        services.application_decide(actor=reviewer_actor, number=first.number, approve=True, permit=permit())
        before = state()
        with pytest.raises(ValidationError) as exc:
            services.application_decide(
                actor=reviewer_actor, number=second.number, approve=True, permit=permit(content="")
            )
        assert sorted(exc.value.message_dict) == ["content", "decision_number"]
        assert "already recorded a decision with this number" in exc.value.message_dict["decision_number"][0]
        assert state() == before

    def test_rejection_writes_no_record(self, matter, entity_actor, entity, reviewer_actor):
        application = apply(entity_actor, matter, entity)
        records = CreditRecord.objects.count()
        services.application_decide(
            actor=reviewer_actor, number=application.number, approve=False, reason="场所不符合要求"
        )
        application.refresh_from_db()
        assert (application.status, application.permit_record) == ("rejected", None)
        assert CreditRecord.objects.count() == records

    def test_approving_needs_the_right_to_write_records(
        self, matter, entity_actor, entity, clerk, client_for
    ):
        application = apply(entity_actor, matter, entity)
        before = state()
        with pytest.raises(PermissionDenied):
            services.application_decide(
                actor=actor_for_user(clerk), number=application.number, approve=True, permit=permit()
            )
        response = client_for(clerk).post(
            f"/staff/pledges/applications/{application.number}/decide/", {"decision": "approve"}
        )
        assert response.status_code == 403
        assert state() == before

    def test_both_application_pages_link_to_the_permit_record(
        self, today, client_for, reviewer, entity_user, matter, entity_actor, entity, reviewer_actor
    ):
        today(date(2026, 9, 30))
        application = apply(entity_actor, matter, entity)
        services.application_decide(
            actor=reviewer_actor, number=application.number, approve=True, permit=permit()
        )
        record = PermitApplication.objects.get(pk=application.pk).permit_record
        staff_page = text(client_for(reviewer).get(f"/staff/pledges/applications/{application.number}/"))
        assert f'href="/staff/records/{record.pk}/"' in staff_page
        assert "to be disclosed by 2026-10-15" in staff_page
        my = client_for(entity_user)
        page = text(my.get(f"/my/applications/{application.number}/"))
        assert "深市监许〔2026〕0123号" in page and "Published by 2026-10-15 as the law requires." in page
        assert f'href="/records/{record.pk}/"' not in page  # not public yet
        publication.publish_due(actor=SWEEP, today=date(2026, 10, 15))
        page = text(my.get(f"/my/applications/{application.number}/"))
        assert f'href="/records/{record.pk}/"' in page


# --- the breach: notice, defence, decision ------------------------------------------------------


def _notify(actor, pledge, grounds=GROUNDS, severity="general", legal_basis=""):
    return services.pledge_breach_notify(
        actor=actor, number=pledge.number, grounds=grounds, severity=severity, legal_basis=legal_basis
    )


class TestBreachNotice:
    def test_the_defence_rule_is_seeded_with_its_basis(self):
        rule = DeadlineRule.objects.get(key="pledges.breach_defence")
        assert (rule.working_days, rule.effective_from) == (5, date(2000, 1, 1))
        assert "陈述、申辩" in rule.basis_zh and "cite no provision" in rule.basis_en

    def test_the_notice_tells_the_entity_once_in_my_and_by_email(
        self,
        today,
        pledged,
        reviewer_actor,
        reviewer,
        entity_user,
        django_capture_on_commit_callbacks,
        published,
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        with django_capture_on_commit_callbacks(execute=True):
            notice = _notify(reviewer_actor, pledge)
        pledge.refresh_from_db()
        assert pledge.status == "noticed"
        assert (
            notice.status,
            notice.grounds,
            notice.severity,
            notice.legal_basis,
            notice.pledge_status_before,
            notice.defence_days,
            notice.defence_due_on,
            notice.served_by,
            notice.defence_due_is_provisional,
        ) == ("served", GROUNDS, "general", pledge.consequences, "active", 5, DEFENCE_DUE, reviewer, False)
        sent = Notice.objects.get(kind="pledges.breach_notice")
        assert (sent.recipient, sent.link) == (entity_user, f"/my/pledges/{pledge.number}/")
        assert GROUNDS in sent.body_zh and CONSEQUENCES_ZH in sent.body_zh and "2026-10-10" in sent.body_zh
        assert "一般" in sent.body_zh and "2026-10-10" in sent.subject_en
        assert published == [(notice_tasks.email_notices.name, [[sent.pk]])]
        event = AuditEvent.objects.get(action="pledges.breach.noticed")
        assert (event.before, event.after["defence_due_on"], event.after["notice"]) == (
            {"status": "active"},
            "2026-10-10",
            notice.pk,
        )
        # The same notice sent again (a double click) changes nothing and tells nobody again.
        before = state()
        assert _notify(reviewer_actor, pledge).pk == notice.pk
        assert state() == before
        # Another intended finding while one is open is refused.
        with pytest.raises(ValidationError) as exc:
            _notify(reviewer_actor, pledge, grounds="另一事由")
        assert "already open (defence due by 2026-10-10)" in exc.value.message_dict["status"][0]
        assert state() == before

    def test_the_basis_is_required_when_the_pledge_says_nothing_of_breaking_it(
        self, entity_actor, entity, reviewer_actor
    ):
        pledge = services.public_pledge_publish(
            actor=entity_actor,
            entity_code=entity.code,
            text="诚信经营，不销售假冒伪劣商品。",
            signature=services.Signature(signer_name="企业用户", confirmed=True),
        )
        before = state()
        with pytest.raises(ValidationError) as exc:
            _notify(reviewer_actor, pledge, grounds=" ", severity="minor")
        assert sorted(exc.value.message_dict) == ["legal_basis", "reason", "severity"]
        assert state() == before
        notice = _notify(reviewer_actor, pledge, legal_basis="《优化营商环境条例》第三十八条")
        assert notice.legal_basis == "《优化营商环境条例》第三十八条"

    def test_confirming_before_the_window_closes_without_an_answer_is_refused_and_changes_nothing(
        self, today, pledged, reviewer_actor, reviewer, client_for
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        _notify(reviewer_actor, pledge)
        today(DEFENCE_DUE)  # the last day of the window: the entity may still answer
        before = state()
        with pytest.raises(ValidationError) as exc:
            services.pledge_confirm_breach(actor=reviewer_actor, number=pledge.number, reason="未陈述申辩")
        assert exc.value.message_dict == {
            "deadline": [
                "The entity may state its defence until 2026-10-10: confirm the breach after that day, or once it has answered."
            ]
        }
        response = client_for(reviewer).post(
            f"/staff/pledges/{pledge.number}/breach/confirm/", {"confirm-reason": "未陈述申辩"}
        )
        assert response.status_code == 400
        assert "The entity may state its defence until 2026-10-10" in text(response)
        assert state() == before
        assert Pledge.objects.get(pk=pledge.pk).performance_record is None

    def test_after_the_window_closes_the_breach_is_confirmed_citing_the_silence(
        self, today, pledged, reviewer_actor, reviewer, entity, entity_user, department
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        notice = _notify(reviewer_actor, pledge)
        today(DEFENCE_DUE + timedelta(days=2))  # Monday 2026-10-12
        # The daily sweep tells the department, once, that the window has closed.
        assert tasks.sweep_overdue_pledges() == 0
        closed = Notice.objects.filter(kind="pledges.breach_window_closed")
        assert sorted(n.recipient.username for n in closed) == ["reviewer"]
        assert services.breach_windows_closed(actor=SWEEP) == []
        assert closed.count() == 1

        services.pledge_confirm_breach(
            actor=reviewer_actor, number=pledge.number, reason="逾期仍未补齐，认定失信。"
        )
        pledge.refresh_from_db()
        notice.refresh_from_db()
        record = pledge.performance_record
        assert (pledge.status, pledge.settled_by, pledge.breach_reason) == ("broken", reviewer, GROUNDS)
        assert (notice.status, notice.decided_by, notice.decision_reason) == (
            "confirmed",
            reviewer,
            "逾期仍未补齐，认定失信。",
        )
        assert (
            record.item.code,
            record.department_id,
            record.entity_id,
            record.decision_number,
            record.decision_date,
            record.severity,
            record.legal_basis,
            record.provenance,
            record.status,
        ) == (
            "pledge_breach",
            department.pk,
            entity.pk,
            f"{pledge.number}-SX",
            date(2026, 10, 12),
            "general",
            pledge.consequences,
            "system",
            "effective",
        )
        assert record.content == (
            f"{entity.name_zh}违反就“食品经营许可”许可申请（{pledged.number}）作出的信用承诺（{pledge.number}）。"
            f"{GROUNDS}本部门已于2026-09-28告知拟认定的事实、理由和依据。"
            "当事人在陈述申辩期限（2026-10-10前）内未提出陈述申辩。认定理由：逾期仍未补齐，认定失信。"
        )
        broken = Notice.objects.get(kind="pledges.broken")
        assert broken.recipient == entity_user and "未提出陈述申辩" in broken.body_zh
        event = AuditEvent.objects.get(action="pledges.pledge.broken")
        assert (event.after["notice"], event.after["answered"], event.after["record"]) == (
            notice.pk,
            False,
            record.pk,
        )
        # Confirming again is harmless.
        before = state()
        services.pledge_confirm_breach(actor=reviewer_actor, number=pledge.number, reason="again")
        assert state() == before

    def test_an_answered_notice_is_confirmed_early_and_the_record_cites_the_answer(
        self, today, pledged, reviewer_actor, entity_actor, client_for, reviewer, entity_user
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        _notify(reviewer_actor, pledge, severity="serious")
        today(date(2026, 9, 29))
        defence = "设备布局图因设计单位延误，已于今日补交，请予考虑。"
        response = client_for(entity_user).post(
            f"/my/pledges/{pledge.number}/defence/", {"defence": defence, "file": pdf("说明.pdf")}
        )
        assert response.status_code == 302
        notice = BreachNotice.objects.get(pledge=pledge)
        assert (notice.status, notice.defence, notice.answered_by, notice.defence_file_name) == (
            "answered",
            defence,
            entity_user,
            "说明.pdf",
        )
        assert notice.defence_file.name.startswith("defences/2026/09/")
        told = Notice.objects.filter(kind="pledges.breach_answered")
        assert sorted(n.recipient.username for n in told) == ["reviewer"]
        # The same defence sent again is harmless; another is refused.
        before = state()
        services.pledge_breach_answer(actor=entity_actor, number=pledge.number, defence=defence)
        with pytest.raises(ValidationError) as exc:
            services.pledge_breach_answer(actor=entity_actor, number=pledge.number, defence="补充意见")
        assert "it can no longer be changed" in exc.value.message_dict["defence"][0]
        assert state() == before

        staff = client_for(reviewer)
        page = text(staff.get(f"/staff/pledges/{pledge.number}/"))
        assert defence in page and "2026-10-10" in page and "Confirm the breach" in page
        download = staff.get(f"/staff/pledges/{pledge.number}/breach/{notice.pk}/file/")
        assert download.status_code == 200
        assert AuditEvent.objects.filter(action="pledges.breach.defence_downloaded").count() == 1

        # Before the window closes, but answered: the decision may be taken, and may be milder.
        services.pledge_confirm_breach(
            actor=reviewer_actor,
            number=pledge.number,
            reason="补交时已逾期，申辩理由部分成立。",
            severity="general",
        )
        pledge.refresh_from_db()
        record = pledge.performance_record
        assert (pledge.status, record.severity) == ("broken", "general")
        # The public record says that the entity was heard, not what it said: its statement may
        # hold business secrets or personal data, and stays with the notice and the audit trail.
        assert (
            "当事人于2026-09-29提出陈述申辩，本部门已予审查。认定理由：补交时已逾期，申辩理由部分成立。"
            in record.content
        )
        assert defence not in record.content
        event = AuditEvent.objects.get(action="pledges.pledge.broken")
        assert (event.after["answered"], event.after["defence"]) == (True, defence)

    def test_a_finding_more_serious_than_the_notice_announced_is_refused(
        self, pledged, reviewer_actor, entity_actor
    ):
        pledge = pledged.pledge
        _notify(reviewer_actor, pledge, severity="general")
        services.pledge_breach_answer(actor=entity_actor, number=pledge.number, defence="不同意")
        before = state()
        with pytest.raises(ValidationError) as exc:
            services.pledge_confirm_breach(
                actor=reviewer_actor, number=pledge.number, reason="情节严重", severity="serious"
            )
        assert exc.value.message_dict == {
            "severity": ["The notice announced a general breach: a more serious finding needs a new notice."]
        }
        assert state() == before

    def test_the_entity_cannot_answer_once_the_window_has_closed(
        self, today, pledged, reviewer_actor, entity_actor, client_for, entity_user
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        _notify(reviewer_actor, pledge)
        today(DEFENCE_DUE + timedelta(days=1))
        before = state()
        with pytest.raises(ValidationError) as exc:
            services.pledge_breach_answer(actor=entity_actor, number=pledge.number, defence="迟到的申辩")
        assert exc.value.message_dict == {"defence": ["The time to state a defence ended on 2026-10-10."]}
        client = client_for(entity_user)
        assert 'name="defence"' not in text(client.get(f"/my/pledges/{pledge.number}/"))
        response = client.post(f"/my/pledges/{pledge.number}/defence/", {"defence": "迟到的申辩"})
        assert response.status_code == 400
        assert "The time to state a defence ended on 2026-10-10." in text(response)
        assert state() == before

    def test_a_user_of_another_entity_cannot_answer_or_read_the_notice(
        self, pledged, reviewer_actor, other_entity_user, client_for
    ):
        pledge = pledged.pledge
        notice = _notify(reviewer_actor, pledge)
        before = state()
        with pytest.raises(Http404):
            services.pledge_breach_answer(
                actor=actor_for_user(other_entity_user), number=pledge.number, defence="冒名申辩"
            )
        client = client_for(other_entity_user)
        assert (
            client.post(f"/my/pledges/{pledge.number}/defence/", {"defence": "冒名申辩"}).status_code == 404
        )
        assert client.get(f"/my/pledges/{pledge.number}/").status_code == 404
        assert client.get(f"/my/pledges/{pledge.number}/defence/{notice.pk}/file/").status_code == 404
        assert state() == before

    def test_a_clerk_can_neither_serve_nor_confirm_nor_drop(
        self, pledged, reviewer_actor, entity_actor, clerk, client_for
    ):
        pledge = pledged.pledge
        actor = actor_for_user(clerk)
        before = state()
        with pytest.raises(PermissionDenied):
            _notify(actor, pledge)
        _notify(reviewer_actor, pledge)
        services.pledge_breach_answer(actor=entity_actor, number=pledge.number, defence="不同意")
        before = state()
        with pytest.raises(PermissionDenied):
            services.pledge_confirm_breach(actor=actor, number=pledge.number, reason="认定")
        with pytest.raises(PermissionDenied):
            services.pledge_breach_drop(actor=actor, number=pledge.number, reason="撤回")
        client = client_for(clerk)
        for url, data in (
            ("breach/", {"breach-reason": "x", "breach-severity": "general"}),
            ("breach/confirm/", {"confirm-reason": "认定"}),
            ("breach/drop/", {"drop-reason": "撤回"}),
        ):
            assert client.post(f"/staff/pledges/{pledge.number}/{url}", data).status_code == 403
        assert state() == before

    def test_the_department_of_another_pledge_cannot_decide_it(
        self, pledged, reviewer_actor, entity_actor, other_department_reviewer
    ):
        pledge = pledged.pledge
        _notify(reviewer_actor, pledge)
        services.pledge_breach_answer(actor=entity_actor, number=pledge.number, defence="不同意")
        before = state()
        for call in (services.pledge_confirm_breach, services.pledge_breach_drop):
            with pytest.raises(Http404):
                call(actor=actor_for_user(other_department_reviewer), number=pledge.number, reason="x")
        assert state() == before

    def test_confirming_without_a_notice_is_refused(self, pledged, reviewer_actor):
        before = state()
        with pytest.raises(ValidationError) as exc:
            services.pledge_confirm_breach(actor=reviewer_actor, number=pledged.pledge.number, reason="x")
        assert "Give the entity notice of the intended finding first" in exc.value.message_dict["status"][0]
        assert state() == before


class TestTransitions:
    def test_an_overdue_pledge_is_noticed_and_a_dropped_finding_returns_it_to_overdue(
        self, pledged, reviewer_actor, entity_user
    ):
        pledge = pledged.pledge
        due = pledge.materials_due_on
        assert services.pledges_flag_overdue(actor=SWEEP, today=due + timedelta(days=1)) == [pledge.pk]
        notice = _notify(reviewer_actor, pledge)
        assert notice.pledge_status_before == "overdue"
        # The sweep leaves a noticed pledge alone.
        assert services.pledges_flag_overdue(actor=SWEEP, today=due + timedelta(days=2)) == []
        records = CreditRecord.objects.count()
        services.pledge_breach_drop(actor=reviewer_actor, number=pledge.number, reason="延误系本部门原因。")
        pledge.refresh_from_db()
        notice.refresh_from_db()
        assert (pledge.status, notice.status, notice.decision_reason) == (
            "overdue",
            "dropped",
            "延误系本部门原因。",
        )
        assert CreditRecord.objects.count() == records
        dropped = Notice.objects.get(kind="pledges.breach_dropped")
        assert dropped.recipient == entity_user and "延误系本部门原因。" in dropped.body_zh
        assert AuditEvent.objects.filter(action="pledges.breach.dropped").count() == 1
        # Dropping again is harmless.
        before = state()
        services.pledge_breach_drop(actor=reviewer_actor, number=pledge.number, reason="again")
        assert state() == before
        # A new finding needs a new notice, with a new window.
        second = _notify(reviewer_actor, pledge, grounds="复查仍未补齐。")
        assert second.pk != notice.pk and second.status == "served"

    def test_a_pledge_in_force_noticed_after_an_inspection_returns_in_force_when_dropped(
        self, pledged, reviewer_actor
    ):
        pledge = pledged.pledge
        _notify(reviewer_actor, pledge, grounds="现场检查发现经营场所与承诺不符。")
        with pytest.raises(ValidationError) as exc:
            services.pledge_breach_drop(actor=reviewer_actor, number=pledge.number, reason=" ")
        assert "reason" in exc.value.message_dict
        services.pledge_breach_drop(actor=reviewer_actor, number=pledge.number, reason="复核后符合承诺。")
        pledge.refresh_from_db()
        assert pledge.status == "active"

    def test_a_noticed_pledge_whose_application_was_rejected_lapses_when_the_finding_is_dropped(
        self, pledged, reviewer_actor
    ):
        pledge = pledged.pledge
        _notify(reviewer_actor, pledge)
        services.application_decide(
            actor=reviewer_actor, number=pledged.number, approve=False, reason="不予许可"
        )
        pledge.refresh_from_db()
        assert pledge.status == "noticed"  # the department still decides the finding
        services.pledge_breach_drop(
            actor=reviewer_actor, number=pledge.number, reason="申请已驳回，不再认定。"
        )
        pledge.refresh_from_db()
        assert pledge.status == "lapsed"

    def test_a_noticed_pledge_cannot_be_accepted_late_until_the_finding_is_dropped(
        self, pledged, reviewer_actor
    ):
        pledge = pledged.pledge
        services.pledges_flag_overdue(actor=SWEEP, today=pledge.materials_due_on + timedelta(days=1))
        _notify(reviewer_actor, pledge)
        before = state()
        with pytest.raises(ValidationError) as exc:
            services.pledge_accept_late(actor=reviewer_actor, number=pledge.number, reason="情有可原")
        assert "drop it before accepting" in exc.value.message_dict["status"][0]
        assert state() == before

    def test_the_public_sees_a_noticed_pledge_as_being_checked_without_the_grounds(
        self, client, pledged, reviewer_actor
    ):
        pledge = pledged.pledge
        _notify(reviewer_actor, pledge)
        page = text(client.get(f"/pledges/{pledge.number}/"))
        assert "Being checked by the department" in page
        assert GROUNDS not in page and "Intended breach finding" not in page
        assert "Being checked by the department" in text(client.get("/pledges/"))


class TestPages:
    def test_my_pledge_page_shows_the_notice_the_deadline_and_the_defence_form(
        self, today, pledged, reviewer_actor, client_for, entity_user, reviewer
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        _notify(reviewer_actor, pledge)
        page = text(client_for(entity_user).get(f"/my/pledges/{pledge.number}/"))
        assert GROUNDS in page and CONSEQUENCES_ZH in page
        assert "You may state your defence until 2026-10-10." in page
        assert 'name="defence"' in page and 'name="file"' in page
        assert "provisional" not in page
        home = text(client_for(entity_user).get("/my/pledges/"))
        assert "Your defence is asked for" in home
        staff = text(client_for(reviewer).get(f"/staff/pledges/{pledge.number}/"))
        assert "The entity may state its defence until 2026-10-10." in staff
        assert 'name="confirm-reason"' in staff and 'name="drop-reason"' in staff
        assert 'name="breach-reason"' not in staff  # one notice at a time
        dashboard = text(client_for(reviewer).get("/staff/"))
        assert "1 intended breach finding under notice" in dashboard

    def test_a_deadline_in_a_year_whose_holidays_are_not_entered_is_provisional(
        self, today, pledged, reviewer_actor, client_for, entity_user, reviewer
    ):
        today(date(2027, 3, 1))
        pledge = pledged.pledge
        notice = _notify(reviewer_actor, pledge)
        assert (notice.defence_due_on, notice.defence_due_is_provisional) == (date(2027, 3, 8), True)
        sent = Notice.objects.get(kind="pledges.breach_notice")
        assert "2027-03-08（暂定" in sent.body_zh and "(provisional" in sent.subject_en
        for page in (
            client_for(entity_user).get(f"/my/pledges/{pledge.number}/"),
            client_for(reviewer).get(f"/staff/pledges/{pledge.number}/"),
        ):
            assert ">provisional<" in text(page)
        with pytest.raises(ValidationError) as exc:
            services.pledge_confirm_breach(actor=reviewer_actor, number=pledge.number, reason="x")
        assert "until 2027-03-08 (provisional):" in exc.value.message_dict["deadline"][0]
        HolidayNotice.objects.create(
            year=2027, title="2027年部分节假日安排的通知", published_on=date(2026, 11, 1)
        )
        from credit_portal.workdays import services as workdays

        workdays.invalidate()
        notice.refresh_from_db()
        assert notice.defence_due_is_provisional is False
