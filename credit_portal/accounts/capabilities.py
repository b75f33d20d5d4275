"""The capability vocabulary.

A capability is named once here and checked the same way for a staff user (through the role), an
entity user (through membership of an entity) and an agency token (through its scopes). Token scopes
are capabilities too, written with the same names: ``entities:read``, ``entities:write``...
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Cap(models.TextChoices):
    ENTITIES_READ = "entities:read", _("Read the entity registry")
    ENTITIES_WRITE = "entities:write", _("Register and edit entities")
    PERSONS_IDENTITY = "persons:identity", _("See identity numbers unmasked")
    CLAIMS_REVIEW = "claims:review", _("Review claims of entity accounts")
    CALENDAR_MANAGE = "calendar:manage", _("Edit the working-day calendar")
    AUDIT_READ = "audit:read", _("Read the audit trail")
    TOKENS_MANAGE = "tokens:manage", _("Issue and revoke the department's API tokens")
    SIGNIN_UNLOCK = "signin:unlock", _("Lift the sign-in lockouts of the department's staff")
    ALL_DEPARTMENTS = "departments:all", _("Act on objects of every department")
    RECORDS_READ = "records:read", _("Read credit records")
    RECORDS_WRITE = "records:write", _("Record, correct and revoke the department's credit records")
    RECORDS_CONFIRM = "records:confirm", _("Confirm draft credit records")
    CATALOGUE_MANAGE = "catalogue:manage", _("Edit the credit information catalogue")
    OBJECTIONS_ANSWER = "objections:answer", _("Answer objections to the department's records")
    COMPLAINTS_HANDLE = "complaints:handle", _("Handle complaints and tip-offs routed to the department")
    COMPLAINTS_SUBMIT = "complaints:write", _("Submit complaints from a hotline system")
    PLEDGES_MANAGE = (
        "pledges:manage",
        _("Publish matters and pledge templates, decide applications, settle pledges"),
    )
    REPORTS_REQUEST = "reports:request", _("Request credit reports on any entity")
    ORGANISATIONS_MANAGE = (
        "organisations:manage",
        _("Register industry associations and credit service agencies"),
    )
    # Held by entity users for the entities they are members of.
    OWN_ENTITY = "my:entity", _("Act for one's own entity")


class StaffRole(models.TextChoices):
    CLERK = "clerk", _("Clerk")
    REVIEWER = "reviewer", _("Reviewer")
    DEPARTMENT_ADMIN = "department_admin", _("Department administrator")
    CREDIT_OFFICE = "credit_office", _("Credit office")


_CLERK = {Cap.ENTITIES_READ, Cap.ENTITIES_WRITE, Cap.RECORDS_READ, Cap.RECORDS_WRITE, Cap.REPORTS_REQUEST}
_REVIEWER = _CLERK | {
    Cap.CLAIMS_REVIEW,
    Cap.PERSONS_IDENTITY,
    Cap.RECORDS_CONFIRM,
    Cap.OBJECTIONS_ANSWER,
    Cap.COMPLAINTS_HANDLE,
    Cap.PLEDGES_MANAGE,
}
_DEPARTMENT_ADMIN = _REVIEWER | {Cap.TOKENS_MANAGE, Cap.AUDIT_READ, Cap.SIGNIN_UNLOCK}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    StaffRole.CLERK: frozenset(_CLERK),
    StaffRole.REVIEWER: frozenset(_REVIEWER),
    StaffRole.DEPARTMENT_ADMIN: frozenset(_DEPARTMENT_ADMIN),
    StaffRole.CREDIT_OFFICE: frozenset(
        _DEPARTMENT_ADMIN
        | {Cap.CALENDAR_MANAGE, Cap.ALL_DEPARTMENTS, Cap.CATALOGUE_MANAGE, Cap.ORGANISATIONS_MANAGE}
    ),
}

ENTITY_MEMBER_CAPABILITIES: frozenset[str] = frozenset({Cap.OWN_ENTITY})

# What an agency token may be granted. Seeing identity numbers unmasked is for named staff only.
TOKEN_SCOPES: frozenset[str] = frozenset(
    {
        Cap.ENTITIES_READ,
        Cap.ENTITIES_WRITE,
        Cap.RECORDS_READ,
        Cap.RECORDS_WRITE,
        Cap.COMPLAINTS_SUBMIT,
        Cap.REPORTS_REQUEST,
    }
)


def parse_scopes(text: str) -> list[str]:
    """Parse a comma-separated scope list, raising ValueError naming any unknown scope."""
    scopes = sorted({s.strip() for s in text.split(",") if s.strip()})
    if not scopes:
        raise ValueError("at least one scope is required")
    unknown = [s for s in scopes if s not in TOKEN_SCOPES]
    if unknown:
        raise ValueError(
            f"unknown scope(s): {', '.join(unknown)}; allowed: {', '.join(sorted(TOKEN_SCOPES))}"
        )
    return scopes
