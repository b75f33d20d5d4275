"""The JSON Schema of the report document (``docs/credit-report.schema.json``) and its validator.

The task validates every document before issuing it, so a document that does not match its
published schema is never signed with a fingerprint. It does so with the schema compiled to Python
(``fastjsonschema``: a few milliseconds, where interpreting it costs some fifty); ``jsonschema``,
which implements draft 2020-12 itself, remains the reference, and explains a refusal with every
mismatch. The schema keeps to keywords both read alike (``test_reports`` checks that, and that the
two agree on broken documents)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
from django.conf import settings
from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_PATH = Path(settings.BASE_DIR) / "docs" / "credit-report.schema.json"


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema(), format_checker=FormatChecker())


def errors(document: dict[str, Any]) -> list[str]:
    """Every mismatch, as "path: message" (empty when the document is valid)."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


@cache
def _compiled():
    return fastjsonschema.compile(schema(), use_default=False)


def problems(document: dict[str, Any]) -> list[str]:
    """``errors(document)``, quickly when there are none: the compiled check first, the reference
    validator only to explain a refusal (and a refusal stands even if only the compiled one saw it)."""
    try:
        _compiled()(document)
    except fastjsonschema.JsonSchemaValueException as exc:
        return errors(document) or [f"{exc.name}: {exc.message}"]
    return []
