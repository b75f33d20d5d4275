"""What every pledge service shares: numbers, signatures, text checks, and the items of the pledge's
credit records (written through ``records.services.workflow_record_create``): catalogue item
"credit pledges and their performance" for a pledge and its keeping, its negative sibling
"... : breaches" for a pledge broken."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal import numbers
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.models import Department
from records import services as record_services
from records.fields import Errors, clean_text

PLEDGE_ITEM = "pledge_performance"
BREACH_ITEM = "pledge_breach"
NUMBER_LENGTH = 8
APPLICATION_PREFIX = "SQ"
PLEDGE_PREFIX = "CN"
# How the procedure is named in the audit trail when it writes a record for a department.
SYSTEM_NAME = "pledges"

M = TypeVar("M", bound=models.Model)


def new_number(prefix: str, today: date | None = None) -> str:
    """``CN-2026-7K3QZP9A``: prefix, year, eight random characters (16 in all)."""
    year = (today or timezone.localdate()).year
    return f"{prefix}-{year}-" + numbers.random_characters(NUMBER_LENGTH)


def insert_numbered(obj: M, prefix: str, on_conflict: Callable[[], None] | None = None) -> M:
    """Insert ``obj`` under a fresh random ``number``, drawing again on the (rare) collision.
    ``on_conflict`` is called on any other integrity error (to raise a clearer ``Conflict``)."""
    return numbers.insert_numbered(
        obj, field="number", new_number=lambda: new_number(prefix), on_conflict=on_conflict
    )


def text_into(
    errors: Errors,
    key: str,
    value: Any,
    *,
    max_length: int,
    required: bool = False,
    single_line: bool = False,
) -> str:
    """``clean_text`` (trimmed, no invisible control characters, bounded) collecting its error
    under ``key``; ``single_line`` for names and numbers."""
    try:
        return clean_text(value, max_length=max_length, required=required, single_line=single_line)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add(key, message)
        return ""


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


@dataclass(frozen=True)
class Signature:
    """How a person signs: their full name typed, and a tick that they mean it."""

    signer_name: str
    confirmed: bool


def signature_into(errors: Errors, actor: Actor, signature: Signature) -> str:
    """The typed name, checked: required, and the account's full name when the account has one
    (whitespace and case aside), so that the name on the pledge is the signer's own."""
    name = text_into(
        errors, "signer_name", signature.signer_name, max_length=100, required=True, single_line=True
    )
    full_name = (getattr(actor.user, "full_name", "") or "").strip()
    if name and full_name and _squash(name) != _squash(full_name):
        errors.add(
            "signer_name",
            _("Type your full name exactly as it is on your account (%(name)s).") % {"name": full_name},
        )
    if not signature.confirmed:
        errors.add("confirmed", _("Tick the box to confirm that you sign this pledge."))
    return name


def department_writer(department: Department) -> Actor:
    """The portal writing a pledge's record for ``department``, when an entity's act (making or
    keeping a pledge) is what produces the record: the record is the department's, as the pledge
    is overseen by it, and no staff member took a decision."""
    return record_services.department_writer(department, system_name=SYSTEM_NAME)


def one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
