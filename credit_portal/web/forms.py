from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.models import User
from credit_portal.workdays.models import CalendarDay


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("The user name or password is wrong (both are case-sensitive)."),
        "inactive": _("This account is disabled."),
    }


class SignUpForm(UserCreationForm):
    full_name = forms.CharField(label=_("Full name"), max_length=100)
    email = forms.EmailField(label=_("Email"))
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "full_name", "email", "phone"]


class CalendarDayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=CalendarDay.Kind.choices)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=100, required=False)
    name_en = forms.CharField(label=_("Name (English)"), max_length=100, required=False)


class HolidayNoticeForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("Title of the State Council notice"), max_length=300)
    published_on = forms.DateField(label=_("Published on"), widget=forms.DateInput(attrs={"type": "date"}))


class TokenIssueForm(forms.Form):
    name = forms.CharField(label=_("What the token is for"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Grant only what the connecting system needs."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty for no expiry; revoke the token when it is no longer used."),
    )

    def __init__(self, *args, **kwargs):
        from credit_portal.accounts.capabilities import TOKEN_SCOPES, Cap

        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [(s, f"{s} — {Cap(s).label}") for s in sorted(TOKEN_SCOPES)]


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action starts with"), max_length=100, required=False)
    target = forms.CharField(label=_("Target id"), max_length=64, required=False)
    actor = forms.CharField(label=_("Actor contains"), max_length=100, required=False)
