from django import forms
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.models import Department
from records.models import EntityMembership, EntityPerson, Industry, MarketEntity, Person
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
    lr_name = forms.CharField(label=_("Legal representative: name"), max_length=100, required=False)
    lr_id_type = forms.ChoiceField(
        label=_("Legal representative: identity document"), choices=Person.IdType.choices, required=False
    )
    lr_id_number = forms.CharField(
        label=_("Legal representative: identity number"),
        max_length=40,
        required=False,
        help_text=_("Stored encrypted; shown masked everywhere except to entitled staff."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
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
            (d.code, f"{d.name} ({d.code})")
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
            code=d["code"],
            name_zh=d["name_zh"],
            name_en=d.get("name_en", ""),
            division=d["division"],
            industry=d.get("industry", ""),
            registered_on=d.get("registered_on"),
            status=d["status"],
            address=d.get("address", ""),
            public_sector=d.get("public_sector", ""),
            supervising_department=d.get("supervising_department", ""),
            legal_representative=person,
        )

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            field = self.ERROR_FIELDS.get(key, key)
            self.add_error(field if field in self.fields else None, messages)

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
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when rejecting; the applicant sees it."),
    )
