from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.models import Department
from credit_portal.i18n import punctuation
from credit_portal.web.rendering import required_if
from records.fields import REQUIRED_COLUMN_MESSAGES, REQUIRED_COLUMNS, RecordInput
from records.models import (
    CatalogueItem,
    CreditRecord,
    EntityMembership,
    EntityPerson,
    Industry,
    MarketEntity,
    Person,
    Severity,
)
from records.services import EntityInput, PersonInput


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, unified social credit code or English name"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    division = forms.CharField(label=_("Administrative division code"), max_length=6, required=False)


class EntityForm(forms.Form):
    """Staff registration and editing of an entity. The service validates; this form only parses."""

    code = forms.CharField(label=_("Unified social credit code"), max_length=40)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=300, required=False)
    division = forms.CharField(
        label=_("Administrative division code"), max_length=6, help_text=_("Six digits, e.g. 440305.")
    )
    industry = forms.ChoiceField(label=_("Industry"), choices=[("", "—"), *Industry.choices], required=False)
    registered_on = forms.DateField(
        label=_("Registration date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(label=_("Status"), choices=MarketEntity.Status.choices)
    address = forms.CharField(label=_("Registered address"), max_length=300, required=False)
    public_sector = forms.ChoiceField(
        label=_("State-owned or public institution"),
        choices=MarketEntity.PublicSector.choices,
        required=False,
    )
    supervising_department = forms.ChoiceField(label=_("Supervising department"), required=False)
    lr_name = required_if(
        forms.CharField(label=_("Legal representative: name"), max_length=100, required=False),
        _("Required when an identity number is given."),
    )
    lr_id_type = forms.ChoiceField(
        label=_("Legal representative: identity document"), choices=Person.IdType.choices, required=False
    )
    lr_id_number = required_if(
        forms.CharField(
            label=_("Legal representative: identity number"),
            max_length=40,
            required=False,
            help_text=_("Stored encrypted; shown masked everywhere except to entitled staff."),
            widget=forms.TextInput(attrs={"autocomplete": "off"}),
        ),
        _("Required when a legal representative is named."),
    )

    # Service error keys -> form fields.
    ERROR_FIELDS = {
        "legal_representative.name": "lr_name",
        "legal_representative.id_type": "lr_id_type",
        "legal_representative.id_number": "lr_id_number",
        "non_field_errors": None,
    }

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supervising_department"].choices = [("", "—")] + [
            (d.code, f"{d.name}{punctuation('(')}{d.code}{punctuation(')')}")
            for d in Department.objects.filter(is_active=True).order_by("code")
        ]
        if editing:
            self.fields["code"].disabled = True
            self.fields["lr_id_number"].help_text = _(
                "Leave all three empty to keep the current legal representative."
            )

    def to_input(self) -> EntityInput:
        d = self.cleaned_data
        person = None
        if d.get("lr_name") or d.get("lr_id_number"):
            person = PersonInput(
                name=d.get("lr_name", ""),
                id_type=d.get("lr_id_type") or Person.IdType.RESIDENT_ID,
                id_number=d.get("lr_id_number", ""),
            )
        return EntityInput(
            code=d.get("code", ""),
            name_zh=d.get("name_zh", ""),
            name_en=d.get("name_en", ""),
            division=d.get("division", ""),
            industry=d.get("industry", ""),
            registered_on=d.get("registered_on"),
            status=d.get("status", ""),
            address=d.get("address", ""),
            public_sector=d.get("public_sector", ""),
            supervising_department=d.get("supervising_department", ""),
            legal_representative=person,
        )

    def service_field(self, key: str) -> str | None:
        return self.ERROR_FIELDS.get(key, key)

    @classmethod
    def initial_for(cls, entity: MarketEntity) -> dict:
        return {
            "code": entity.code,
            "name_zh": entity.name_zh,
            "name_en": entity.name_en,
            "division": entity.division_id,
            "industry": entity.industry,
            "registered_on": entity.registered_on,
            "status": entity.status,
            "address": entity.address,
            "public_sector": entity.public_sector,
            "supervising_department": entity.supervising_department.code
            if entity.supervising_department
            else "",
        }


class PersonForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=EntityPerson.Role.choices)
    name = forms.CharField(label=_("Name"), max_length=100)
    id_type = forms.ChoiceField(label=_("Identity document"), choices=Person.IdType.choices)
    id_number = forms.CharField(
        label=_("Identity number"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )

    def to_input(self) -> PersonInput:
        return PersonInput(**self.cleaned_data)

    def service_field(self, key: str) -> str:
        return key.removeprefix("person.")


class ClaimForm(forms.Form):
    code = forms.CharField(label=_("Unified social credit code"), max_length=40)
    role = forms.ChoiceField(
        label=_("You act as"), choices=EntityMembership.Role.choices, widget=forms.RadioSelect
    )
    statement = forms.CharField(
        label=_("Statement for the reviewer"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Who you are in the entity and how the reviewer can confirm it."),
    )


class ClaimDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = required_if(
        forms.CharField(
            label=_("Reason"),
            max_length=2000,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=_("The applicant sees it."),
        ),
        _("Required when rejecting."),
    )


class RecordForm(forms.Form):
    """A credit record of one catalogue item: the common columns, then the item's own fields
    (built from the catalogue's definitions). It parses only; the records service validates."""

    code = forms.CharField(label=_("Unified social credit code"), max_length=40)
    party_name = forms.CharField(
        label=_("Party name"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to use the entity's name."),
    )
    decision_number = forms.CharField(label=_("Decision document number"), max_length=128)
    decision_date = forms.DateField(label=_("Decision date"), widget=forms.DateInput(attrs={"type": "date"}))
    legal_basis = forms.CharField(
        label=_("Legal basis"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=[("", "—"), *Severity.choices], required=False)
    content = forms.CharField(
        label=_("Content"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    valid_from = forms.DateField(
        label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    disclosure_months = forms.IntegerField(
        label=_("Disclosure period (months)"),
        required=False,
        min_value=0,
        max_value=120,
        help_text=_("Leave empty for the longest period the rule allows (minor violations: not published)."),
    )
    remarks = forms.CharField(
        label=_("Remarks"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    PREFIX = "f_"

    def __init__(self, *args, item, correcting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        english = (get_language() or "").startswith("en")
        for definition in item.fields:
            label = definition["label_en"] if english else definition["label_zh"]
            required = bool(definition.get("required"))
            kind = definition.get("type", "text")
            if kind == "choice":
                choices = [(c[0], c[2] if english else c[1]) for c in definition["choices"]]
                field = forms.ChoiceField(label=label, choices=[("", "—"), *choices], required=required)
            elif kind == "date":
                field = forms.DateField(
                    label=label, required=required, widget=forms.DateInput(attrs={"type": "date"})
                )
            elif kind == "longtext":
                field = forms.CharField(
                    label=label,
                    required=required,
                    max_length=definition.get("max_length", 4000),
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
            elif kind == "identity":
                field = forms.CharField(
                    label=label,
                    required=required,
                    max_length=40,
                    widget=forms.TextInput(attrs={"autocomplete": "off"}),
                    help_text=_("Stored encrypted and shown masked.")
                    if not correcting
                    else _("Enter it again to keep it."),
                )
            else:
                field = forms.CharField(
                    label=label, required=required, max_length=definition.get("max_length", 200)
                )
            self.fields[self.PREFIX + definition["key"]] = field
        if item.period_kind != CatalogueItem.PeriodKind.SEVERITY:
            del self.fields["disclosure_months"]
        else:
            required_if(
                self.fields["severity"], _("This catalogue item needs the severity of the violation.")
            )
        # Required by the national field standard of the item's layout (the records' validation
        # says so too); optional for the other items.
        for name in REQUIRED_COLUMNS.get(item.layout, ()):
            required_if(self.fields[name], REQUIRED_COLUMN_MESSAGES[item.layout])
        if correcting:
            self.fields["decision_number"].disabled = True
            self.fields["reason"] = forms.CharField(
                label=_("Why the record is corrected"),
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def to_input(self) -> RecordInput:
        d = self.cleaned_data
        structured = {
            name.removeprefix(self.PREFIX): value
            for name, value in d.items()
            if name.startswith(self.PREFIX) and value not in (None, "")
        }
        return RecordInput(
            item=self.item.code,
            code=d.get("code", ""),
            party_name=d.get("party_name", ""),
            decision_number=d.get("decision_number", ""),
            decision_date=d.get("decision_date"),
            legal_basis=d.get("legal_basis", ""),
            severity=d.get("severity", ""),
            content=d.get("content", ""),
            valid_from=d.get("valid_from"),
            valid_to=d.get("valid_to"),
            remarks=d.get("remarks", ""),
            disclosure_months=d.get("disclosure_months"),
            fields=structured,
        )

    def service_field(self, key: str) -> str:
        return self.PREFIX + key.removeprefix("fields.") if key.startswith("fields.") else key

    @classmethod
    def initial_for(cls, record) -> dict:
        initial = {
            "code": record.entity.code,
            "party_name": record.party_name,
            "decision_number": record.decision_number,
            "decision_date": record.decision_date,
            "legal_basis": record.legal_basis,
            "severity": record.severity,
            "content": record.content,
            "valid_from": record.valid_from,
            "valid_to": record.valid_to,
            "disclosure_months": record.disclosure_months,
            "remarks": record.remarks,
        }
        for key, value in record.fields.items():
            if not isinstance(value, dict):  # identity numbers are not shown again
                initial[cls.PREFIX + key] = value
        return initial


class RevokeForm(forms.Form):
    revoked_on = forms.DateField(
        label=_("Date the decision was revoked"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class RecordFilterForm(forms.Form):
    q = forms.CharField(label=_("Decision number or party name"), max_length=200, required=False)
    item = forms.ChoiceField(label=_("Catalogue item"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", "—"), *CreditRecord.Status.choices], required=False
    )
    disclosure = forms.ChoiceField(
        label=_("Disclosure"), choices=[("", "—"), *CreditRecord.Disclosure.choices], required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [("", "—")] + [
            (i.code, i.name) for i in CatalogueItem.objects.filter(is_active=True)
        ]
