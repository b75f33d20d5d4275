"""Records that a stage app's procedure writes: a pledge made or kept, a broken pledge confirmed, a
designation decided, a correction notice served... The procedure is the app's (pledges, listings,
punishments, restoration, appraisals); the record is the hub's, written here as for every other
door, with its version, audit event and change-feed entry (``record_create``).

The record belongs to a department: the one whose staff member decided (the actor of the decision),
or, when an entity's own act produced it and no staff member decided anything (a pledge made or
kept), the overseeing department, written by the portal for it (``department_writer``). Its
provenance is the portal's workflow, so the workflow-only items of the catalogue (designations,
pledges) accept it; the record form, files and the records API refuse them."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from records.fields import RecordInput
from records.models import CreditRecord
from records.services.credit import record_create

# The record's text limits (``CreditRecord``): a procedure's text is the portal's own, composed
# from what the procedure holds, and is cut to fit rather than refused.
LEGAL_BASIS_MAX, CONTENT_MAX, REMARKS_MAX = 2000, 4000, 2000


def department_writer(department: Department, *, system_name: str) -> Actor:
    """The portal writing a record for ``department`` when an entity's act, not a staff member's
    decision, produces it: the record is the department's, as the procedure is overseen by it;
    the audit trail names the procedure (``system:<system_name>``)."""
    return Actor(
        kind="system",
        capabilities=frozenset({Cap.RECORDS_WRITE}),
        department=department,
        system_name=system_name,
    )


def workflow_record_create(
    *,
    actor: Actor,
    item: str,
    entity_code: str,
    decision_number: str,
    content: str,
    decision_date: date | None = None,
    legal_basis: str = "",
    remarks: str = "",
    severity: str = "",
    valid_from: date | None = None,
    valid_to: date | None = None,
    fields: dict[str, Any] | None = None,
    provenance: str = CreditRecord.Provenance.SYSTEM,
) -> CreditRecord:
    """One record of ``item`` about the entity ``entity_code`` for the actor's department (a staff
    member's, or ``department_writer``'s), dated ``decision_date`` (today when not given).

    The decision number must be unique in the department (``records`` requires it): a procedure
    uses its own reference, with a suffix for each record it writes (``CN-2026-…-LY``). Raises
    ``ValidationError`` and ``Conflict`` as ``record_create`` does. Side effects: version 1, audit
    event, change-feed entry, disclosure planned like any record of the item."""
    return record_create(
        actor=actor,
        data=RecordInput(
            item=item,
            severity=severity,
            code=entity_code,
            decision_number=decision_number,
            decision_date=decision_date or timezone.localdate(),
            legal_basis=legal_basis[:LEGAL_BASIS_MAX],
            content=content[:CONTENT_MAX],
            remarks=remarks[:REMARKS_MAX],
            valid_from=valid_from,
            valid_to=valid_to,
            fields=dict(fields or {}),
        ),
        provenance=provenance,
    )
