"""Rendering a report document: a pure function from the document to HTML (the template
``reports/credit_report.html``, in the document's language), and WeasyPrint turning HTML into PDF.

Everything that ends up in the HTML passes through Django's autoescaping: a name holding markup is
printed as text. WeasyPrint fetches nothing: the QR code is an inline ``data:`` PNG, the fonts are the
system's CJK fonts (``fc-list :lang=zh``), and any other URL is refused.

What a report costs is mostly WeasyPrint's, so its work is cut where the report allows: the print
stylesheet (``reports/credit_report.css``) and a user-agent stylesheet of only the elements the
report uses (``reports/user_agent.css``) are parsed once per process; the HTML, which the template
writes as well-formed XML, is read by the C XML parser instead of WeasyPrint's HTML5 parser written in
Python (falling back to the latter for any HTML that is not XML)."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple
from xml.etree import ElementTree

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from credit_portal.web.templatetags.portal import zh, zh_runs
from disclosure.reports import qr
from disclosure.reports.document import SECTION_ITEMS, Section, fingerprint
from records.models import Complaint, CreditRecord, EntityPerson, EntityType, Industry, MarketEntity, Person
from records.models import Severity as SeverityChoice

TEMPLATE = "reports/credit_report.html"
LANGUAGES = ("zh-hans", "en")

LABELS = {
    "restored": gettext_lazy("Credit restored"),
    "under_objection": gettext_lazy("Under objection"),
    "corrected": gettext_lazy("Corrected"),
    "disclosure_ended": gettext_lazy("Disclosure period ended"),
    "self_declared": gettext_lazy("Self-declared"),
    "content_withheld": gettext_lazy("Content not shared (no longer standing)"),
}


# How a line names its item where a section holds several (the full names run long for one line).
SHORT_ITEMS = {
    "admin_punishment": pgettext_lazy("credit report line", "Punishment"),
    "admin_compulsory": pgettext_lazy("credit report line", "Compulsory measure"),
    "judicial_ruling": pgettext_lazy("credit report line", "Judicial ruling"),
    "serious_list": pgettext_lazy("credit report line", "Serious dishonesty list"),
    "abnormal_list": pgettext_lazy("credit report line", "Abnormal operation list"),
    "pledge_performance": pgettext_lazy("credit report line", "Pledge"),
    "pledge_breach": pgettext_lazy("credit report line", "Pledge broken"),
}


def render_html(document: dict[str, Any], *, verify_url: str | None = None, sha256: str | None = None) -> str:
    """The report as an HTML page for print, in ``document["report"]["language"]``."""
    language = document["report"]["language"]
    if language not in LANGUAGES:
        raise ValueError(f"unknown report language: {language!r}")
    number = document["report"]["number"]
    verify_url = verify_url if verify_url is not None else qr.verify_url(number)
    with translation.override(language):
        context = _context(document, english=language == "en")
        context.update(
            sha256=sha256 or fingerprint(document),
            verify_url=verify_url,
            qr_src=qr.png_data_uri(verify_url),
            html_lang="en" if language == "en" else "zh-Hans",
        )
        return render_to_string(TEMPLATE, context)


@cache
def _font_config():
    """One fontconfig set-up per process, kept: building it reads fontconfig's configuration and
    font list again for every report otherwise. The report declares no ``@font-face``, so nothing
    of one report stays in it for the next. (Celery's pool processes each build their own, on
    their first report.)"""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


class _Stylesheets(NamedTuple):
    report: Any  # weasyprint.CSS
    user_agent: Any


@cache
def _stylesheets() -> _Stylesheets:
    """The print stylesheet and the user-agent stylesheet, parsed once per process."""
    from weasyprint import CSS

    font_config = _font_config()
    return _Stylesheets(
        report=CSS(string=render_to_string("reports/credit_report.css"), font_config=font_config),
        user_agent=CSS(string=render_to_string("reports/user_agent.css"), font_config=font_config),
    )


@cache
def _document_class():
    from weasyprint import HTML

    class ReportHTML(HTML):
        """WeasyPrint's HTML document with the report's own user-agent stylesheet, and a second
        constructor from a tree already parsed."""

        def _ua_stylesheets(self, forms=False):
            return [_stylesheets().user_agent]

        @classmethod
        def from_tree(cls, root: ElementTree.Element, url_fetcher) -> HTML | None:
            """The document for ``root``; None if this WeasyPrint's ``HTML`` holds other state
            than the attributes set here (a later version may), so that the caller parses the
            HTML as WeasyPrint does instead."""
            if _html_attributes() != _FROM_TREE_ATTRIBUTES:
                return None
            import cssselect2

            document = cls.__new__(cls)
            document.base_url = None
            document.url_fetcher = url_fetcher
            document.media_type = "print"
            document.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
            document.etree_element = document.wrapper_element.etree_element
            return document

    return ReportHTML


_FROM_TREE_ATTRIBUTES = frozenset(
    {"base_url", "url_fetcher", "media_type", "wrapper_element", "etree_element"}
)


@cache
def _html_attributes() -> frozenset[str]:
    from weasyprint import HTML

    return frozenset(vars(HTML(string="<p></p>")))


def xml_tree(html: str) -> ElementTree.Element | None:
    """The report's HTML as an element tree, read as XML; None when it is not well-formed XML
    (a character XML forbids in a name, say), which WeasyPrint's HTML parser then reads."""
    try:
        # Our template's output, every value in it escaped: no entity or DOCTYPE of anyone else's.
        return ElementTree.fromstring(html)  # noqa: S314
    except ElementTree.ParseError:
        return None


def html_to_pdf(html: str) -> bytes:
    """PDF bytes from the report's HTML (WeasyPrint; fonts subset into the file)."""
    # Imported here: web processes that never render need not load WeasyPrint and Pango.
    from weasyprint.urls import URLFetcher

    ReportHTML = _document_class()
    # Nothing is fetched: no file, no network; data: URIs only (the QR code).
    fetcher = URLFetcher(allowed_protocols=("data",), allow_redirects=False)
    root = xml_tree(html)
    document = ReportHTML.from_tree(root, fetcher) if root is not None else None
    if document is None:
        document = ReportHTML(string=html, url_fetcher=fetcher)
    return document.write_pdf(font_config=_font_config(), stylesheets=[_stylesheets().report])


# --- context --------------------------------------------------------------------------------------


def _pick(named: dict[str, str] | None, english: bool, prefix: str = "name") -> str:
    if not named:
        return ""
    if english and named.get(f"{prefix}_en"):
        return named[f"{prefix}_en"]
    return named.get(f"{prefix}_zh", "")


def _label(choices, code: str | None) -> str:
    if not code:
        return ""
    try:
        return str(choices(code).label)
    except ValueError:
        return code


def _date(value: str | None) -> str:
    return date.fromisoformat(value).isoformat() if value else ""


def _disclosure_text(disclosure: dict[str, Any]) -> str:
    """The record's disclosure, in a few words."""
    state, ends_on = disclosure["state"], disclosure["ends_on"]
    if state == CreditRecord.Disclosure.PENDING:
        return _("to be published")
    if state == CreditRecord.Disclosure.PUBLISHED:
        return _("disclosed until %(date)s") % {"date": ends_on} if ends_on else _("disclosed, no end date")
    if state == CreditRecord.Disclosure.WITHDRAWN:
        return _("withdrawn from disclosure")
    return _("disclosure ended %(date)s") % {"date": ends_on} if ends_on else _("disclosure ended")


def _restoration_text(restoration: dict[str, Any] | None, disclosure: dict[str, Any]) -> str:
    """For a negative record not restored while it is (to be) published, and where the rules give
    such a day: from when the entity may seek credit restoration. Empty otherwise."""
    if restoration is None or restoration["restored"] or not restoration["may_apply_from"]:
        return ""
    if disclosure["state"] not in (CreditRecord.Disclosure.PENDING, CreditRecord.Disclosure.PUBLISHED):
        return ""
    return _("may seek credit restoration from %(date)s") % {"date": restoration["may_apply_from"]}


def item_name(record: dict[str, Any], english: bool) -> str:
    """A record's item as its line names it, in the active language."""
    short = SHORT_ITEMS.get(record["item"]["code"])
    return str(short) if short else _pick(record["item"], english)


def standing(record: dict[str, Any]) -> str:
    """A record's standing as its line says it, in the active language: its labels (restored,
    under objection, corrected, self-declared), else its status; empty for a record whose
    disclosure period ended, which the disclosure part of the line says itself."""
    told = [str(LABELS[code]) for code in record["labels"] if code in LABELS and code != "disclosure_ended"]
    if told:
        return "; ".join(told)
    if record["status"] == CreditRecord.Status.EXPIRED:
        return ""
    return _label(CreditRecord.Status, record["status"])


def _record_row(record: dict[str, Any], english: bool, show_item: bool) -> dict[str, Any]:
    """One line of the PDF per record, in two cells of one text each: the decision (its date and
    number), then what it is, who decided, its standing and its disclosure. (WeasyPrint's cost grows
    with the boxes it lays out: a cell per field made the report twice as slow to render.) The
    legal basis, the facts and the other structured fields stay in the JSON document, whose
    fingerprint the PDF prints, and on the public record page."""
    item = zh(item_name(record, english)) if show_item else ""
    severity = _label(SeverityChoice, record["severity"])
    # What the portal wrote on the record in English, for a reader of English (its names marked);
    # else the content as recorded, quoted.
    content = zh_runs(record["content_en"]) if english and record.get("content_en") else zh(record["content"])
    what = mark_safe(" ".join(part for part in (item, content) if part))  # noqa: S308 - escaped parts
    if severity:
        what = (
            mark_safe(  # noqa: S308 - the translation escaped, the parts escaped
                conditional_escape(_("%(content)s (%(severity)s)"))
                % {"content": what, "severity": conditional_escape(severity)}
            )
            if what
            else severity
        )
    labels = [code for code in record["labels"] if code in LABELS]
    parts = (
        what,
        zh(_pick(record["department"], english)),
        standing(record),
        _restoration_text(record["restoration"], record["disclosure"]),
        _disclosure_text(record["disclosure"]),
    )
    restored = "restored" in record["labels"]
    return {
        "decision": format_html("{} {}", record["decision_date"], zh(record["decision_number"])),
        "summary": mark_safe(" · ".join(conditional_escape(part) for part in parts if part)),  # noqa: S308
        # A restored record in green; one under objection, corrected, self-declared or no
        # longer disclosed in amber.
        "tone": "restored" if restored else ("flagged" if labels else ""),
    }


def _registration(data: dict[str, Any], english: bool) -> dict[str, Any]:
    return {
        "entity_type": _label(EntityType, data["entity_type"]),
        "status": _label(MarketEntity.Status, data["status"]),
        "division": f"{_pick(data['division'], english)} ({data['division']['code']})",
        "industry": _label(Industry, data["industry"]),
        "registered_on": data["registered_on"] or "",
        "address": data["address"],
        "public_sector": _label(MarketEntity.PublicSector, data["public_sector"]),
        "registering_department": _pick(data["registering_department"], english),
        "persons": [
            {
                "role": _label(EntityPerson.Role, p["role"]),
                "name": p["name"],
                "id_type": _label(Person.IdType, p["id_type"]),
                "id_number": p["id_number_masked"],
            }
            for p in data["persons"]
        ],
    }


def _section(key: str, data: dict[str, Any], english: bool) -> dict[str, Any]:
    section: dict[str, Any] = {"key": key, "title": str(Section(key).label)}
    if key == Section.REGISTRATION:
        section["registration"] = _registration(data, english)
    elif key == Section.COMPLAINTS:
        section["count"] = data["count"]
        section["complaints"] = [
            {
                "kind": _label(Complaint.Kind, c["kind"]),
                "submitted_on": c["submitted_on"],
                "answered_on": c["answered_on"] or "",
                "department": _pick(c["department"], english),
            }
            for c in data["complaints"]
        ]
    elif key == Section.APPRAISAL:
        section["appraisal"] = data
    else:
        # A section of several items names each line's item, briefly.
        show_item = len(SECTION_ITEMS[key][0]) > 1
        section["count"] = data["count"]
        section["records"] = [_record_row(r, english, show_item) for r in data["records"]]
    return section


def _context(document: dict[str, Any], *, english: bool) -> dict[str, Any]:
    report = document["report"]
    issued_at = datetime.fromisoformat(report["issued_at"])
    return {
        "number": report["number"],
        "issued_at": issued_at.strftime("%Y-%m-%d %H:%M"),
        "utc_offset": issued_at.strftime("%z")[:3] if issued_at.utcoffset() is not None else "",
        "valid_until": _date(report["valid_until"]),
        "period_from": _date(report["period"]["from"]),
        "period_to": _date(report["period"]["to"]),
        "entity": document["entity"],
        "english": english,
        "sections": [_section(key, document["sections"][key], english) for key in report["sections"]],
        "section_titles": [str(Section(key).label) for key in report["sections"]],
        "schema_version": document["schema_version"],
    }
