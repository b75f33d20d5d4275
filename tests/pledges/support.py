"""Constants and helpers of the pledge tests (the fixtures are in this package's conftest)."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from credit_portal.accounts.actors import system_actor
from credit_portal.audit.models import AuditEvent
from credit_portal.notices.models import Notice
from pledges import services
from pledges.models import (
    EducationAcknowledgement,
    MaterialSubmission,
    Matter,
    PermitApplication,
    Pledge,
    PledgeTemplate,
)
from records.models import CreditRecord, IndustryAssociation

SHANGHAI = ZoneInfo("Asia/Shanghai")


SWEEP = system_actor("tests")


SIGNER = "企业用户"  # the entity user's full name (tests.factories.entity_user)


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


TEXT_ZH = "本申请人郑重承诺：所提交材料真实、准确、完整，暂缺材料将在规定期限内补齐。"


CONSEQUENCES_ZH = "如承诺不实或逾期未补齐材料，将依法撤销许可，并记入信用记录、向社会公开。"


# The provision a department cites for an intended breach finding (test data).
BASIS = "《优化营商环境条例》第三十八条"


def pdf(name="材料.pdf", content=PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def image(name="photo.png", fmt="PNG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def sign(version=1, name=SIGNER, confirmed=True) -> services.PledgeSigning:
    return services.PledgeSigning(
        template_version=version, signature=services.Signature(signer_name=name, confirmed=confirmed)
    )


def counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (
            Matter,
            PledgeTemplate,
            PermitApplication,
            MaterialSubmission,
            Pledge,
            CreditRecord,
            EducationAcknowledgement,
            AuditEvent,
            Notice,
            IndustryAssociation,
        )
    }


def apply(actor, matter, entity, *, missing=(), pledge=None, uploads=None):
    materials = list(matter.materials.order_by("order"))
    if uploads is None:
        uploads = {m.pk: pdf() for m in materials if m.pk not in {x.pk for x in missing}}
    return services.application_submit(
        actor=actor,
        matter_id=matter.pk,
        entity_code=entity.code,
        uploads=uploads,
        missing=[m.pk for m in missing],
        pledge=pledge,
    )


def permit(start=None, **overrides) -> services.PermitInput:
    """What a permit officer enters to approve: every field of the national permit standard the
    approval asks for, valid for five years from ``start`` (today by default)."""
    from datetime import timedelta

    from django.utils import timezone

    start = start or timezone.localdate()
    values = {
        "decision_number": "深市监许〔2026〕0123号",
        "decision_doc_name": "食品经营许可决定书",
        "permit_category": "ordinary",
        "certificate_name": "食品经营许可证",
        "certificate_number": "JY14403050001234",
        "valid_from": start,
        "valid_to": start + timedelta(days=5 * 365),
        "content": "准予食品经营许可：热食类食品制售。",
    }
    values.update(overrides)
    return services.PermitInput(**values)


def break_pledge(staff, entity, number, grounds, *, severity="general", defence="我方已尽力补齐材料。"):
    """A pledge found broken by due process, without moving the clock: notice, the entity's
    defence (so the finding may be confirmed at once), then the confirmation."""
    services.pledge_breach_notify(
        actor=staff, number=number, grounds=grounds, severity=severity, legal_basis=BASIS
    )
    services.pledge_breach_answer(actor=entity, number=number, defence=defence)
    return services.pledge_confirm_breach(actor=staff, number=number, reason="陈述申辩理由不成立。")
