"""The sign-in guard: failed attempts counted per account and per network address, lockouts, and
their lifting. Every sign-in door (staff, business, admin) goes through ``guarded_authenticate``.

Failures are counted with the same atomic Redis counter as the public rate limits
(``credit_portal.ratelimit.allow``: one INCR per attempt, so concurrent attempts are counted exactly,
in every process). The attempt that reaches a limit locks: the lockout is a row in the database
(``SignInLockout``), written with its audit event, so it holds for every process and survives a
restart of Redis. While an account or an address is locked, no password is even checked.

An account name that no account has is counted and locked exactly like one that exists, so that
the guard never tells which names exist.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from credit_portal import ratelimit, rows
from credit_portal.accounts.actors import Actor, system_actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import SignInLockout, User
from credit_portal.audit import services as audit

SUBJECT_MAX = 150


@dataclass(frozen=True)
class SignInRefused:
    """Returned by the guard instead of a user: the sign-in is locked until ``until``."""

    until: datetime

    @property
    def seconds(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))


def _account_key(username: str) -> str:
    # Hashed: a user name may hold any character, and a key should not carry it in clear.
    return "signin:account:" + hashlib.sha256(username.encode()).hexdigest()[:40]


def _address_key(address: str) -> str:
    return f"signin:address:{address}"


def locked_until(*, username: str, address: str) -> datetime | None:
    """The end of the latest lockout in force on this account name or this address, or None."""
    found = SignInLockout.objects.filter(
        Q(kind=SignInLockout.Kind.ACCOUNT, subject=username[:SUBJECT_MAX])
        | Q(kind=SignInLockout.Kind.ADDRESS, subject=address[:SUBJECT_MAX]),
        lifted_at__isnull=True,
        locked_until__gt=timezone.now(),
    ).aggregate(until=Max("locked_until"))
    return found["until"]


def guarded_authenticate(
    request, *, username: str, password: str, address: str
) -> User | SignInRefused | None:
    """Authenticate unless the account name or the address is locked; count a failure, and lock
    when it reaches a limit. Returns the user, None for a wrong user name or password, or
    ``SignInRefused`` while locked (also for the attempt that locked)."""
    until = locked_until(username=username, address=address)
    if until is not None:
        return SignInRefused(until)
    user = authenticate(request, username=username, password=password)
    if user is not None:
        ratelimit.reset(_account_key(username))
        return user
    locks = []
    window = settings.SIGNIN_FAILURE_WINDOW
    for kind, subject, key, limit in (
        (SignInLockout.Kind.ACCOUNT, username, _account_key(username), settings.SIGNIN_ACCOUNT_FAILURES),
        (SignInLockout.Kind.ADDRESS, address, _address_key(address), settings.SIGNIN_ADDRESS_FAILURES),
    ):
        # allow() is true while the count is at most its limit: the limit-th failure is refused.
        if not ratelimit.allow(key, limit=limit - 1, window=window):
            locks.append(signin_lockout_impose(kind=kind, subject=subject, failures=limit))
    if locks:
        return SignInRefused(max(lock.locked_until for lock in locks))
    return None


# --- services -------------------------------------------------------------------------------------


@transaction.atomic
def signin_lockout_impose(*, kind: str, subject: str, failures: int) -> SignInLockout:
    """Lock sign-in for an account name or an address for ``SIGNIN_LOCKOUT_SECONDS``. A lockout
    already in force is left as it is (concurrent attempts past the limit lock once). Side effects:
    audit event ``accounts.signin.locked_out``; the failure counter starts again from zero (at once:
    a counter reset by a lockout that then rolls back costs nothing but a few more attempts)."""
    subject = subject[:SUBJECT_MAX]
    now = timezone.now()
    lockout, _ = SignInLockout.objects.get_or_create(
        kind=kind, subject=subject, defaults={"failures": 0, "locked_at": now, "locked_until": now}
    )
    lockout = SignInLockout.objects.select_for_update().get(pk=lockout.pk)
    if lockout.is_active(now):
        return lockout
    lockout.user = (
        User.objects.filter(username=subject).first() if kind == SignInLockout.Kind.ACCOUNT else None
    )
    lockout.failures = failures
    lockout.locked_at = now
    lockout.locked_until = now + timedelta(seconds=settings.SIGNIN_LOCKOUT_SECONDS)
    lockout.lifted_at = None
    lockout.lifted_by = None
    lockout.save()
    audit.log(
        actor=system_actor("sign-in guard"),
        action="accounts.signin.locked_out",
        target=lockout,
        after={
            "kind": kind,
            "subject": subject,
            "failures": failures,
            "window_seconds": settings.SIGNIN_FAILURE_WINDOW,
            "locked_until": lockout.locked_until,
        },
    )
    key = _account_key(subject) if kind == SignInLockout.Kind.ACCOUNT else _address_key(subject)
    ratelimit.reset(key)
    return lockout


def _is_superuser(actor: Actor) -> bool:
    user = actor.user
    return user is not None and user.is_active and user.is_superuser


def lockouts_visible_to(actor: Actor) -> QuerySet[SignInLockout]:
    """The lockouts an actor may see and lift: every one for the credit office and superusers; the
    accounts of its own department's staff for a department administrator."""
    qs = SignInLockout.objects.select_related("user__department", "lifted_by")
    if _is_superuser(actor) or (actor.can(Cap.SIGNIN_UNLOCK) and actor.can(Cap.ALL_DEPARTMENTS)):
        return qs
    if actor.can(Cap.SIGNIN_UNLOCK) and actor.department_id is not None:
        return qs.filter(
            kind=SignInLockout.Kind.ACCOUNT,
            user__kind=User.Kind.STAFF,
            user__department_id=actor.department_id,
        )
    return qs.none()


def lockouts_in_force(actor: Actor) -> QuerySet[SignInLockout]:
    return lockouts_visible_to(actor).filter(lifted_at__isnull=True, locked_until__gt=timezone.now())


@transaction.atomic
def signin_lockout_lift(*, actor: Actor, lockout_id: int) -> SignInLockout:
    """Open sign-in again before the lockout ends. A lockout already over is left as it is.
    Side effects: audit event ``accounts.signin.lockout_lifted``; the failure counter starts again.
    Raises PermissionDenied without the capability, ``NotFound`` for a lockout the actor may not see."""
    if not _is_superuser(actor):
        actor.require(Cap.SIGNIN_UNLOCK)
    lockout = rows.locked_or_not_found(lockouts_visible_to(actor), pk=lockout_id)
    now = timezone.now()
    if not lockout.is_active(now):
        return lockout
    return _lift(lockout, actor=actor, now=now, reason="")


def signin_lockouts_lift_for(*, user: User, actor: Actor, reason: str) -> int:
    """Lift the lockouts of ``user``'s account name (e.g. once it has set a new password through
    the link sent to its address). Runs inside the caller's transaction. Returns how many."""
    now = timezone.now()
    lifted = 0
    for lockout in SignInLockout.objects.select_for_update().filter(
        kind=SignInLockout.Kind.ACCOUNT, subject=user.username, lifted_at__isnull=True, locked_until__gt=now
    ):
        _lift(lockout, actor=actor, now=now, reason=reason)
        lifted += 1
    if not lifted:
        ratelimit.reset(_account_key(user.username))
    return lifted


def _lift(lockout: SignInLockout, *, actor: Actor, now: datetime, reason: str) -> SignInLockout:
    lockout.lifted_at = now
    lockout.lifted_by = actor.user
    lockout.save(update_fields=["lifted_at", "lifted_by"])
    audit.log(
        actor=actor,
        action="accounts.signin.lockout_lifted",
        target=lockout,
        before={"locked_until": lockout.locked_until},
        after={"lifted_at": now},
        data={"kind": lockout.kind, "subject": lockout.subject, **({"reason": reason} if reason else {})},
    )
    key = (
        _account_key(lockout.subject)
        if lockout.kind == SignInLockout.Kind.ACCOUNT
        else _address_key(lockout.subject)
    )
    ratelimit.reset(key)
    return lockout
