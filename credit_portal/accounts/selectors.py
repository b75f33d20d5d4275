"""Reads of the core reference data that more than one app needs."""

from __future__ import annotations

from django.core.cache import cache

from credit_portal.accounts.models import Division


def division_and_children(code: str) -> list[str]:
    """``code`` and every division below it (GB/T 2260 has three levels), cached for an hour: the
    table changes a few times a year, through the audited admin."""
    key = f"divisions:below:{code}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    found = [code]
    frontier = [code]
    while frontier:
        frontier = list(Division.objects.filter(parent_id__in=frontier).values_list("code", flat=True))
        found.extend(frontier)
    cache.set(key, found, 3600)
    return found
