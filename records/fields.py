"""Parsing and validating the values of a credit record, whatever door they came through.

The staff form, a row of an imported file and an API request all become a ``RecordInput``; one
``RecordValidator`` turns it into model values or into per-field error messages. Values from files
arrive as text in many shapes (2026/9/30, 20260930, 2026年9月30日, 一般, general...) and are
normalised here; the structured fields follow the catalogue item's definitions (data, not code)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from credit_portal import i18n, personal_data
from credit_portal.i18n import either, interpolate
from credit_portal.text import refuse_invisible
from credit_portal.workdays import rules
from records.identifiers import mask_identity_number, normalise_uscc, validate_resident_id, validate_uscc
from records.models import CatalogueItem, Severity

_DATE_PATTERNS = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
]
SEVERITY_WORDS = {
    "minor": Severity.MINOR, "轻微": Severity.MINOR,
    "general": Severity.GENERAL, "一般": Severity.GENERAL,
    "serious": Severity.SERIOUS, "严重": Severity.SERIOUS,
}  # fmt: skip
EARLIEST_DECISION = date(1949, 10, 1)
# ``CreditRecord.disclosure_months`` is a PositiveSmallIntegerField.
MAX_DISCLOSURE_MONTHS_COLUMN = 32767
PUBLISH_RULE = rules.DISCLOSURE_PUBLISH


@dataclass
class RecordInput:
    """What a door says about a record, in the door's own types (mostly text)."""

    item: str
    code: str
    decision_number: str
    decision_date: Any
    party_name: str = ""
    legal_basis: str = ""
    severity: str = ""
    content: str = ""
    valid_from: Any = None
    valid_to: Any = None
    remarks: str = ""
    disclosure_months: Any = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class CleanRecord:
    """Validated values, ready for the model."""

    item: CatalogueItem
    entity_id: int
    entity_name: str
    entity_name_en: str
    code: str
    party_name: str
    decision_number: str
    decision_date: date
    legal_basis: str
    severity: str
    content: str
    valid_from: date | None
    valid_to: date | None
    remarks: str
    disclosure_months: int | None
    fields: dict[str, Any]


class Errors(dict):
    """Messages by key, as text in the language active when they were added; ``given`` keeps each
    as it was given (a lazy translation), so that a caller that stores them, as the import report
    does, can keep them in every language (``in_each_language``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.given: dict[str, list] = {}

    def add(self, key: str, message) -> None:
        self.setdefault(key, []).append(str(message))
        self.given.setdefault(key, []).append(message)

    def add_error(self, key: str, error: ValidationError) -> None:
        """Each message of a ``ValidationError``, its parameters filled in when it is shown."""
        for item in error.error_list:
            self.add(key, interpolate(item.message, item.params) if item.params else item.message)

    def in_each_language(self) -> dict[str, list[dict[str, str]]]:
        """``{key: [{language code: message}, ...]}``. A message put in without ``add`` is given as
        the text it was put in."""
        out = {}
        for key, texts in self.items():
            given = self.given.get(key, [])
            messages = given if len(given) == len(texts) else texts
            out[key] = [i18n.in_each_language(m) for m in messages]
        return out


def parse_date(value: Any) -> date | None:
    """A date from a date, a datetime (spreadsheets) or text in the usual Chinese office shapes."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    text = text.split(" ")[0].split("T")[0] if re.match(r"^\d{4}-\d{2}-\d{2}[ T]", text) else text
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                break
    raise ValidationError(_("Not a date: %(value)s (use YYYY-MM-DD)."), params={"value": text[:40]})


def clean_text(value: Any, *, max_length: int, required: bool = False, single_line: bool = False) -> str:
    """Trimmed text, bounded, without invisible control characters (``credit_portal.text``);
    ``single_line`` for names and numbers: no tabs or line breaks either."""
    text = "" if value is None else str(value).strip()
    refuse_invisible(text, single_line=single_line)
    if len(text) > max_length:
        raise ValidationError(
            _("At most %(max)d characters (this has %(n)d)."), params={"max": max_length, "n": len(text)}
        )
    if required and not text:
        raise ValidationError(_("This field is required."))
    return text


def _choice(value: Any, choices: list[list[str]]) -> str:
    text = str(value).strip()
    for key, zh, en in choices:
        if text in (key, zh) or text.lower() == en.lower():
            return key
    raise ValidationError(
        _("Not one of the allowed values: %(allowed)s."),
        params={"allowed": either(" / ".join(c[1] for c in choices), " / ".join(c[2] for c in choices))},
    )


def _decimal(value: Any) -> str:
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ValidationError(_("Not a number: %(value)s."), params={"value": str(value)[:40]}) from None
    if not number.is_finite() or number < 0 or number > Decimal("1e12"):
        raise ValidationError(_("Give a non-negative amount."))
    return format(number.quantize(Decimal("0.000001")).normalize(), "f")


def _identity(number: Any, id_type: str) -> dict[str, str]:
    text = "".join(str(number).split()).upper()
    if id_type in ("", "resident_id"):
        text = validate_resident_id(text)
    elif not (4 <= len(text) <= 40 and text.isalnum() and text.isascii()):
        raise ValidationError(_("Use 4–40 letters and digits."))
    return {
        "masked": mask_identity_number(text),
        "hash": personal_data.lookup_hash(text),
        "cipher": personal_data.encrypt(text),
    }


def clean_fields(item: CatalogueItem, raw: dict[str, Any], errors: Errors, *, strict: bool) -> dict[str, Any]:
    """The item's structured fields; ``strict`` refuses keys the item does not define."""
    definitions = {d["key"]: d for d in item.fields}
    out: dict[str, Any] = {}
    if strict:
        for key in raw:
            if key not in definitions:
                errors.add(f"fields.{key}", _("Unknown field for this catalogue item."))
    for key, definition in definitions.items():
        value = raw.get(key)
        empty = value is None or (isinstance(value, str) and not value.strip())
        try:
            if empty:
                if definition.get("required"):
                    raise ValidationError(_("This field is required."))
                continue
            kind = definition.get("type", "text")
            if kind in ("text", "longtext"):
                out[key] = clean_text(
                    value, max_length=definition.get("max_length", 200), single_line=kind == "text"
                )
            elif kind == "date":
                out[key] = parse_date(value).isoformat()
            elif kind == "decimal":
                out[key] = _decimal(value)
            elif kind == "choice":
                out[key] = _choice(value, definition["choices"])
            elif kind == "identity":
                id_type_key = key.removesuffix("_number") + "_type"
                id_type = out.get(id_type_key) or raw.get(id_type_key) or "resident_id"
                if id_type not in ("resident_id",) and id_type_key in definitions:
                    id_type = _choice(id_type, definitions[id_type_key]["choices"])
                out[key] = _identity(value, id_type)
        except ValidationError as exc:
            errors.add_error(f"fields.{key}", exc)
    return out


def public_fields(item: CatalogueItem, values: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(key, label, display value) of the structured fields, identity numbers masked."""
    from django.utils.translation import get_language

    english = (get_language() or "").startswith("en")
    rows = []
    for definition in item.fields:
        key = definition["key"]
        if key not in values:
            continue
        value = values[key]
        if definition.get("type") == "identity":
            value = value.get("masked", "")
        elif definition.get("type") == "choice":
            labels = {c[0]: (c[2] if english else c[1]) for c in definition["choices"]}
            value = labels.get(value, value)
        rows.append((key, definition["label_en"] if english else definition["label_zh"], value))
    return rows


def public_field_values(item: CatalogueItem, values: dict[str, Any]) -> dict[str, Any]:
    """The structured fields for the API and the change feed: identity numbers masked."""
    out = {}
    for definition in item.fields:
        key = definition["key"]
        if key in values:
            value = values[key]
            out[key] = value.get("masked", "") if definition.get("type") == "identity" else value
    return out


# Columns that the national field standards make mandatory for a layout, beyond the structured
# fields the catalogue marks required. Existing rows are not rewritten; new and corrected ones obey.
REQUIRED_COLUMNS = {
    CatalogueItem.Layout.PUNISHMENT: ("legal_basis", "content"),
    CatalogueItem.Layout.PERMIT: ("content", "valid_from", "valid_to"),
}
REQUIRED_COLUMN_MESSAGES = {
    CatalogueItem.Layout.PUNISHMENT: _(
        "Required for an administrative punishment (national field standard)."
    ),
    CatalogueItem.Layout.PERMIT: _("Required for an administrative permit (national field standard)."),
}


class RecordValidator:
    """Validates ``RecordInput``s for one recording department. Reference data (catalogue, rules) is
    loaded once, so validating a 100,000-row file costs no query per row; entities are looked up in
    batches by the caller (``entities``: code -> (id, Chinese name, English name)) or one by one.

    ``workflow``: the caller is the procedure that produces workflow-only items (a designation, a
    pledge's performance); the generic doors — form, file, API — are not, and may not write them."""

    def __init__(self, *, department, today: date, workflow: bool = False):
        from credit_portal.workdays import services as workdays
        from records.models import DisclosurePeriodRule

        self.department = department
        self.today = today
        self.workflow = workflow
        self.items = {
            i.code: i
            for i in CatalogueItem.objects.filter(is_active=True).prefetch_related("recording_departments")
        }
        self.rules = list(DisclosurePeriodRule.objects.order_by("-effective_from"))
        self.longest_period = max(
            (rule.max_months for rule in self.rules), default=MAX_DISCLOSURE_MONTHS_COLUMN
        )
        # Every version of the publication deadline, loaded once (also for the disclosure plans);
        # before its first rule, no decision has a due date the portal can tell.
        self.publish = workdays.DeadlineSchedule(PUBLISH_RULE)
        self.earliest_deadline = self.publish.earliest

    def rule_for(self, severity: str, decision_date: date):
        for rule in self.rules:
            if rule.severity == severity and rule.effective_from <= decision_date:
                return rule
        return None

    def recheck(self, clean: CleanRecord) -> Errors:
        """What may have changed since ``clean`` was validated (a proposal waiting for review): the
        item still recordable by the department through this door, the mandatory columns of its
        layout, a period rule covering the decision and allowing its period. The values' formats do
        not change and are not checked again."""
        errors = Errors()
        item = self.items.get(clean.item.code)
        if item is None:
            errors.add("item", _("Unknown catalogue item."))
            return errors
        if item.recording_departments.all() and self.department not in item.recording_departments.all():
            errors.add("item", _("Your department may not record this catalogue item."))
        if item.workflow_only and not self.workflow:
            errors.add(
                "item",
                interpolate(
                    _(
                        "“%(item)s” is recorded only by its own procedure (with its notice and defence window), not through the record form, a file or the records API."
                    ),
                    {"item": either(item.name_zh, item.name_en)},
                ),
            )
        for name in REQUIRED_COLUMNS.get(item.layout, ()):
            if not getattr(clean, name):
                errors.add(name, REQUIRED_COLUMN_MESSAGES[item.layout])
        if item.period_kind == CatalogueItem.PeriodKind.SEVERITY:
            rule = self.rule_for(clean.severity, clean.decision_date)
            if rule is None:
                errors.add("decision_date", _("No disclosure-period rule covers this decision date."))
            elif clean.disclosure_months is not None and not (
                rule.min_months <= clean.disclosure_months <= rule.max_months
            ):
                errors.add(
                    "disclosure_months",
                    _("The disclosure period is outside the rule now in force for this decision."),
                )
        clean.item = item
        return errors

    def earliest_rule(self, severity: str):
        candidates = [rule for rule in self.rules if rule.severity == severity]
        return min(candidates, key=lambda rule: rule.effective_from) if candidates else None

    def validate(
        self,
        data: RecordInput,
        *,
        entities: dict[str, tuple[int, str, str]] | None = None,
        strict: bool = True,
    ) -> tuple[CleanRecord | None, Errors]:
        errors = Errors()
        item = self.items.get(str(data.item or "").strip())
        if item is None:
            errors.add("item", _("Unknown catalogue item."))
        elif item.recording_departments.all() and self.department not in item.recording_departments.all():
            errors.add("item", _("Your department may not record this catalogue item."))
        elif item.workflow_only and not self.workflow:
            errors.add(
                "item",
                interpolate(
                    _(
                        "“%(item)s” is recorded only by its own procedure (with its notice and defence window), not through the record form, a file or the records API."
                    ),
                    {"item": either(item.name_zh, item.name_en)},
                ),
            )

        code = normalise_uscc(data.code or "")
        entity = None
        try:
            validate_uscc(code)
        except ValidationError as exc:
            errors.add_error("code", exc)
        else:
            if entities is not None:
                entity = entities.get(code)
            else:
                from records.models import MarketEntity

                entity = (
                    MarketEntity.objects.filter(code=code).values_list("pk", "name_zh", "name_en").first()
                )
            if entity is None:
                errors.add("code", _("No entity is registered under this unified social credit code."))

        values: dict[str, Any] = {}
        for name, max_length, required, single_line in (
            ("party_name", 200, False, True),
            ("decision_number", 128, True, True),
            ("legal_basis", 2000, False, False),
            ("content", 4000, False, False),
            ("remarks", 2000, False, False),
        ):
            try:
                values[name] = clean_text(
                    getattr(data, name), max_length=max_length, required=required, single_line=single_line
                )
            except ValidationError as exc:
                errors.add_error(name, exc)
        for name in ("decision_date", "valid_from", "valid_to"):
            try:
                values[name] = parse_date(getattr(data, name))
            except ValidationError as exc:
                errors.add_error(name, exc)
        decision_date = values.get("decision_date")
        if "decision_date" not in errors:
            if decision_date is None:
                errors.add("decision_date", _("This field is required."))
            elif decision_date > self.today:
                errors.add("decision_date", _("The decision date cannot be in the future."))
            elif decision_date < EARLIEST_DECISION:
                errors.add("decision_date", _("The decision date is implausibly early."))
            elif self.earliest_deadline is None or decision_date < self.earliest_deadline:
                errors.add(
                    "decision_date",
                    interpolate(
                        _(
                            "Decisions dated before %(date)s cannot be recorded: no disclosure deadline rule covers them."
                        ),
                        {"date": (self.earliest_deadline or self.today).isoformat()},
                    ),
                )
        if values.get("valid_from") and values.get("valid_to") and values["valid_to"] < values["valid_from"]:
            errors.add("valid_to", _("The end of validity is before its start."))

        severity = ""
        raw_severity = str(data.severity or "").strip().lower()
        if raw_severity:
            severity = SEVERITY_WORDS.get(raw_severity) or SEVERITY_WORDS.get(str(data.severity).strip(), "")
            if not severity:
                errors.add("severity", _("Use minor, general or serious (or their Chinese terms)."))
        elif item is not None and item.period_kind == CatalogueItem.PeriodKind.SEVERITY:
            errors.add("severity", _("This catalogue item needs the severity of the violation."))
        if (
            item is not None
            and item.period_kind == CatalogueItem.PeriodKind.SEVERITY
            and severity
            and decision_date
            and "decision_date" not in errors
            and self.rule_for(severity, decision_date) is None
        ):
            # Never "published forever": a period is planned under a rule, or not at all.
            earliest = self.earliest_rule(severity)
            if earliest is None:
                errors.add("severity", _("No disclosure-period rule is entered for this severity."))
            else:
                errors.add(
                    "decision_date",
                    interpolate(
                        _(
                            "The disclosure-period rules start on %(date)s (%(basis)s); a decision dated earlier has no disclosure period and cannot be recorded under this item."
                        ),
                        {
                            "date": earliest.effective_from.isoformat(),
                            "basis": either(earliest.basis_zh, earliest.basis_en),
                        },
                    ),
                )
        if item is not None:
            for name in REQUIRED_COLUMNS.get(item.layout, ()):
                if name not in errors and not values.get(name):
                    errors.add(name, REQUIRED_COLUMN_MESSAGES[item.layout])

        months = None
        if data.disclosure_months not in (None, ""):
            try:
                months = int(str(data.disclosure_months).strip())
            except ValueError:
                errors.add("disclosure_months", _("Give a whole number of months."))
        if months is not None and not 0 <= months <= self.longest_period:
            # No rule publishes anything longer, whatever the item (and the column holds no more).
            errors.add(
                "disclosure_months",
                interpolate(
                    _(
                        "Give a whole number of months from 0 to %(max)d (the longest disclosure period of any rule)."
                    ),
                    {"max": self.longest_period},
                ),
            )
            months = None
        if months is not None and severity and decision_date and "severity" not in errors:
            rule = self.rule_for(severity, decision_date)
            if rule is not None and not (rule.min_months <= months <= rule.max_months):
                errors.add(
                    "disclosure_months",
                    interpolate(
                        _(
                            "Between %(min)d and %(max)d months for a violation of this severity (%(severity)s) under %(basis)s."
                        ),
                        {
                            "min": rule.min_months,
                            "max": rule.max_months,
                            "severity": Severity(severity).label,
                            "basis": either(rule.basis_zh, rule.basis_en),
                        },
                    ),
                )

        fields = clean_fields(item, data.fields or {}, errors, strict=strict) if item is not None else {}
        if errors:
            return None, errors
        return (
            CleanRecord(
                item=item,
                entity_id=entity[0],
                entity_name=entity[1],
                entity_name_en=entity[2],
                code=code,
                party_name=values["party_name"] or entity[1],
                decision_number=values["decision_number"],
                decision_date=decision_date,
                legal_basis=values["legal_basis"],
                severity=severity,
                content=values["content"],
                valid_from=values["valid_from"],
                valid_to=values["valid_to"],
                remarks=values["remarks"],
                disclosure_months=months,
                fields=fields,
            ),
            errors,
        )
