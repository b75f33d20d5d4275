"""Every error of a submitted form in one pass, for every form of the web doors.

A form parses (a date, a number, a required field); the service behind it validates what the
values mean (a code that no entity has, a period no rule allows, a duplicate). Were the service
called only once the form had parsed, a person would fix the form's errors and then meet a second
batch from the service. ``submit`` calls the service either way: for real when the form parsed,
and otherwise with ``validate_only=True`` on what did parse (fields that did not are given empty),
inside a savepoint that is always rolled back, so that nothing is written while any error stands.
Both sets of errors end on the form, each message once per field; a field the form already refused
keeps the form's message only (the service never saw its value)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.http import Http404

from credit_portal.errors import Conflict, NotFound

NON_FIELD_KEYS = {NON_FIELD_ERRORS, "non_field_errors", None, ""}


@dataclass
class Outcome:
    """What became of a submission: ``ok`` with the service's ``result``, or every error on the
    form and the service's refusal (its ``ValidationError`` or ``Conflict``), if it refused."""

    ok: bool
    result: Any = None
    refusal: ValidationError | Conflict | None = None

    def refused(self, key: str) -> list[str]:
        """The service's messages under ``key`` (e.g. ``status``: the object moved on meanwhile)."""
        if isinstance(self.refusal, ValidationError) and hasattr(self.refusal, "error_dict"):
            return [str(m) for m in self.refusal.message_dict.get(key, [])]
        return []


def service_errors(
    error: ValidationError | Conflict | Mapping[str, Iterable[Any]],
) -> dict[str | None, list[str]]:
    """A service's refusal as ``{key: [messages]}`` (``None`` for errors of no one field)."""
    if isinstance(error, Conflict):
        return {error.field: [str(error.message)]}
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return {key: [str(m) for m in messages] for key, messages in error.message_dict.items()}
        return {None: [str(m) for m in error.messages]}
    return {key: [str(m) for m in (messages if isinstance(messages, list | tuple) else [messages])]
            for key, messages in error.items()}  # fmt: skip


def _field_for(form: forms.Form, key: str | None, aliases: Mapping[str, str | None] | None) -> str | None:
    if key in NON_FIELD_KEYS:
        return None
    if aliases and key in aliases:
        name = aliases[key]
    elif hasattr(form, "service_field"):
        name = form.service_field(key)
    else:
        name = key
    return name if name in form.fields else None


def add_service_errors(
    form: forms.Form,
    error: ValidationError | Conflict | Mapping[str, Iterable[Any]],
    aliases: Mapping[str, str | None] | None = None,
) -> None:
    """Put a service's errors on the form's fields (through ``aliases``, or the form's own
    ``service_field(key)``; the rest above the form), each message once per field. A field the
    form refused itself keeps only the form's messages."""
    refused_by_form = {name for name in form.errors if name != NON_FIELD_ERRORS}
    for key, messages in service_errors(error).items():
        name = _field_for(form, key, aliases)
        if name in refused_by_form:
            continue
        present = {str(m) for m in form.errors.get(name or NON_FIELD_ERRORS, [])}
        fresh = []
        for message in messages:
            if message not in present:
                present.add(message)
                fresh.append(message)
        if fresh:
            form.add_error(name, fresh)


def error_lines(form: forms.Form) -> list[str]:
    """Every error of the form as lines of text, each field once ("Label: its messages"), for a
    form whose errors are told in a message rather than on the form."""
    from credit_portal.i18n import punctuation

    lines = [str(m) for m in form.non_field_errors()]
    for field in form:
        if field.errors:
            lines.append(f"{field.label}{punctuation(':')}{' '.join(str(m) for m in field.errors)}")
    return lines


def empty_value(field: forms.Field) -> Any:
    """What a field gives when nothing was entered ('' for text, None for a date, [] for a list)."""
    try:
        return field.to_python(None)
    except (ValidationError, TypeError, ValueError):
        return None


@contextmanager
def parsed_values(form: forms.Form):
    """While inside, ``form.cleaned_data`` of a form with errors holds every field: its parsed
    value, or its empty value where it did not parse, so that the caller builds the service's
    arguments as it does for a valid form."""
    kept = form.cleaned_data
    form.cleaned_data = {**{n: empty_value(f) for n, f in form.fields.items()}, **kept}
    try:
        yield form.cleaned_data
    finally:
        form.cleaned_data = kept


def validate_only(action: Callable[[], Any]) -> None:
    """Run a validate-only call of a service in a savepoint that is always rolled back: whatever
    it would have written (a service that validates only writes nothing anyway) is undone. A
    service that finds nothing under a value that did not parse (an empty choice of entity) has
    nothing to add: its 404 stays unsaid, the form's own errors are shown."""
    try:
        with transaction.atomic():
            try:
                action()
            finally:
                transaction.set_rollback(True)
    except (Http404, NotFound):
        pass


def submit(
    form: forms.Form,
    action: Callable[[bool], Any],
    *,
    aliases: Mapping[str, str | None] | None = None,
    also_valid: Iterable[Any] = (),
) -> Outcome:
    """Parse ``form`` (and the forms or formsets of ``also_valid``) and call the service,
    ``action(validate_only)``: for real when everything parsed, else with ``validate_only=True``
    to add its errors to the form's. ``Outcome.ok`` when the service did its work."""
    if not form.is_bound:  # nothing was sent (an empty POST): the form is shown as it was
        return Outcome(False)
    parsed = form.is_valid()
    parsed = all([parsed, *(other.is_valid() for other in also_valid)])
    try:
        if parsed:
            return Outcome(True, action(False))
        with parsed_values(form):
            validate_only(lambda: action(True))
    except (ValidationError, Conflict) as exc:
        add_service_errors(form, exc, aliases)
        return Outcome(False, refusal=exc)
    return Outcome(False)
