"""Reading notices."""

from __future__ import annotations

from credit_portal.accounts.capabilities import ROLE_CAPABILITIES, Cap
from credit_portal.accounts.models import Department, User
from credit_portal.notices.models import Notice


def unread_count(user: User) -> int:
    """One COUNT over the (recipient, read_at, -created_at) index."""
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


def notices_for(user: User, limit: int = 100) -> list[Notice]:
    """``user``'s own notices, newest first."""
    return list(Notice.objects.filter(recipient=user).order_by("-created_at", "-id")[:limit])


def recipients_for(department: Department, capability: str):
    """The active staff of an active ``department`` whose role grants ``capability``."""
    if capability not in Cap.values:
        # A misspelt capability would otherwise notify nobody, silently.
        raise ValueError(f"unknown capability: {capability!r}")
    roles = [role for role, caps in ROLE_CAPABILITIES.items() if capability in caps]
    return User.objects.filter(
        kind=User.Kind.STAFF,
        is_active=True,
        department=department,
        department__is_active=True,
        staff_role__in=roles,
    ).order_by("pk")
