"""The doors to credit reports: verification for anyone (``/verify/``), the entity's own reports
(``/my/reports/``), staff reports (``/staff/reports/``), third-party reports (public page, the
agency's uploads in ``/my/third-party-reports/``), and the credit office's register of agencies.

Thin: forms parse, ``disclosure.reports.services`` decides and writes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credit_portal.accounts.actors import actor_for_user
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.sessions import session_passive
from credit_portal.ratelimit import limit_per_client
from credit_portal.web.decorators import entity_user_required, staff_required
from credit_portal.web.submission import submit
from disclosure.models import CreditReport
from disclosure.reports import agencies, numbers, qr, selectors, services
from disclosure.reports import verification as checks
from disclosure.reports.forms import (
    AgencyForm,
    CappedMemoryUploadHandler,
    DocumentCheckForm,
    MyReportRequestForm,
    PdfCheckForm,
    StaffReportRequestForm,
    ThirdPartyReportForm,
    VerifyForm,
)
from records import selectors as record_selectors
from records.models import CreditServiceAgency

PAGE_SIZE = 30
IN_PREPARATION = (CreditReport.Status.QUEUED, CreditReport.Status.RENDERING)


def _add_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _status_label(report: CreditReport, waiting: bool) -> str:
    """The status as the requester should read it: a render accepted while the broker was down is
    not queued yet, it will start shortly."""
    if waiting:
        return _("Accepted, starts shortly")
    return report.get_status_display()


def _rows(reports, door: str) -> list[dict]:
    reports = list(reports)
    waiting = selectors.reports_waiting_for_broker(reports)
    return [
        {
            "report": r,
            "pdf_url": reverse(f"{door}:report_download", args=[r.number, "pdf"]),
            "json_url": reverse(f"{door}:report_download", args=[r.number, "json"]),
            "status_url": reverse(f"{door}:report_status", args=[r.number]),
            "verify_url": qr.verify_path(r.number),
            "in_preparation": r.status in IN_PREPARATION,
            "status_label": _status_label(r, r.pk in waiting),
        }
        for r in reports
    ]


def _status(request, number: str) -> JsonResponse:
    report = selectors.report_for_actor(request.actor, number)
    response = JsonResponse(
        {
            "number": report.number,
            "status": report.status,
            "status_label": _status_label(report, selectors.waits_for_broker(report)),
            "in_preparation": report.status in IN_PREPARATION,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def download_response(report: CreditReport, content: bytes, fmt: str) -> HttpResponse:
    content_type = "application/pdf" if fmt == "pdf" else "application/json; charset=utf-8"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{report.number}.{fmt}")
    response["Cache-Control"] = "private, no-store"
    return response


def _download(request, number: str, fmt: str) -> HttpResponse:
    report, content = services.report_download(actor=request.actor, number=number, fmt=fmt)
    return download_response(report, content, fmt)


def _request_from_form(request, form, success_url: str):
    """Submit the request form; return a redirect, or None with every error on the form."""

    def request_report(validate_only: bool):
        data = form.cleaned_data
        return services.report_request(
            actor=request.actor,
            code=data["code"],
            period_from=data.get("period_from"),
            period_to=data.get("period_to"),
            sections=data.get("sections"),
            language=data.get("language"),
            validate_only=validate_only,
        )

    outcome = submit(form, request_report)
    if outcome.ok:
        report = outcome.result
        if selectors.waits_for_broker(report):
            message = _(
                "Report %(number)s requested and accepted: its preparation will start shortly; this page shows when it is ready."
            )
        else:
            message = _(
                "Report %(number)s requested. It is being prepared; this page shows when it is ready."
            )
        messages.success(request, message % {"number": report.number})
        return redirect(success_url)
    return None


# --- the entity's own reports -----------------------------------------------------------------------


@entity_user_required
@require_http_methods(["GET", "POST"])
def my_reports(request):
    memberships = list(record_selectors.my_memberships(request.actor))
    form = MyReportRequestForm(request.POST or None, memberships=memberships)
    if request.method == "POST":
        response = _request_from_form(request, form, reverse("my:report_list"))
        if response is not None:
            return response
    reports = Paginator(selectors.reports_for_actor(request.actor), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    third_party = [(m.entity, list(selectors.third_party_reports_shown(m.entity)[:20])) for m in memberships]
    return render(
        request,
        "reports/my_reports.html",
        {
            "form": form,
            "memberships": memberships,
            "page_obj": reports,
            "rows": _rows(reports, "my"),
            "third_party": [(e, reports_) for e, reports_ in third_party if reports_],
            "today": timezone.localdate(),
            # A credit service agency's members register its reports on other entities here.
            "is_agency": bool(selectors.agencies_of(request.actor)),
        },
        status=400 if form.errors else 200,
    )


@entity_user_required
@require_GET
def my_report_status(request, number: str):
    return _status(request, number)


@entity_user_required
@require_GET
def my_report_download(request, number: str, fmt: str):
    return _download(request, number, fmt)


# --- staff ------------------------------------------------------------------------------------------


@staff_required(Cap.REPORTS_REQUEST)
@require_http_methods(["GET", "POST"])
def staff_reports(request):
    form = StaffReportRequestForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if request.method == "POST":
        response = _request_from_form(request, form, reverse("staff:report_list"))
        if response is not None:
            return response
    reports = Paginator(selectors.reports_for_actor(request.actor), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reports/staff_reports.html",
        {"form": form, "page_obj": reports, "rows": _rows(reports, "staff")},
        status=400 if form.errors else 200,
    )


@session_passive  # the reports page polls it: not activity that keeps a staff session alive
@staff_required(Cap.REPORTS_REQUEST)
@require_GET
def staff_report_status(request, number: str):
    return _status(request, number)


@staff_required(Cap.REPORTS_REQUEST)
@require_GET
def staff_report_download(request, number: str, fmt: str):
    return _download(request, number, fmt)


@staff_required(Cap.ENTITIES_READ)
@require_GET
def staff_entity_reports(request, code: str):
    """An entity's reports for staff: the department's portal reports and every third-party report
    (withdrawn ones marked)."""
    entity = record_selectors.entity_public_profile(code)
    if entity is None:
        raise Http404
    portal_reports = []
    if request.actor.can(Cap.REPORTS_REQUEST):
        portal_reports = _rows(selectors.reports_for_actor(request.actor).filter(entity=entity)[:50], "staff")
    return render(
        request,
        "reports/staff_entity.html",
        {
            "entity": entity,
            "rows": portal_reports,
            "third_party": selectors.third_party_reports_for_staff(entity),
            "can_request": request.actor.can(Cap.REPORTS_REQUEST),
            "today": timezone.localdate(),
        },
    )


@staff_required(Cap.ORGANISATIONS_MANAGE)
@require_http_methods(["GET", "POST"])
def staff_agencies(request):
    form = AgencyForm(request.POST or None)
    if request.method == "POST":
        outcome = submit(
            form,
            lambda validate_only: agencies.agency_register(
                actor=request.actor, **form.cleaned_data, validate_only=validate_only
            ),
        )
        if outcome.ok:
            messages.success(
                request,
                _("%(name)s is registered as a credit service agency.")
                % {"name": outcome.result.entity.name_zh},
            )
            return redirect("staff:third_party_agencies")
    return render(
        request,
        "reports/agencies.html",
        {
            "form": form,
            "agencies": CreditServiceAgency.objects.select_related("entity").order_by("entity__code"),
        },
        status=400 if form.errors else 200,
    )


@staff_required(Cap.ORGANISATIONS_MANAGE)
@require_POST
def staff_agency_active(request, pk: int):
    active = request.POST.get("active") == "1"
    agency = agencies.agency_set_active(actor=request.actor, agency_id=pk, active=active)
    messages.success(
        request,
        (
            _("%(name)s is active again.")
            if active
            else _("%(name)s is suspended: its reports are no longer shown.")
        )
        % {"name": agency.entity.name_zh},
    )
    return redirect("staff:third_party_agencies")


# --- verification (public) ------------------------------------------------------------------------


@require_GET
@limit_per_client("report-verify", limit=60, window=60)
def verify_index(request):
    form = VerifyForm(request.GET or None)
    if form.is_bound and form.is_valid():
        number = form.cleaned_data["number"]
        if not numbers.is_well_formed(number):
            return render(request, "reports/verify_missing.html", {"form": VerifyForm()}, status=404)
        return redirect("public:verify_report", number=number)
    return render(request, "reports/verify_index.html", {"form": form})


@csrf_exempt  # checked in _verify_report, once the upload handler is in place
@require_http_methods(["GET", "POST"])
@limit_per_client("report-verify", limit=60, window=60)
def verify_report(request, number: str):
    """Anyone: is this report authentic, expired, superseded; what did it say as issued; is this
    JSON document, or this PDF file, the one issued? A malformed, unknown or unissued number gets
    the same page, with 404, revealing nothing else."""
    # Before anything reads the body: an uploaded PDF stays in memory, up to the cap, never on disk.
    upload = CappedMemoryUploadHandler(request, max_bytes=checks.PDF_CHECK_MAX_BYTES)
    request.upload_handlers = [upload]
    return _verify_report(request, number, upload)


@csrf_protect
def _verify_report(request, number: str, upload: CappedMemoryUploadHandler):
    verification = checks.report_verify(number)
    if verification is None:
        return render(request, "reports/verify_missing.html", {"form": VerifyForm()}, status=404)
    posted = request.method == "POST"
    checks_pdf = posted and (request.POST.get("check") == "pdf" or bool(request.FILES) or upload.too_large)
    check_form = DocumentCheckForm(request.POST if posted and not checks_pdf else None)
    pdf_form = PdfCheckForm(request.POST if checks_pdf else None, request.FILES if checks_pdf else None)
    matches = pdf_matches = None
    if checks_pdf:
        if upload.too_large:
            pdf_form.is_valid()
            pdf_form.errors.pop("pdf", None)
            pdf_form.add_error("pdf", checks.pdf_too_large_message())
        elif pdf_form.is_valid():
            try:
                pdf_matches = checks.pdf_matches(verification.report, pdf_form.cleaned_data["pdf"])
            except ValidationError as exc:
                _add_errors(pdf_form, exc)
    elif posted and check_form.is_valid():
        matches = checks.document_matches(verification.report, check_form.cleaned_data["document"])
        if matches is None:
            check_form.add_error("document", _("This is not a JSON document."))
    return render(
        request,
        "reports/verify.html",
        {
            "v": verification,
            "report": verification.report,
            "issued": verification.content,
            "check_form": check_form,
            "matches": matches,
            "pdf_form": pdf_form,
            "pdf_matches": pdf_matches,
            "pdf_checked": checks_pdf,
        },
        status=400 if check_form.errors or pdf_form.errors else 200,
    )


# --- third-party reports ----------------------------------------------------------------------------


@require_GET
@limit_per_client("public-profile", limit=120, window=60)
def entity_third_party_reports(request, code: str):
    entity = record_selectors.entity_public_profile(code)
    if entity is None:
        raise Http404
    return render(
        request,
        "reports/third_party_public.html",
        {
            "entity": entity,
            "reports": selectors.third_party_reports_shown(entity),
            "today": timezone.localdate(),
        },
    )


@require_GET
@limit_per_client("third-party-file", limit=60, window=60)
def third_party_file(request, pk: int):
    report = services.third_party_report_download(actor=actor_for_user(request.user), report_id=pk)
    with report.file.open("rb") as handle:
        content = handle.read()
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"third-party-report-{report.pk}.pdf")
    response["Cache-Control"] = "no-store"
    return response


@entity_user_required
@require_http_methods(["GET", "POST"])
def my_third_party_reports(request):
    agencies_ = selectors.agencies_of(request.actor)
    if not agencies_:
        if request.method == "POST":
            raise PermissionDenied
        return render(request, "reports/my_third_party.html", {"agencies": []})
    form = ThirdPartyReportForm(request.POST or None, request.FILES or None, agencies=agencies_)
    if request.method == "POST":

        def upload(validate_only: bool):
            data = form.cleaned_data
            return services.third_party_report_upload(
                actor=request.actor,
                agency_id=data["agency"],
                code=data["code"],
                title=data["title"],
                summary=data["summary"],
                file=data["file"],
                issued_on=data["issued_on"],
                valid_until=data["valid_until"],
                validate_only=validate_only,
            )

        outcome = submit(form, upload)
        if outcome.ok:
            messages.success(
                request,
                _("Your report on %(name)s is registered and shown as a third-party report.")
                % {"name": outcome.result.entity.name_zh},
            )
            return redirect("my:third_party_reports")
    reports = Paginator(selectors.third_party_reports_of_agencies(agencies_), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reports/my_third_party.html",
        {"agencies": agencies_, "form": form, "page_obj": reports},
        status=400 if form.errors else 200,
    )


@entity_user_required
@require_POST
def my_third_party_withdraw(request, pk: int):
    services.third_party_report_withdraw(actor=request.actor, report_id=pk)
    messages.success(request, _("The report is withdrawn: it is no longer shown."))
    return redirect("my:third_party_reports")
