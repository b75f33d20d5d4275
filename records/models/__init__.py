"""The hub's models: the registry (entities and the persons behind them), the catalogue of credit
information, credit records with their versions and change feed, objections and complaints."""

from records.models.catalogue import CatalogueItem, DisclosurePeriodRule, Severity
from records.models.credit import CreditRecord, RecordChange, RecordProposal, RecordVersion
from records.models.feedback import Complaint, Objection
from records.models.imports import ImportJob
from records.models.organisations import CreditServiceAgency, IndustryAssociation
from records.models.registry import (
    EntityClaim,
    EntityMembership,
    EntityPerson,
    EntityType,
    Industry,
    MarketEntity,
    MarketEntityGroupObjectPermission,
    Person,
    SearchVector,
    no_nul,
)

__all__ = [
    "CatalogueItem",
    "Complaint",
    "CreditRecord",
    "CreditServiceAgency",
    "DisclosurePeriodRule",
    "EntityClaim",
    "EntityMembership",
    "EntityPerson",
    "EntityType",
    "ImportJob",
    "Industry",
    "IndustryAssociation",
    "MarketEntity",
    "MarketEntityGroupObjectPermission",
    "Objection",
    "Person",
    "RecordChange",
    "RecordProposal",
    "RecordVersion",
    "SearchVector",
    "Severity",
    "no_nul",
]
