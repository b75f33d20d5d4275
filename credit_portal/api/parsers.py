"""The API's JSON parser: DRF's, refusing with a 400 what it would otherwise fail on with a 500."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

# No request of the API nests anything near this deep (an entity with its persons is 3 levels).
MAX_DEPTH = 32


def _check(data) -> None:
    """Refuse nesting deeper than ``MAX_DEPTH`` and strings that are not valid Unicode (a lone
    surrogate such as ``"\\ud800"`` is valid JSON but can be neither stored nor answered with)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_string(value)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise exceptions.ParseError(
                _("JSON nested more than %(depth)d levels deep is not accepted.") % {"depth": MAX_DEPTH}
            )
        if isinstance(value, dict):
            for key, item in value.items():
                _check_string(key)
                stack.append((item, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in value)


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise exceptions.ParseError(
            _("The JSON holds a string that is not valid Unicode (a lone surrogate).")
        ) from None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                _("JSON nested more than %(depth)d levels deep is not accepted.") % {"depth": MAX_DEPTH}
            ) from None
        _check(data)
        return data
