"""The staff door for file imports of credit records: the jobs, the upload form with the file
templates, a job's progress and report, the rejected rows as CSV."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.sessions import session_passive
from credit_portal.i18n import punctuation
from credit_portal.web.decorators import staff_required
from records.imports import report as import_report
from records.imports import runner, templates
from records.models import CatalogueItem, CreditRecord, ImportJob

PAGE_SIZE = 50
REPORT_PAGE_SIZE = 200


class ImportForm(forms.Form):
    item = forms.ChoiceField(label=gettext_lazy("Catalogue item"))
    file = forms.FileField(
        label=gettext_lazy("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt,text/csv"}),
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [
            ("", "—"),
            *((i.code, f"{i.name}{punctuation('(')}{i.code}{punctuation(')')}") for i in items),
        ]
        self.fields["file"].help_text = _(
            "CSV (UTF-8 or GBK) or XLSX in the column layout of the item's template, at most %(max)s."
        ) % {"max": filesizeformat(runner.max_bytes())}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = runner.max_bytes()
        if upload.size > limit:
            raise ValidationError(
                _(
                    "The file is %(size)s; files of at most %(max)s can be imported. Split it into smaller files."
                )
                % {"size": filesizeformat(upload.size), "max": filesizeformat(limit)}
            )
        return upload


def _job(request, pk: int, *, report: bool = False) -> ImportJob:
    """The job if it is the actor's department's (the credit office: any); else 404."""
    qs = runner.jobs_for(request.actor).select_related("item", "department")
    if not report:
        qs = qs.defer("report")
    return get_object_or_404(qs, pk=pk)


def _finished(job: ImportJob) -> bool:
    return job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)


def _summary(job: ImportJob) -> str:
    if job.status == ImportJob.Status.QUEUED:
        if runner.waits_for_broker(job):
            return _("Accepted: the import will start shortly, as soon as the task queue is reachable again.")
        return _("Waiting for a worker…")
    if job.total_rows is None and job.status == ImportJob.Status.RUNNING:
        return _("Counting the rows…")
    return _(
        "%(processed)s of %(total)s rows processed: %(created)s created, %(unchanged)s unchanged, %(rejected)s rejected."
    ) % {
        "processed": job.processed_rows,
        "total": job.total_rows if job.total_rows is not None else "?",
        "created": job.created_count,
        "unchanged": job.unchanged_count,
        "rejected": job.rejected_count,
    }


@staff_required(Cap.RECORDS_WRITE)
def import_list(request):
    qs = runner.jobs_for(request.actor).select_related("item", "department").defer("report")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/imports/list.html",
        {"page_obj": page, "all_departments": request.actor.can(Cap.ALL_DEPARTMENTS)},
    )


@staff_required(Cap.RECORDS_WRITE)
@require_http_methods(["GET", "POST"])
def import_new(request):
    items = list(runner.importable_items(request.actor))
    form = ImportForm(request.POST or None, request.FILES or None, items=items, initial=request.GET)
    if request.method == "POST" and form.is_valid():
        try:
            job = runner.import_job_create(
                actor=request.actor,
                item_code=form.cleaned_data["item"],
                uploaded_file=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if runner.waits_for_broker(job):
                messages.success(request, _("File uploaded and accepted: its import will start shortly."))
            else:
                messages.success(request, _("File uploaded: its import has been queued."))
            return redirect("staff:import_detail", pk=job.pk)
    return render(
        request,
        "staff/imports/new.html",
        {
            "form": form,
            "items": items,
            "max_size": runner.max_bytes(),
            "review_rule": request.actor.department is not None
            and request.actor.department.clerk_imports_reviewed,
        },
        status=400 if form.errors else 200,
    )


@staff_required(Cap.RECORDS_WRITE)
def import_detail(request, pk: int):
    job = _job(request, pk, report=True)
    page = Paginator(import_report.problems(job), REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/imports/detail.html",
        {
            "job": job,
            "finished": _finished(job),
            "summary": _summary(job),
            "warnings": import_report.warnings(job),
            "failure": import_report.failure(job),
            "page_obj": page,
            "unlisted": max(0, job.rejected_count - import_report.listed_rows(job)),
            "drafts": job.records.filter(status=CreditRecord.Status.DRAFT).count() if _finished(job) else 0,
            "can_confirm_drafts": request.actor.can(Cap.RECORDS_CONFIRM),
        },
    )


@session_passive  # the import page polls it: not activity that keeps a staff session alive
@staff_required(Cap.RECORDS_WRITE)
def import_status(request, pk: int):
    job = _job(request, pk)
    response = JsonResponse(
        {
            "id": job.pk,
            "status": job.status,
            "status_label": job.get_status_display(),
            "finished": _finished(job),
            "percent": job.percent,
            "total_rows": job.total_rows,
            "processed_rows": job.processed_rows,
            "created": job.created_count,
            "unchanged": job.unchanged_count,
            "rejected": job.rejected_count,
            "summary": _summary(job),
            # The report is read (the failure in the reader's language) only once the import failed.
            "failure": import_report.failure(job) if job.status == ImportJob.Status.FAILED else "",
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_required(Cap.RECORDS_WRITE)
def import_rejected_csv(request, pk: int):
    job = _job(request, pk, report=True)
    if not _finished(job):
        raise Http404
    response = StreamingHttpResponse(
        templates.rejected_rows_csv(job, get_language()), content_type=templates.CSV_CONTENT_TYPE
    )
    stem = job.original_name.rsplit(".", 1)[0]
    response["Content-Disposition"] = content_disposition_header(True, f"{stem}-rejected-{job.pk}.csv")
    response["Cache-Control"] = "no-store"
    return response


@staff_required(Cap.RECORDS_WRITE)
def import_template(request, item_code: str, fmt: str):
    item = CatalogueItem.objects.filter(code=item_code, is_active=True).first()
    if item is None:
        raise Http404
    if fmt == "xlsx":
        content, content_type = templates.template_xlsx(item), templates.XLSX_CONTENT_TYPE
    else:
        content, content_type = templates.template_csv(item), templates.CSV_CONTENT_TYPE
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{item.name_zh}-{item.code}.{fmt}")
    return response
