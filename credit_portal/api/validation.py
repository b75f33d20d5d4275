"""Every error of an API request in one response.

A serializer checks the shape of a request (types, lengths, required keys); the service behind it
validates what the values mean. Were the service called only once the shape was right, a client
would fix the first 400 and meet a second one. ``validated`` calls the service's validate-only
path (``validate_only=True``, inside a savepoint that is always rolled back, so nothing is written)
on what did parse when the serializer refused something, and answers one 400 with both sets of
errors, each message once per field. A key the serializer refused keeps the serializer's messages
only (the service never saw its value), nested keys under it too."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.fields import SkipField

from credit_portal.api.errors import _field_errors, flatten_errors
from credit_portal.errors import Conflict, NotFound


def parsed_data(serializer: serializers.Serializer) -> dict[str, Any]:
    """The values of a refused request that did parse, field by field (as ``validated_data`` would
    hold them; fields that did not parse are left out)."""
    data = getattr(serializer, "initial_data", None)
    if not isinstance(data, Mapping):
        return {}
    out: dict[str, Any] = {}
    for field in serializer._writable_fields:
        validate_method = getattr(serializer, "validate_" + field.field_name, None)
        try:
            value = field.run_validation(field.get_value(data))
            if validate_method is not None:
                value = validate_method(value)
        except (exceptions.ValidationError, DjangoValidationError, SkipField):
            continue
        serializer.set_value(out, field.source_attrs, value)
    return out


def merge_errors(errors: dict[str, list[str]], more: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """``more`` (a service's) added to ``errors`` (the serializer's): a key refused already, or one
    under it (``fields`` refused: ``fields.facts`` is not news), keeps its messages; each message
    once per key."""
    refused = {key for key in errors if key != "non_field_errors"}
    for key, messages in more.items():
        key = "non_field_errors" if key in ("__all__", "", None) else key
        if any(key == r or key.startswith(f"{r}.") for r in refused):
            continue
        present = errors.setdefault(key, [])
        for message in messages:
            if str(message) not in present:
                present.append(str(message))
    return errors


def service_errors(exc: DjangoValidationError | Conflict) -> dict[str, list[str]]:
    if isinstance(exc, Conflict):
        return exc.field_errors
    return _field_errors(exc)


def validated(
    serializer: serializers.Serializer, *, check: Callable[[dict[str, Any]], Any] | None = None
) -> dict[str, Any]:
    """``serializer.validated_data``; or, when the serializer refuses the request, a 400 with its
    errors and those of ``check(parsed values)``, the service's validate-only call."""
    if serializer.is_valid():
        return serializer.validated_data
    errors = flatten_errors(serializer.errors)
    # A body that is not an object at all has nothing for the service to look at.
    if check is not None and isinstance(serializer.initial_data, Mapping):
        parsed = parsed_data(serializer)
        try:
            with transaction.atomic():
                try:
                    check(parsed)
                finally:
                    transaction.set_rollback(True)
        except (DjangoValidationError, Conflict) as exc:
            merge_errors(errors, service_errors(exc))
        except (Http404, NotFound):
            pass  # nothing found under a value that did not parse: the serializer's errors stand
    raise exceptions.ValidationError(errors)
