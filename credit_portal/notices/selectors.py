"""Reading notices."""

from __future__ import annotations

from credit_portal.accounts.models import User
from credit_portal.notices.models import Notice


def unread_count(user: User) -> int:
    """One COUNT over the (recipient, read_at, -created_at) index."""
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


def notices_for(user: User, limit: int = 100) -> list[Notice]:
    """``user``'s own notices, newest first."""
    return list(Notice.objects.filter(recipient=user).order_by("-created_at", "-id")[:limit])
