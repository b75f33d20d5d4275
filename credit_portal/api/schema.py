"""The OpenAPI schema's error responses: every operation documents the API's error body
(``credit_portal.api.errors``) for each refusal it can give, so a client generated from the
schema knows the shape of a 400 as well as of a 200. Run by drf-spectacular after generation
(``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``)."""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error of the API has this shape.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in the request's language."},
        "errors": {
            "type": "object",
            "description": "Messages per field or query parameter; a nested field is named by its path "
            "(`persons.0.id_number`, `fields.facts`). Only with 400 and 409.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail"],
}

# status -> (description, only for operations that authenticate, only for operations with a body)
ERRORS: dict[str, tuple[str, bool, bool]] = {
    "400": ("Invalid fields or query parameters: `errors` names each one.", False, False),
    "401": ("No token, or an invalid, expired or revoked one.", True, False),
    "403": ("The token's scopes do not grant this operation.", True, False),
    "404": (
        "Not found, or not yours to see: the answer is the same whether or not it exists.",
        False,
        False,
    ),
    "409": (
        "Conflicts with what exists: a duplicate (the field in `errors`), a change already awaiting "
        "review, or a report whose PDF is not ready yet.",
        False,
        False,
    ),
    "413": ("The request body is larger than the API accepts.", False, True),
    "429": ("Too many requests: wait for the number of seconds in `Retry-After`.", False, False),
}
RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until a request may succeed."}
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the ``Error`` component and its responses."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            authenticates = bool(operation.get("security"))
            has_body = "requestBody" in operation
            for code, (description, needs_auth, needs_body) in ERRORS.items():
                if (needs_auth and not authenticates) or (needs_body and not has_body):
                    continue
                response = operation["responses"].setdefault(code, {})
                response["description"] = response.get("description") or description
                response["content"] = {"application/json": {"schema": reference}}
                if code == "429":
                    response["headers"] = RETRY_AFTER
    return result
