"""The self-service door (``/my/``): applying for a matter with or without a pledge, reading and
acknowledging the compliance material, supplying materials that follow, the printable pledge,
voluntary public pledges, and an association's registration of its members' pledges."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credit_portal.web.decorators import entity_user_required
from credit_portal.web.submission import submit
from pledges import access, files, selectors, services
from pledges.forms import (
    AcknowledgeForm,
    ApplicationForm,
    AssociationPledgeForm,
    DefenceForm,
    MaterialUploadForm,
    PledgeSignForm,
    PublicPledgeForm,
)
from pledges.models import BreachNotice, EducationAcknowledgement, MaterialSubmission, Pledge

RECENT = 50


@entity_user_required
@require_GET
def pledge_my_home(request):
    actor = request.actor
    return render(
        request,
        "pledges/my/home.html",
        {
            "entities": selectors.entity_choices(actor),
            "applications": selectors.my_application_list(actor)[:RECENT],
            "pledges": selectors.my_pledge_list(actor)[:RECENT],
            "associations": list(access.my_associations(actor)),
        },
    )


@entity_user_required
@require_GET
def application_choose(request):
    return render(request, "pledges/my/choose.html", {"matters": selectors.published_matters()})


def _chosen_entity(request, entities):
    """The entity the page is for: the one named in the request, or the only one."""
    code = (request.POST.get("entity") or request.GET.get("entity") or "").strip().upper()
    if not code and len(entities) == 1:
        return entities[0]
    return next((e for e in entities if e.code == code), None)


def _application_page(request, matter, entity, entities, form, status=200):
    acknowledged = (
        entity is not None
        and EducationAcknowledgement.objects.filter(matter=matter, entity=entity, user=request.user).exists()
    )
    return render(
        request,
        "pledges/my/apply.html",
        {
            "matter": matter,
            "template": matter.template,
            "entity": entity,
            "entities": entities,
            "form": form,
            "acknowledged": acknowledged,
        },
        status=status,
    )


@entity_user_required
@require_http_methods(["GET", "POST"])
def application_create(request, department: str, code: str):
    matter = selectors.published_matter(department, code)
    entities = selectors.entity_choices(request.actor)
    entity = _chosen_entity(request, entities)
    materials = list(matter.materials.all())
    form_kwargs = {"matter": matter, "materials": materials, "template": matter.template}
    if request.method == "GET" or entity is None:
        if request.method == "POST":
            raise Http404  # an entity the user does not act for
        form = ApplicationForm(initial={"entity": entity.code if entity else ""}, **form_kwargs)
        return _application_page(request, matter, entity, entities, form)
    form = ApplicationForm(request.POST, request.FILES, **form_kwargs)
    outcome = submit(
        form,
        lambda validate_only: services.application_submit(
            actor=request.actor,
            matter_id=matter.pk,
            entity_code=entity.code,
            uploads=form.uploads(),
            missing=form.missing(),
            pledge=form.signing(),
            submission_key=form.cleaned_data.get("submission"),
            validate_only=validate_only,
        ),
        aliases=form.aliases,
    )
    if outcome.ok:
        messages.success(request, _status_message(outcome.result))
        return redirect("my:application_my_detail", number=outcome.result.number)
    return _application_page(request, matter, entity, entities, form, status=400)


def _status_message(application) -> str:
    status = application.status
    if status == application.Status.ACCEPTED:
        return _("Accepted on the spot on the strength of your pledge.")
    if status == application.Status.ACCEPTED_PENDING_MATERIALS:
        return _("Accepted with materials to follow: supply them by the date shown, as you pledged.")
    return _("Submitted: the department reviews your application.")


@entity_user_required
@require_POST
def matter_acknowledge(request, department: str, code: str):
    matter = selectors.published_matter(department, code)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        raise Http404
    services.education_acknowledge(
        actor=request.actor, matter_id=matter.pk, entity_code=form.cleaned_data["entity"]
    )
    messages.success(request, _("Recorded that you have read the compliance material. Thank you."))
    url = reverse("my:application_create", args=[matter.department.code, matter.code])
    return redirect(f"{url}?{urlencode({'entity': form.cleaned_data['entity'].upper()})}")


def _application_detail(request, application, upload_form=None, status=200):
    pledge = Pledge.objects.filter(application=application).select_related("template").first()
    submissions = list(MaterialSubmission.objects.filter(application=application).select_related("material"))
    supplied = {s.material_id for s in submissions}
    following = [m for m in application.missing_materials.order_by("order", "id") if m.pk not in supplied]
    can_upload = (
        following
        and application.status not in (application.Status.REJECTED, application.Status.WITHDRAWN)
        and not (pledge is not None and pledge.status == Pledge.Status.BROKEN)
    )
    template = application.matter.current_template()
    return render(
        request,
        "pledges/my/application.html",
        {
            "application": application,
            "pledge": pledge,
            "submissions": submissions,
            "following": following,
            "can_upload": can_upload,
            "upload_form": upload_form,
            "permit_record": application.permit_record,
            "can_sign": pledge is None
            and application.status == application.Status.SUBMITTED
            and application.matter.pledge_allowed
            and template is not None,
        },
        status=status,
    )


@entity_user_required
@require_GET
def application_my_detail(request, number: str):
    return _application_detail(request, access.application_for_member(request.actor, number))


@entity_user_required
@require_POST
def application_material_upload(request, number: str):
    application = access.application_for_member(request.actor, number)
    form = MaterialUploadForm(request.POST, request.FILES)
    if submit(
        form,
        lambda validate_only: services.material_supply(
            actor=request.actor,
            number=application.number,
            material_id=form.cleaned_data["material"],
            upload=form.cleaned_data.get("file"),
            validate_only=validate_only,
        ),
        aliases={"material": "file"},
    ).ok:
        messages.success(request, _("Material received."))
        return redirect("my:application_my_detail", number=application.number)
    application.refresh_from_db()
    return _application_detail(request, application, upload_form=form, status=400)


@entity_user_required
@require_http_methods(["GET", "POST"])
def application_pledge_sign(request, number: str):
    application = access.application_for_member(request.actor, number)
    template = application.matter.current_template()
    form = PledgeSignForm(
        request.POST or None, initial={"template_version": template.version if template else ""}
    )
    if (
        request.method == "POST"
        and submit(
            form,
            lambda validate_only: services.application_pledge_sign(
                actor=request.actor,
                number=application.number,
                signing=form.signing(),
                validate_only=validate_only,
            ),
            aliases={"pledge": None},
        ).ok
    ):
        messages.success(request, _("Pledge signed: your application is accepted on the spot."))
        return redirect("my:application_my_detail", number=application.number)
    return render(
        request,
        "pledges/my/sign.html",
        {"application": application, "template": template, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def material_file_response(submission: MaterialSubmission) -> FileResponse:
    try:
        handle = submission.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=submission.original_name,
        content_type=files.content_type_of(submission.file.name),
    )
    response["Cache-Control"] = "private, no-store"
    return response


@entity_user_required
@require_GET
def application_my_material(request, number: str, submission_id: int):
    application = access.application_for_member(request.actor, number)
    submission = MaterialSubmission.objects.filter(application=application, pk=submission_id).first()
    if submission is None:
        raise Http404
    response = material_file_response(submission)
    services.material_download(actor=request.actor, submission=submission)
    return response


def defence_file_response(notice: BreachNotice) -> FileResponse:
    try:
        handle = notice.defence_file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=notice.defence_file_name or "defence",
        content_type=files.content_type_of(notice.defence_file.name),
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _pledge_detail(request, pledge, defence_form=None, status=200):
    notices = selectors.breach_notices(pledge)
    current = notices[0] if notices and notices[0].is_open else None
    today = timezone.localdate()
    can_answer = current is not None and current.answered_at is None and current.defence_window_open(today)
    return render(
        request,
        "pledges/my/pledge.html",
        {
            "pledge": pledge,
            "notices": notices,
            "current_notice": current,
            "today": today,
            # A form sent back with errors is shown even when the window closed meanwhile, so
            # that the error saying so is read where the statement was typed.
            "defence_form": defence_form
            if defence_form is not None
            else (DefenceForm() if can_answer else None),
        },
        status=status,
    )


@entity_user_required
@require_GET
def pledge_my_detail(request, number: str):
    return _pledge_detail(request, access.pledge_for_member(request.actor, number))


@entity_user_required
@require_POST
def pledge_breach_answer(request, number: str):
    pledge = access.pledge_for_member(request.actor, number)
    form = DefenceForm(request.POST, request.FILES)
    outcome = submit(
        form,
        lambda validate_only: services.pledge_breach_answer(
            actor=request.actor,
            number=pledge.number,
            defence=form.cleaned_data["defence"],
            upload=form.cleaned_data.get("file"),
            validate_only=validate_only,
        ),
    )
    if outcome.ok:
        messages.success(request, _("Your defence was received. The department weighs it before it decides."))
        return redirect("my:pledge_my_detail", number=pledge.number)
    if outcome.refused("status"):
        messages.error(request, " ".join(outcome.refused("status")))
        return redirect("my:pledge_my_detail", number=pledge.number)
    pledge.refresh_from_db()
    return _pledge_detail(request, pledge, defence_form=form, status=400)


@entity_user_required
@require_GET
def pledge_my_defence_file(request, number: str, notice_id: int):
    pledge = access.pledge_for_member(request.actor, number)
    notice = BreachNotice.objects.filter(pledge=pledge, pk=notice_id).exclude(defence_file="").first()
    if notice is None:
        raise Http404
    response = defence_file_response(notice)
    services.breach_defence_download(actor=request.actor, notice=notice)
    return response


@entity_user_required
@require_http_methods(["GET", "POST"])
def pledge_public_create(request):
    entities = selectors.entity_choices(request.actor)
    form = PublicPledgeForm(request.POST or None, entities=entities)
    if request.method == "POST":
        outcome = submit(
            form,
            lambda validate_only: services.public_pledge_publish(
                actor=request.actor,
                entity_code=form.cleaned_data["entity"],
                text=form.cleaned_data["text"],
                valid_until=form.cleaned_data.get("valid_until"),
                signature=form.signature(),
                validate_only=validate_only,
            ),
        )
        if outcome.ok:
            messages.success(request, _("Your pledge is published."))
            return redirect("my:pledge_my_detail", number=outcome.result.number)
    return render(
        request,
        "pledges/my/public_new.html",
        {"form": form, "entities": entities},
        status=400 if request.method == "POST" else 200,
    )


@entity_user_required
@require_http_methods(["GET", "POST"])
def association_pledge_create(request):
    associations = list(access.my_associations(request.actor))
    if not associations:
        raise Http404
    chosen = request.POST.get("association") or request.GET.get("association")
    association = next((a for a in associations if str(a.pk) == str(chosen)), associations[0])
    members = list(association.members.order_by("code"))
    form = AssociationPledgeForm(
        request.POST or None, members=members, initial={"text": association.pledge_system_zh}
    )
    if request.method == "POST":
        outcome = submit(
            form,
            lambda validate_only: services.association_pledge_register(
                actor=request.actor,
                association_id=association.pk,
                member_code=form.cleaned_data["member"],
                text=form.cleaned_data["text"],
                valid_until=form.cleaned_data.get("valid_until"),
                signature=form.signature(),
                validate_only=validate_only,
            ),
        )
        if outcome.ok:
            messages.success(request, _("The member's pledge is registered and published."))
            return redirect("public:pledge_public_detail", number=outcome.result.number)
    return render(
        request,
        "pledges/my/association_new.html",
        {"form": form, "association": association, "associations": associations, "members": members},
        status=400 if request.method == "POST" else 200,
    )
