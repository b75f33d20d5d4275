"""The self-service door's account pages: sign-up and sign-in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credit_portal import ratelimit
from credit_portal.accounts import signup as signups
from credit_portal.web.decorators import no_store
from credit_portal.web.forms import BusinessLoginForm, SignUpForm
from credit_portal.web.views_account import GuardedLoginView

# Sign-up requests per client address an hour: a person needs one or two.
SIGNUP_REQUESTS = 10
SIGNUP_WINDOW = 3600


class MyLoginView(GuardedLoginView):
    template_name = "my/login.html"
    authentication_form = BusinessLoginForm

    def get_default_redirect_url(self):
        return "/my/"


@require_http_methods(["GET", "POST"])
def signup(request):
    """Every valid request gets the same answer, whether or not the address has an account (see
    credit_portal.accounts.signup); only the email sent to the address differs."""
    if request.user.is_authenticated:
        return redirect("my:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        if not ratelimit.allow(
            f"signup:{ratelimit.client_ip(request)}", limit=SIGNUP_REQUESTS, window=SIGNUP_WINDOW
        ):
            response = render(request, "my/signup.html", {"form": form, "throttled": True}, status=429)
            response["Retry-After"] = str(SIGNUP_WINDOW)
            return response
        if form.is_valid():
            data = form.cleaned_data
            signups.entity_signup_request(
                email=data["email"],
                password=data["password1"],
                full_name=data["full_name"],
                phone=data.get("phone", ""),
                language=get_language() or "",
            )
            return render(request, "my/signup_sent.html", {"email": signups.normalise_email(data["email"])})
    return render(request, "my/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
@no_store
def signup_confirm(request, token: str):
    """The link of the sign-up email. GET only shows a button: mail scanners that open links must
    not open accounts."""
    try:
        pending = signups.pending_signup_for_token(token)
    except ValidationError as exc:
        return render(request, "my/signup_confirm.html", {"error": exc.messages[0]}, status=400)
    if request.method == "POST":
        try:
            user = signups.entity_signup_confirm(token=token)
        except ValidationError as exc:
            return render(request, "my/signup_confirm.html", {"error": exc.messages[0]}, status=400)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, _("Your account is ready. Claim your entity by its unified social credit code.")
        )
        return redirect("my:claim")
    return render(request, "my/signup_confirm.html", {"pending": pending})
