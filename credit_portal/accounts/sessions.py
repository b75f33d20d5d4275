"""Session lifetimes: staff are signed out after a spell without activity, and every session ends a
fixed time after signing in, whatever the activity (staff sooner than business users).

The times are kept in the session itself (seconds since the epoch), so they hold in every process;
the last activity is written at most once a minute, so that a busy page does not write the session
on every request. A request the page makes by itself (a progress poll, marked ``@session_passive``)
does not count as activity: a screen left open still times out.
"""

from __future__ import annotations

import time
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils.translation import ngettext

SIGNED_IN_AT = "cp_signed_in_at"
SEEN_AT = "cp_seen_at"
# Last activity is rewritten only when older than this, to spare a write on every request.
SEEN_RESOLUTION = 60


def session_passive(view):
    """Mark a view that a page calls by itself (polling): its requests keep no session alive."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        return view(*args, **kwargs)

    wrapped.session_passive = True
    return wrapped


def is_staff_session(user) -> bool:
    return user.kind == user.Kind.STAFF or user.is_staff or user.is_superuser


def mark_signed_in(request) -> None:
    """Start the clocks of a session that has just signed in."""
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[SEEN_AT] = now


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    """Receiver of Django's ``user_logged_in``: every sign-in, whichever door or view made it (the
    portal's pages, the admin's, a confirmed sign-up), starts the clocks in the session it opens."""
    if request is not None and hasattr(request, "session"):
        mark_signed_in(request)


def _lifetime_message(max_age: int) -> str:
    if max_age >= 2 * 24 * 3600:
        days = round(max_age / (24 * 3600))
        return ngettext(
            "You were signed out: a session lasts at most %(days)d day. Please sign in again.",
            "You were signed out: a session lasts at most %(days)d days. Please sign in again.",
            days,
        ) % {"days": days}
    hours = max(1, round(max_age / 3600))
    return ngettext(
        "You were signed out: a session lasts at most %(hours)d hour. Please sign in again.",
        "You were signed out: a session lasts at most %(hours)d hours. Please sign in again.",
        hours,
    ) % {"hours": hours}


class SessionLifetimeMiddleware:
    """Ends a signed-in session that is past its absolute lifetime or, for staff, idle too long: the
    request then goes on as an anonymous one (so a protected page sends to its sign-in page) and a
    message says why."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        session = request.session
        now = time.time()
        signed_in_at = session.get(SIGNED_IN_AT)
        if not isinstance(signed_in_at, int | float):
            # A session opened before these limits were kept: its clocks start now.
            mark_signed_in(request)
            return None
        staff = is_staff_session(user)
        max_age = settings.STAFF_SESSION_MAX_AGE if staff else settings.ENTITY_SESSION_MAX_AGE
        if now - signed_in_at > max_age:
            self._end(request, _lifetime_message(max_age))
            return None
        if staff:
            seen_at = session.get(SEEN_AT, signed_in_at)
            idle = settings.STAFF_SESSION_IDLE_SECONDS
            if now - seen_at > idle:
                minutes = max(1, round(idle / 60))
                self._end(
                    request,
                    ngettext(
                        "You were signed out after %(minutes)d minute without activity. Please sign in again.",
                        "You were signed out after %(minutes)d minutes without activity. Please sign in again.",
                        minutes,
                    )
                    % {"minutes": minutes},
                )
                return None
            if not getattr(view_func, "session_passive", False) and now - seen_at >= SEEN_RESOLUTION:
                session[SEEN_AT] = now
        return None

    @staticmethod
    def _end(request, message: str) -> None:
        logout(request)
        messages.info(request, message)
