"""Credit reports: requesting one, rendering it (the Celery task's work), downloading it;
third-party reports by registered credit service agencies. What the verification page reads is
``disclosure.reports.verification``.

Who may request a report: a self-service user for an entity they act for (``my:entity``), staff and
agency tokens holding ``reports:request`` for any entity. Every request and every download is
audited; rendering happens after commit, on the ``pdf`` queue, through the outbox
(``credit_portal.outbox``): a request accepted while the broker is down is rendered once it is back."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal import numbers as reference_numbers
from credit_portal import rows
from credit_portal.accounts.actors import Actor, actor_for_user, system_actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.errors import Conflict, NotFound, raise_errors
from credit_portal.links import Route
from credit_portal.notices import services as notices
from credit_portal.outbox import services as outbox
from credit_portal.text import invisible_error
from disclosure.models import CreditReport, ThirdPartyReport
from disclosure.reports import document as documents
from disclosure.reports import numbers, qr, render, schema, selectors
from records.access import entity_for_member
from records.fields import Errors
from records.identifiers import normalise_uscc, validate_uscc
from records.models import EntityMembership, MarketEntity
from records.services.credit import add_months
from records.visibility import WITHHELD_STATUSES

logger = logging.getLogger(__name__)

Status = CreditReport.Status
Channel = CreditReport.Channel
DEFAULT_VALID_DAYS = 30
LANGUAGE_ALIASES = {
    "zh": "zh-hans",
    "zh-hans": "zh-hans",
    "zh-cn": "zh-hans",
    "zh_hans": "zh-hans",
    "en": "en",
}
# A requester with this many reports still queued or rendering waits before asking for more.
MAX_IN_PREPARATION = 10
# A report still in preparation this long after its request has lost its task: see
# ``reports_requeue_stale``. It no longer counts against ``MAX_IN_PREPARATION`` either.
STALE_AFTER = timedelta(minutes=10)
RENDER_TASK = selectors.RENDER_TASK
_NUL = "\x00"


def valid_days() -> int:
    """``CREDIT_REPORT_VALID_DAYS``: how long an issued report is valid (default 30 days)."""
    return int(getattr(settings, "CREDIT_REPORT_VALID_DAYS", DEFAULT_VALID_DAYS))


# --- requesting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanRequest:
    entity: MarketEntity
    period: selectors.Period
    sections: list[str]
    language: str


def _channel(actor: Actor) -> str:
    if actor.kind == "entity":
        actor.require(Cap.OWN_ENTITY)
        return Channel.SELF_SERVICE
    actor.require(Cap.REPORTS_REQUEST)
    return Channel.API if actor.kind == "token" else Channel.STAFF


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return _NUL in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _clean_entity(actor: Actor, code: Any, errors: Errors) -> MarketEntity | None:
    text = normalise_uscc(code or "")
    if _has_nul(text):
        errors.add("code", _("Null characters are not allowed."))
        return None
    if not text:
        errors.add("code", _("This field is required."))
        return None
    try:
        validate_uscc(text)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add("code", message)
        return None
    if actor.kind == "entity":
        entity_for_member(actor, text)  # NotFound unless the user acts for it
    if not MarketEntity.objects.filter(code=text).exists():
        errors.add("code", _("No entity is registered under this unified social credit code."))
        return None
    return selectors.entity_for_report(text)


def _clean_date(value: Any, key: str, errors: Errors) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors.add(key, _("Not a date: use YYYY-MM-DD."))
        return None


def _clean_period(period_from: Any, period_to: Any, today: date, errors: Errors) -> selectors.Period | None:
    start = _clean_date(period_from, "period_from", errors)
    end = _clean_date(period_to, "period_to", errors)
    if "period_from" in errors or "period_to" in errors:
        return None
    default = documents.default_period(today)
    end = end or today
    earliest = documents.earliest_start(today)
    if end < earliest:
        # Nothing to report before the window (and no default start to count back from year 1).
        errors.add(
            "period_to",
            _("A report covers at most %(years)d years back: end on %(date)s or later.")
            % {"years": documents.MAX_PERIOD_YEARS, "date": earliest.isoformat()},
        )
        return None
    start = start or (
        default.since if end == today else add_months(end, -12 * documents.DEFAULT_PERIOD_YEARS)
    )
    if end > today:
        errors.add("period_to", _("The period cannot end in the future."))
    if start > end:
        errors.add("period_from", _("The period starts after it ends."))
    if start < earliest:
        errors.add(
            "period_from",
            _("A report covers at most %(years)d years back: start on %(date)s or later.")
            % {"years": documents.MAX_PERIOD_YEARS, "date": earliest.isoformat()},
        )
    if start < earliest or start > end or end > today:
        return None
    return selectors.Period(start, end)


def _clean_sections(sections: Any, errors: Errors) -> list[str]:
    if sections in (None, ""):
        return list(documents.SECTION_KEYS)
    if isinstance(sections, str):
        sections = sections.split(",")
    if not isinstance(sections, list | tuple) or not all(isinstance(s, str) for s in sections):
        errors.add("sections", _("Give a list of section names."))
        return []
    if _has_nul(sections):
        errors.add("sections", _("Null characters are not allowed."))
        return []
    wanted = {s.strip() for s in sections if s.strip()}
    unknown = sorted(wanted - set(documents.SECTION_KEYS))
    if unknown:
        errors.add(
            "sections",
            _("Unknown section(s): %(unknown)s. Choose from: %(allowed)s.")
            % {
                "unknown": ", ".join(s[:40] for s in unknown[:5]),
                "allowed": ", ".join(documents.SECTION_KEYS),
            },
        )
        return []
    if not wanted:
        errors.add("sections", _("Choose at least one section."))
        return []
    return [key for key in documents.SECTION_KEYS if key in wanted]


def _clean_language(language: Any, errors: Errors) -> str:
    if language in (None, ""):
        return "zh-hans"
    text = str(language).strip().lower()
    if text not in LANGUAGE_ALIASES:
        errors.add("language", _("Choose zh (Simplified Chinese, the default) or en (English)."))
        return ""
    return LANGUAGE_ALIASES[text]


def clean_request(
    *, actor: Actor, code: Any, period_from: Any = None, period_to: Any = None, sections: Any = None,
    language: Any = None, today: date | None = None,
) -> CleanRequest:  # fmt: skip
    """Validate a request; raise ``ValidationError`` with every field error at once."""
    today = today or timezone.localdate()
    errors = Errors()
    entity = _clean_entity(actor, code, errors)
    period = _clean_period(period_from, period_to, today, errors)
    clean_sections = _clean_sections(sections, errors)
    clean_language = _clean_language(language, errors)
    if errors:
        raise ValidationError(dict(errors))
    return CleanRequest(entity, period, clean_sections, clean_language)


def _requester_filter(actor: Actor) -> dict[str, Any]:
    if actor.kind == "token":
        return {"requested_by__isnull": True, "requested_by_department": actor.department}
    if actor.user is not None:
        return {"requested_by": actor.user}
    return {"requested_by__isnull": True, "requested_by_department__isnull": True, "channel": Channel.STAFF}


@transaction.atomic
def report_request(
    *, actor: Actor, code: Any, period_from: Any = None, period_to: Any = None, sections: Any = None,
    language: Any = None, today: date | None = None, validate_only: bool = False,
) -> CreditReport | None:  # fmt: skip
    """Queue a credit report on the entity with ``code``.

    Raises ``PermissionDenied`` without the capability, ``NotFound`` when a self-service user asks
    about an entity they do not act for, ``ValidationError`` with every field error (unknown code,
    period over 5 years, reversed or in the future, unknown sections or language, NUL bytes), or
    ``Conflict`` when the requester already has ``MAX_IN_PREPARATION`` reports in preparation (among
    the field errors when there are any). ``validate_only``: check, write nothing, return None.
    Side effects: audit event; the render task in the outbox (on the ``pdf`` queue after commit, or
    once the broker is back: ``selectors.waits_for_broker``)."""
    channel = _channel(actor)
    today = today or timezone.localdate()
    errors: dict[str, list] = {}
    try:
        clean = clean_request(
            actor=actor, code=code, period_from=period_from, period_to=period_to, sections=sections,
            language=language, today=today,
        )  # fmt: skip
    except ValidationError as exc:
        errors = exc.message_dict
    pending = CreditReport.objects.filter(
        status__in=(Status.QUEUED, Status.RENDERING),
        requested_at__gte=timezone.now() - STALE_AFTER,
        **_requester_filter(actor),
    ).count()
    busy = None
    if pending >= MAX_IN_PREPARATION:
        busy = Conflict(
            _("You already have %(n)d reports in preparation; wait until they are ready.") % {"n": pending}
        )
    raise_errors(errors, busy)
    if validate_only:
        return None
    report = CreditReport(
        entity=clean.entity,
        channel=channel,
        requested_by=actor.user,
        requested_by_department=actor.department,
        requester_label=actor.label[:200],
        period_from=clean.period.since,
        period_to=clean.period.until,
        sections=clean.sections,
        language=clean.language,
        status=Status.QUEUED,
    )
    reference_numbers.insert_numbered(report, field="number", new_number=lambda: numbers.new_number(today))
    audit.log(
        actor=actor,
        action="disclosure.report.requested",
        target=report,
        after={
            "entity": clean.entity.code,
            "channel": channel,
            "period_from": report.period_from,
            "period_to": report.period_to,
            "sections": report.sections,
            "language": report.language,
        },
    )
    outbox.enqueue(RENDER_TASK, report.pk)
    return report


def reports_requeue_stale(*, now: datetime | None = None, after: timedelta = STALE_AFTER) -> list[int]:
    """Queue again the render of every report still queued or rendering ``after`` its request: its
    task was lost (the worker died mid-render and the message went with it, or the broker lost
    it). A render still waiting in the outbox is not lost and is left to the outbox sweep.
    Rendering is idempotent, so a report whose task was only slow is rendered once all the same.
    Beat runs this every 10 minutes. Returns the ids queued again."""
    cutoff = (now or timezone.now()) - after
    ids = list(
        CreditReport.objects.filter(
            status__in=(Status.QUEUED, Status.RENDERING), requested_at__lt=cutoff
        ).values_list("pk", flat=True)[:1000]
    )
    with transaction.atomic():
        ids = [rid for rid in ids if outbox.enqueue(RENDER_TASK, rid, unless_pending=True) is not None]
    if ids:
        logger.warning("Queued the render of %d stale credit report(s) again", len(ids))
    return ids


# --- rendering (the task's work) ------------------------------------------------------------------


def content_reader(report: CreditReport):
    """Whose report it is decides what of a record that no longer stands (expired, restored) it
    carries: the entity's own report and the recording department's (or the credit office's) carry
    its content; another department's or agency's carries its identifiers, dates and status only."""
    if report.channel == CreditReport.Channel.SELF_SERVICE:
        return None
    department_id = report.requested_by_department_id
    every_department = report.requested_by is not None and actor_for_user(report.requested_by).can(
        Cap.ALL_DEPARTMENTS
    )

    def shares(record) -> bool:
        return (
            every_department
            or record.status not in WITHHELD_STATUSES
            or record.department_id == department_id
        )

    return shares


@dataclass
class Rendition:
    document: dict[str, Any]
    sha256: str
    pdf: bytes
    issued_at: datetime
    valid_until: date
    seconds: float

    @property
    def pdf_sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def build_rendition(report: CreditReport, *, now: datetime | None = None) -> Rendition:
    """Build the document, check it against its schema, render HTML and PDF. No write."""
    started = time.perf_counter()
    issued_at = now or timezone.now()
    valid_until = timezone.localdate(issued_at) + timedelta(days=valid_days())
    entity = selectors.entity_for_report(report.entity.code)
    document = documents.build(
        shares_content=content_reader(report),
        entity=entity,
        period=selectors.Period(report.period_from, report.period_to),
        sections=report.sections,
        number=report.number,
        language=report.language,
        issued_at=issued_at,
        valid_until=valid_until,
    )
    problems = schema.problems(document)
    if problems:
        raise ValueError("the document does not match its schema: " + "; ".join(problems[:5]))
    sha256 = documents.fingerprint(document)
    html = render.render_html(document, verify_url=qr.verify_url(report.number), sha256=sha256)
    pdf = render.html_to_pdf(html)
    return Rendition(document, sha256, pdf, issued_at, valid_until, time.perf_counter() - started)


def _begin(report_id: int) -> CreditReport | None:
    """Mark the report as rendering (committed at once, so the requester sees progress). None when
    there is nothing to do: the report is ready, or gone."""
    with transaction.atomic():
        report = (
            CreditReport.objects.select_for_update(of=("self",))
            .select_related("entity")
            .filter(pk=report_id)
            .first()
        )
        if report is None or report.status == Status.READY:
            return None
        if report.status != Status.RENDERING:
            report.status = Status.RENDERING
            report.failure = ""
            report.save(update_fields=["status", "failure"])
        return report


def report_render(*, report_id: int, now: datetime | None = None) -> CreditReport | None:
    """Issue a queued report: build its document, render its PDF, store both with the document's
    fingerprint, the SHA-256 of the PDF's bytes, the issue time and validity, and tell the requester. Safe to run twice, even at once: a ready report
    is never rendered again (a second concurrent run discards its rendition); a run after a crash
    starts over. A failure marks the report failed with the reason and tells the requester.
    Side effects: the PDF file, audit event, notice to the requesting user."""
    report = _begin(report_id)
    if report is None:
        return CreditReport.objects.filter(pk=report_id).first()
    try:
        rendition = build_rendition(report, now=now)
    except Exception as exc:
        logger.exception("Credit report %s failed to render", report.number)
        return report_fail(report_id=report_id, reason=f"{type(exc).__name__}: {exc}"[:1000])
    with transaction.atomic():
        report = (
            CreditReport.objects.select_for_update(of=("self",)).select_related("entity").get(pk=report_id)
        )
        if report.status == Status.READY:
            return report
        report.pdf.save(f"{report.number}.pdf", ContentFile(rendition.pdf), save=False)
        report.document = rendition.document
        report.sha256 = rendition.sha256
        report.pdf_sha256 = rendition.pdf_sha256
        report.issued_at = rendition.issued_at
        report.valid_until = rendition.valid_until
        report.render_seconds = round(rendition.seconds, 4)
        report.status = Status.READY
        report.failure = ""
        report.save(
            update_fields=[
                "pdf", "document", "sha256", "pdf_sha256", "issued_at", "valid_until", "render_seconds",
                "status", "failure",
            ]
        )  # fmt: skip
        actor = system_actor("reports")
        audit.log(
            actor=actor,
            action="disclosure.report.issued",
            target=report,
            after={
                "sha256": report.sha256,
                "pdf_sha256": report.pdf_sha256,
                "issued_at": report.issued_at,
                "valid_until": report.valid_until,
                "pdf_bytes": len(rendition.pdf),
                "render_seconds": report.render_seconds,
            },
        )
        _notify(actor, report, ready=True)
    return report


@transaction.atomic
def report_fail(*, report_id: int, reason: str) -> CreditReport | None:
    """Mark a report that could not be rendered as failed, with the reason; tell the requester."""
    report = (
        CreditReport.objects.select_for_update(of=("self",))
        .select_related("entity")
        .filter(pk=report_id)
        .first()
    )
    if report is None or report.status in (Status.READY, Status.FAILED):
        return report
    report.status = Status.FAILED
    report.failure = reason.replace(_NUL, "")[:1000] or "unknown error"
    report.save(update_fields=["status", "failure"])
    actor = system_actor("reports")
    audit.log(
        actor=actor, action="disclosure.report.failed", target=report, after={"failure": report.failure}
    )
    _notify(actor, report, ready=False)
    return report


def _notify(actor: Actor, report: CreditReport, *, ready: bool) -> None:
    if report.requested_by is None:
        return  # an agency polls the API
    link = Route("my:report_list") if report.channel == Channel.SELF_SERVICE else Route("staff:report_list")
    name = report.entity.name_zh
    if ready:
        subject_zh = f"信用报告 {report.number} 已生成"
        subject_en = f"Credit report {report.number} is ready"
        body_zh = f"关于{name}的信用报告已生成，有效期至{report.valid_until:%Y-%m-%d}，可下载PDF和JSON。"
        body_en = f"The credit report on {name} is ready, valid until {report.valid_until:%Y-%m-%d}. Download the PDF and the JSON."
    else:
        subject_zh = f"信用报告 {report.number} 生成失败"
        subject_en = f"Credit report {report.number} could not be prepared"
        body_zh = f"关于{name}的信用报告未能生成，请重新申请。"
        body_en = f"The credit report on {name} could not be prepared. Please request it again."
    notices.notify_user(
        actor=actor,
        user=report.requested_by,
        kind="reports.ready" if ready else "reports.failed",
        subject_zh=subject_zh,
        subject_en=subject_en,
        body_zh=body_zh,
        body_en=body_en,
        link=link,
        dedupe_key=f"report:{report.number}:{'ready' if ready else 'failed'}",
    )


# --- downloading ----------------------------------------------------------------------------------


@transaction.atomic
def report_download(*, actor: Actor, number: str, fmt: str) -> tuple[CreditReport, bytes]:
    """The PDF or the canonical JSON of a ready report the actor may see (else ``NotFound``),
    audited."""
    if fmt not in ("pdf", "json"):
        raise NotFound
    report = selectors.report_for_actor(actor, number)
    if report.status != Status.READY:
        raise NotFound
    if fmt == "pdf":
        with report.pdf.open("rb") as handle:
            content = handle.read()
    else:
        content = documents.canonical_bytes(report.document)
    audit.log(
        actor=actor,
        action="disclosure.report.downloaded",
        target=report,
        data={"format": fmt, "entity": report.entity.code},
    )
    return report, content


# --- third-party reports ------------------------------------------------------------------------------

THIRD_PARTY_MAX_BYTES = 20 * 1024 * 1024


def _agency_for(actor: Actor, agency_id: int | None):
    actor.require(Cap.OWN_ENTITY)
    agencies = selectors.agencies_of(actor)
    if agency_id is None and len(agencies) == 1:
        return agencies[0]
    for agency in agencies:
        if agency.pk == agency_id:
            return agency
    raise NotFound


@transaction.atomic
def third_party_report_upload(
    *, actor: Actor, agency_id: int | None, code: Any, title: Any, summary: Any, file, issued_on: Any,
    valid_until: Any = None, today: date | None = None, validate_only: bool = False,
) -> ThirdPartyReport | None:  # fmt: skip
    """A registered, active credit service agency (through a user acting for it) registers its own
    report on an entity: title, summary, a PDF of at most 20 MB, issue date and validity.
    Raises ``NotFound`` when the user acts for no such agency, ``ValidationError`` with every field
    error. ``validate_only``: check, write nothing, return None. Side effects: the stored file,
    audit event."""
    agency = _agency_for(actor, agency_id)
    today = today or timezone.localdate()
    errors = Errors()
    entity = None
    text = normalise_uscc(code or "")
    if _has_nul(text) or not text:
        errors.add("code", _("Give the entity's unified social credit code."))
    else:
        entity = MarketEntity.objects.filter(code=text).first()
        if entity is None:
            errors.add("code", _("No entity is registered under this unified social credit code."))
        elif entity.pk == agency.entity_id:
            errors.add("code", _("An agency cannot register a report on itself."))
    clean_title = str(title or "").strip()
    if not clean_title:
        errors.add("title", _("This field is required."))
    elif problem := invisible_error(clean_title, single_line=True):
        errors.add("title", problem)
    elif len(clean_title) > 200:
        errors.add("title", _("At most %(max)d characters.") % {"max": 200})
    clean_summary = str(summary or "").strip()
    if problem := invisible_error(clean_summary):
        errors.add("summary", problem)
    elif len(clean_summary) > 2000:
        errors.add("summary", _("At most %(max)d characters.") % {"max": 2000})
    issued = _clean_date(issued_on, "issued_on", errors)
    until = _clean_date(valid_until, "valid_until", errors)
    if "issued_on" not in errors:
        if issued is None:
            errors.add("issued_on", _("This field is required."))
        elif issued > today:
            errors.add("issued_on", _("The issue date cannot be in the future."))
    if issued and until and until < issued:
        errors.add("valid_until", _("The report cannot expire before it was issued."))
    if file is None:
        errors.add("file", _("Attach the report as a PDF file."))
    elif file.size > THIRD_PARTY_MAX_BYTES:
        errors.add("file", _("The file is larger than 20 MB."))
    else:
        file.seek(0)
        head = file.read(5)
        file.seek(0)
        if head != b"%PDF-":
            errors.add("file", _("The file is not a PDF."))
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    report = ThirdPartyReport(
        agency=agency,
        entity=entity,
        title=clean_title,
        summary=clean_summary,
        issued_on=issued,
        valid_until=until,
        uploaded_by=actor.user,
    )
    report.file.save(f"{entity.code}-{today:%Y%m%d}.pdf", file, save=False)
    report.save(force_insert=True)
    audit.log(
        actor=actor,
        action="disclosure.third_party_report.registered",
        target=report,
        after={
            "agency": agency.entity.code,
            "entity": entity.code,
            "title": report.title,
            "issued_on": report.issued_on,
            "valid_until": report.valid_until,
            "bytes": file.size,
        },
    )
    return report


@transaction.atomic
def third_party_report_withdraw(*, actor: Actor, report_id: int) -> ThirdPartyReport:
    """The agency withdraws its own report: it leaves the public pages at once (staff still see it,
    marked). Idempotent. ``NotFound`` for a report of another agency."""
    actor.require(Cap.OWN_ENTITY)
    entity_ids = EntityMembership.objects.filter(user=actor.user).values("entity_id")
    report = rows.locked_or_not_found(
        ThirdPartyReport.objects.select_related("agency__entity", "entity"),
        pk=report_id,
        agency__entity_id__in=entity_ids,
    )
    if report.withdrawn_at is None:
        report.withdrawn_at = timezone.now()
        report.save(update_fields=["withdrawn_at"])
        audit.log(
            actor=actor,
            action="disclosure.third_party_report.withdrawn",
            target=report,
            after={"agency": report.agency.entity.code, "entity": report.entity.code},
        )
    return report


@transaction.atomic
def third_party_report_download(*, actor: Actor, report_id: int) -> ThirdPartyReport:
    """A third-party report's file, as the public sees it (not withdrawn, agency active), or as its
    own agency sees it; audited. ``NotFound`` otherwise."""
    report = rows.one_or_not_found(
        ThirdPartyReport.objects.select_related("agency__entity", "entity"), pk=report_id
    )
    shown = report.withdrawn_at is None and report.agency.is_active
    own = (
        actor.kind == "entity"
        and EntityMembership.objects.filter(user=actor.user, entity_id=report.agency.entity_id).exists()
    )
    staff = actor.kind == "staff" and actor.can(Cap.ENTITIES_READ)
    if not (shown or own or staff):
        raise NotFound
    audit.log(
        actor=actor,
        action="disclosure.third_party_report.downloaded",
        target=report,
        data={"entity": report.entity.code},
    )
    return report
