"""Objections and complaints through the three web doors.

Public: object to a published record as a person, report a complaint or tip-off, follow either by
its reference. The public forms are rate-limited per client address (``credit_portal.ratelimit``,
counters in Redis), without a captcha, and sent once per one-time key
(``credit_portal.idempotency``): a POST redirects (303) to a result page that only the sending
session sees. Businesses (``/my/``): the entities' records, objecting to them, the objections made
and their answers. Staff: the department's queues and the answer forms."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credit_portal import ratelimit
from credit_portal.accounts.actors import PUBLIC, Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.idempotency import forms as once
from credit_portal.idempotency.services import submission_result, submit_once
from credit_portal.web.decorators import entity_user_required, staff_required
from credit_portal.web.registry import DashboardPanel, NavItem, dashboard_panels, staff_nav
from credit_portal.web.rendering import required_if
from credit_portal.web.submission import submit
from credit_portal.workdays import services as workdays
from records import selectors
from records.fields import public_fields
from records.models import Complaint, CreditRecord, Objection, Severity
from records.services import complaints as complaint_services
from records.services import objections as objection_services
from records.visibility import without_identity

PAGE_SIZE = 50

# The forms' names for their one-time submission keys (``credit_portal.idempotency``).
PUBLIC_OBJECTION = "public.objection"
PUBLIC_COMPLAINT = "public.complaint"
MY_OBJECTION = "my.objection"

# --- rate limiting of the public forms ----------------------------------------------------------

RATE_WINDOW_SECONDS = 3600
RATE_LIMITS = {"objection": 10, "complaint": 10, "track": 30}


def over_limit(request, bucket: str) -> bool:
    """Count one attempt of the client (its address) in ``bucket``; True beyond the hourly limit."""
    key = f"feedback-{bucket}:{ratelimit.client_ip(request)}"
    return not ratelimit.allow(key, limit=RATE_LIMITS[bucket], window=RATE_WINDOW_SECONDS)


def _too_many(request, form: forms.Form, template: str, context: dict, *, lookups: bool = False):
    form.add_error(
        None,
        _("Too many look-ups from your network in the last hour. Please try again later.")
        if lookups
        else _("Too many submissions from your network in the last hour. Please try again later."),
    )
    response = render(request, template, {**context, "form": form}, status=429)
    response["Retry-After"] = str(RATE_WINDOW_SECONDS)
    return response


def _already_decided(request, exc: ValidationError, url_name: str, pk: int):
    """The object was answered meanwhile (its form is no longer shown): say so on its page."""
    messages.error(request, " ".join(exc.message_dict["status"]))
    return redirect(url_name, pk=pk)


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


# --- forms --------------------------------------------------------------------------------------


def _textarea(rows: int = 5):
    return forms.Textarea(attrs={"rows": rows})


class PublicObjectionForm(forms.Form):
    submission_key = once.SubmissionKeyField(PUBLIC_OBJECTION)
    record = forms.IntegerField(
        label=gettext_lazy("Record number"),
        min_value=1,
        help_text=gettext_lazy("The number of the published record you object to."),
    )
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=100)
    id_number = forms.CharField(
        label=gettext_lazy("Your resident identity number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy(
            "Never stored in clear: only a form that cannot be read back, and a masked copy."
        ),
    )
    contact = forms.CharField(
        label=gettext_lazy("Phone number or email address"),
        max_length=254,
        help_text=gettext_lazy("Stored encrypted, for the department to reach you if needed."),
    )
    grounds = forms.CharField(
        label=gettext_lazy("Grounds"),
        max_length=4000,
        widget=_textarea(6),
        help_text=gettext_lazy("What is wrong in the record, and why."),
    )


class MyObjectionForm(forms.Form):
    submission_key = once.SubmissionKeyField(MY_OBJECTION)
    grounds = forms.CharField(
        label=gettext_lazy("Grounds"),
        max_length=4000,
        widget=_textarea(6),
        help_text=gettext_lazy("What is wrong in the record, and why. The recording department answers."),
    )


class TrackForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Reference"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class ObjectionAnswerForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("upheld", gettext_lazy("Uphold: the record is wrong")),
            ("rejected", gettext_lazy("Reject: the record stands")),
        ],
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(
        label=gettext_lazy("Answer to the objector"),
        max_length=4000,
        widget=_textarea(5),
        help_text=gettext_lazy(
            "The objector reads it; for a correction it is also the reason kept with the new version."
        ),
    )
    outcome = required_if(
        forms.ChoiceField(
            label=gettext_lazy("When upheld"),
            choices=[
                ("correct", gettext_lazy("Correct the record with the values below")),
                ("revoke", gettext_lazy("Revoke the record: it leaves public view")),
            ],
            widget=forms.RadioSelect,
            required=False,
        ),
        gettext_lazy("Required when the objection is upheld."),
    )
    party_name = forms.CharField(label=gettext_lazy("Party name"), max_length=200, required=False)
    decision_date = forms.DateField(
        label=gettext_lazy("Decision date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    severity = forms.ChoiceField(
        label=gettext_lazy("Severity"), choices=[("", "—"), *Severity.choices], required=False
    )
    legal_basis = forms.CharField(
        label=gettext_lazy("Legal basis"), max_length=2000, required=False, widget=_textarea(2)
    )
    content = forms.CharField(
        label=gettext_lazy("Content"), max_length=4000, required=False, widget=_textarea(3)
    )

    CORRECTED = ("party_name", "decision_date", "severity", "legal_basis", "content")

    @classmethod
    def initial_for(cls, record: CreditRecord) -> dict:
        return {name: getattr(record, name) for name in cls.CORRECTED}


class ComplaintForm(forms.Form):
    submission_key = once.SubmissionKeyField(PUBLIC_COMPLAINT)
    kind = forms.ChoiceField(
        label=gettext_lazy("What are you reporting?"),
        choices=Complaint.Kind.choices,
        widget=forms.RadioSelect,
    )
    entity_name = forms.CharField(label=gettext_lazy("Name of the business or organisation"), max_length=200)
    code = forms.CharField(
        label=gettext_lazy("Its unified social credit code"),
        max_length=40,
        required=False,
        help_text=gettext_lazy(
            "Optional. When the entity is registered here, the department that registered it handles "
            "your report."
        ),
    )
    department = required_if(
        forms.ChoiceField(label=gettext_lazy("Department to handle it"), required=False),
        gettext_lazy("Required when you give no code, or no registered entity has it."),
    )
    description = forms.CharField(
        label=gettext_lazy("What happened"),
        max_length=5000,
        widget=_textarea(8),
        help_text=gettext_lazy(
            "When and where, and what you saw. The department reads it; the tracking page never shows it."
        ),
    )
    submitter_name = forms.CharField(
        label=gettext_lazy("Your name (optional)"), max_length=100, required=False
    )
    contact = forms.CharField(
        label=gettext_lazy("Phone number or email address (optional)"),
        max_length=254,
        required=False,
        help_text=gettext_lazy("Stored encrypted. Leave your name and contact empty to report anonymously."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", "—")] + [
            (d.code, d.name) for d in selectors.active_departments()
        ]


class ComplaintAnswerForm(forms.Form):
    answer = forms.CharField(
        label=gettext_lazy("Answer"),
        max_length=5000,
        widget=_textarea(6),
        help_text=gettext_lazy(
            "Shown on the tracking page and to the hotline system that sent the complaint."
        ),
    )


class ComplaintTransferForm(forms.Form):
    department = forms.ChoiceField(label=gettext_lazy("Transfer to"))
    reason = forms.CharField(
        label=gettext_lazy("Reason for the transfer"), max_length=2000, widget=_textarea(3)
    )

    def __init__(self, *args, current_department_id: int | None = None, **kwargs):
        super().__init__(*args, prefix="transfer", **kwargs)
        self.fields["department"].choices = [("", "—")] + [
            (d.code, d.name) for d in selectors.active_departments().exclude(pk=current_department_id)
        ]


# --- public: objections -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def objection_create(request):
    """A person affected by a published record objects to it. Sent once per one-time key: the
    POST redirects (303) to the result page, and the same key sent again shows that page."""
    if request.method == "GET":
        record = None
        if request.GET.get("record"):
            record = selectors.public_record(request.GET["record"])
            if record is None:
                raise Http404
        form = PublicObjectionForm(initial={"record": record.pk if record else None})
        return _no_store(
            render(request, "public/objections/new.html", _public_objection_context(form, record))
        )

    form = PublicObjectionForm(request.POST)
    key = once.posted_key(form)
    if key is not None and submission_result(key) is not None:
        return _received(request, key, "public:objection_received")
    record = selectors.public_record(request.POST.get("record"))
    context = _public_objection_context(form, record)
    if over_limit(request, "objection"):
        return _no_store(_too_many(request, form, "public/objections/new.html", context))
    if key is None:
        once.renew(form)

    def objection(validate_only: bool):
        data = once.cleaned(form)

        def file():
            return objection_services.objection_submit(
                actor=PUBLIC,
                record_id=data["record"],
                **{k: data[k] for k in ("name", "id_number", "contact", "grounds")},
                validate_only=validate_only,
            )

        return file() if validate_only else submit_once(key=key, file=lambda: file().pk)

    if submit(form, objection).ok:
        return _received(request, key, "public:objection_received")
    return _no_store(render(request, "public/objections/new.html", context))


def _received(request, key, url_name: str):
    """After a submission (or the same key sent again): this session may see its result page."""
    once.remember(request, key)
    return once.see_other(reverse(url_name))


@require_GET
def objection_received(request):
    """The result of this session's objection: its reference, status and due date. Reloading it
    files nothing; another session sees nothing here."""
    objection = selectors.objection_received(once.remembered(request, PUBLIC_OBJECTION))
    if objection is None:
        return redirect("public:objection_track")
    return _no_store(render(request, "public/objections/submitted.html", {"objection": objection}))


def _public_objection_context(form, record: CreditRecord | None) -> dict:
    return {
        "form": form,
        "record": record,
        # A public page: the record's fields without identity numbers, as on its public page.
        "structured": public_fields(record.item, without_identity(record.item, record.fields))
        if record
        else [],
        "objectable": record is not None and record.status in selectors.OBJECTABLE,
    }


@require_http_methods(["GET", "POST"])
def objection_track(request):
    """Follow an objection by its reference: its status, due date and answer, nothing else."""
    form = TrackForm(request.POST or None)
    objection = None
    if request.method == "POST":
        if over_limit(request, "track"):
            return _no_store(_too_many(request, form, "public/objections/track.html", {}, lookups=True))
        if form.is_valid():
            objection = selectors.objection_by_reference(form.cleaned_data["reference"])
            if objection is None:
                form.add_error("reference", _("No objection has this reference. Check it and try again."))
    return _no_store(render(request, "public/objections/track.html", {"form": form, "objection": objection}))


# --- public: complaints -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def complaint_create(request):
    """A complaint or tip-off from the public. Sent once per one-time key: the POST redirects
    (303) to the result page, and the same key sent again shows that page."""
    form = ComplaintForm(request.POST or None)
    if request.method == "POST":
        key = once.posted_key(form)
        if key is not None and submission_result(key) is not None:
            return _received(request, key, "public:complaint_received")
        if over_limit(request, "complaint"):
            return _no_store(_too_many(request, form, "public/complaints/new.html", {}))
        if key is None:
            once.renew(form)

        def complaint(validate_only: bool):
            data = once.cleaned(form)

            def file():
                return complaint_services.complaint_submit(actor=PUBLIC, **data, validate_only=validate_only)

            return file() if validate_only else submit_once(key=key, file=lambda: file()[0].pk)

        if submit(form, complaint).ok:
            return _received(request, key, "public:complaint_received")
    return _no_store(render(request, "public/complaints/new.html", {"form": form}))


@require_GET
def complaint_received(request):
    """The result of this session's complaint: its tracking number, department and due date.
    Reloading it files nothing; another session sees nothing here."""
    complaint = selectors.complaint_received(once.remembered(request, PUBLIC_COMPLAINT))
    if complaint is None:
        return redirect("public:complaint_track")
    return _no_store(render(request, "public/complaints/submitted.html", {"complaint": complaint}))


@require_http_methods(["GET", "POST"])
def complaint_track(request):
    """Follow a complaint: kind, status, dates, department and answer; never its content or the
    submitter's details."""
    form = TrackForm(request.POST or None)
    form.fields["reference"].label = _("Tracking number")
    complaint = None
    if request.method == "POST":
        if over_limit(request, "track"):
            return _no_store(_too_many(request, form, "public/complaints/track.html", {}, lookups=True))
        if form.is_valid():
            complaint = selectors.complaint_by_tracking_number(form.cleaned_data["reference"])
            if complaint is None:
                form.add_error(
                    "reference", _("No complaint has this tracking number. Check it and try again.")
                )
    return _no_store(render(request, "public/complaints/track.html", {"form": form, "complaint": complaint}))


# --- my: the entity's records and objections ----------------------------------------------------


@entity_user_required
@require_GET
def my_records(request):
    qs = selectors.member_records(request.actor)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "my/objections/records.html", {"page_obj": page, "objectable": selectors.OBJECTABLE}
    )


@entity_user_required
@require_http_methods(["GET", "POST"])
def my_objection_create(request, record_id: int):
    record = selectors.member_record(request.actor, record_id)
    form = MyObjectionForm(request.POST or None)
    if request.method == "POST":
        key = once.posted_key(form)
        if key is not None and submission_result(key) is not None:  # sent already: its result
            return _objection_sent(request)
        if key is None:
            once.renew(form)

        def objection(validate_only: bool):
            def file():
                return objection_services.objection_submit(
                    actor=request.actor,
                    record_id=record.pk,
                    grounds=form.cleaned_data["grounds"],
                    validate_only=validate_only,
                )

            return file() if validate_only else submit_once(key=key, file=lambda: file().pk)

        if submit(form, objection).ok:
            return _objection_sent(request)
    response = render(
        request,
        "my/objections/new.html",
        {
            "form": form,
            "record": record,
            "structured": public_fields(record.item, record.fields),
            "objectable": record.status in selectors.OBJECTABLE and not record.has_pending_objection,
        },
    )
    return _no_store(response)


def _objection_sent(request):
    """The list of the entity's objections is the result page: the new one is on it."""
    messages.success(
        request, _("Your objection was sent. The recording department answers it by the date shown.")
    )
    return once.see_other(reverse("my:objection_list"))


@entity_user_required
@require_GET
def my_objection_list(request):
    qs = selectors.my_objections(request.actor)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "my/objections/list.html", {"page_obj": page})


@entity_user_required
@require_POST
def my_objection_withdraw(request, pk: int):
    try:
        objection_services.objection_withdraw(actor=request.actor, objection_id=pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Objection withdrawn; the record is as it was."))
    return redirect("my:objection_list")


# --- staff: objections --------------------------------------------------------------------------


def _status_filter(request, choices) -> str:
    status = request.GET.get("status", "")
    return status if status in dict(choices) else ""


@staff_required(Cap.OBJECTIONS_ANSWER)
@require_GET
def staff_objection_list(request):
    status = _status_filter(request, Objection.Status.choices)
    qs = selectors.objections_for_department(request.actor, status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/feedback/objections.html",
        {"page_obj": page, "status": status, "statuses": Objection.Status.choices, **_due_marks()},
    )


def _due_marks() -> dict:
    today = timezone.localdate()
    return {"today": today, "due_soon_by": workdays.add_working_days(today, 1)}


def _objection_page(request, objection: Objection, form=None, revealed: str | None = None, status: int = 200):
    record = objection.record
    pending = objection.status == Objection.Status.PENDING
    if form is None and pending:
        form = ObjectionAnswerForm(initial=ObjectionAnswerForm.initial_for(record))
    return render(
        request,
        "staff/feedback/objection.html",
        {
            "objection": objection,
            "record": record,
            "structured": public_fields(record.item, record.fields),
            "form": form if pending else None,
            "revealed": revealed,
            **_due_marks(),
        },
        status=status,
    )


@staff_required(Cap.OBJECTIONS_ANSWER)
@require_http_methods(["GET", "POST"])
def staff_objection_detail(request, pk: int):
    actor: Actor = request.actor
    objection = selectors.objection_for_staff(actor, pk)
    if request.method == "GET":
        return _objection_page(request, objection)
    form = ObjectionAnswerForm(request.POST)

    def answer(validate_only: bool):
        data = form.cleaned_data
        # Until a decision is chosen, an outcome chosen says what was meant.
        upheld = data["decision"] == "upheld" if data["decision"] else bool(data["outcome"])
        correction = None
        if upheld and data["outcome"] == "correct":
            # A corrected value that did not parse is left as the record has it.
            changes = {name: data[name] for name in ObjectionAnswerForm.CORRECTED if name not in form.errors}
            correction = objection_services.correction_input(objection.record, **changes)
        return objection_services.objection_answer(
            actor=actor,
            objection_id=objection.pk,
            upheld=upheld,
            answer=data["answer"],
            correction=correction,
            revoke=upheld and data["outcome"] == "revoke",
            validate_only=validate_only,
        )

    outcome = submit(form, answer)
    if outcome.ok:
        messages.success(request, _("Objection answered."))
        return redirect("staff:objection_list")
    if outcome.refused("status"):
        return _already_decided(request, outcome.refusal, "staff:objection_detail", objection.pk)
    return _objection_page(request, objection, form=form)


@staff_required(Cap.OBJECTIONS_ANSWER)
@require_POST
def staff_objection_contact(request, pk: int):
    objection = selectors.objection_for_staff(request.actor, pk)
    number = objection_services.objection_contact_reveal(actor=request.actor, objection_id=objection.pk)
    return _no_store(_objection_page(request, objection, revealed=number))


# --- staff: complaints --------------------------------------------------------------------------


@staff_required(Cap.COMPLAINTS_HANDLE)
@require_GET
def staff_complaint_list(request):
    status = _status_filter(request, Complaint.Status.choices)
    qs = selectors.complaints_for_department(request.actor, status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/feedback/complaints.html",
        {"page_obj": page, "status": status, "statuses": Complaint.Status.choices, **_due_marks()},
    )


def _complaint_page(request, complaint: Complaint, *, answer_form=None, transfer_form=None, revealed=None):
    open_ = complaint.status == Complaint.Status.RECEIVED
    if open_:
        answer_form = answer_form or ComplaintAnswerForm()
        transfer_form = transfer_form or ComplaintTransferForm(current_department_id=complaint.department_id)
    return render(
        request,
        "staff/feedback/complaint.html",
        {
            "complaint": complaint,
            "answer_form": answer_form if open_ else None,
            "transfer_form": transfer_form if open_ else None,
            "revealed": revealed,
            **_due_marks(),
        },
    )


@staff_required(Cap.COMPLAINTS_HANDLE)
@require_http_methods(["GET", "POST"])
def staff_complaint_detail(request, pk: int):
    complaint = selectors.complaint_for_staff(request.actor, pk)
    if request.method == "GET":
        return _complaint_page(request, complaint)
    form = ComplaintAnswerForm(request.POST)
    outcome = submit(
        form,
        lambda validate_only: complaint_services.complaint_answer(
            actor=request.actor,
            complaint_id=complaint.pk,
            answer=form.cleaned_data["answer"],
            validate_only=validate_only,
        ),
    )
    if outcome.ok:
        messages.success(request, _("Complaint answered."))
        return redirect("staff:complaint_list")
    if outcome.refused("status"):
        return _already_decided(request, outcome.refusal, "staff:complaint_detail", complaint.pk)
    return _complaint_page(request, complaint, answer_form=form)


@staff_required(Cap.COMPLAINTS_HANDLE)
@require_POST
def staff_complaint_transfer(request, pk: int):
    complaint = selectors.complaint_for_staff(request.actor, pk)
    form = ComplaintTransferForm(request.POST, current_department_id=complaint.department_id)
    outcome = submit(
        form,
        lambda validate_only: complaint_services.complaint_transfer(
            actor=request.actor,
            complaint_id=complaint.pk,
            department=form.cleaned_data["department"],
            reason=form.cleaned_data["reason"],
            validate_only=validate_only,
        ),
    )
    if outcome.ok:
        messages.success(request, _("Complaint transferred."))
        return redirect("staff:complaint_list")
    if outcome.refused("status"):
        return _already_decided(request, outcome.refusal, "staff:complaint_detail", complaint.pk)
    return _complaint_page(request, complaint, transfer_form=form)


@staff_required(Cap.COMPLAINTS_HANDLE)
@require_POST
def staff_complaint_contact(request, pk: int):
    complaint = selectors.complaint_for_staff(request.actor, pk)
    contact = complaint_services.complaint_contact_reveal(actor=request.actor, complaint_id=complaint.pk)
    return _no_store(_complaint_page(request, complaint, revealed=contact))


# --- the staff navigation and dashboard ---------------------------------------------------------


def _objections_panel(actor: Actor) -> dict:
    pending = selectors.objections_for_department(actor, status=Objection.Status.PENDING)
    return {
        "pending": pending.count(),
        "overdue": pending.filter(answer_due_on__lt=timezone.localdate()).count(),
    }


def _complaints_panel(actor: Actor) -> dict:
    open_ = selectors.complaints_for_department(actor, status=Complaint.Status.RECEIVED)
    return {"open": open_.count(), "overdue": open_.filter(answer_due_on__lt=timezone.localdate()).count()}


staff_nav.add(NavItem(gettext_lazy("Objections"), "staff:objection_list", Cap.OBJECTIONS_ANSWER, order=30))
staff_nav.add(
    NavItem(gettext_lazy("Complaints and tip-offs"), "staff:complaint_list", Cap.COMPLAINTS_HANDLE, order=35)
)
dashboard_panels.add(
    DashboardPanel("staff/feedback/panel_objections.html", _objections_panel, Cap.OBJECTIONS_ANSWER, order=30)
)
dashboard_panels.add(
    DashboardPanel("staff/feedback/panel_complaints.html", _complaints_panel, Cap.COMPLAINTS_HANDLE, order=35)
)
