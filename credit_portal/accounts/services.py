"""Writes to departments, users and API tokens. Each runs in one transaction and is audited."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap, StaffRole, parse_scopes
from credit_portal.accounts.models import ApiToken, Department, Division, User
from credit_portal.audit import services as audit
from credit_portal.text import refuse_invisible_in_name

TOKEN_PREFIX = "cp_"  # noqa: S105 - a public prefix, not a secret
_DEPARTMENT_FIELDS = ["code", "name_zh", "name_en", "division", "level", "parent", "is_active"]
_USER_FIELDS = ["username", "kind", "full_name", "email", "department", "staff_role", "is_active"]


@transaction.atomic
def department_create(
    *,
    actor: Actor,
    code: str,
    name_zh: str,
    name_en: str = "",
    division: Division,
    level: str,
    parent: Department | None = None,
) -> Department:
    """Create a department with the group through which its object permissions are granted."""
    department = Department(
        code=code, name_zh=name_zh, name_en=name_en, division=division, level=level, parent=parent
    )
    department.group = Group(name=f"department:{code}")
    department.full_clean(exclude=["group"])
    department.group.save()
    department.save()
    audit.log(
        actor=actor,
        action="accounts.department.created",
        target=department,
        after=audit.snapshot(department, _DEPARTMENT_FIELDS),
    )
    return department


@transaction.atomic
def staff_user_create(
    *,
    actor: Actor,
    username: str,
    password: str | None,
    department: Department,
    role: str,
    full_name: str = "",
    email: str = "",
) -> User:
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        kind=User.Kind.STAFF,
        department=department,
        staff_role=StaffRole(role),
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.add(department.group)
    audit.log(
        actor=actor, action="accounts.staff.created", target=user, after=audit.snapshot(user, _USER_FIELDS)
    )
    return user


@transaction.atomic
def entity_user_signup(*, username: str, password: str, full_name: str, email: str, phone: str = "") -> User:
    """A member of the public opens an account to act for a market entity (claimed afterwards)."""
    user = User(username=username, full_name=full_name, email=email, phone=phone, kind=User.Kind.ENTITY)
    user.set_password(password)
    return entity_user_create(user)


def entity_user_create(user: User) -> User:
    """Save a new entity user (its password already set or hashed) with its audit event, inside the
    caller's transaction."""
    user.full_clean(exclude=["password"])
    user.save()
    audit.log(
        actor=Actor(kind="entity", user=user),
        action="accounts.entity_user.signed_up",
        target=user,
        after=audit.snapshot(user, _USER_FIELDS),
    )
    return user


def token_digest(secret: str) -> str:
    # The secret carries 256 bits of randomness, so a plain SHA-256 is enough (no salt or stretching).
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def token_issue(
    *,
    actor: Actor,
    department: Department,
    scopes: str | list[str],
    name: str,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Issue an API token for ``department``. Returns the token row and the secret, which is
    never stored and cannot be shown again."""
    if not actor.acts_for_department(department.pk) and actor.kind != "system":
        actor.require(Cap.ALL_DEPARTMENTS)
    actor.require(Cap.TOKENS_MANAGE)
    refuse_invisible_in_name(name)
    scope_list = parse_scopes(scopes if isinstance(scopes, str) else ",".join(scopes))
    body = secrets.token_urlsafe(32)
    secret = f"{TOKEN_PREFIX}{body}"
    token = ApiToken.objects.create(
        department=department,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 8],
        digest=token_digest(secret),
        scopes=scope_list,
        created_by=actor.user,
        expires_at=expires_at,
    )
    audit.log(
        actor=actor,
        action="accounts.token.issued",
        target=token,
        after={"department": department.code, "name": name, "scopes": scope_list, "prefix": token.prefix},
    )
    return token, secret


@transaction.atomic
def token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    actor.require(Cap.TOKENS_MANAGE)
    if not actor.acts_for_department(token.department_id):
        actor.require(Cap.ALL_DEPARTMENTS)
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.log(
        actor=actor, action="accounts.token.revoked", target=token, after={"revoked_at": token.revoked_at}
    )
    return token


def token_authenticate(secret: str) -> ApiToken | None:
    """The usable token with this secret, or None. Records the last use at most once a minute."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = ApiToken.objects.select_related("department").filter(digest=token_digest(secret)).first()
    now = timezone.now()
    if token is None or not token.is_usable(now) or not token.department.is_active:
        return None
    if token.last_used_at is None or token.last_used_at < now - timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
