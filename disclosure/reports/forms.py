"""Forms of the report pages. They parse; the services validate (one set of rules for every door)."""

from __future__ import annotations

import io

from django import forms
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext_lazy as _

from credit_portal.i18n import punctuation
from credit_portal.web.forms import NamesSelect
from disclosure.reports import document, numbers


class ReportRequestForm(forms.Form):
    period_from = forms.DateField(
        label=_("Period from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("At most 5 years back. Empty: 3 years before the end of the period."),
    )
    period_to = forms.DateField(
        label=_("Period to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Not in the future. Empty: today."),
    )
    sections = forms.MultipleChoiceField(
        label=_("Sections"),
        choices=document.Section.choices,
        initial=list(document.SECTION_KEYS),
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(
        label=_("Language of the PDF"),
        choices=[("zh-hans", _("Simplified Chinese")), ("en", _("English"))],
        initial="zh-hans",
        help_text=_("The JSON document is bilingual either way."),
    )

    # Service error keys -> form fields.
    FIELD = {"code": "code", "period_from": "period_from", "period_to": "period_to", "sections": "sections"}


class MyReportRequestForm(ReportRequestForm):
    code = forms.ChoiceField(label=_("Entity"), widget=NamesSelect)
    field_order = ["code"]

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [
            (m.entity.code, f"{m.entity.name_zh}{punctuation('(')}{m.entity.code}{punctuation(')')}")
            for m in memberships
        ]


class StaffReportRequestForm(ReportRequestForm):
    code = forms.CharField(label=_("Unified social credit code"), max_length=40)
    field_order = ["code"]


class VerifyForm(forms.Form):
    number = forms.CharField(
        label=_("Report number"),
        max_length=60,
        help_text=_("As printed on the report, e.g. CR20261127K3M9QX2A7B4 (spaces and hyphens are ignored)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_number(self):
        return numbers.normalise(self.cleaned_data["number"])


class DocumentCheckForm(forms.Form):
    document = forms.CharField(
        label=_("The report's JSON document"),
        max_length=2_000_000,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=_(
            "Paste the JSON file downloaded with the report: its fingerprint is compared with the report's."
        ),
    )


class PdfCheckForm(forms.Form):
    pdf = forms.FileField(
        label=_("The report's PDF file"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
        help_text=_(
            "The PDF file as you received it (at most 5 MB). It is compared with the PDF issued under "
            "this number, byte for byte, and not kept."
        ),
    )


class CappedMemoryUploadHandler(FileUploadHandler):
    """Keeps the uploaded files of one request in memory, at most ``max_bytes`` of them in all; a
    file beyond that is skipped (not read further, not kept) and ``too_large`` set. Nothing is
    written to disk, so nothing of an upload outlives its request."""

    def __init__(self, request=None, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0
        self.too_large = False

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file = io.BytesIO()

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.too_large or self.received > self.max_bytes:
            self.too_large = True
            raise SkipFile
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.seek(0)
        return InMemoryUploadedFile(
            file=self.file,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


class ThirdPartyReportForm(forms.Form):
    agency = forms.TypedChoiceField(label=_("Agency"), coerce=int, widget=NamesSelect)
    code = forms.CharField(label=_("Unified social credit code of the entity reported on"), max_length=40)
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    file = forms.FileField(
        label=_("Report (PDF, at most 20 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    issued_on = forms.DateField(label=_("Issued on"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [
            (a.pk, f"{a.entity.name_zh}{punctuation('(')}{a.entity.code}{punctuation(')')}") for a in agencies
        ]


class AgencyForm(forms.Form):
    code = forms.CharField(label=_("Unified social credit code of the agency"), max_length=40)
    licence = forms.CharField(label=_("Filing or licence number"), max_length=100)
