"""Who may record what, the two pledge points: approving a permit application writes the permit
record (catalogue item ``admin_permit``) for the deciding department; a breach of a pledge is found
only after notice of the intended finding and a defence window in working days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from credit_portal.accounts.actors import actor_for_user
from credit_portal.audit.models import AuditEvent
from credit_portal.errors import NotFound
from credit_portal.notices import tasks as notice_tasks
from credit_portal.notices.models import Notice
from credit_portal.workdays.models import DeadlineRule, HolidayNotice
from pledges import services, tasks
from pledges.models import BreachNotice, PermitApplication, Pledge, RemedyRule
from records.models import CreditRecord, DisclosurePeriodRule, EntityMembership
from records.services import publication
from tests.pledges.support import BASIS, CONSEQUENCES_ZH, SWEEP, apply, counts, pdf, permit, sign

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
    out["remedy_rules"] = sorted(RemedyRule.objects.values_list("kind", "effective_from", "text_zh"))
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
        # The record is Chinese data: so are its remarks.
        assert (
            record.remarks
            == f"“食品经营许可”许可申请（{application.number}），申请人作出信用承诺（告知承诺制）。"
        )
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


def _notify(actor, pledge, grounds=GROUNDS, severity="general", legal_basis=BASIS, **service):
    return services.pledge_breach_notify(
        actor=actor,
        number=pledge.number,
        grounds=grounds,
        severity=severity,
        legal_basis=legal_basis,
        **service,
    )


def remedies_zh(*, restoration_from: str, min_months: int = 3, department: str = "测试部门SZ-TEST") -> str:
    """The remedies the seeded rules word for a decision of ``department`` (NDRC Order 36 in force)."""
    return (
        "救济途径：\n"
        "（一）认为本认定记入的信用记录有误的，可以通过本平台“我的信用记录”对该记录提出异议，本部门自收到异议之日起"
        "5个工作日内核实处理并告知结果。（依据：《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制"
        "的指导意见》（国办发〔2019〕35号）第（十七）项（信用信息异议制度））\n"
        "（二）对本认定不服的，可以自知道该认定之日起六十日内依法申请行政复议。"
        "（依据：《中华人民共和国行政复议法》（2023年修订）第二十条第一款）\n"
        "（三）也可以自知道该认定之日起六个月内依法向人民法院提起行政诉讼。"
        "（依据：《中华人民共和国行政诉讼法》第四十六条第一款）\n"
        f"信用修复告知：本认定的失信信息最短公示期为{min_months}个月。自{restoration_from}起，贵单位已纠正失信行为、"
        f"履行相关义务并作出信用承诺的，可以向作出认定的{department}申请信用修复，信用修复不收取任何费用。"
        "本告知与认定决定一并送达。（依据：国家发展改革委令第36号（2026年4月1日起施行））"
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
            notice.pledge_consequences,
            notice.pledge_status_before,
            notice.service_channel,
            notice.served_on,
            notice.service_reference,
            notice.portal_recipients,
            notice.defence_days,
            notice.defence_due_on,
            notice.served_by,
            notice.defence_due_is_provisional,
        ) == (
            "served",
            GROUNDS,
            "general",
            BASIS,
            pledge.consequences,
            "active",
            "portal",
            SERVED_ON,
            "",
            1,
            5,
            DEFENCE_DUE,
            reviewer,
            False,
        )
        sent = Notice.objects.get(kind="pledges.breach_notice")
        assert (sent.recipient, sent.link) == (entity_user, f"/my/pledges/{pledge.number}/")
        # The provision relied on is the basis; what the pledge said breaking it means is a line
        # of its own, not the basis.
        assert f"\n\n依据：{BASIS}\n\n承诺书载明的违诺后果（不作为认定依据）：{pledge.consequences}\n\n" in (
            sent.body_zh
        )
        assert "送达方式：通过本平台送达；送达日期：2026-09-28。" in sent.body_zh
        assert GROUNDS in sent.body_zh and "2026-10-10" in sent.body_zh
        assert "一般" in sent.body_zh and "2026-10-10" in sent.subject_en
        # The English body names the severity by its label, not its code.
        assert "Intended severity: General." in sent.body_en and f"Basis: {BASIS}\n\n" in sent.body_en
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

    def test_the_provision_relied_on_is_required_and_the_pledges_own_words_are_not_one(
        self, pledged, entity_actor, entity, reviewer_actor
    ):
        pledge = pledged.pledge
        before = state()
        with pytest.raises(ValidationError) as exc:
            _notify(reviewer_actor, pledge, grounds=" ", severity="minor", legal_basis="")
        assert exc.value.message_dict == {
            "reason": ["This field is required."],
            "severity": ["A broken pledge is a general or a serious breach: choose one."],
            "legal_basis": [
                "Cite the provision relied on: the law, regulation or normative document and its article."
            ],
        }
        # What the pledge says breaking it means, pasted as the basis (spacing aside), is refused.
        with pytest.raises(ValidationError) as exc:
            _notify(reviewer_actor, pledge, legal_basis=f" {pledge.consequences}\n")
        assert list(exc.value.message_dict) == ["legal_basis"]
        assert exc.value.message_dict["legal_basis"][0].startswith(
            "What the pledge says breaking it means is not a legal basis"
        )
        assert state() == before
        # A pledge that says nothing of breaking it needs the provision just the same.
        public = services.public_pledge_publish(
            actor=entity_actor,
            entity_code=entity.code,
            text="诚信经营，不销售假冒伪劣商品。",
            signature=services.Signature(signer_name="企业用户", confirmed=True),
        )
        with pytest.raises(ValidationError) as exc:
            _notify(reviewer_actor, public, legal_basis="")
        assert list(exc.value.message_dict) == ["legal_basis"]
        notice = _notify(reviewer_actor, public)
        assert (notice.legal_basis, notice.pledge_consequences) == (BASIS, "")
        sent = Notice.objects.get(kind="pledges.breach_notice", body_zh__contains=public.number)
        assert "违诺后果" not in sent.body_zh

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
            BASIS,
            "system",
            "effective",
        )
        assert record.content == (
            f"{entity.name_zh}违反就“食品经营许可”许可申请（{pledged.number}）作出的信用承诺（{pledge.number}）。"
            f"{GROUNDS}本部门已于2026-09-28通过本平台送达拟认定违背信用承诺告知，告知拟认定的事实、理由、依据及陈述申辩权利。"
            "当事人在陈述申辩期限（2026-10-10前）内未提出陈述申辩。认定理由：逾期仍未补齐，认定失信。"
        )
        # The record's remarks are the remedies served with the decision, in Chinese.
        assert record.remarks == notice.remedies_zh == remedies_zh(restoration_from="2027-01-12")
        assert notice.restoration_from == date(2027, 1, 12)
        broken = Notice.objects.get(kind="pledges.broken")
        assert broken.recipient == entity_user and "未提出陈述申辩" in broken.body_zh
        assert broken.body_zh.endswith(notice.remedies_zh) and broken.body_en.endswith(notice.remedies_en)
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
        with pytest.raises(NotFound):
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
            with pytest.raises(NotFound):
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


# --- how the notice was served ------------------------------------------------------------------


def _leave_portal(entity):
    """The entity's users leave it: it has no one on the portal any more."""
    EntityMembership.objects.filter(entity=entity).delete()


class TestService:
    def test_serving_through_the_portal_an_entity_with_no_one_there_is_refused_with_the_other_channels(
        self, today, pledged, reviewer_actor, reviewer, entity, client_for
    ):
        today(date(2026, 9, 30))
        pledge = pledged.pledge
        _leave_portal(entity)
        before = state()
        with pytest.raises(ValidationError) as exc:
            _notify(reviewer_actor, pledge)
        assert exc.value.message_dict == {
            "channel": [
                f"{entity.name_zh} has no account on the portal: a notice served there would reach no one. "
                "Serve it by post, in person or by publication, and record the date of service and its "
                "reference (e.g. the postal receipt number)."
            ]
        }
        staff = client_for(reviewer)
        page = text(staff.get(f"/staff/pledges/{pledge.number}/"))
        assert "The entity has no account on the portal: serve the notice by post" in page
        response = staff.post(
            f"/staff/pledges/{pledge.number}/breach/",
            {
                "breach-reason": GROUNDS,
                "breach-severity": "general",
                "breach-legal_basis": BASIS,
                "breach-channel": "portal",
            },
        )
        assert response.status_code == 400
        assert "has no account on the portal: a notice served there would reach no one." in text(response)
        assert state() == before

    def test_a_notice_served_by_post_runs_its_window_from_the_date_of_service(
        self, today, pledged, reviewer_actor, reviewer, entity, client_for
    ):
        # Posted, received on Monday 2026-09-28 (the postal receipt), recorded on Wednesday.
        today(date(2026, 9, 30))
        pledge = pledged.pledge
        _leave_portal(entity)
        staff = client_for(reviewer)
        response = staff.post(
            f"/staff/pledges/{pledge.number}/breach/",
            {
                "breach-reason": GROUNDS,
                "breach-severity": "general",
                "breach-legal_basis": BASIS,
                "breach-channel": "post",
                "breach-served_on": "2026-09-28",
                "breach-service_reference": "EMS 1234567890123",
            },
        )
        assert response.status_code == 302
        notice = BreachNotice.objects.get(pledge=pledge)
        assert (
            notice.service_channel,
            notice.served_on,
            notice.service_reference,
            notice.portal_recipients,
            notice.defence_due_on,
            timezone.localdate(notice.served_at),
        ) == ("post", SERVED_ON, "EMS 1234567890123", 0, DEFENCE_DUE, date(2026, 9, 30))
        assert not Notice.objects.filter(kind="pledges.breach_notice").exists()  # no one to tell there
        event = AuditEvent.objects.get(action="pledges.breach.noticed")
        assert (event.after["channel"], event.after["served_on"], event.after["service_reference"]) == (
            "post",
            "2026-09-28",
            "EMS 1234567890123",
        )
        page = text(staff.get(f"/staff/pledges/{pledge.number}/"))
        assert (
            "Notice served (By post, 2026-09-28): the entity may state its defence until 2026-10-10." in page
        )
        assert "0 users of the entity were told on the portal." in page
        assert "By post, on 2026-09-28 (reference: EMS 1234567890123)" in page
        assert "The entity may state its defence until 2026-10-10." in page
        # The window is counted from the date of service, not from the day it was recorded: the
        # breach may be confirmed on the first day after it.
        today(DEFENCE_DUE + timedelta(days=2))
        staff = client_for(reviewer)  # days later: a new staff session (they last 12 hours at most)
        response = staff.post(
            f"/staff/pledges/{pledge.number}/breach/confirm/", {"confirm-reason": "逾期未申辩。"}, follow=True
        )
        # No one to tell on the portal: the staff member is told to serve the decision another way.
        assert (
            "The entity has no account on the portal: serve it the decision, with the remedies and the "
            "restoration notice shown below, by post, in person or by publication."
        ) in text(response)
        assert not Notice.objects.filter(kind="pledges.broken").exists()
        record = Pledge.objects.get(pk=pledge.pk).performance_record
        assert "本部门已于2026-09-28邮寄送达拟认定违背信用承诺告知" in record.content
        assert "EMS" not in record.content  # the receipt stays with the notice

    def test_the_date_and_reference_of_a_service_off_the_portal_are_checked(
        self, today, pledged, reviewer_actor
    ):
        today(date(2026, 9, 30))
        pledge = pledged.pledge
        before = state()
        with pytest.raises(ValidationError) as exc:
            _notify(reviewer_actor, pledge, channel="in_person")
        assert exc.value.message_dict == {
            "served_on": ["Enter the date the notice was served."],
            "service_reference": [
                "Enter the reference of the service: the postal receipt number, the receipt signed in "
                "person, or where and under which number the announcement was published."
            ],
        }
        with pytest.raises(ValidationError) as exc:
            _notify(reviewer_actor, pledge, channel="post", served_on="2026-10-01", service_reference="EMS 1")
        assert exc.value.message_dict == {"served_on": ["The date of service cannot be in the future."]}
        with pytest.raises(ValidationError) as exc:
            _notify(reviewer_actor, pledge, channel="post", served_on="2026-09-27", service_reference="EMS 1")
        assert exc.value.message_dict == {
            "served_on": ["The date of service is before the pledge was signed."]
        }
        with pytest.raises(ValidationError) as exc:
            _notify(
                reviewer_actor, pledge, channel="publication", served_on="2026/9/31", service_reference="公告"
            )
        assert exc.value.message_dict == {"served_on": ["Not a date: 2026/9/31 (use YYYY-MM-DD)."]}
        with pytest.raises(ValidationError) as exc:
            _notify(reviewer_actor, pledge, channel="fax", served_on="2026-09-29", service_reference="x")
        assert exc.value.message_dict == {"channel": ["Choose how the notice was served."]}
        with pytest.raises(ValidationError) as exc:
            _notify(reviewer_actor, pledge, channel="portal", served_on="2026-09-29")
        assert list(exc.value.message_dict) == ["served_on"]
        assert exc.value.message_dict["served_on"][0].startswith(
            "Through the portal the notice is served today"
        )
        assert state() == before

    def test_through_the_portal_the_staff_member_is_told_how_many_users_were_notified(
        self, today, pledged, reviewer, entity, client_for
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        from tests import factories as f
        from tests.conftest import _member

        _member(f.entity_user("second_user"), entity, role="agent")
        staff = client_for(reviewer)
        page = text(staff.get(f"/staff/pledges/{pledge.number}/"))
        assert "The entity has 2 users on the portal: the notice can be served there." in page
        response = staff.post(
            f"/staff/pledges/{pledge.number}/breach/",
            {
                "breach-reason": GROUNDS,
                "breach-severity": "general",
                "breach-legal_basis": BASIS,
                "breach-channel": "portal",
            },
            follow=True,
        )
        body = text(response)
        assert (
            "Notice served (Through the portal (My pledges, with an email), 2026-09-28): the entity may state "
            "its defence until 2026-10-10. 2 users of the entity were told on the portal."
        ) in body
        notice = BreachNotice.objects.get(pledge=pledge)
        assert (notice.portal_recipients, notice.served_on) == (2, SERVED_ON)
        told = Notice.objects.filter(kind="pledges.breach_notice")
        assert sorted(n.recipient.username for n in told) == ["entity_user", "second_user"]

    def test_served_by_another_channel_the_users_on_the_portal_are_told_as_well(
        self, today, pledged, reviewer_actor, entity_user, client_for
    ):
        today(date(2026, 9, 29))
        pledge = pledged.pledge
        notice = _notify(
            reviewer_actor,
            pledge,
            channel="in_person",
            served_on=SERVED_ON,
            service_reference="签收回执 2026-031",
        )
        assert (notice.portal_recipients, notice.defence_due_on) == (1, DEFENCE_DUE)
        sent = Notice.objects.get(kind="pledges.breach_notice", recipient=entity_user)
        assert "送达方式：直接送达；送达日期：2026-09-28；送达凭证：签收回执 2026-031。" in sent.body_zh
        assert "Served: In person, on 2026-09-28 (reference: 签收回执 2026-031)." in sent.body_en
        page = text(client_for(entity_user).get(f"/my/pledges/{pledge.number}/"))
        assert 'In person, on 2026-09-28 (reference: <span lang="zh-Hans">签收回执 2026-031</span>)' in page
        assert "users told on the portal" not in page and "Recorded 2026" not in page  # staff only
        # The same notice sent again is harmless.
        before = state()
        assert (
            _notify(
                reviewer_actor,
                pledge,
                channel="in_person",
                served_on="2026-09-28",
                service_reference="签收回执 2026-031",
            ).pk
            == notice.pk
        )
        assert state() == before


# --- the remedies served with the decision ------------------------------------------------------


def _confirmable(today, reviewer_actor, entity_actor, pledge, severity="general"):
    """A notice served and answered, so that the decision may be taken at once."""
    _notify(reviewer_actor, pledge, severity=severity)
    services.pledge_breach_answer(actor=entity_actor, number=pledge.number, defence="我方已尽力补齐。")


class TestRemedies:
    def test_the_decision_serves_the_remedies_and_the_restoration_notice_of_the_rules_in_force(
        self, today, pledged, reviewer_actor, entity_actor, entity_user, reviewer, client_for
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        _confirmable(today, reviewer_actor, entity_actor, pledge, severity="serious")
        today(date(2026, 10, 12))
        services.pledge_confirm_breach(actor=reviewer_actor, number=pledge.number, reason="申辩理由不成立。")
        notice = BreachNotice.objects.get(pledge=pledge)
        record = Pledge.objects.get(pk=pledge.pk).performance_record
        # Serious: the minimum period of NDRC Order 36 is 12 months from the decision.
        expected = remedies_zh(restoration_from="2027-10-12", min_months=12)
        assert (notice.remedies_zh, notice.restoration_from, record.remarks) == (
            expected,
            date(2027, 10, 12),
            expected,
        )
        assert notice.remedies_en.splitlines() == [
            "Remedies:",
            "1. If you believe the credit record of this finding is wrong, you may object to it on this "
            "portal (My credit records); the department checks it and tells you the outcome within 5 "
            "working days of receiving the objection. (Basis: General Office of the State Council, Guo Ban "
            "Fa [2019] No. 35, item (17) (objections to credit information))",
            "2. If you disagree with this finding, you may apply for administrative reconsideration within "
            "60 days of the day you learn of it. (Basis: Administrative Reconsideration Law of the PRC "
            "(revised 2023), Article 20(1))",
            "3. You may instead bring an administrative lawsuit before a people's court within 6 months of "
            "the day you learn of it. (Basis: Administrative Litigation Law of the PRC, Article 46(1))",
            "Credit restoration: The information of this finding is published for at least 12 months. From "
            "2027-10-12, once you have corrected the conduct, fulfilled the obligations and made a credit "
            "pledge, you may apply to the deciding department, Test department SZ-TEST, for credit "
            "restoration, free of charge. This notice is served together with the decision. (Basis: NDRC "
            "Order No. 36 (in force from 2026-04-01))",
        ]
        broken = Notice.objects.get(kind="pledges.broken")
        assert broken.body_zh.startswith(
            f"测试部门SZ-TEST认定贵单位违背就“食品经营许可”许可申请（{pledged.number}）作出的信用承诺"
            f"（{pledge.number}），失信程度：严重。\n\n事实和理由：{GROUNDS}\n\n依据：{BASIS}\n\n"
        )
        assert f"承诺书载明的违诺后果：{pledge.consequences}\n\n{expected}" in broken.body_zh
        assert CONSEQUENCES_ZH in pledge.consequences
        assert "Severity: Serious." in broken.body_en and broken.body_en.endswith(notice.remedies_en)
        event = AuditEvent.objects.get(action="pledges.pledge.broken")
        assert event.after["restoration_from"] == "2027-10-12"
        assert sorted(event.after["remedy_rules"]) == [
            "disclosure_period",
            "litigation",
            "objection",
            "reconsideration",
            "restoration",
        ]
        for page in (
            client_for(entity_user).get(f"/my/pledges/{pledge.number}/"),
            client_for(reviewer).get(f"/staff/pledges/{pledge.number}/"),
        ):
            body = text(page)
            assert "Remedies and credit restoration" in body
            assert "Credit restoration may be sought from 2027-10-12." in body
            assert "apply for administrative reconsideration within 60 days" in body

    def test_a_new_wording_applies_to_decisions_from_its_date_and_is_audited(
        self, today, pledged, reviewer_actor, entity_actor, credit_officer
    ):
        today(SERVED_ON)
        officer = actor_for_user(credit_officer)
        rule = services.remedy_rule_set(
            actor=officer,
            kind="reconsideration",
            effective_from=date(2026, 10, 12),
            text_zh="对本认定不服的，可以自知道该认定之日起六十日内向深圳市人民政府申请行政复议。",
            text_en="You may apply to the Shenzhen Municipal People's Government for reconsideration within 60 days.",
            basis_zh="《中华人民共和国行政复议法》第二十条第一款、第二十四条",
            basis_en="Administrative Reconsideration Law of the PRC, Articles 20(1) and 24",
        )
        event = AuditEvent.objects.get(action="pledges.remedy_rule.set")
        assert (event.before, event.after["effective_from"], event.after["kind"]) == (
            None,
            "2026-10-12",
            "reconsideration",
        )
        pledge = pledged.pledge
        _confirmable(today, reviewer_actor, entity_actor, pledge)
        today(date(2026, 10, 11))
        assert (
            services.decision_remedies(
                severity="general", decided_on=date(2026, 10, 11), department=pledge.department
            ).rules["reconsideration"]
            != rule.pk
        )
        today(date(2026, 10, 12))
        services.pledge_confirm_breach(actor=reviewer_actor, number=pledge.number, reason="不成立。")
        remedies = BreachNotice.objects.get(pledge=pledge).remedies_zh
        assert (
            "（二）对本认定不服的，可以自知道该认定之日起六十日内向深圳市人民政府申请行政复议。"
            "（依据：《中华人民共和国行政复议法》第二十条第一款、第二十四条）\n"
        ) in remedies

    def test_a_wording_with_an_unknown_placeholder_or_without_its_citation_is_refused(
        self, credit_officer, reviewer
    ):
        before = state()
        officer = actor_for_user(credit_officer)
        with pytest.raises(ValidationError) as exc:
            services.remedy_rule_set(
                actor=officer,
                kind="objection",
                effective_from=date(2027, 1, 1),
                text_zh="自{earliest}起可以提出异议",
                text_en="Object within {answer_days} days {",
                basis_zh="",
                basis_en=" ",
            )
        assert exc.value.message_dict == {
            "text_zh": [
                "Only these placeholders may be used here: {answer_days} (write a brace as {{ or }})."
            ],
            "text_en": [
                "Only these placeholders may be used here: {answer_days} (write a brace as {{ or }})."
            ],
            "basis_zh": ["This field is required."],
            "basis_en": ["This field is required."],
        }
        with pytest.raises(PermissionDenied):
            services.remedy_rule_set(
                actor=actor_for_user(reviewer),
                kind="litigation",
                effective_from=date(2027, 1, 1),
                text_zh="六个月内起诉。",
                text_en="Sue within 6 months.",
                basis_zh="《行政诉讼法》第四十六条",
                basis_en="Article 46",
            )
        assert state() == before

    def test_without_a_remedy_rule_in_force_the_decision_is_refused_and_nothing_changes(
        self, today, pledged, reviewer_actor, entity_actor
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        _confirmable(today, reviewer_actor, entity_actor, pledge)
        RemedyRule.objects.filter(kind="litigation").delete()
        before = state()
        with pytest.raises(ValidationError) as exc:
            services.pledge_confirm_breach(actor=reviewer_actor, number=pledge.number, reason="不成立。")
        assert exc.value.message_dict == {
            "remedies": [
                "No rule in force on 2026-09-28 words the remedies of the decision (Administrative "
                "litigation): the credit office enters it under Pledges, Remedies first."
            ]
        }
        assert state() == before
        assert Pledge.objects.get(pk=pledge.pk).performance_record is None

    def test_a_finding_the_period_rule_makes_not_restorable_says_so_and_gives_no_date(
        self, today, pledged, reviewer_actor, entity_actor
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        _confirmable(today, reviewer_actor, entity_actor, pledge)
        DisclosurePeriodRule.objects.filter(effective_from=date(2026, 4, 1), severity="general").update(
            restorable=False
        )
        services.pledge_confirm_breach(actor=reviewer_actor, number=pledge.number, reason="不成立。")
        notice = BreachNotice.objects.get(pledge=pledge)
        assert notice.restoration_from is None
        assert notice.remedies_zh.endswith(
            "信用修复告知：依据国家发展改革委令第36号（2026年4月1日起施行），该失信信息不适用信用修复。"
        )


class TestRemedyPage:
    def test_the_credit_office_enters_a_wording_and_every_department_reads_it(
        self, client_for, credit_officer, reviewer
    ):
        office = client_for(credit_officer)
        url = "/staff/pledges/remedies/"
        page = text(office.get(url))
        assert "Administrative Litigation Law of the PRC, Article 46(1)" in page and 'name="text_zh"' in page
        before = state()
        response = office.post(
            url,
            {
                "kind": "restoration",
                "effective_from": "2027-01-01",
                "text_zh": "自{earliest}起可以申请修复，{unknown}。",
                "text_en": "From {earliest}.",
                "basis_zh": "国家发展改革委令第36号",
                "basis_en": "NDRC Order No. 36",
            },
        )
        assert response.status_code == 400
        assert "Only these placeholders may be used here: {earliest}, {min_months}, {department}" in text(
            response
        )
        assert state() == before
        response = office.post(
            url,
            {
                "kind": "restoration",
                "effective_from": "2027-01-01",
                "text_zh": "自{earliest}起可以向{department}申请信用修复，不收取费用。",
                "text_en": "From {earliest} you may apply to {department}, free of charge.",
                "basis_zh": "国家发展改革委令第36号",
                "basis_en": "NDRC Order No. 36",
            },
        )
        assert response.status_code == 302
        rule = RemedyRule.objects.get(kind="restoration", effective_from=date(2027, 1, 1))
        assert rule.text_zh == "自{earliest}起可以向{department}申请信用修复，不收取费用。"
        page = text(client_for(reviewer).get(url))
        assert "From {earliest} you may apply to {department}, free of charge." in page
        assert 'name="text_zh"' not in page  # read, not edited, by a department


class TestEnglishRemarks:
    def test_the_pledges_records_carry_no_english_remarks(self, pledged, entity_actor, entity):
        assert pledged.pledge.record.remarks == ""
        public = services.public_pledge_publish(
            actor=entity_actor,
            entity_code=entity.code,
            text="诚信经营。",
            signature=services.Signature(signer_name="企业用户", confirmed=True),
        )
        assert public.record.remarks == ""


# --- a dropped finding: the pledge where its materials say it stands -----------------------------


class TestDropRechecksTheMaterials:
    def test_materials_all_supplied_in_time_during_the_notice_keep_the_pledge_when_it_is_dropped(
        self, today, pledged, reviewer_actor, entity_actor, materials
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        due = pledge.materials_due_on
        _notify(reviewer_actor, pledge, grounds="现场检查发现经营场所与承诺不符。")
        today(due - timedelta(days=1))
        services.material_supply(
            actor=actor_for_user(pledged.applicant),
            number=pledged.number,
            material_id=materials[2].pk,
            upload=pdf(),
        )
        assert Pledge.objects.get(pk=pledge.pk).status == "noticed"  # held back by the notice
        today(due + timedelta(days=3))  # decided after the due date
        services.pledge_breach_drop(actor=reviewer_actor, number=pledge.number, reason="复核后符合承诺。")
        pledge.refresh_from_db()
        record = pledge.performance_record
        assert (
            pledge.status,
            record.item.code,
            record.decision_number,
            record.remarks,
            record.provenance,
        ) == (
            "fulfilled",
            "pledge_performance",
            f"{pledge.number}-LY",
            "",
            "system",
        )
        assert record.content.endswith(f"作出的信用承诺（{pledge.number}）已按期履行，容缺材料已补齐。")
        # The sweep, which flags pledges in force past their due date, leaves it alone.
        assert services.pledges_flag_overdue(actor=SWEEP, today=due + timedelta(days=4)) == []

    def test_a_pledge_in_force_dropped_past_its_due_date_with_a_material_missing_is_flagged_overdue(
        self, today, pledged, reviewer_actor
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        _notify(reviewer_actor, pledge, grounds="现场检查发现经营场所与承诺不符。")
        today(pledge.materials_due_on + timedelta(days=1))
        records = CreditRecord.objects.count()
        services.pledge_breach_drop(actor=reviewer_actor, number=pledge.number, reason="检查结论不成立。")
        pledge.refresh_from_db()
        assert pledge.status == "overdue"
        assert CreditRecord.objects.count() == records
        assert sorted(n.recipient.username for n in Notice.objects.filter(kind="pledges.overdue")) == [
            "reviewer"
        ]

    def test_the_last_material_in_late_during_the_notice_leaves_the_pledge_overdue_for_a_person_to_accept(
        self, today, pledged, reviewer_actor, entity_actor, materials
    ):
        today(SERVED_ON)
        pledge = pledged.pledge
        _notify(reviewer_actor, pledge, grounds="现场检查发现经营场所与承诺不符。")
        today(pledge.materials_due_on + timedelta(days=2))
        services.material_supply(
            actor=actor_for_user(pledged.applicant),
            number=pledged.number,
            material_id=materials[2].pk,
            upload=pdf(),
        )
        services.pledge_breach_drop(actor=reviewer_actor, number=pledge.number, reason="检查结论不成立。")
        pledge.refresh_from_db()
        assert (pledge.status, pledge.performance_record) == ("overdue", None)
        services.pledge_accept_late(actor=reviewer_actor, number=pledge.number, reason="逾期系设计单位原因。")
        pledge.refresh_from_db()
        assert pledge.status == "fulfilled"
