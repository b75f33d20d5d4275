"""Every write to the hub goes through these functions (keyword-only, one transaction, audited)."""

from records.services.claims import claim_decide, claim_submit, claim_withdraw
from records.services.credit import (
    RowResult,
    record_confirm,
    record_correct,
    record_create,
    record_revoke,
    records_import,
)
from records.services.entities import (
    EntityInput,
    PersonInput,
    entity_grant_department,
    entity_person_add,
    entity_person_end,
    entity_register,
    entity_update,
    person_identity_reveal,
)

__all__ = [
    "EntityInput",
    "PersonInput",
    "RowResult",
    "claim_decide",
    "claim_submit",
    "claim_withdraw",
    "entity_grant_department",
    "entity_person_add",
    "entity_person_end",
    "entity_register",
    "entity_update",
    "person_identity_reveal",
    "record_confirm",
    "record_correct",
    "record_create",
    "record_revoke",
    "records_import",
]
