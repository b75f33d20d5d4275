"""Who is acting. Every service takes an ``actor``; every door builds one from its request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from credit_portal.accounts.capabilities import ENTITY_MEMBER_CAPABILITIES, ROLE_CAPABILITIES, Cap

if TYPE_CHECKING:
    from credit_portal.accounts.models import ApiToken, Department, User


@dataclass(frozen=True)
class Actor:
    kind: str  # "staff" | "entity" | "token" | "public" | "system"
    capabilities: frozenset[str] = field(default_factory=frozenset)
    user: User | None = None
    token: ApiToken | None = None
    department: Department | None = None
    system_name: str = ""

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def require(self, capability: str) -> None:
        """Raise PermissionDenied unless the actor holds ``capability``. Checked before any lookup,
        so that a refusal never depends on whether the object asked for exists."""
        if capability not in self.capabilities:
            raise PermissionDenied(capability)

    @property
    def department_id(self) -> int | None:
        return self.department.pk if self.department is not None else None

    def acts_for_department(self, department_id: int | None) -> bool:
        """Whether objects owned by ``department_id`` are this actor's own department's."""
        if self.can(Cap.ALL_DEPARTMENTS):
            return True
        return department_id is not None and department_id == self.department_id

    @property
    def is_staff_member(self) -> bool:
        return self.kind == "staff"

    @property
    def label(self) -> str:
        if self.kind == "token" and self.token is not None:
            return f"token:{self.token.prefix} ({self.token.department.code})"
        if self.user is not None:
            return f"user:{self.user.username}"
        if self.kind == "system":
            return f"system:{self.system_name}"
        return self.kind


PUBLIC = Actor(kind="public")


def actor_for_user(user: User | None) -> Actor:
    if user is None or not user.is_authenticated or not user.is_active:
        return PUBLIC
    if user.kind == user.Kind.STAFF:
        if user.department is None or not user.department.is_active:
            return Actor(
                kind="staff", user=user, department=user.department
            )  # a closed department acts no more
        return Actor(
            kind="staff",
            capabilities=ROLE_CAPABILITIES.get(user.staff_role, frozenset()),
            user=user,
            department=user.department,
        )
    return Actor(kind="entity", capabilities=ENTITY_MEMBER_CAPABILITIES, user=user)


def actor_for_token(token: ApiToken) -> Actor:
    return Actor(kind="token", capabilities=frozenset(token.scopes), token=token, department=token.department)


def system_actor(name: str) -> Actor:
    """The portal itself, e.g. a beat sweep or a management command run by an operator."""
    return Actor(kind="system", capabilities=frozenset(Cap.values), system_name=name)


def actor_for_request(request) -> Actor:
    """The actor behind a Django or DRF request: an agency token if one authenticated it, else the user."""
    from credit_portal.accounts.models import ApiToken

    token = getattr(request, "auth", None)
    if isinstance(token, ApiToken):
        return actor_for_token(token)
    return actor_for_user(getattr(request, "user", None))
