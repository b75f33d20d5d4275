"""Opening a business account and resetting a password, without telling anyone which accounts exist.

Sign-up. A business account signs in with its email address. The sign-up page never says whether
an address (or a user name: staff names live in the same table) is taken: every valid request gets
the same answer, "we have sent you an email", after the same work (the password is hashed and a
pending request is written either way). What differs is only what the email says, and only the
owner of the address reads it: a link to open the account, or "this address already has an
account: sign in or reset your password". The account is created when the link is followed.

Password reset. The page answers the same for every address; the email, if any, is sent by a task,
so that the answer takes the same time whether or not an account uses the address.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal import ratelimit
from credit_portal.accounts.actors import actor_for_user
from credit_portal.accounts.models import PendingSignup, User
from credit_portal.accounts.services import entity_user_create
from credit_portal.accounts.signin import signin_lockouts_lift_for
from credit_portal.audit import services as audit
from credit_portal.outbox import services as outbox

logger = logging.getLogger(__name__)
SIGNUP_EMAIL_TASK = "credit_portal.accounts.tasks.email_signup"
PASSWORD_RESET_EMAIL_TASK = "credit_portal.accounts.tasks.email_password_reset"  # noqa: S105 - a task name

_SIGNUP_SALT = "credit_portal.accounts.signup"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def address_has_account(email: str) -> bool:
    """Whether an account signs in with this address or gives it as its email."""
    return User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists()


# --- sign-up --------------------------------------------------------------------------------------


def entity_signup_request(
    *, email: str, password: str, full_name: str, phone: str = "", language: str = ""
) -> None:
    """Record a request to open a business account and email the address (by a task, on commit).
    The same work whether or not the address has an account; the task decides what to send.
    A newer request for the same address replaces the older one (and its link)."""
    email = normalise_email(email)
    password_hash = make_password(password)
    with transaction.atomic():
        pending, _created = PendingSignup.objects.update_or_create(
            email=email,
            defaults={
                "full_name": full_name,
                "phone": phone,
                "password": password_hash,
                "nonce": secrets.token_urlsafe(24),
                "language": language,
                "requested_at": timezone.now(),
            },
        )
        # Through the outbox: a broker that is down delays the email, never loses it.
        outbox.enqueue(SIGNUP_EMAIL_TASK, pending.pk)


def signup_token(pending: PendingSignup) -> str:
    return signing.TimestampSigner(salt=_SIGNUP_SALT).sign(f"{pending.pk}:{pending.nonce}")


def _pending_for(token: str, *, lock: bool = False) -> PendingSignup:
    invalid = ValidationError(
        _(
            "This link is not valid any more: it has expired, was replaced by a newer one or was used. Sign up again."
        ),
        code="invalid_link",
    )
    try:
        value = signing.TimestampSigner(salt=_SIGNUP_SALT).unsign(
            token, max_age=timedelta(seconds=settings.SIGNUP_CONFIRM_SECONDS)
        )
    except signing.BadSignature:
        raise invalid from None
    pk, _sep, nonce = value.partition(":")
    qs = PendingSignup.objects.select_for_update() if lock else PendingSignup.objects
    pending = qs.filter(pk=int(pk) if pk.isdigit() else 0, nonce=nonce).first()
    if pending is None:
        raise invalid
    return pending


def pending_signup_for_token(token: str) -> PendingSignup:
    """The pending request a confirmation link stands for; ValidationError if it is not valid."""
    return _pending_for(token)


@transaction.atomic
def entity_signup_confirm(*, token: str) -> User:
    """Open the account of a pending request whose link was followed: user name and email are the
    address. Side effects: audit event ``accounts.entity_user.signed_up``; the request is removed.
    Raises ValidationError for a link not valid, or an address that got an account meanwhile."""
    pending = _pending_for(token, lock=True)
    if address_has_account(pending.email):
        raise ValidationError(
            _("An account already uses this address. Sign in, or reset your password."), code="taken"
        )
    user = User(
        username=pending.email,
        email=pending.email,
        full_name=pending.full_name,
        phone=pending.phone,
        kind=User.Kind.ENTITY,
        password=pending.password,
    )
    entity_user_create(user)
    pending.delete()
    return user


def pending_signups_purge() -> int:
    """Remove requests whose link has expired."""
    cutoff = timezone.now() - timedelta(seconds=settings.SIGNUP_CONFIRM_SECONDS)
    deleted, _per_model = PendingSignup.objects.filter(requested_at__lt=cutoff).delete()
    return deleted


# --- password reset -------------------------------------------------------------------------------


def password_reset_request(*, email: str, language: str = "") -> bool:
    """Email a reset link to every active account with a usable password that has this address (by
    a task, so the answer takes the same time either way). At most
    ``PASSWORD_RESET_EMAILS_PER_HOUR`` requests an hour per address are sent, so that the form
    cannot flood a mailbox; the others are dropped silently. Returns whether the task was queued."""
    email = normalise_email(email)
    key = "password-reset:email:" + hashlib.sha256(email.encode()).hexdigest()[:40]
    if not ratelimit.allow(key, limit=settings.PASSWORD_RESET_EMAILS_PER_HOUR, window=3600):
        logger.info("Password reset for an address asked too often in the hour: not sent")
        return False
    with transaction.atomic():
        # The task's second argument is the base address an earlier release passed; now unused.
        outbox.enqueue(PASSWORD_RESET_EMAIL_TASK, email, "", language)
    return True


@transaction.atomic
def password_reset_complete(*, user: User, password: str) -> User:
    """Set the new password chosen through a reset link. Side effects: every other session of the
    account ends (Django checks the password hash on each request); the account name's sign-in
    lockouts are lifted (owning the address proves enough); audit event ``accounts.password.reset``."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(password)
    user.save(update_fields=["password"])
    actor = actor_for_user(user)
    lifted = signin_lockouts_lift_for(user=user, actor=actor, reason="password reset")
    audit.log(actor=actor, action="accounts.password.reset", target=user, data={"lockouts_lifted": lifted})
    return user
