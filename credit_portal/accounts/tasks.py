"""Emails of sign-up and password reset, sent by the worker so that the page that asked for them
answers at once and in the same time whatever the email says (or whether one is sent)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from credit_portal import links
from credit_portal.accounts.models import PendingSignup
from credit_portal.accounts.signup import address_has_account, pending_signups_purge, signup_token

logger = logging.getLogger(__name__)

SITE_NAME_ZH = "信用监管平台"
SITE_NAME_EN = "Credit Portal"


def render_bilingual_email(template: str, context: dict) -> tuple[str, str]:
    """Subject and plain-text body in both languages, Chinese first (the reader's language is not
    known outside the portal). ``template`` names ``emails/<template>_subject.txt`` and
    ``emails/<template>.txt``."""
    parts, subjects = [], []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            subjects.append(render_to_string(f"emails/{template}_subject.txt", context).strip())
            parts.append(render_to_string(f"emails/{template}.txt", context).strip())
    subject = f"[{SITE_NAME_ZH}] {subjects[0]}"
    if subjects[1] != subjects[0]:
        subject += f" / {subjects[1]}"
    footer = (
        f"{SITE_NAME_ZH} / {SITE_NAME_EN}\n"
        "此邮件由系统自动发送，请勿回复。 / This message was sent automatically; please do not reply."
    )
    return subject, "\n\n----\n\n".join(parts) + "\n\n-- \n" + footer + "\n"


# The links in these emails are at the portal's public address (SITE_URL, credit_portal/links.py),
# never at the host of the request that asked for them: a Host header is the client's to choose, and
# a reset link pointing at another server would hand that server the reset token. (The tasks still
# accept the ``base_url`` that requests queued by an earlier release carry, and ignore it.)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_signup(pending_id: int, base_url: str = "") -> str:
    """Email a pending sign-up's address: the link that opens the account, or, if the address has
    an account already, a note saying so (and the request is dropped). Returns which was sent."""
    pending_signups_purge()
    pending = PendingSignup.objects.filter(pk=pending_id).first()
    if pending is None:
        return "none"
    context = {
        "email": pending.email,
        "full_name": pending.full_name,
        "sign_in_url": links.absolute(reverse("my:login")),
        "reset_url": links.absolute(reverse("account:password_reset")),
        "hours": settings.SIGNUP_CONFIRM_SECONDS // 3600,
    }
    if address_has_account(pending.email):
        PendingSignup.objects.filter(pk=pending.pk).delete()
        subject, body = render_bilingual_email("signup_address_taken", context)
        kind = "taken"
    else:
        context["confirm_url"] = links.absolute(
            reverse("my:signup_confirm", kwargs={"token": signup_token(pending)})
        )
        subject, body = render_bilingual_email("signup_confirm", context)
        kind = "confirm"
    send_mail(subject, body, None, [pending.email], fail_silently=False)
    return kind


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def email_password_reset(email: str, base_url: str = "", language: str = "") -> int:
    """Email a password reset link to each active account with a usable password and this address
    (Django's rule, ``PasswordResetForm.get_users``). Returns how many were sent."""
    sent = 0
    for user in PasswordResetForm().get_users(email):
        link = links.absolute(
            reverse(
                "account:password_reset_confirm",
                kwargs={
                    "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                    "token": default_token_generator.make_token(user),
                },
            )
        )
        subject, body = render_bilingual_email(
            "password_reset",
            {
                "user": user,
                "username": user.get_username(),
                "reset_url": link,
                "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            },
        )
        send_mail(subject, body, None, [user.email], fail_silently=False)
        sent += 1
    if sent:
        logger.info("Sent %d password reset email(s)", sent)
    return sent
