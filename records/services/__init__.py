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
from records.services.endings import record_end, record_restore
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
from records.services.workflow import department_writer, workflow_record_create

__all__ = [
    "EntityInput",
    "PersonInput",
    "RowResult",
    "claim_decide",
    "claim_submit",
    "claim_withdraw",
    "department_writer",
    "entity_grant_department",
    "entity_person_add",
    "entity_person_end",
    "entity_register",
    "entity_update",
    "person_identity_reveal",
    "record_confirm",
    "record_correct",
    "record_create",
    "record_end",
    "record_restore",
    "record_revoke",
    "records_import",
    "workflow_record_create",
]
