"""The self-service door's account pages: sign-up and sign-in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credit_portal.accounts.services import entity_user_signup
from credit_portal.web.forms import LoginForm, SignUpForm


class MyLoginView(auth_views.LoginView):
    template_name = "my/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return "/my/"


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("my:home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = entity_user_signup(
                username=data["username"],
                password=data["password1"],
                full_name=data["full_name"],
                email=data["email"],
                phone=data.get("phone", ""),
            )
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, _("Your account is ready. Claim your entity by its unified social credit code.")
            )
            return redirect("my:claim")
    return render(request, "my/signup.html", {"form": form})
