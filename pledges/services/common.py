"""What every pledge service shares: numbers, signatures, text checks, and writing the pledge's
credit records through ``records``: catalogue item "credit pledges and their performance" for a
pledge and its keeping, its negative sibling "... : breaches" for a pledge broken."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from records.fields import Errors, RecordInput, clean_text
from records.models import CreditRecord
from records.services import record_create

PLEDGE_ITEM = "pledge_performance"
BREACH_ITEM = "pledge_breach"
# Unambiguous when read aloud or copied by hand: no 0/O, no 1/I.
NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
NUMBER_LENGTH = 8
APPLICATION_PREFIX = "SQ"
PLEDGE_PREFIX = "CN"
_ATTEMPTS = 5

M = TypeVar("M", bound=models.Model)


def new_number(prefix: str, today: date | None = None) -> str:
    """``CN-2026-7K3QZP9A``: prefix, year, eight random characters (16 in all)."""
    year = (today or timezone.localdate()).year
    return f"{prefix}-{year}-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


def insert_numbered(obj: M, prefix: str, on_conflict: Callable[[], None] | None = None) -> M:
    """Insert ``obj`` under a fresh random ``number``, drawing again on the (rare) collision.
    ``on_conflict`` is called on any other integrity error (to raise a clearer ``Conflict``)."""
    for attempt in range(_ATTEMPTS):
        obj.number = new_number(prefix)
        try:
            with transaction.atomic():
                obj.save(force_insert=True)
        except IntegrityError:
            if on_conflict is not None:
                on_conflict()
            if attempt + 1 < _ATTEMPTS and type(obj).objects.filter(number=obj.number).exists():
                continue
            raise
        return obj
    raise AssertionError("unreachable")  # pragma: no cover


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
    return Actor(
        kind="system",
        capabilities=frozenset({Cap.RECORDS_WRITE}),
        department=department,
        system_name="pledges",
    )


def write_pledge_record(
    *,
    actor: Actor,
    entity_code: str,
    decision_number: str,
    content: str,
    remarks: str = "",
    legal_basis: str = "",
    valid_from: date | None = None,
    valid_to: date | None = None,
    item: str = PLEDGE_ITEM,
    severity: str = "",
) -> CreditRecord:
    """One record of a pledge item for the actor's department, dated today. Decision numbers are
    the pledge's number (the pledge itself) or it with a suffix (its performance), so they are
    unique per department as ``records`` requires."""
    return record_create(
        actor=actor,
        data=RecordInput(
            item=item,
            severity=severity,
            code=entity_code,
            decision_number=decision_number,
            decision_date=timezone.localdate(),
            legal_basis=legal_basis[:2000],
            content=content[:4000],
            remarks=remarks[:2000],
            valid_from=valid_from,
            valid_to=valid_to,
        ),
        provenance=CreditRecord.Provenance.SYSTEM,
    )


def one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
