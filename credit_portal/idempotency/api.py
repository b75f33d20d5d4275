"""The ``Idempotency-Key`` header of the agency API's POSTs.

``@idempotent`` on a view's ``post``: without the header the request runs as before. With it, the
key is claimed for the token's department before the view runs (``services.api_key_claim``) and
the view's response is kept with it, in one transaction. A retry with the same key and the same
request (method, path and body) within the window gets the first response again — same status,
same body, same ``Location`` — with ``Idempotent-Replayed: true``, and changes nothing; the same
key with another request is a 409. Keys are per department: another department's same key is
another key. A request that fails (any status outside 2xx) keeps nothing, so its key may be used
again. Two requests with one key at once: the second waits for the first and then replays it."""

from __future__ import annotations

import functools
import hashlib
import json
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from credit_portal.accounts.actors import actor_for_request
from credit_portal.errors import Conflict
from credit_portal.idempotency import services

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
WINDOW_HOURS = settings.IDEMPOTENCY_WINDOW_SECONDS // 3600

KEY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional; a key of your choosing, unique per request (a UUID, say): 1 to 255 visible ASCII "
        f"characters. A retry with the same key and the same request within {WINDOW_HOURS} hours returns "
        f"the first response (same status and body) with `{REPLAYED_HEADER}: true` and changes nothing; "
        "the same key with a different request is a 409. Keys are per department. A request that "
        "failed (any status outside 2xx) keeps nothing: its key may be used again."
    ),
)
REPLAYED_HEADER_SCHEMA = {
    "schema": {"type": "string", "enum": ["true"]},
    "description": f"Present when this is the response kept for an earlier request with the same {HEADER}.",
}


def request_fingerprint(request) -> str:
    """SHA-256 of the method, path and body as parsed (key order and spacing of a JSON body do not
    matter)."""
    data = request.data
    if hasattr(data, "lists"):  # a form-encoded or multipart body
        data = sorted((name, [str(v) for v in values]) for name, values in data.lists())
    text = json.dumps(
        [request.method, request.path, data],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        cls=JSONEncoder,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(row) -> Response:
    response = Response(json.loads(row.body) if row.body else None, status=row.status_code)
    if row.location:
        response["Location"] = row.location
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent(method):
    """Make a DRF view's ``post`` honour ``Idempotency-Key`` (and document the header)."""

    @functools.wraps(method)
    def post(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return method(view, request, *args, **kwargs)
        if not _KEY.match(key):
            raise ValidationError(
                {HEADER: [str(_("Give 1 to 255 visible ASCII characters (a UUID, for instance)."))]}
            )
        actor = actor_for_request(request)
        if actor.department_id is None:  # every token has a department; a user has no API door
            return method(view, request, *args, **kwargs)
        claim = services.ApiRequest(
            department_id=actor.department_id,
            key=key,
            method=request.method,
            path=request.path,
            fingerprint=request_fingerprint(request),
        )
        with transaction.atomic():
            row, fresh = services.api_key_claim(claim)
            if not fresh:
                if row.fingerprint != claim.fingerprint:
                    raise Conflict(
                        _(
                            "This Idempotency-Key was already used for a different request (first "
                            "sent: %(method)s %(path)s, with another body or to another address). "
                            "Use a new key for each new request."
                        )
                        % {"method": row.method, "path": row.path},
                        field=HEADER,
                    )
                return _replay(row)
            response = method(view, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                services.api_key_complete(
                    row,
                    status_code=response.status_code,
                    body=json.dumps(response.data, cls=JSONEncoder, ensure_ascii=False),
                    location=response.get("Location", ""),
                )
            else:
                services.api_key_release(row)
            return response

    # Its own copy of the schema annotations it wraps, extended with the header.
    post.kwargs = dict(getattr(method, "kwargs", {}))
    return extend_schema(parameters=[KEY_PARAMETER])(post)


def document_replays(result, generator, request, public):
    """drf-spectacular postprocessing hook: on every operation that takes ``Idempotency-Key``,
    its successful responses may carry ``Idempotent-Replayed``, and a 409 may mean a reused key."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            parameters = operation.get("parameters") or []
            if not any(p.get("in") == "header" and p.get("name") == HEADER for p in parameters):
                continue
            for code, response in (operation.get("responses") or {}).items():
                if str(code).startswith("2"):
                    response.setdefault("headers", {})[REPLAYED_HEADER] = REPLAYED_HEADER_SCHEMA
                elif str(code) == "409":
                    response["description"] = (
                        response.get("description", "").rstrip()
                        + f" Or: the {HEADER} was already used for a different request."
                    ).strip()
    return result
