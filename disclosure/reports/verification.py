"""What the public verification page (``/verify/<number>``) shows of an issued report: its key
content as issued, read from the stored canonical document the PDF was rendered from — never from
today's data — so that a reader can compare it with the paper in hand.

Anyone who has a report's number sees this page, whoever asked for the report (the entity itself, a
department, an agency) and for as long as the number exists. So it shows only what the public may
know anyway, and nothing that has since left public view:

- the report's number, issue time, validity, period, sections and the language of its PDF; the
  entity's name and unified social credit code as printed;
- of the registration section, the entity type, status, division and registration date as issued:
  never the persons behind the entity (no names, no identity numbers, not even masked), nor the
  address;
- of each record section, how many lines it has and, per line, its number in the section, item,
  decision date, decision number and standing as issued — for a record that is published on the
  public site now; any other line (awaiting publication, credit restored, disclosure ended,
  revoked, withdrawn) is counted and marked as not shown, nothing more;
- of the complaints section, nothing (complaints are not public);
- never who requested the report, the records' contents, legal bases, facts or fields.

A shown line is marked when its record changed after issue; the whole report is then superseded.

Checking a report (``report_verify``, ``pdf_matches``, ``document_matches``) only reads: the
report, the entity's records, and what the reader uploads or pastes, which is kept nowhere."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from disclosure.models import CreditReport
from disclosure.reports import document as documents
from disclosure.reports import render, selectors
from disclosure.reports.document import SECTION_ITEMS, Section
from records.models import CreditRecord, EntityType, MarketEntity


@dataclass(frozen=True)
class IssuedLine:
    """One line of a record section, as printed. ``shown`` False: the record is not in public view
    now, and only the line's position is given."""

    position: int
    shown: bool
    item: str = ""
    decision_date: str = ""
    decision_number: str = ""
    standing: str = ""
    changed: bool = False


@dataclass(frozen=True)
class IssuedSection:
    key: str
    title: str
    has_records: bool
    lines: list[IssuedLine] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label, value), registration only

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def withheld(self) -> int:
        return sum(1 for line in self.lines if not line.shown)


@dataclass(frozen=True)
class IssuedContent:
    number: str
    code: str
    name_zh: str
    name_en: str
    issued_at: str
    valid_until: str
    period_from: str
    period_to: str
    language: str
    sections: list[IssuedSection]

    @property
    def section_titles(self) -> list[str]:
        return [s.title for s in self.sections]

    @property
    def changed(self) -> int:
        """How many shown lines changed after issue."""
        return sum(1 for s in self.sections for line in s.lines if line.changed)

    @property
    def withheld(self) -> int:
        return sum(s.withheld for s in self.sections)


def _issued_at(value: str) -> str:
    moment = datetime.fromisoformat(value)
    offset = moment.strftime("%z")[:3]
    return f"{moment:%Y-%m-%d %H:%M} (UTC{offset})" if offset else f"{moment:%Y-%m-%d %H:%M}"


def _label(choices, code: str | None) -> str:
    if not code:
        return ""
    try:
        return str(choices(code).label)
    except ValueError:
        return code


def _registration(data: dict[str, Any], english: bool) -> list[tuple[str, str]]:
    division = data["division"]
    name = (division.get("name_en") if english else "") or division.get("name_zh", "")
    facts = [
        (_("Entity type"), _label(EntityType, data["entity_type"])),
        (_("Status"), _label(MarketEntity.Status, data["status"])),
        (_("Administrative division"), f"{name} ({division['code']})"),
    ]
    if data.get("registered_on"):
        facts.append((_("Registration date"), data["registered_on"]))
    return facts


def _lines(records: list[dict[str, Any]], public: set[int], changed: set[int], english: bool):
    lines = []
    for position, record in enumerate(records, start=1):
        if record["id"] not in public:
            lines.append(IssuedLine(position=position, shown=False))
            continue
        lines.append(
            IssuedLine(
                position=position,
                shown=True,
                item=render.item_name(record, english),
                decision_date=record["decision_date"],
                decision_number=record["decision_number"],
                standing=render.standing(record) or _label(CreditRecord.Status, record["status"]),
                changed=record["id"] in changed,
            )
        )
    return lines


def issued_content(document: dict[str, Any], *, entity: MarketEntity, issued_at: datetime) -> IssuedContent:
    """The page's view of a report's stored document, in the active language. Reads which of its
    records are in public view now and which changed after ``issued_at`` (two queries at most)."""
    english = get_language() == "en"
    report = document["report"]
    sections = document["sections"]
    as_issued = {
        record["id"]: (record["status"], record["version"])
        for key in report["sections"]
        if key in SECTION_ITEMS
        for record in sections[key]["records"]
    }
    public = selectors.records_in_public_view(entity, as_issued)
    changed = selectors.records_changed_since(entity, as_issued, issued_at) if public else set()
    language = _("English") if report["language"] == "en" else _("Simplified Chinese")
    shown = []
    for key in report["sections"]:
        title = str(Section(key).label)
        if key in SECTION_ITEMS:
            lines = _lines(sections[key]["records"], public, changed, english)
            shown.append(IssuedSection(key, title, has_records=True, lines=lines))
        elif key == Section.REGISTRATION:
            shown.append(
                IssuedSection(key, title, has_records=False, facts=_registration(sections[key], english))
            )
        else:
            shown.append(IssuedSection(key, title, has_records=False))
    return IssuedContent(
        number=report["number"],
        code=document["entity"]["code"],
        name_zh=document["entity"]["name_zh"],
        name_en=document["entity"]["name_en"] or "",
        issued_at=_issued_at(report["issued_at"]),
        valid_until=report["valid_until"],
        period_from=report["period"]["from"],
        period_to=report["period"]["to"],
        language=language,
        sections=shown,
    )


# --- checking a report: its number, its PDF, its document ------------------------------------------


# An issued report's PDF is well under 1 MB (two pages hold 50 records); a file above this is not one.
PDF_CHECK_MAX_BYTES = 5 * 1024 * 1024
PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class Verification:
    report: CreditReport
    expired: bool
    superseded: bool
    content: IssuedContent

    @property
    def valid(self) -> bool:
        return not self.expired and not self.superseded

    @property
    def pdf_check_available(self) -> bool:
        """False for a report issued before the PDF's SHA-256 was kept whose file was gone then."""
        return bool(self.report.pdf_sha256)


def report_verify(number: str, *, today: date | None = None) -> Verification | None:
    """What anyone may learn about a report number: None for a malformed, unknown or not yet issued
    one; else the report (authentic), whether it expired, whether it was superseded because the
    entity's record changed after issue (computed now), and its key content as issued, in the
    active language (``issued_content``: only what is safe for anyone holding the
    number)."""
    report = selectors.issued_report(number)
    if report is None:
        return None
    today = today or timezone.localdate()
    return Verification(
        report=report,
        expired=today > report.valid_until,
        superseded=selectors.changed_since(report.entity, report.issued_at),
        content=issued_content(report.document, entity=report.entity, issued_at=report.issued_at),
    )


def pdf_matches(report: CreditReport, upload) -> bool | None:
    """Whether an uploaded file is, byte for byte, the PDF issued under the report's number: the
    SHA-256 of its bytes is the one stored when the report was rendered. None when that check is
    unavailable for this report. Raises ``ValidationError`` (key ``pdf``) for a file larger than
    ``PDF_CHECK_MAX_BYTES`` or one that is not a PDF. Reads the file; keeps nothing of it."""
    if not report.pdf_sha256:
        return None
    if upload.size > PDF_CHECK_MAX_BYTES:
        raise ValidationError({"pdf": pdf_too_large_message()})
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    if head != PDF_MAGIC:
        raise ValidationError({"pdf": _("The file is not a PDF.")})
    digest = hashlib.sha256(head)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    return hmac.compare_digest(digest.hexdigest(), report.pdf_sha256)


def pdf_too_large_message() -> str:
    return _("The file is larger than %(mb)d MB: an issued report is much smaller.") % {
        "mb": PDF_CHECK_MAX_BYTES // (1024 * 1024)
    }


def document_matches(report: CreditReport, pasted: str) -> bool | None:
    """Whether a pasted JSON document is this report's: its canonical form hashes to the report's
    fingerprint. None when the text is not a JSON object."""
    try:
        value = json.loads(pasted)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    try:
        return documents.fingerprint(value) == report.sha256
    except (ValueError, TypeError):
        return None
