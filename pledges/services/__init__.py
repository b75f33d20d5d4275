"""Every write of the pledges app (keyword-only, one transaction, audit event inside)."""

from pledges.services.applications import (
    PledgeSigning,
    application_decide,
    application_pledge_sign,
    application_submit,
    material_download,
    material_supply,
)
from pledges.services.breaches import (
    DEFENCE_RULE,
    breach_defence_download,
    breach_windows_closed,
    pledge_breach_answer,
    pledge_breach_drop,
    pledge_breach_notify,
    pledge_confirm_breach,
)
from pledges.services.common import Signature
from pledges.services.matters import (
    EducationInput,
    MaterialInput,
    MatterInput,
    compliance_material_save,
    education_acknowledge,
    matter_save,
    pledge_template_publish,
)
from pledges.services.performance import (
    BREACH_SEVERITIES,
    pledge_accept_late,
    pledges_flag_overdue,
    pledges_lapse_expired,
)
from pledges.services.permits import PERMIT_KEYS, PermitInput
from pledges.services.public import association_pledge_register, public_pledge_publish
from pledges.services.remedies import decision_remedies, remedy_rule_set

__all__ = [
    "BREACH_SEVERITIES",
    "DEFENCE_RULE",
    "PERMIT_KEYS",
    "EducationInput",
    "MaterialInput",
    "MatterInput",
    "PermitInput",
    "PledgeSigning",
    "Signature",
    "application_decide",
    "application_pledge_sign",
    "application_submit",
    "association_pledge_register",
    "breach_defence_download",
    "breach_windows_closed",
    "compliance_material_save",
    "decision_remedies",
    "education_acknowledge",
    "material_download",
    "material_supply",
    "matter_save",
    "pledge_accept_late",
    "pledge_breach_answer",
    "pledge_breach_drop",
    "pledge_breach_notify",
    "pledge_confirm_breach",
    "pledge_template_publish",
    "pledges_flag_overdue",
    "pledges_lapse_expired",
    "public_pledge_publish",
    "remedy_rule_set",
]
