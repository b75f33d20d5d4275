"""The agency door's authentication and permission: bearer tokens and capabilities."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from credit_portal.accounts.actors import actor_for_request
from credit_portal.accounts.services import token_authenticate


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer cp_...``. Session users (staff, entity users) are also let through
    with CSRF enforced, so the browsable pages and the API share one permission model."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header:
            return self._session(request)
        if header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header: use 'Bearer <token>'."))
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = token_authenticate(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        return (None, token)

    def _session(self, request):
        return authentication.SessionAuthentication().authenticate(request)

    def authenticate_header(self, request):
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token scheme in the OpenAPI schema."""

    target_class = "credit_portal.accounts.api_auth.BearerTokenAuthentication"
    name = "agencyToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A department's API token (`cp_...`), issued with `manage.py issue_api_token`.",
        }


class HasCapability(permissions.BasePermission):
    """Grants a request when its actor holds the view's ``required_capabilities[method]``.

    Views declare e.g. ``required_capabilities = {"GET": Cap.ENTITIES_READ, "POST": Cap.ENTITIES_WRITE}``;
    a view declaring ``None`` for a method is public."""

    message = _("Your credentials do not grant this operation.")

    def has_permission(self, request, view) -> bool:
        required = getattr(view, "required_capabilities", {})
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        if method not in required:
            # Not implemented -> let the view answer 405; implemented but undeclared -> closed.
            return not hasattr(view, request.method.lower())
        capability = required[method]
        if capability is None:
            return True
        actor = actor_for_request(request)
        if actor.kind == "public":
            raise exceptions.NotAuthenticated()
        return actor.can(capability)
