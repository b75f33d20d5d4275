"""Reads of the audit trail shared by more than one door."""

from django.db.models import QuerySet

from credit_portal.audit.models import AuditAnchor


def published_anchors() -> QuerySet[AuditAnchor]:
    """Every anchor of the chain's head, newest first. Public: an anchor says nothing about what the
    trail holds, only what its newest row's hash was."""
    return AuditAnchor.objects.order_by("-id")
