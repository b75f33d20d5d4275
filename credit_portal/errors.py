"""Exceptions that services raise and every door translates the same way."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError


class Conflict(Exception):
    """The change collides with something that already exists (HTTP 409, a form field error)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def field_errors(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [str(self.message)]}


def raise_errors(errors: Mapping[str, list], conflict: Conflict | None = None) -> None:
    """The end of a service's validation: every error of the request at once. Field errors are a
    ``ValidationError`` that carries a collision found as well (under its field), so that it is not
    met only once the rest is fixed; a collision alone stays a ``Conflict`` (HTTP 409)."""
    if errors:
        merged = {key: [str(m) for m in messages] for key, messages in errors.items()}
        if conflict is not None:
            key = conflict.field or "non_field_errors"
            if str(conflict.message) not in merged.get(key, []):
                merged.setdefault(key, []).append(str(conflict.message))
        raise ValidationError(merged)
    if conflict is not None:
        raise conflict


class NotFound(Exception):
    """What was asked for does not exist, or is not the actor's to see or change: the two look the
    same, so that a refusal never reveals whether something exists (HTTP 404, the portal's page).

    Services and selectors raise this, never ``Http404``: the web doors answer it with the portal's
    404 page (``credit_portal.web.errors.DomainErrorsMiddleware``), the API with its 404 body
    (``credit_portal.api.errors``)."""
