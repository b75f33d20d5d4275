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
