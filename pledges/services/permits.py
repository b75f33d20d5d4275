"""The administrative permit record (行政许可信息) an approval writes through ``records``.

Approving an application grants a permit, and a permit is public credit information disclosed
by the publication deadline (``disclosure.publish``) like any other (双公示). The permit officer enters on the approval form what
the permit decision says, as the national permit field standard records it: the decision
document's number and title, the permit category, the certificate (if one is issued), the content
and the validity. The record is the deciding department's, written by the reviewer who decides
(provenance: the staff form), in the transaction of the decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor
from credit_portal.errors import Conflict
from pledges import selectors
from pledges.services.common import text_into
from records.fields import Errors, RecordInput, parse_date
from records.models import CreditRecord, EntityPerson, EntityType
from records.services import record_create

PERMIT_ITEM = selectors.PERMIT_ITEM
# The keys of the approval form, in its order. The service reports its errors under these keys.
PERMIT_KEYS = (
    "decision_number",
    "decision_doc_name",
    "permit_category",
    "certificate_name",
    "certificate_number",
    "valid_from",
    "valid_to",
    "content",
)


@dataclass(frozen=True)
class PermitInput:
    """What the permit officer enters when approving, as typed (text, or dates)."""

    decision_number: Any = ""
    decision_doc_name: Any = ""
    permit_category: Any = ""
    certificate_name: Any = ""
    certificate_number: Any = ""
    valid_from: Any = None
    valid_to: Any = None
    content: Any = ""


@dataclass(frozen=True)
class CleanPermit:
    decision_number: str
    decision_doc_name: str
    permit_category: str
    certificate_name: str
    certificate_number: str
    valid_from: date
    valid_to: date
    content: str


def _date_into(errors: Errors, key: str, value: Any) -> date | None:
    try:
        parsed = parse_date(value)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add(key, message)
        return None
    if parsed is None:
        errors.add(key, _("This field is required."))
    return parsed


def permit_into(errors: Errors, permit: PermitInput | None, *, department, today: date) -> CleanPermit | None:
    """The approval form's permit fields, checked, every error collected under its key: the
    decision number (unique among the department's records), the decision document's title, the
    permit category, the content and the validity are required, as the national permit field
    standard makes them; the certificate is optional (not every permit issues one)."""
    permit = permit or PermitInput()
    number = text_into(
        errors, "decision_number", permit.decision_number, max_length=128, required=True, single_line=True
    )
    doc_name = text_into(
        errors, "decision_doc_name", permit.decision_doc_name, max_length=200, required=True, single_line=True
    )
    category = str(permit.permit_category or "").strip()
    allowed = selectors.permit_categories()
    if not category:
        errors.add("permit_category", _("This field is required."))
    elif category not in {c[0] for c in allowed}:
        errors.add(
            "permit_category",
            _("Not one of the allowed values: %(allowed)s.") % {"allowed": " / ".join(c[1] for c in allowed)},
        )
    certificate_name = text_into(
        errors, "certificate_name", permit.certificate_name, max_length=200, single_line=True
    )
    certificate_number = text_into(
        errors, "certificate_number", permit.certificate_number, max_length=100, single_line=True
    )
    valid_from = _date_into(errors, "valid_from", permit.valid_from)
    valid_to = _date_into(errors, "valid_to", permit.valid_to)
    if valid_from and valid_to:
        if valid_to < valid_from:
            errors.add("valid_to", _("The end of validity is before its start."))
        elif valid_to < today:
            errors.add("valid_to", _("The permit would already have expired: check the end of its validity."))
    content = text_into(errors, "content", permit.content, max_length=4000, required=True)
    if number and CreditRecord.objects.filter(department=department, decision_number=number).exists():
        errors.add(
            "decision_number",
            _(
                "Your department has already recorded a decision with this number: give the permit decision's own number."
            ),
        )
    if errors:
        return None
    return CleanPermit(
        decision_number=number,
        decision_doc_name=doc_name,
        permit_category=category,
        certificate_name=certificate_name,
        certificate_number=certificate_number,
        valid_from=valid_from,
        valid_to=valid_to,
        content=content,
    )


def _party_fields(entity) -> dict[str, str]:
    fields = {
        "party_category": "individual_business"
        if entity.entity_type == EntityType.INDIVIDUAL_BUSINESS
        else "legal_person"
    }
    link = (
        EntityPerson.objects.filter(
            entity=entity, role=EntityPerson.Role.LEGAL_REPRESENTATIVE, until__isnull=True
        )
        .select_related("person")
        .order_by("-since", "-id")
        .first()
    )
    if link is not None:
        fields["legal_rep_name"] = link.person.name
    return fields


def write_permit_record(
    *, actor: Actor, application, permit: CleanPermit, decided_on: date, pledged: bool
) -> CreditRecord:
    """The permit record of an approved application, for the actor's (the deciding) department.
    A failure of ``records``' own checks is reported under the approval form's keys, and raised:
    the caller's transaction, the decision with it, is rolled back."""
    matter = application.matter
    fields = {
        **_party_fields(application.entity),
        "decision_doc_name": permit.decision_doc_name,
        "permit_category": permit.permit_category,
        "permit_status": "valid",
        "source_unit": matter.department.name_zh,
    }
    if permit.certificate_name:
        fields["certificate_name"] = permit.certificate_name
    if permit.certificate_number:
        fields["certificate_number"] = permit.certificate_number
    data = RecordInput(
        item=PERMIT_ITEM,
        code=application.entity.code,
        decision_number=permit.decision_number,
        decision_date=decided_on,
        content=permit.content,
        valid_from=permit.valid_from,
        valid_to=permit.valid_to,
        # The record is Chinese data: so are its remarks.
        remarks=f"“{matter.name_zh}”许可申请（{application.number}）{'，申请人作出信用承诺（告知承诺制）' if pledged else ''}。",
        fields=fields,
    )
    try:
        return record_create(actor=actor, data=data, provenance=CreditRecord.Provenance.FORM)
    except Conflict as exc:
        raise ValidationError({"decision_number": [str(exc.message)]}) from None
    except ValidationError as exc:
        errors = Errors()
        for key, messages in exc.message_dict.items():
            name = key.removeprefix("fields.")
            for message in messages:
                errors.add(name if name in PERMIT_KEYS else "permit", message)
        raise ValidationError(dict(errors)) from None
