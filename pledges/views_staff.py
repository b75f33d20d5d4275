"""The staff door: the department's matters, pledge templates and compliance material; the queue
of applications and their decisions; pledges, their checks and breaches; the processing-time
report. Staff read their own department's (the credit office every department's) and act on
their own department's only."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credit_portal.accounts.capabilities import Cap
from credit_portal.csvsafe import safe_row
from credit_portal.web.decorators import staff_required
from credit_portal.web.submission import add_service_errors, submit
from credit_portal.workdays import services as workdays
from pledges import access, charts, selectors, services
from pledges.forms import (
    ApplicationFilterForm,
    BreachForm,
    ConfirmBreachForm,
    DecisionForm,
    EducationForm,
    MaterialFormSet,
    MatterForm,
    PledgeFilterForm,
    ReasonForm,
    RemedyRuleForm,
    ReportForm,
    TemplateForm,
    material_error_keys,
    material_inputs,
)
from pledges.models import BreachNotice, MaterialSubmission, Pledge, RemedyRule
from pledges.services.applications import OPEN
from pledges.views_my import defence_file_response, material_file_response

PAGE_SIZE = 50
MANAGE = Cap.PLEDGES_MANAGE


def _own(actor, department_id) -> bool:
    return actor.department_id is not None and department_id == actor.department_id


# --- applications -------------------------------------------------------------------------------


@staff_required(MANAGE)
@require_GET
def application_queue(request):
    form = ApplicationFilterForm(request.GET or None)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    qs = selectors.staff_application_queue(request.actor, status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    calendar = workdays.get_calendar()
    for application in page:
        application.decide_by = calendar.add_working_days(
            timezone.localdate(application.submitted_at), application.matter.statutory_days
        )
    return render(
        request,
        "pledges/staff/applications.html",
        {"form": form, "page_obj": page, "status": status or "open", "today": timezone.localdate()},
    )


def _application_page(request, application, form=None, status=200):
    actor = request.actor
    pledge = Pledge.objects.filter(application=application).select_related("template").first()
    submissions = list(MaterialSubmission.objects.filter(application=application).select_related("material"))
    supplied = {s.material_id for s in submissions}
    missing = list(application.missing_materials.order_by("order", "id"))
    can_decide = _own(actor, application.matter.department_id) and application.status in OPEN
    return render(
        request,
        "pledges/staff/application.html",
        {
            "application": application,
            "pledge": pledge,
            "submissions": submissions,
            "missing": [(m, m.pk in supplied) for m in missing],
            "decide_by": workdays.add_working_days(
                timezone.localdate(application.submitted_at), application.matter.statutory_days
            ),
            "form": (form or DecisionForm()) if can_decide else None,
            "permit_record": application.permit_record,
        },
        status=status,
    )


@staff_required(MANAGE)
@require_GET
def application_staff_detail(request, number: str):
    return _application_page(request, access.application_for_staff(request.actor, number))


@staff_required(MANAGE)
@require_POST
def application_decide(request, number: str):
    application = access.application_for_staff(request.actor, number)
    if not _own(request.actor, application.matter.department_id):
        raise Http404
    form = DecisionForm(request.POST)

    def decide(validate_only: bool):
        if not form.cleaned_data["decision"]:
            return None  # not chosen: neither the reasons nor the permit are asked for yet
        return services.application_decide(
            actor=request.actor,
            number=application.number,
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
            permit=form.permit(),
            validate_only=validate_only,
        )

    outcome = submit(form, decide)
    if outcome.ok:
        messages.success(request, _("Decision recorded; the applicant is notified."))
        return redirect("staff:application_staff_detail", number=application.number)
    if outcome.refused("status"):
        messages.error(request, " ".join(outcome.refused("status")))
        return redirect("staff:application_staff_detail", number=application.number)
    return _application_page(request, application, form=form, status=400)


@staff_required(MANAGE)
@require_GET
def application_staff_material(request, number: str, submission_id: int):
    application = access.application_for_staff(request.actor, number)
    submission = MaterialSubmission.objects.filter(application=application, pk=submission_id).first()
    if submission is None:
        raise Http404
    response = material_file_response(submission)
    services.material_download(actor=request.actor, submission=submission)
    return response


# --- pledges ------------------------------------------------------------------------------------


@staff_required(MANAGE)
@require_GET
def pledge_staff_list(request):
    form = PledgeFilterForm(request.GET or None)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    page = Paginator(selectors.staff_pledge_list(request.actor, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "pledges/staff/pledges.html",
        {"form": form, "page_obj": page, "status": status, "today": timezone.localdate()},
    )


def _pledge_page(
    request, pledge, breach_form=None, late_form=None, confirm_form=None, drop_form=None, status=200
):
    own = _own(request.actor, pledge.department_id)
    unsettled = pledge.status in (Pledge.Status.ACTIVE, Pledge.Status.OVERDUE)
    noticed = pledge.status == Pledge.Status.NOTICED
    submissions = []
    if pledge.application_id:
        submissions = list(
            MaterialSubmission.objects.filter(application_id=pledge.application_id).select_related("material")
        )
    notices = selectors.breach_notices(pledge)
    today = timezone.localdate()
    current = notices[0] if notices and notices[0].is_open else None
    return render(
        request,
        "pledges/staff/pledge.html",
        {
            "pledge": pledge,
            "submissions": submissions,
            "notices": notices,
            "current_notice": current,
            "may_confirm": current is not None
            and (current.answered_at is not None or not current.defence_window_open(today)),
            "breach_form": (breach_form or BreachForm(prefix="breach", initial={"legal_basis": ""}))
            if own and unsettled
            else None,
            "portal_users": selectors.portal_users_count(pledge) if own and unsettled else 0,
            "late_form": (late_form or ReasonForm(prefix="late"))
            if own and pledge.status == Pledge.Status.OVERDUE
            else None,
            "confirm_form": (confirm_form or ConfirmBreachForm(prefix="confirm"))
            if own and noticed
            else None,
            "drop_form": (drop_form or ReasonForm(prefix="drop")) if own and noticed else None,
            "today": today,
        },
        status=status,
    )


@staff_required(MANAGE)
@require_GET
def pledge_staff_detail(request, number: str):
    return _pledge_page(request, access.pledge_for_staff(request.actor, number))


def _settle(request, number: str, *, form_class, prefix: str, settle, done: str):
    """Act on a pledge (``settle``) with what the ``prefix`` form asks; a pledge that can no
    longer be settled that way comes back with the service's reason. A refusal for a reason
    of timing (the defence window still open) is shown on the form, with nothing changed."""
    pledge = access.pledge_for_staff(request.actor, number)
    if not _own(request.actor, pledge.department_id):
        raise Http404
    form = form_class(request.POST, prefix=prefix)
    outcome = submit(
        form,
        lambda validate_only: settle(
            actor=request.actor, number=pledge.number, **form.cleaned_data, validate_only=validate_only
        ),
    )
    if outcome.ok:
        messages.success(request, done(outcome.result) if callable(done) else done)
        return redirect("staff:pledge_staff_detail", number=pledge.number)
    if outcome.refused("status"):
        messages.error(request, " ".join(outcome.refused("status")))
        return redirect("staff:pledge_staff_detail", number=pledge.number)
    return _pledge_page(request, pledge, status=400, **{f"{prefix}_form": form})


def _notify(
    *, actor, number, reason, severity, legal_basis, channel, served_on, service_reference, validate_only
):
    return services.pledge_breach_notify(
        actor=actor,
        number=number,
        grounds=reason,
        severity=severity,
        legal_basis=legal_basis,
        channel=channel,
        served_on=served_on or None,
        service_reference=service_reference,
        validate_only=validate_only,
    )


def _served(notice: BreachNotice) -> str:
    """What the staff member is told once the notice is recorded: how it was served, from when the
    window runs, and how many of the entity's users the portal told."""
    told = ngettext(
        "%(n)d user of the entity was told on the portal.",
        "%(n)d users of the entity were told on the portal.",
        notice.portal_recipients or 0,
    ) % {"n": notice.portal_recipients or 0}
    return _(
        "Notice served (%(channel)s, %(date)s): the entity may state its defence until %(due)s. %(told)s"
    ) % {
        "channel": notice.get_service_channel_display(),
        "date": f"{notice.served_on:%Y-%m-%d}",
        "due": f"{notice.defence_due_on:%Y-%m-%d}",
        "told": told,
    }


@staff_required(MANAGE)
@require_POST
def pledge_breach_notify(request, number: str):
    """ "Confirm a breach" starts with the notice: the entity is told and may state its defence."""
    return _settle(
        request,
        number,
        form_class=BreachForm,
        prefix="breach",
        settle=_notify,
        done=_served,
    )


@staff_required(MANAGE)
@require_POST
def pledge_breach_confirm(request, number: str):
    return _settle(
        request,
        number,
        form_class=ConfirmBreachForm,
        prefix="confirm",
        settle=services.pledge_confirm_breach,
        done=_confirmed,
    )


def _confirmed(pledge: Pledge) -> str:
    """The decision is served through the portal with its remedies; an entity with no one there
    must be served it another way, and the staff member is told so."""
    if selectors.portal_users_count(pledge):
        return _(
            "Breach confirmed: the negative credit record is written and the entity is notified, with the remedies and the restoration notice."
        )
    return _(
        "Breach confirmed: the negative credit record is written. The entity has no account on the portal: serve it the decision, with the remedies and the restoration notice shown below, by post, in person or by publication."
    )


@staff_required(MANAGE)
@require_POST
def pledge_breach_drop(request, number: str):
    return _settle(
        request,
        number,
        form_class=ReasonForm,
        prefix="drop",
        settle=services.pledge_breach_drop,
        done=_("The intended finding is dropped: no record is written and the entity is notified."),
    )


@staff_required(MANAGE)
@require_GET
def pledge_staff_defence_file(request, number: str, notice_id: int):
    pledge = access.pledge_for_staff(request.actor, number)
    notice = BreachNotice.objects.filter(pledge=pledge, pk=notice_id).exclude(defence_file="").first()
    if notice is None:
        raise Http404
    response = defence_file_response(notice)
    services.breach_defence_download(actor=request.actor, notice=notice)
    return response


@staff_required(MANAGE)
@require_POST
def pledge_accept_late(request, number: str):
    return _settle(
        request,
        number,
        form_class=ReasonForm,
        prefix="late",
        settle=services.pledge_accept_late,
        done=_("Accepted: the pledge is recorded as kept."),
    )


# --- matters ------------------------------------------------------------------------------------


@staff_required(MANAGE)
@require_GET
def matter_staff_list(request):
    return render(
        request, "pledges/staff/matters.html", {"matters": selectors.staff_matter_list(request.actor)}
    )


def _matter_form_page(request, matter, form, formset, status=200):
    return render(
        request,
        "pledges/staff/matter_form.html",
        {
            "matter": matter,
            "form": form,
            "formset": formset,
            "templates": list(matter.templates.order_by("-version")) if matter else [],
            "education": list(matter.education.order_by("order", "id")) if matter else [],
        },
        status=status,
    )


def _save_matter(request, matter):
    form = MatterForm(request.POST)
    formset = MaterialFormSet(request.POST, prefix="materials")

    def save(validate_only: bool):
        try:
            return services.matter_save(
                actor=request.actor,
                matter_id=matter.pk if matter else None,
                data=form.to_input(),
                materials=material_inputs(formset),
                validate_only=validate_only,
            )
        except ValidationError as exc:
            # The materials' errors go on their rows, the rest on the matter's form.
            rows = material_error_keys(formset)
            rest = {}
            for key, errors in exc.message_dict.items():
                if key.startswith("materials."):
                    _prefix, index, field = key.split(".", 2)
                    add_service_errors(formset.forms[rows.get(int(index), 0)], {field: errors})
                else:
                    rest[key] = errors
            raise ValidationError(rest) from None

    outcome = submit(form, save, also_valid=[formset])
    if outcome.ok:
        messages.success(request, _("Matter saved."))
        return redirect("staff:matter_edit", pk=outcome.result.pk)
    return _matter_form_page(request, matter, form, formset, status=400)


@staff_required(MANAGE)
@require_http_methods(["GET", "POST"])
def matter_create(request):
    if request.method == "POST":
        return _save_matter(request, None)
    form = MatterForm(
        initial={"pledge_allowed": True, "is_published": True, "materials_due_days": 20, "statutory_days": 20}
    )
    return _matter_form_page(request, None, form, MaterialFormSet(prefix="materials"))


@staff_required(MANAGE)
@require_http_methods(["GET", "POST"])
def matter_edit(request, pk: int):
    matter = access.matter_for_staff(request.actor, pk)
    if request.method == "POST":
        return _save_matter(request, matter)
    initial = [
        {"id": m.pk, "name_zh": m.name_zh, "name_en": m.name_en, "pledge_may_replace": m.pledge_may_replace}
        for m in matter.materials.order_by("order", "id")
    ]
    return _matter_form_page(
        request,
        matter,
        MatterForm(initial=MatterForm.initial_for(matter)),
        MaterialFormSet(prefix="materials", initial=initial),
    )


@staff_required(MANAGE)
@require_http_methods(["GET", "POST"])
def matter_template_new(request, pk: int):
    matter = access.matter_for_staff(request.actor, pk)
    current = matter.current_template()
    initial = (
        {k: getattr(current, k) for k in ("text_zh", "text_en", "consequences_zh", "consequences_en")}
        if current
        else {}
    )
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST":
        outcome = submit(
            form,
            lambda validate_only: services.pledge_template_publish(
                actor=request.actor, matter_id=matter.pk, **form.cleaned_data, validate_only=validate_only
            ),
        )
        if outcome.ok:
            messages.success(
                request,
                _("Version %(version)d of the pledge is published.") % {"version": outcome.result.version},
            )
            return redirect("staff:matter_edit", pk=matter.pk)
    return render(
        request,
        "pledges/staff/template_form.html",
        {"matter": matter, "form": form, "current": current},
        status=400 if request.method == "POST" else 200,
    )


@staff_required(MANAGE)
@require_http_methods(["GET", "POST"])
def matter_education(request, pk: int):
    matter = access.matter_for_staff(request.actor, pk)
    item_id = request.POST.get("item") or request.GET.get("item")
    item = None
    if item_id:
        item = (
            matter.education.filter(pk=item_id).first()
            if str(item_id).isascii() and str(item_id).isdigit()
            else None
        )
        if item is None:
            raise Http404
    form = EducationForm(request.POST or None, initial=EducationForm.initial_for(item) if item else None)
    if (
        request.method == "POST"
        and submit(
            form,
            lambda validate_only: services.compliance_material_save(
                actor=request.actor,
                matter_id=matter.pk,
                item_id=item.pk if item else None,
                data=form.to_input(),
                validate_only=validate_only,
            ),
        ).ok
    ):
        messages.success(request, _("Compliance material saved."))
        return redirect("staff:matter_edit", pk=matter.pk)
    return render(
        request,
        "pledges/staff/education_form.html",
        {"matter": matter, "form": form, "item": item},
        status=400 if request.method == "POST" else 200,
    )


# --- the processing-time report -----------------------------------------------------------------


@staff_required(MANAGE)
@require_GET
def pledge_report(request):
    form = ReportForm(request.GET if "start" in request.GET else None, initial=ReportForm.default_initial())
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    elif form.is_bound:
        return render(request, "pledges/staff/report.html", {"form": form, "rows": None}, status=400)
    else:
        start, end = form.initial["start"], form.initial["end"]
    rows = selectors.processing_report(request.actor, start=start, end=end)
    if request.GET.get("format") == "csv":
        return _report_csv(rows, start, end)
    return render(
        request,
        "pledges/staff/report.html",
        {
            "form": form,
            "rows": rows,
            "start": start,
            "end": end,
            "chart": charts.processing_chart(rows, start=start, end=end),
        },
    )


def _median(value) -> str:
    return "" if value is None else f"{value:g}"


def _report_csv(rows, start, end) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="pledge-processing-{start}-{end}.csv"'
    response.write("\ufeff")  # spreadsheet programs need the BOM to read UTF-8 (Chinese names)
    writer = csv.writer(response)
    writer.writerow(
        safe_row(
            [
                _("Department"),
                _("Matter code"),
                _("Matter"),
                _("Median working days with a pledge"),
                _("Applications with a pledge"),
                _("Median working days without a pledge"),
                _("Applications without a pledge"),
            ]
        )
    )
    for r in rows:
        writer.writerow(
            safe_row(
                [
                    r.department_code,
                    r.code,
                    r.name,
                    _median(r.with_median),
                    r.with_count,
                    _median(r.without_median),
                    r.without_count,
                ]
            )
        )
    return response


# --- the remedies a decision serves -------------------------------------------------------------


@staff_required(MANAGE)
@require_http_methods(["GET", "POST"])
def remedy_rules(request):
    """The wording of the remedies and of the restoration notice a confirmed breach serves, by
    the date each takes effect: read by every department deciding breaches, kept by the credit
    office (``calendar:manage``, like the deadline rules)."""
    may_edit = request.actor.can(Cap.CALENDAR_MANAGE)
    form = None
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        form = RemedyRuleForm(request.POST)
        if submit(
            form,
            lambda validate_only: services.remedy_rule_set(
                actor=request.actor, **form.cleaned_data, validate_only=validate_only
            ),
        ).ok:
            messages.success(request, _("The wording is saved: decisions from that day on use it."))
            return redirect("staff:remedy_rules")
        status = 400
    return render(
        request,
        "pledges/staff/remedies.html",
        {
            "rules": RemedyRule.objects.all(),
            "form": (form or RemedyRuleForm()) if may_edit else None,
            "today": timezone.localdate(),
        },
        status=status,
    )
