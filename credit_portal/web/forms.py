from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from credit_portal.accounts import signin
from credit_portal.accounts.models import User
from credit_portal.i18n import has_cjk
from credit_portal.ratelimit import client_ip
from credit_portal.text import refuse_invisible_in_name
from credit_portal.workdays.models import CalendarDay


def locked_out_message(refused: signin.SignInRefused) -> str:
    until = timezone.localtime(refused.until)
    minutes = max(1, -(-refused.seconds // 60))
    return ngettext(
        "Too many failed sign-in attempts. Signing in is locked: try again after %(time)s (Beijing time), "
        "in %(minutes)d minute.",
        "Too many failed sign-in attempts. Signing in is locked: try again after %(time)s (Beijing time), "
        "in %(minutes)d minutes.",
        minutes,
    ) % {"time": f"{until:%Y-%m-%d %H:%M}", "minutes": minutes}


class GuardedLoginMixin:
    """Every sign-in form: the account name and the client address are checked against the
    lockouts before the password, failures are counted, and a lockout says when to try again.
    ``refused`` holds the lockout when the form was refused for one."""

    refused: signin.SignInRefused | None = None

    def clean_username(self):
        username = self.cleaned_data["username"]
        # Business accounts sign in with their email address, kept in lower case.
        return username.strip().lower() if "@" in username else username

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        outcome = signin.guarded_authenticate(
            self.request, username=username, password=password, address=client_ip(self.request)
        )
        if isinstance(outcome, signin.SignInRefused):
            self.refused = outcome
            raise ValidationError(locked_out_message(outcome), code="locked_out")
        if outcome is None:
            raise self.get_invalid_login_error()
        self.user_cache = outcome
        self.confirm_login_allowed(outcome)
        return self.cleaned_data


class LoginForm(GuardedLoginMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": _("The user name or password is wrong (both are case-sensitive)."),
        "inactive": _("This account is disabled."),
    }


class BusinessLoginForm(LoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username or email address")


class AdminLoginForm(GuardedLoginMixin, AdminAuthenticationForm):
    """The admin's sign-in, behind the same guard as the portal's."""


class SignUpForm(forms.Form):
    """A business account: its email address is its user name. Whether the address already has an
    account is never said here (see credit_portal.accounts.signup)."""

    full_name = forms.CharField(label=_("Full name"), max_length=100, validators=[refuse_invisible_in_name])
    email = forms.EmailField(
        label=_("Email address"),
        max_length=150,
        help_text=_("You sign in with it. We send a link to it to open the account."),
    )
    phone = forms.CharField(
        label=_("Phone"), max_length=32, required=False, validators=[refuse_invisible_in_name]
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
        elif password1:
            # Judged against the would-be account's own details, never against other accounts.
            probe = User(
                username=data.get("email", ""),
                email=data.get("email", ""),
                full_name=data.get("full_name", ""),
            )
            try:
                password_validation.validate_password(password1, probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class PortalPasswordResetForm(PasswordResetForm):
    """Hands the address to the task that finds the accounts and emails them (see
    credit_portal.accounts.signup.password_reset_request) instead of sending from the request."""

    def save(self, *, request=None, **kwargs):
        from django.utils.translation import get_language

        from credit_portal.accounts.signup import password_reset_request

        # The link is at the portal's public address (SITE_URL), never the request's host.
        password_reset_request(email=self.cleaned_data["email"], language=get_language() or "")


class PortalSetPasswordForm(SetPasswordForm):
    def save(self, commit=True):
        from credit_portal.accounts.signup import password_reset_complete

        self.user = password_reset_complete(user=self.user, password=self.cleaned_data["new_password1"])
        return self.user


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
    name = forms.CharField(
        label=_("What the token is for"), max_length=100, validators=[refuse_invisible_in_name]
    )
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

    def clean_expires_at(self):
        # Checked with the other fields, so that every error shows at once.
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise ValidationError(_("The expiry must be in the future."))
        return expires_at


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action starts with"), max_length=100, required=False)
    target = forms.CharField(label=_("Target id"), max_length=64, required=False)
    actor = forms.CharField(label=_("Actor contains"), max_length=100, required=False)


class NamesSelect(forms.Select):
    """A choice among names that may be Chinese whatever the page's language (entities, agencies):
    an option whose label has Chinese characters is marked ``lang="zh-Hans"``."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if has_cjk(label):
            option["attrs"] = {**option["attrs"], "lang": "zh-Hans"}
        return option
