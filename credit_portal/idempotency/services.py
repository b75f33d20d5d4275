"""Doing a request once however often it is sent.

Web forms (``forms``): every public form page carries a one-time submission key, signed (so
nobody can make one up) and valid for ``IDEMPOTENCY_WINDOW_SECONDS`` (24 hours). It is not stored
when the page is shown — a page view writes nothing — but when the form is sent: ``submit_once``
inserts a ``FormSubmission`` row for the key and files the submission in the same transaction. A
second POST with the key (a reload of the POST, a double click, a back-and-resend) meets the row's
unique constraint: it waits while the first one runs, and then finds what the first one filed
instead of filing again. A submission that fails (invalid input) rolls its row back, so the
corrected form can be sent with the same key.

The agency API (``api``): a POST with an ``Idempotency-Key`` header claims the key for the
token's department (``api_key_claim``) before it runs and stores its response in the same
transaction; a retry with the same key and the same request gets that response again, the same key
with another request a 409. Keys are kept for the same window; ``purge_expired`` (beat, daily)
deletes what is older."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from credit_portal.idempotency.models import ApiIdempotencyKey, FormSubmission

_KEY_MAX_LENGTH = 200


def window() -> timedelta:
    """How long a form's key stays valid and an API key is remembered."""
    return timedelta(seconds=settings.IDEMPOTENCY_WINDOW_SECONDS)


def _cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - window()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- web forms -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionKey:
    """A form's key as sent back: the form it was issued for and the digest of its secret."""

    form: str
    digest: str


def _signer(form: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"credit_portal.idempotency.form:{form}")


def submission_key_issue(form: str) -> str:
    """A fresh one-time key for ``form`` (a name such as ``public.complaint``), for the page that
    shows the form. Nothing is stored."""
    return _signer(form).sign(secrets.token_urlsafe(24))


def submission_key_read(form: str, value: object) -> SubmissionKey | None:
    """The key sent with ``form``, or None when it is missing, made up, issued for another form
    or older than the window."""
    if not isinstance(value, str) or not value or len(value) > _KEY_MAX_LENGTH:
        return None
    try:
        secret = _signer(form).unsign(value, max_age=window())
    except signing.BadSignature:  # SignatureExpired included
        return None
    return SubmissionKey(form=form, digest=_digest(secret))


def submission_result(key: SubmissionKey) -> int | None:
    """What the key filed, if it was used within the window."""
    return (
        FormSubmission.objects.filter(
            form=key.form, key_digest=key.digest, created_at__gte=_cutoff(), result_id__isnull=False
        )
        .values_list("result_id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class Filed:
    result_id: int
    replayed: bool  # True: the key had been used; nothing was filed now


def submit_once(*, key: SubmissionKey, file: Callable[[], int]) -> Filed:
    """Run ``file`` (which files the submission and returns the id of what it filed) once per key.

    The key's row is inserted first, in this transaction: a concurrent request with the same key
    waits on the unique constraint until this one commits, then finds its result (``replayed``).
    Whatever ``file`` raises propagates and rolls the row back with everything else, leaving the
    key unused. Side effect: the ``FormSubmission`` row."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = FormSubmission.objects.create(form=key.form, key_digest=key.digest)
        except IntegrityError:
            row = FormSubmission.objects.get(form=key.form, key_digest=key.digest)
            return Filed(result_id=row.result_id, replayed=True)
        result_id = file()
        row.result_id = result_id
        row.save(update_fields=["result_id"])
    return Filed(result_id=result_id, replayed=False)


# --- the agency API ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiRequest:
    department_id: int
    key: str
    method: str
    path: str
    fingerprint: str


def api_key_claim(request: ApiRequest) -> tuple[ApiIdempotencyKey, bool]:
    """Claim the key for a request, in the caller's transaction: ``(row, True)`` when the request
    is to run (a new key, or one older than the window, taken over), ``(row, False)`` when the key
    was used within the window — the row then holds the first request's fingerprint and response.
    A concurrent request with the same key waits here until the one holding it commits or rolls
    back (the unique constraint), so two requests at once run once."""
    for _attempt in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                row = ApiIdempotencyKey.objects.create(
                    department_id=request.department_id,
                    key=request.key,
                    method=request.method,
                    path=request.path[:500],
                    fingerprint=request.fingerprint,
                    created_at=now,
                )
            return row, True
        except IntegrityError:
            pass
        row = (
            ApiIdempotencyKey.objects.select_for_update()
            .filter(department_id=request.department_id, key=request.key)
            .first()
        )
        if row is None:  # purged in between: claim it afresh
            continue
        if row.created_at >= _cutoff(now):
            return row, False
        # Older than the window: the key is free again. The row lock makes this a take-over by one.
        row.method, row.path, row.fingerprint = request.method, request.path[:500], request.fingerprint
        row.status_code, row.body, row.location, row.created_at = None, "", "", now
        row.save()
        return row, True
    raise RuntimeError("could not claim the idempotency key")  # pragma: no cover


def api_key_complete(row: ApiIdempotencyKey, *, status_code: int, body: str, location: str = "") -> None:
    """Keep the response of the request that claimed ``row``, for its retries."""
    row.status_code, row.body, row.location = status_code, body, location[:500]
    row.save(update_fields=["status_code", "body", "location"])


def api_key_release(row: ApiIdempotencyKey) -> None:
    """The request failed: forget the key, so that a corrected request may use it."""
    row.delete()


# --- housekeeping --------------------------------------------------------------------------------


def purge_expired(*, now: datetime | None = None) -> dict[str, int]:
    """Delete form submissions and API keys older than the window: their keys can no longer be
    used (a form's key has expired; an API key older than the window is a new request)."""
    cutoff = _cutoff(now)
    forms, _ = FormSubmission.objects.filter(created_at__lt=cutoff).delete()
    keys, _ = ApiIdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return {"form_submissions": forms, "api_keys": keys}
