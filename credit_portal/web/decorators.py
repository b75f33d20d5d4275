"""Door guards for the server-rendered pages."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse

from credit_portal.accounts.actors import actor_for_user


def wrong_door(request, door: str):
    """The 403 a signed-in person gets at a door that is not theirs: a business account at
    ``/staff/``, a staff account at ``/my/``. It says what this door is for, where their own is,
    and has the button that signs them out (to sign in with the other account)."""
    return render(request, f"{door}/wrong_door.html", status=403)


def staff_required(capability: str | None = None):
    """Signed-in department staff holding ``capability``. Others: the login page; a signed-in
    business account, the page saying this door is the regulators'; staff lacking ``capability``, 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("staff:login"))
            actor = actor_for_user(request.user)
            if actor.kind != "staff":
                return wrong_door(request, "staff")
            if capability and not actor.can(capability):
                raise PermissionDenied
            request.actor = actor
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def entity_user_required(view):
    """Signed-in self-service users (market entity side). A signed-in staff account gets the page
    saying this door is the businesses'."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("my:login"))
        actor = actor_for_user(request.user)
        if actor.kind != "entity":
            return wrong_door(request, "my")
        request.actor = actor
        return view(request, *args, **kwargs)

    return wrapped


def no_store(view):
    """``Cache-Control: no-store`` on a page that shows a secret (a new API token, a clear identity
    number, a password reset form): no browser or proxy may keep a copy, and the back button
    after signing out cannot show it again."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        return response

    return wrapped
