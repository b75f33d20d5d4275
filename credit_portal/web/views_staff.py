"""The staff door's shared pages: sign-in, dashboard, the working-day calendar."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from credit_portal.accounts import services as accounts
from credit_portal.accounts import signin
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import ApiToken
from credit_portal.audit.models import AuditEvent
from credit_portal.web.decorators import no_store, staff_required
from credit_portal.web.forms import (
    AuditFilterForm,
    CalendarDayForm,
    HolidayNoticeForm,
    LoginForm,
    TokenIssueForm,
)
from credit_portal.web.registry import dashboard_panels
from credit_portal.web.submission import submit
from credit_portal.web.views_account import GuardedLoginView
from credit_portal.workdays import services as workdays
from credit_portal.workdays.models import CalendarDay, HolidayNotice


class StaffLoginView(GuardedLoginView):
    template_name = "staff/login.html"
    authentication_form = LoginForm

    def get_default_redirect_url(self):
        return "/staff/"


@staff_required()
def dashboard(request):
    actor = request.actor
    panels = []
    for panel in dashboard_panels.visible_to(actor):
        context = panel.render(actor)
        if context is not None:
            panels.append((panel.template, context))
    today = timezone.localdate()
    return render(
        request,
        "staff/dashboard.html",
        {"panels": panels, "unannounced_years": workdays.unannounced_years(today), "today": today},
    )


@staff_required()
@require_http_methods(["GET", "POST"])
def calendar(request):
    """The working-day calendar: entries overriding the package, and the years whose official
    arrangement is known. Anyone on staff may look; the credit office edits."""
    actor = request.actor
    year = _year(request.GET.get("year"), timezone.localdate().year)
    day_form = CalendarDayForm(prefix="day")
    notice_form = HolidayNoticeForm(prefix="notice", initial={"year": year})
    if request.method == "POST":
        actor.require(Cap.CALENDAR_MANAGE)
        if "day-date" in request.POST:
            day_form = CalendarDayForm(request.POST, prefix="day")
            if submit(
                day_form,
                lambda validate_only: workdays.calendar_day_set(
                    actor=actor,
                    day=day_form.cleaned_data["date"],
                    **_fields(day_form),
                    validate_only=validate_only,
                ),
            ).ok:
                messages.success(request, _("Calendar day saved."))
                return redirect(f"{request.path}?year={day_form.cleaned_data['date'].year}")
        else:
            notice_form = HolidayNoticeForm(request.POST, prefix="notice")
            if notice_form.is_valid():
                workdays.holiday_notice_record(actor=actor, **notice_form.cleaned_data)
                messages.success(request, _("Holiday notice recorded."))
                return redirect(f"{request.path}?year={notice_form.cleaned_data['year']}")
    calendar_ = workdays.get_calendar()
    return render(
        request,
        "staff/calendar.html",
        {
            "year": year,
            "years": range(year - 1, year + 3),
            "days": CalendarDay.objects.filter(date__year=year),
            "notices": HolidayNotice.objects.all(),
            "authoritative": calendar_.is_authoritative(date(year, 1, 1)),
            "package_covers": year in workdays.PACKAGE_YEARS,
            "day_form": day_form,
            "notice_form": notice_form,
            "can_edit": actor.can(Cap.CALENDAR_MANAGE),
        },
    )


@staff_required(Cap.CALENDAR_MANAGE)
@require_POST
def calendar_day_remove(request, day: str):
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        parsed = None
    if parsed is not None:
        workdays.calendar_day_remove(actor=request.actor, day=parsed)
        messages.success(request, _("Calendar entry removed."))
    return redirect(f"/staff/calendar/?year={parsed.year if parsed else ''}")


def _fields(form) -> dict:
    return {k: form.cleaned_data[k] for k in ("kind", "name_zh", "name_en")}


def _year(value: str | None, default: int) -> int:
    try:
        year = int(value or default)
    except ValueError:
        return default
    return year if 2000 <= year <= 2100 else default


# --- API tokens ---------------------------------------------------------------------------------


@staff_required(Cap.TOKENS_MANAGE)
@require_http_methods(["GET", "POST"])
@no_store
def tokens(request):
    """A department administrator issues and revokes the department's agency tokens. The secret
    is shown once, on the page that issued it."""
    actor = request.actor
    form = TokenIssueForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        _token, secret = accounts.token_issue(
            actor=actor,
            department=actor.department,
            scopes=form.cleaned_data["scopes"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data["expires_at"],
        )
        form = TokenIssueForm()
    qs = ApiToken.objects.select_related("department", "created_by")
    if not actor.can(Cap.ALL_DEPARTMENTS):
        qs = qs.filter(department=actor.department)
    return render(request, "staff/tokens.html", {"form": form, "tokens": qs[:200], "secret": secret})


@staff_required(Cap.TOKENS_MANAGE)
@require_POST
def token_revoke(request, pk: int):
    qs = ApiToken.objects.all()
    if not request.actor.can(Cap.ALL_DEPARTMENTS):
        qs = qs.filter(department=request.actor.department)
    accounts.token_revoke(actor=request.actor, token=get_object_or_404(qs, pk=pk))
    messages.success(request, _("Token revoked: it no longer opens the API."))
    return redirect("staff:tokens")


# --- sign-in lockouts ----------------------------------------------------------------------------


@staff_required(Cap.SIGNIN_UNLOCK)
def signin_lockouts(request):
    """The sign-in lockouts in force that the actor may lift: its department's staff accounts for
    a department administrator; every account and address for the credit office."""
    actor = request.actor
    return render(
        request,
        "staff/signin_lockouts.html",
        {"lockouts": signin.lockouts_in_force(actor).order_by("locked_until")[:200]},
    )


@staff_required(Cap.SIGNIN_UNLOCK)
@require_POST
def signin_lockout_lift(request, pk: int):
    lockout = signin.signin_lockout_lift(actor=request.actor, lockout_id=pk)
    messages.success(request, _("Sign-in is open again for %(subject)s.") % {"subject": lockout.subject})
    return redirect("staff:signin_lockouts")


# --- the audit trail ----------------------------------------------------------------------------

AUDIT_PAGE = 50


@staff_required(Cap.AUDIT_READ)
def audit_trail(request):
    """Events by the actor's department (all departments for the credit office), newest first,
    paged by id so that deep pages stay fast on a long trail."""
    actor = request.actor
    form = AuditFilterForm(request.GET or None)
    qs = AuditEvent.objects.all()
    if not actor.can(Cap.ALL_DEPARTMENTS):
        qs = qs.filter(actor_department_id=actor.department_id)
    if form.is_valid():
        if form.cleaned_data["action"]:
            qs = qs.filter(action__startswith=form.cleaned_data["action"])
        if form.cleaned_data["target"]:
            qs = qs.filter(target_id=form.cleaned_data["target"])
        if form.cleaned_data["actor"]:
            qs = qs.filter(actor_label__icontains=form.cleaned_data["actor"])
    before = request.GET.get("before", "")
    if before.isascii() and before.isdigit() and len(before) < 19:
        qs = qs.filter(id__lt=int(before))
    events = list(qs.order_by("-id")[: AUDIT_PAGE + 1])
    more = len(events) > AUDIT_PAGE
    events = events[:AUDIT_PAGE]
    return render(
        request,
        "staff/audit.html",
        {"form": form, "events": events, "next_before": events[-1].pk if more and events else None},
    )
