"""How a record is shown to the public: personal data masked as the disclosure standard requires."""

from __future__ import annotations

from django.utils.translation import gettext as _

from records.fields import public_fields
from records.models import CreditRecord


def mask_person_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the family name and nothing else."""
    return name[:1] + "*" * (len(name) - 1) if name else name


def party_name(record: CreditRecord) -> str:
    if record.fields.get("party_category") == "natural_person":
        return mask_person_name(record.party_name)
    return record.party_name


def public_view(record: CreditRecord) -> dict:
    """Everything the public may read about a published record."""
    fields = []
    for key, label, value in public_fields(record.item, record.fields):
        if key == "legal_rep_name" and record.fields.get("party_category") == "natural_person":
            value = mask_person_name(value)
        fields.append((label, value))
    notes = []
    if record.status == CreditRecord.Status.UNDER_OBJECTION:
        notes.append(_("Under objection: the recording department is reviewing it."))
    if record.status == CreditRecord.Status.CORRECTED:
        notes.append(_("Corrected (version %(v)d).") % {"v": record.version})
    return {"record": record, "party_name": party_name(record), "fields": fields, "notes": notes}
