"""Emailing notices. Idempotent: a notice is emailed once, whoever runs the task and however often."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from credit_portal import links
from credit_portal.notices.models import Notice

logger = logging.getLogger(__name__)

SITE_NAME_ZH = "信用监管平台"
SITE_NAME_EN = "Credit Portal"


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_notices(notice_ids: list[int]) -> int:
    """Email each notice not emailed yet to its recipient, if active and with an address, and set
    ``emailed_at``. Each notice is locked while it is sent (``SKIP LOCKED``: a notice another worker
    is sending is left to it). A mail server error retries the task, which skips what was sent.
    Returns how many emails were sent."""
    sent = 0
    for notice_id in notice_ids:
        with transaction.atomic():
            notice = (
                Notice.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient")
                .filter(
                    pk=notice_id,
                    emailed_at__isnull=True,
                    recipient__is_active=True,
                )
                .exclude(recipient__email="")
                .first()
            )
            if notice is None:
                continue
            subject, body = render_email(notice)
            send_mail(subject, body, None, [notice.recipient.email], fail_silently=False)
            notice.emailed_at = timezone.now()
            notice.save(update_fields=["emailed_at"])
            sent += 1
    if sent:
        logger.info("Emailed %d notice(s)", sent)
    return sent


def render_email(notice: Notice) -> tuple[str, str]:
    """Subject and plain-text body in both languages, Chinese first: the user's language is not
    known, and a notice may reach them outside the portal."""
    subject = f"[{SITE_NAME_ZH}] {notice.subject_zh}"
    if notice.subject_en and notice.subject_en != notice.subject_zh:
        subject += f" / {notice.subject_en}"
    # Stored as the portal's path (the notice list links to it); the email, read outside the portal,
    # carries the full address at SITE_URL.
    url = links.absolute(notice.link)
    zh = [notice.subject_zh, "", notice.body_zh]
    if url:
        zh += ["", f"查看：{url}"]
    parts = ["\n".join(zh).strip()]
    if notice.subject_en or notice.body_en:
        en = [notice.subject_en, "", notice.body_en]
        if url:
            en += ["", f"View: {url}"]
        parts.append("\n".join(en).strip())
    footer = (
        f"{SITE_NAME_ZH} / {SITE_NAME_EN}\n"
        "此邮件由系统自动发送，请勿回复。 / This message was sent automatically; please do not reply."
    )
    return subject, "\n\n----\n\n".join(parts) + "\n\n-- \n" + footer + "\n"
