import logging

from celery import shared_task
from django.core.mail import mail_admins

from credit_portal.audit.services import verify_chain

logger = logging.getLogger(__name__)


@shared_task
def verify_audit_chain() -> dict:
    """Nightly: walk the whole chain and alert the administrators at the first broken row."""
    checked, brk = verify_chain()
    if brk is not None:
        message = f"Audit chain broken at event #{brk.event_id}: {brk.reason} ({checked} rows read)."
        logger.error(message)
        mail_admins("Audit chain verification failed", message)
        return {"checked": checked, "broken_at": brk.event_id}
    logger.info("Audit chain intact: %d rows", checked)
    return {"checked": checked, "broken_at": None}
