"""``format_html`` for the lines of the busiest pages, without its per-argument detours.

Django's ``format_html`` escapes each argument through ``conditional_escape``, which checks for lazy
strings and ``__html__`` and then calls ``escape``, itself wrapped to accept lazy strings. On the
search page that is several hundred calls a request for values that are plain ``str`` or ``int``.
``markup`` gives the same output for the values it accepts and refuses the others (a lazy string,
None, any other object), so that nothing slips through misprinted. Only Django's ``SafeData`` passes
as it is; any other ``str``, even one with its own ``__html__``, is escaped."""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeData, SafeString


def _escaped(value: object) -> str:
    if isinstance(value, SafeData):
        return value
    if isinstance(value, str):
        return escape(value, quote=True)
    if isinstance(value, int):  # bool is an int: prints as True / False, as format_html would
        return str(value)
    raise TypeError(f"markup() takes str, SafeString and int values, not {type(value).__name__}")


def markup(format_string: str, *args: object) -> SafeString:
    """``format_html(format_string, *args)`` for ``str``, ``SafeString`` and ``int`` arguments."""
    return SafeString(format_string.format(*map(_escaped, args)))


def markup_join(separator: str, format_string: str, rows) -> SafeString:
    """``format_html_join``: ``format_string`` filled with each tuple of ``rows``, joined."""
    return SafeString(separator.join(format_string.format(*map(_escaped, row)) for row in rows))
