"""One error format for the agency API: ``{"detail": ..., "errors": {field: [messages]}}``.

Validation errors from services (Django's ``ValidationError``) become 400 with per-field messages;
a duplicate becomes 409; a denial becomes 403/404 without saying whether the object exists."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from credit_portal.errors import Conflict


def _field_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {field: [str(m) for e in errs for m in e.messages] for field, errs in error.error_dict.items()}
    return {"non_field_errors": [str(m) for m in error.messages]}


def exception_handler(exc, context):
    if isinstance(exc, Conflict):
        return Response(
            {"detail": str(exc.message), "errors": exc.field_errors}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, DjangoValidationError):
        return Response(
            {"detail": _("The request has invalid fields."), "errors": _field_errors(exc)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        data = response.data
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {"detail": _("The request has invalid fields."), "errors": errors}
    return response
