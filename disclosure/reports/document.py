"""The canonical JSON document of a credit report: a pure function of the entity, the period and the
sections (and of the report's number and issue time), reading the database through the selectors.

The document is language-neutral and bilingual: names that exist in both languages (catalogue items,
departments, divisions, structured-field labels and choices) are given as ``*_zh`` / ``*_en`` pairs;
enumerations (entity type, statuses, severity, labels) are codes whose meaning the JSON Schema
(``docs/credit-report.schema.json``) documents; what was recorded is given as recorded (mostly
Chinese), and what the portal itself wrote on a record (a pledge's) in English too (``content_en``). ``report.language`` is the language the PDF is rendered in; the JSON is the same either way.

Personal data is masked as on the public site: a natural person's name in a record keeps only the
family name, identity numbers are masked, complainants never appear.

Serialised canonically — keys sorted, UTF-8, no insignificant whitespace — its SHA-256 is the
report's fingerprint, printed on the PDF and checked at ``/verify/<number>``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from disclosure.presentation import mask_person_name
from disclosure.reports import selectors
from records import summaries
from records.models import CatalogueItem, CreditRecord, DisclosurePeriodRule, MarketEntity
from records.services.credit import add_months

SCHEMA_VERSION = "1.0"
DEFAULT_PERIOD_YEARS = 3
MAX_PERIOD_YEARS = 5


class Section(models.TextChoices):
    REGISTRATION = "registration", _("Basic registration information")
    PERMITS = "permits", _("Administrative permits")
    PUNISHMENTS = "punishments", _("Administrative punishments, compulsory measures and judicial rulings")
    LISTS = "lists", _("Serious dishonesty list and abnormal operation list")
    PLEDGES = "pledges", _("Credit pledges and their performance")
    VOLUNTARY = "voluntary", _("Information supplied voluntarily (self-declared)")
    COMPLAINTS = "complaints", _("Complaints answered")
    APPRAISAL = "appraisal", _("Credit appraisal")


SECTION_KEYS: tuple[str, ...] = tuple(Section.values)

# Which catalogue items fill which section, and how the period selects them: "decided" (decided in
# the period), "valid" (in force at some time in the period), "standing" (decided in the period,
# or earlier and still standing).
SECTION_ITEMS: dict[str, tuple[tuple[str, ...], str]] = {
    Section.PERMITS: (("admin_permit",), "valid"),
    Section.PUNISHMENTS: (("admin_punishment", "admin_compulsory", "judicial_ruling"), "decided"),
    Section.LISTS: (("serious_list", "abnormal_list"), "standing"),
    Section.PLEDGES: (("pledge_performance", "pledge_breach"), "decided"),
    Section.VOLUNTARY: (("voluntary",), "decided"),
}
_SELECT = {
    "decided": selectors.records_decided_in,
    "valid": selectors.records_valid_in,
    "standing": selectors.records_standing_in,
}
SELF_DECLARED_ITEMS = frozenset({"voluntary"})


def default_period(today: date) -> selectors.Period:
    return selectors.Period(add_months(today, -12 * DEFAULT_PERIOD_YEARS), today)


def earliest_start(today: date) -> date:
    return add_months(today, -12 * MAX_PERIOD_YEARS)


# --- the builder ----------------------------------------------------------------------------------


def build(
    *,
    entity: MarketEntity,
    period: selectors.Period,
    sections: list[str] | tuple[str, ...],
    number: str,
    language: str,
    issued_at: datetime,
    valid_until: date,
    shares_content: Callable[[CreditRecord], bool] | None = None,
) -> dict[str, Any]:
    """The report's document. ``entity`` should come from ``selectors.entity_for_report`` (it
    carries the current persons); ``sections`` are validated keys of ``Section``.
    ``shares_content(record)``: whether the requester may read the record's content (default: yes,
    as the entity itself may)."""
    chosen = [key for key in SECTION_KEYS if key in set(sections)]
    rules = selectors.period_rules() if any(key in SECTION_ITEMS for key in chosen) else []
    body: dict[str, Any] = {}
    for key in chosen:
        if key == Section.REGISTRATION:
            body[key] = _registration(entity)
        elif key == Section.COMPLAINTS:
            complaints = selectors.answered_complaints(entity, period)
            body[key] = {
                "count": len(complaints),
                "complaints": [
                    {
                        "kind": c.kind,
                        "submitted_on": _day(c.submitted_at),
                        "answered_on": _day(c.answered_at),
                        "department": _department(c.department),
                    }
                    for c in complaints
                ],
            }
        elif key == Section.APPRAISAL:
            # Honest placeholder: the appraisal model (guideline part 6) does not run yet.
            body[key] = {"status": "not_available", "level": None}
        else:
            item_codes, mode = SECTION_ITEMS[key]
            records = _SELECT[mode](entity, item_codes, period)
            english = summaries.english_contents(records)
            body[key] = {
                "count": len(records),
                "records": [
                    _record(
                        r,
                        rules,
                        withheld=shares_content is not None and not shares_content(r),
                        content_en=english.get(r.pk, ""),
                    )
                    for r in records
                ],
            }
    return {
        "schema_version": SCHEMA_VERSION,
        "report": {
            "number": number,
            "issued_at": timezone.localtime(issued_at).isoformat(timespec="seconds"),
            "valid_until": valid_until.isoformat(),
            "period": {"from": period.since.isoformat(), "to": period.until.isoformat()},
            "sections": chosen,
            "language": language,
        },
        "entity": {"code": entity.code, "name_zh": entity.name_zh, "name_en": entity.name_en},
        "sections": body,
    }


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """The one serialisation that is hashed: keys sorted, UTF-8, no insignificant whitespace."""
    return json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def fingerprint(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


# --- parts ----------------------------------------------------------------------------------------


def _day(moment: datetime | None) -> str | None:
    return timezone.localdate(moment).isoformat() if moment is not None else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _named(obj, code_attr: str = "code") -> dict[str, str]:
    return {"code": getattr(obj, code_attr), "name_zh": obj.name_zh, "name_en": obj.name_en or ""}


def _department(department) -> dict[str, str]:
    return _named(department)


def _registration(entity: MarketEntity) -> dict[str, Any]:
    persons = [
        {
            "role": link.role,
            "name": link.person.name,
            "id_type": link.person.id_type,
            "id_number_masked": link.person.id_number_masked,
        }
        for link in getattr(entity, "current_persons", [])
    ]
    return {
        "entity_type": entity.entity_type,
        "status": entity.status,
        "division": {
            "code": entity.division_id,
            "name_zh": entity.division.name_zh,
            "name_en": entity.division.name_en,
        },
        "industry": entity.industry or None,
        "registered_on": _iso(entity.registered_on),
        "address": entity.address,
        "public_sector": entity.public_sector or None,
        "registering_department": _department(entity.registering_department),
        "persons": persons,
    }


def _labels(record: CreditRecord) -> list[str]:
    labels = []
    if record.status == CreditRecord.Status.RESTORED:
        labels.append("restored")
    elif record.status == CreditRecord.Status.UNDER_OBJECTION:
        labels.append("under_objection")
    elif record.status == CreditRecord.Status.CORRECTED:
        labels.append("corrected")
    if record.status == CreditRecord.Status.EXPIRED or (
        record.disclosure == CreditRecord.Disclosure.ENDED and record.status != CreditRecord.Status.RESTORED
    ):
        labels.append("disclosure_ended")
    if record.item.code in SELF_DECLARED_ITEMS:
        labels.append("self_declared")
    return labels


def _rule_for(rules: list[DisclosurePeriodRule], severity: str, decided: date) -> DisclosurePeriodRule | None:
    for rule in rules:  # newest first
        if rule.severity == severity and rule.effective_from <= decided:
            return rule
    return None


def _restoration(record: CreditRecord, rules: list[DisclosurePeriodRule]) -> dict[str, Any] | None:
    """For negative information: restored or not, and from when the entity may apply (the minimum
    disclosure period of the rule in force on the decision date; the other conditions — correction,
    penalties fulfilled, a pledge — are for the deciding department to check)."""
    if record.item.polarity != CatalogueItem.Polarity.NEGATIVE:
        return None
    may_apply_from = None
    if record.severity and record.status != CreditRecord.Status.RESTORED:
        rule = _rule_for(rules, record.severity, record.decision_date)
        if rule is not None and rule.restorable:
            may_apply_from = add_months(record.decision_date, rule.min_months).isoformat()
    return {"restored": record.status == CreditRecord.Status.RESTORED, "may_apply_from": may_apply_from}


def _fields(record: CreditRecord) -> list[dict[str, str]]:
    natural_person = record.fields.get("party_category") == "natural_person"
    out = []
    for definition in record.item.fields:
        key = definition["key"]
        if key not in record.fields:
            continue
        value = record.fields[key]
        kind = definition.get("type", "text")
        if kind == "identity":
            value = value.get("masked", "") if isinstance(value, dict) else ""
            value_zh = value_en = value
        elif kind == "choice":
            labels = {c[0]: (c[1], c[2]) for c in definition.get("choices", [])}
            value = str(value)
            value_zh, value_en = labels.get(value, (value, value))
        else:
            value = str(value)
            if key == "legal_rep_name" and natural_person:
                value = mask_person_name(value)
            value_zh = value_en = value
        out.append(
            {
                "key": key,
                "label_zh": definition.get("label_zh", key),
                "label_en": definition.get("label_en", key),
                "value": value,
                "value_zh": value_zh,
                "value_en": value_en,
            }
        )
    return out


def _record(
    record: CreditRecord, rules: list[DisclosurePeriodRule], *, withheld: bool = False, content_en: str = ""
) -> dict[str, Any]:
    """One record's line. ``withheld``: a record that no longer stands (expired, restored) read by
    someone other than the entity and the recording department: its identifiers, dates and status,
    labelled, but not its content (stop sharing, not only stop publishing). ``content_en``: the
    content in English of a record whose content the portal wrote (``records.summaries``), given as
    ``content_en`` beside the recorded ``content``."""
    natural_person = record.fields.get("party_category") == "natural_person"
    if withheld:
        return {
            **_record(record, rules),
            "legal_basis": "",
            "content": "",
            "severity": None,
            "fields": [],
            "labels": [*_labels(record), "content_withheld"],
        }
    line = {
        "id": record.pk,
        "item": _named(record.item),
        "decision_number": record.decision_number,
        "decision_date": record.decision_date.isoformat(),
        "department": _department(record.department),
        "party_name": mask_person_name(record.party_name) if natural_person else record.party_name,
        "legal_basis": record.legal_basis,
        "content": record.content,
        "severity": record.severity or None,
        "valid_from": _iso(record.valid_from),
        "valid_to": _iso(record.valid_to),
        "status": record.status,
        "version": record.version,
        "labels": _labels(record),
        "disclosure": {
            "state": record.disclosure,
            "months": record.disclosure_months,
            "ends_on": _iso(record.disclosure_ends_on),
        },
        "restoration": _restoration(record, rules),
        "fields": _fields(record),
    }
    if content_en:
        line["content_en"] = content_en
    return line
