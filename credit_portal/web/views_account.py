"""Pages of every account, whichever door it signs in at: signing in (the guard's answers), and
setting a new password through a link sent by email."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator

from credit_portal import ratelimit
from credit_portal.web.decorators import no_store
from credit_portal.web.forms import PortalPasswordResetForm, PortalSetPasswordForm


class GuardedLoginView(auth_views.LoginView):
    """A sign-in page behind the guard: a refusal for a lockout is HTTP 429 with Retry-After."""

    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        refused = getattr(form, "refused", None)
        if refused is not None:
            response.status_code = 429
            response["Retry-After"] = str(refused.seconds)
        return response


# Password reset: ``PASSWORD_RESET_REQUESTS`` a quarter of an hour per client address (beyond, the
# page says to wait); per email address, see credit_portal.accounts.signup.password_reset_request.
PASSWORD_RESET_REQUESTS = 5
PASSWORD_RESET_WINDOW = 15 * 60


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "account/password_reset_form.html"
    form_class = PortalPasswordResetForm
    success_url = reverse_lazy("account:password_reset_sent")

    def post(self, request, *args, **kwargs):
        if not ratelimit.allow(
            f"password-reset:{ratelimit.client_ip(request)}",
            limit=PASSWORD_RESET_REQUESTS,
            window=PASSWORD_RESET_WINDOW,
        ):
            response = self.render_to_response(self.get_context_data(form=self.get_form(), throttled=True))
            response.status_code = 429
            response["Retry-After"] = str(PASSWORD_RESET_WINDOW)
            return response
        return super().post(request, *args, **kwargs)


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "account/password_reset_sent.html"


@method_decorator(no_store, name="dispatch")
class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "account/password_reset_confirm.html"
    form_class = PortalSetPasswordForm
    success_url = reverse_lazy("account:password_reset_complete")
    post_reset_login = False


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "account/password_reset_complete.html"
