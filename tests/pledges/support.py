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
