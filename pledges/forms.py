"""Forms of the pledge doors. They parse; the services validate (a form never saves)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from credit_portal.web.rendering import required_if
from pledges.files import max_bytes
from pledges.models import BreachNotice, Matter, PermitApplication, Pledge, RemedyRule
from pledges.selectors import permit_categories
from pledges.services import (
    BREACH_SEVERITIES,
    PERMIT_KEYS,
    EducationInput,
    MaterialInput,
    MatterInput,
    PermitInput,
    PledgeSigning,
    Signature,
)
from records.models import Severity
from records.services.credit import add_months

ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


def get_language_zh() -> bool:
    return (get_language() or "").startswith("zh")


def _textarea(rows: int = 5):
    return forms.Textarea(attrs={"rows": rows})


class SignatureFields(forms.Form):
    """Signing: the signer's full name typed, and a tick."""

    signer_name = forms.CharField(
        label=_("Your full name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text=_("Type your full name as it is on your account: this is your signature."),
    )
    confirmed = forms.BooleanField(
        label=_("I have read the pledge and what breaking it means, and I sign it for the entity."),
        required=False,
    )

    def signature(self) -> Signature:
        return Signature(
            signer_name=self.cleaned_data.get("signer_name", ""),
            confirmed=bool(self.cleaned_data.get("confirmed")),
        )


# --- /my/: applying -----------------------------------------------------------------------------


class ApplicationForm(SignatureFields):
    """One application for ``matter``: per material a file, or (where a pledge may stand in for it
    and the matter accepts pledges) a tick that it follows; then the optional pledge."""

    entity = forms.CharField(widget=forms.HiddenInput)
    sign = forms.BooleanField(label=_("Sign the pledge with this application"), required=False)
    template_version = forms.CharField(widget=forms.HiddenInput, required=False)
    # Drawn afresh each time the form is shown: the same form sent twice makes one application.
    submission = forms.UUIDField(widget=forms.HiddenInput, required=False)

    field_order = ["entity", "sign", "template_version", "submission", "signer_name", "confirmed"]

    def __init__(self, *args, matter: Matter, materials, template, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["submission"].initial = uuid.uuid4()
        self.matter = matter
        self.materials = list(materials)
        self.template = template
        self.pledge_possible = matter.pledge_allowed and template is not None
        if template is not None:
            self.fields["template_version"].initial = template.version
        if not self.pledge_possible:
            for name in ("sign", "signer_name", "confirmed"):
                del self.fields[name]
        else:
            for name in ("signer_name", "confirmed"):
                required_if(self.fields[name], _("Required to sign the pledge."))
        limit = max_bytes() // (1024 * 1024)
        for material in self.materials:
            self.fields[f"file_{material.pk}"] = forms.FileField(
                label=_("File"),
                required=False,
                widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
                help_text=_("PDF, JPEG or PNG, at most %(mb)d MB.") % {"mb": limit},
            )
            if self.pledge_possible and material.pledge_may_replace:
                required_if(
                    self.fields[f"file_{material.pk}"], _("Required unless it follows under the pledge.")
                )
                self.fields[f"missing_{material.pk}"] = forms.BooleanField(
                    label=_("I cannot supply it now: it follows within the deadline under the pledge"),
                    required=False,
                )

    def material_rows(self):
        """(material, its file field, its "follows" field or None) for the template."""
        return [
            (m, self[f"file_{m.pk}"], self[f"missing_{m.pk}"] if f"missing_{m.pk}" in self.fields else None)
            for m in self.materials
        ]

    def uploads(self) -> dict[int, object]:
        return {m.pk: f for m in self.materials if (f := self.cleaned_data.get(f"file_{m.pk}"))}

    def missing(self) -> list[int]:
        return [m.pk for m in self.materials if self.cleaned_data.get(f"missing_{m.pk}")]

    def signing(self) -> PledgeSigning | None:
        if not self.cleaned_data.get("sign"):
            return None
        return PledgeSigning(
            template_version=self.cleaned_data.get("template_version"), signature=self.signature()
        )

    @property
    def aliases(self) -> dict[str, str]:
        out = {f"material_{m.pk}": f"file_{m.pk}" for m in self.materials}
        out["pledge"] = "sign"
        return out


class PledgeSignForm(SignatureFields):
    template_version = forms.CharField(widget=forms.HiddenInput)

    def signing(self) -> PledgeSigning:
        return PledgeSigning(
            template_version=self.cleaned_data.get("template_version"), signature=self.signature()
        )


class MaterialUploadForm(forms.Form):
    material = forms.IntegerField(widget=forms.HiddenInput)
    file = forms.FileField(
        label=_("File"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text=_("PDF, JPEG or PNG, at most 20 MB."),
    )


class AcknowledgeForm(forms.Form):
    entity = forms.CharField(widget=forms.HiddenInput)


class PublicPledgeForm(SignatureFields):
    entity = forms.ChoiceField(label=_("For the entity"))
    text = forms.CharField(
        label=_("Your pledge"),
        max_length=4000,
        widget=_textarea(8),
        help_text=_("What the entity undertakes, in its own words. It is published as written."),
    )
    valid_until = forms.DateField(
        label=_("Valid until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for a pledge without end."),
    )

    field_order = ["entity", "text", "valid_until", "signer_name", "confirmed"]

    def __init__(self, *args, entities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = [(e.code, f"{e.name} ({e.code})") for e in entities]


class AssociationPledgeForm(SignatureFields):
    member = forms.ChoiceField(label=_("Member"))
    text = forms.CharField(
        label=_("The member's pledge"),
        max_length=4000,
        widget=_textarea(8),
        help_text=_("What the member undertakes under the association's pledge system."),
    )
    valid_until = forms.DateField(
        label=_("Valid until (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    field_order = ["member", "text", "valid_until", "signer_name", "confirmed"]

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [("", "—")] + [(m.code, f"{m.name} ({m.code})") for m in members]


# --- staff --------------------------------------------------------------------------------------


class MatterForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=64,
        help_text=_("Lower-case letters, digits and hyphens, e.g. food-business."),
    )
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    description_zh = forms.CharField(
        label=_("Description (Chinese)"), max_length=4000, required=False, widget=_textarea(4)
    )
    description_en = forms.CharField(
        label=_("Description (English)"), max_length=4000, required=False, widget=_textarea(4)
    )
    pledge_allowed = forms.BooleanField(label=_("A pledge may be used for this matter"), required=False)
    materials_due_days = forms.IntegerField(
        label=_("Working days to supply missing materials"),
        min_value=1,
        max_value=365,
        help_text=_("Counted from acceptance; the day of acceptance is not counted."),
    )
    statutory_days = forms.IntegerField(
        label=_("Statutory time limit (working days)"), min_value=1, max_value=365
    )
    is_published = forms.BooleanField(label=_("Published"), required=False)

    def to_input(self) -> MatterInput:
        return MatterInput(**self.cleaned_data)

    @classmethod
    def initial_for(cls, matter: Matter) -> dict:
        return {name: getattr(matter, name) for name in cls.base_fields}


class MaterialForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name_zh = forms.CharField(label=_("Material (Chinese)"), max_length=200, required=False)
    name_en = forms.CharField(label=_("Material (English)"), max_length=200, required=False)
    pledge_may_replace = forms.BooleanField(label=_("A pledge may stand in for it"), required=False)


MaterialFormSet = formset_factory(MaterialForm, extra=2, can_delete=True, max_num=40, absolute_max=60)


def material_inputs(formset) -> list[MaterialInput]:
    """The rows staff filled in (blank new rows ignored), in order."""
    out = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or (not data.get("id") and not (data.get("name_zh") or data.get("name_en"))):
            continue
        out.append(
            MaterialInput(
                id=data.get("id"),
                name_zh=data.get("name_zh", ""),
                name_en=data.get("name_en", ""),
                pledge_may_replace=bool(data.get("pledge_may_replace")),
                delete=bool(data.get("DELETE")),
            )
        )
    return out


def material_error_keys(formset) -> dict[int, int]:
    """Service row index -> form index (the service sees only the filled rows)."""
    mapping, i = {}, 0
    for index, form in enumerate(formset.forms):
        data = form.cleaned_data
        if not data or (not data.get("id") and not (data.get("name_zh") or data.get("name_en"))):
            continue
        mapping[i] = index
        i += 1
    return mapping


class TemplateForm(forms.Form):
    text_zh = forms.CharField(label=_("Pledge (Chinese)"), max_length=8000, widget=_textarea(8))
    text_en = forms.CharField(
        label=_("Pledge (English)"), max_length=8000, required=False, widget=_textarea(8)
    )
    consequences_zh = forms.CharField(
        label=_("What breaking it means (Chinese)"), max_length=4000, widget=_textarea(5)
    )
    consequences_en = forms.CharField(
        label=_("What breaking it means (English)"), max_length=4000, required=False, widget=_textarea(5)
    )


class EducationForm(forms.Form):
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    body_zh = forms.CharField(label=_("Text (Chinese)"), max_length=20000, widget=_textarea(10))
    body_en = forms.CharField(
        label=_("Text (English)"), max_length=20000, required=False, widget=_textarea(10)
    )
    links = forms.CharField(
        label=_("Links"),
        required=False,
        max_length=10000,
        widget=_textarea(4),
        help_text=_("One per line: title | https://address"),
    )
    checklist_zh = forms.CharField(
        label=_("Checklist (Chinese)"),
        required=False,
        max_length=10000,
        widget=_textarea(5),
        help_text=_("One item per line."),
    )
    checklist_en = forms.CharField(
        label=_("Checklist (English)"),
        required=False,
        max_length=10000,
        widget=_textarea(5),
        help_text=_("One item per line, in the same order as the Chinese."),
    )
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=1000, initial=0)

    def to_input(self) -> EducationInput:
        d = self.cleaned_data
        links = []
        for line in (d.get("links") or "").splitlines():
            if not line.strip():
                continue
            title, bar, url = line.rpartition("|")
            links.append({"title": title.strip() if bar else "", "url": url.strip()})
        zh = [x.strip() for x in (d.get("checklist_zh") or "").splitlines() if x.strip()]
        en = [x.strip() for x in (d.get("checklist_en") or "").splitlines() if x.strip()]
        checklist = [{"zh": z, "en": en[i] if i < len(en) else ""} for i, z in enumerate(zh)]
        checklist += [{"zh": "", "en": e} for e in en[len(zh) :]]
        return EducationInput(
            title_zh=d["title_zh"],
            title_en=d.get("title_en", ""),
            body_zh=d["body_zh"],
            body_en=d.get("body_en", ""),
            links=links,
            checklist=checklist,
            order=d.get("order") or 0,
        )

    @classmethod
    def initial_for(cls, item) -> dict:
        return {
            "title_zh": item.title_zh,
            "title_en": item.title_en,
            "body_zh": item.body_zh,
            "body_en": item.body_en,
            "links": "\n".join(f"{link.get('title', '')} | {link.get('url', '')}" for link in item.links),
            "checklist_zh": "\n".join(c.get("zh", "") for c in item.checklist),
            "checklist_en": "\n".join(c.get("en", "") for c in item.checklist),
            "order": item.order,
        }


class DecisionForm(forms.Form):
    """The decision, and on approval the permit decision as the national permit field standard
    records it (the permit record is written from it). The fields only parse: the service checks
    them all at once, so every error shows in one go."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve: grant the permit")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = required_if(
        forms.CharField(
            label=_("Reasons"),
            max_length=4000,
            required=False,
            widget=_textarea(5),
            help_text=_("The applicant reads them."),
        ),
        _("Required to reject."),
    )
    decision_number = forms.CharField(
        label=_("Number of the permit decision"),
        required=False,
        help_text=_("To approve: the number of the permit decision document, as printed on it."),
    )
    decision_doc_name = forms.CharField(
        label=_("Title of the permit decision"),
        required=False,
        help_text=_(
            "To approve: the name of the decision document, e.g. the food business licence decision."
        ),
    )
    permit_category = forms.CharField(label=_("Permit category"), required=False, widget=forms.Select)
    certificate_name = forms.CharField(
        label=_("Certificate (if one is issued)"),
        required=False,
        help_text=_("e.g. the food business licence."),
    )
    certificate_number = forms.CharField(label=_("Certificate number"), required=False)
    valid_from = forms.CharField(
        label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.CharField(
        label=_("Valid to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    content = forms.CharField(
        label=_("Content of the permit"),
        required=False,
        widget=_textarea(3),
        help_text=_(
            "To approve: what is permitted (scope, premises, conditions). It is disclosed to the public."
        ),
    )

    # What the national permit field standard requires of an approval (the certificate is optional).
    REQUIRED_TO_APPROVE = (
        "decision_number", "decision_doc_name", "permit_category", "valid_from", "valid_to", "content",
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.REQUIRED_TO_APPROVE:
            required_if(self.fields[name], _("Required to approve."))
        self.fields["permit_category"].widget.choices = [("", "—")] + [
            (key, zh if get_language_zh() else en) for key, zh, en in permit_categories()
        ]
        if not self.is_bound:
            self.fields["valid_from"].initial = timezone.localdate().isoformat()

    def permit(self) -> PermitInput | None:
        if self.cleaned_data.get("decision") != "approve":
            return None
        return PermitInput(**{key: self.cleaned_data.get(key, "") for key in PERMIT_KEYS})


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=_textarea(4))


NOT_THROUGH_PORTAL = _("Required when the notice is not served through the portal.")


class BreachForm(forms.Form):
    """The notice of an intended breach finding: the grounds, how serious the breach is intended
    to be (the severity sets how long the negative record would be disclosed and from when the
    entity may seek restoration), the provision relied on, and how the notice was served. The
    service checks what depends on the entity (whether it has users on the portal) and on dates;
    every field reaches it so that all errors are shown at once."""

    reason = forms.CharField(
        label=_("Facts and grounds of the intended finding"),
        max_length=2000,
        widget=_textarea(4),
        help_text=_("The entity reads them in the notice and may answer them."),
    )
    severity = forms.ChoiceField(
        label=_("Intended severity"),
        choices=[(severity.value, severity.label) for severity in BREACH_SEVERITIES],
        initial=Severity.GENERAL,
        help_text=_("It sets how long the record of the breach is disclosed (the disclosure-period rules)."),
    )
    legal_basis = forms.CharField(
        label=_("Provision relied on"),
        max_length=2000,
        required=False,
        widget=_textarea(3),
        help_text=_(
            "The law, regulation or normative document and its article, as cited in Chinese. What the pledge says breaking it means is quoted in the notice on its own line: it is not a legal basis."
        ),
    )
    channel = forms.ChoiceField(
        label=_("How the notice is served"),
        choices=BreachNotice.Channel.choices,
        initial=BreachNotice.Channel.PORTAL,
        widget=forms.RadioSelect,
        help_text=_(
            "Through the portal only when the entity has users there. Otherwise serve it by post, in person or by publication and record the date of service and its reference; the entity's users on the portal, if any, are told as well."
        ),
    )
    served_on = required_if(
        forms.CharField(
            label=_("Date of service"),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}),
            help_text=_(
                "Not through the portal: the day the entity received the notice (the date on the postal receipt, the day it signed for it), or, by publication, the day it is deemed served. The defence window is counted from it."
            ),
        ),
        NOT_THROUGH_PORTAL,
    )
    service_reference = required_if(
        forms.CharField(
            label=_("Reference of the service"),
            max_length=200,
            required=False,
            help_text=_(
                "e.g. the postal receipt number, or where and under which number the announcement was published."
            ),
        ),
        NOT_THROUGH_PORTAL,
    )


class ConfirmBreachForm(forms.Form):
    """The decision on an intended finding: its reasons (answering the entity's defence) and,
    if the defence warrants it, a lower severity."""

    reason = forms.CharField(
        label=_("Reasons of the decision"),
        max_length=2000,
        widget=_textarea(4),
        help_text=_("Say how the entity's defence was weighed (or that it stated none)."),
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        required=False,
        choices=[("", _("As in the notice"))] + [(s.value, s.label) for s in BREACH_SEVERITIES],
        help_text=_("Lower than in the notice if the defence warrants it; never higher."),
    )


class DefenceForm(forms.Form):
    defence = forms.CharField(
        label=_("Your statement and defence"),
        max_length=4000,
        required=False,
        widget=_textarea(8),
        help_text=_(
            "The facts and reasons you put forward. The department must weigh them before it decides."
        ),
    )
    file = forms.FileField(
        label=_("Attachment (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text=_("PDF, JPEG or PNG, at most 20 MB."),
    )


class ApplicationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("open", _("Awaiting a decision")), *PermitApplication.Status.choices],
    )


class PledgeFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Pledge.Status.choices]
    )


class PublicPledgeFilterForm(forms.Form):
    code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class ReportForm(forms.Form):
    start = forms.DateField(label=_("Decided from"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Decided until"), widget=forms.DateInput(attrs={"type": "date"}))

    MAX_YEARS = 5

    @classmethod
    def default_initial(cls) -> dict:
        today = timezone.localdate()
        return {"start": today - timedelta(days=365), "end": today}

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end of the period is before its start."))
            elif start < add_months(end, -12 * self.MAX_YEARS):
                self.add_error("start", _("Choose a period of at most five years."))
        return data


# --- staff: associations ------------------------------------------------------------------------


class AssociationRegisterForm(forms.Form):
    code = forms.CharField(label=_("The association's unified social credit code"), max_length=40)
    pledge_system_zh = forms.CharField(
        label=_("The association's pledge system (Chinese)"), max_length=8000, widget=_textarea(6)
    )
    pledge_system_en = forms.CharField(
        label=_("The association's pledge system (English)"),
        max_length=8000,
        required=False,
        widget=_textarea(6),
    )


class AssociationUpdateForm(forms.Form):
    pledge_system_zh = forms.CharField(
        label=_("The association's pledge system (Chinese)"), max_length=8000, widget=_textarea(6)
    )
    pledge_system_en = forms.CharField(
        label=_("The association's pledge system (English)"),
        max_length=8000,
        required=False,
        widget=_textarea(6),
    )


class MemberForm(forms.Form):
    code = forms.CharField(label=_("Member's unified social credit code"), max_length=40)


class RemedyRuleForm(forms.Form):
    """A remedy's wording from a date on: what the notice of a confirmed breach says, and its citation."""

    kind = forms.ChoiceField(label=_("Remedy"), choices=RemedyRule.Kind.choices)
    effective_from = forms.DateField(
        label=_("Effective from"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Decisions taken on or after this day use this wording; earlier ones keep theirs."),
    )
    text_zh = forms.CharField(
        label=_("Text (Chinese)"),
        max_length=400,
        required=False,
        widget=_textarea(3),
        help_text=_(
            "Placeholders filled in by the decision — objection: {answer_days}; credit restoration: {earliest}, {min_months}, {department}."
        ),
    )
    text_en = forms.CharField(label=_("Text (English)"), max_length=400, required=False, widget=_textarea(3))
    basis_zh = forms.CharField(label=_("Basis (Chinese)"), max_length=200, required=False)
    basis_en = forms.CharField(label=_("Basis (English)"), max_length=200, required=False)
