"""One error format for the agency API: ``{"detail": ..., "errors": {field: [messages]}}``.

Validation errors from services (Django's ``ValidationError``) become 400 with per-field messages;
a duplicate becomes 409; a denial becomes 403/404 without saying whether the object exists (a
service's ``NotFound`` and Django's ``Http404`` alike); a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
becomes 413. ``errors`` is flat: a nested field is named by
its path, as the services name them (``persons.0.id_number``, ``fields.facts``). The OpenAPI
schema documents this body on every operation (``credit_portal.api.schema``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from credit_portal.errors import Conflict, NotFound


def _field_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {field: [str(m) for e in errs for m in e.messages] for field, errs in error.error_dict.items()}
    return {"non_field_errors": [str(m) for m in error.messages]}


def flatten_errors(data, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as ``{"a.0.b": [messages]}``."""
    out: dict[str, list[str]] = {}

    def walk(value, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list | tuple):
            if all(not isinstance(item, dict | list | tuple) for item in value):
                out.setdefault(path or "non_field_errors", []).extend(str(item) for item in value)
            else:
                for index, item in enumerate(value):
                    if item:
                        walk(item, f"{path}.{index}" if path else str(index))
        else:
            out.setdefault(path or "non_field_errors", []).append(str(value))

    walk(data, prefix)
    return out


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        from credit_portal.web.errors import too_large_detail

        return Response({"detail": too_large_detail()}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent):
        return Response({"detail": _("The request has too many fields.")}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        return Response(
            {"detail": str(exc.message), "errors": exc.field_errors}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, DjangoValidationError):
        return Response(
            {"detail": _("The request has invalid fields."), "errors": _field_errors(exc)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404 | NotFound):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": _("The request has invalid fields."),
            "errors": flatten_errors(response.data),
        }
    return response
