"""Registries through which apps contribute to shared pages without the core importing them.

An app calls ``staff_nav.add(...)`` / ``dashboard_panels.add(...)`` / ``my_nav.add(...)`` in its
``AppConfig.ready``. A section that does not exist yet has no entry, so no door links to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from credit_portal.accounts.actors import Actor


@dataclass(frozen=True)
class NavItem:
    label: Any  # a lazy translation
    url_name: str
    capability: str | None
    order: int = 100


@dataclass(frozen=True)
class MyNavItem:
    """A section of the business door: in its navigation, and on its home page with ``purpose``,
    one line on what it is for."""

    label: Any  # a lazy translation
    url_name: str
    purpose: Any  # a lazy translation
    capability: str | None = None
    order: int = 100


@dataclass(frozen=True)
class DashboardPanel:
    """``render(actor) -> dict | None``: context for ``template``, or None to hide the panel."""

    template: str
    render: Callable[[Actor], dict | None]
    capability: str | None
    order: int = 100


class _Registry(list):
    def add(self, item) -> None:
        if item not in self:
            self.append(item)
            self.sort(key=lambda i: i.order)

    def visible_to(self, actor: Actor) -> list:
        return [i for i in self if i.capability is None or actor.can(i.capability)]


staff_nav: _Registry = _Registry()
dashboard_panels: _Registry = _Registry()
my_nav: _Registry = _Registry()
