import logging

from celery import shared_task
from django.core.mail import mail_admins

from credit_portal.audit.anchors import AnchorSourceError
from credit_portal.audit.services import anchor_head
from credit_portal.audit.verification import verify_with_anchors

logger = logging.getLogger(__name__)


@shared_task
def anchor_audit_chain() -> dict:
    """Daily (and safe to run twice: a second anchor of the same head is one more witness): anchor
    the chain's head in the anchor store and publish it."""
    anchor = anchor_head()
    logger.info("Audit chain anchored at event #%d %s", anchor.sequence, anchor.hash)
    return {"sequence": anchor.sequence, "hash": anchor.hash}


@shared_task
def verify_audit_chain() -> dict:
    """Nightly: walk the whole chain against the anchor store and the published anchors, and alert
    the administrators of anything wrong."""
    try:
        result = verify_with_anchors()
    except AnchorSourceError as exc:
        message = f"Audit verification could not read the anchor store: {exc}"
        logger.error(message)
        mail_admins("Audit chain verification failed", message)
        return {"checked": 0, "broken_at": None, "anchors": 0, "problems": [message]}
    problems = [p.message for p in result.problems]
    if problems:
        message = (
            f"Audit trail not intact ({result.checked} rows read, {result.anchors_checked} anchors "
            "checked):\n" + "\n".join(f"- {p}" for p in problems)
        )
        logger.error(message)
        mail_admins("Audit chain verification failed", message)
    else:
        logger.info("Audit chain intact: %d rows, %d anchors checked", result.checked, result.anchors_checked)
    return {
        "checked": result.checked,
        "broken_at": result.broken_at,
        "anchors": result.anchors_checked,
        "problems": problems,
    }
