"""Exceptions that services raise and every door translates the same way."""

from __future__ import annotations


class Conflict(Exception):
    """The change collides with something that already exists (HTTP 409, a form field error)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def field_errors(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [str(self.message)]}


class NotFound(Exception):
    """What was asked for does not exist, or is not the actor's to see or change: the two look the
    same, so that a refusal never reveals whether something exists (HTTP 404, the portal's page).

    Services and selectors raise this, never ``Http404``: the web doors answer it with the portal's
    404 page (``credit_portal.web.errors.DomainErrorsMiddleware``), the API with its 404 body
    (``credit_portal.api.errors``)."""
