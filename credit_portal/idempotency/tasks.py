"""Beat's daily purge of expired submission and idempotency keys
(``CELERY_BEAT_SCHEDULE["purge-idempotency-keys"]``)."""

from __future__ import annotations

from celery import shared_task

from credit_portal.idempotency import services


@shared_task
def purge_expired_keys() -> dict[str, int]:
    """Idempotent: deletes only what is older than the window."""
    return services.purge_expired()
