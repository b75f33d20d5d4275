"""The disclosure app's contributions to the staff dashboard and navigation, and to the business door's.

Registered by ``DisclosureConfig.ready`` (``from disclosure import staff_panels``)."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.web.registry import DashboardPanel, MyNavItem, NavItem, dashboard_panels, my_nav, staff_nav
from disclosure import selectors


def _disclosure_panel(actor: Actor) -> dict | None:
    """Records of the department (the credit office: of every department) due within one working
    day and overdue for publication. One query."""
    if actor.department is None:
        return None
    counts = selectors.pending_counts(actor, today=timezone.localdate())
    return {
        "at_risk": counts["at_risk"],
        "overdue": counts["overdue"],
        "all_departments": actor.can(Cap.ALL_DEPARTMENTS),
    }


staff_nav.add(NavItem(_("Disclosure board"), "staff:board_index", Cap.RECORDS_READ, order=40))
dashboard_panels.add(
    DashboardPanel("staff/disclosure/panel.html", _disclosure_panel, Cap.RECORDS_READ, order=15)
)
my_nav.add(
    MyNavItem(
        _("Credit reports"),
        "my:report_list",
        _("Request your entity's credit report (PDF and JSON), numbered and verifiable by anyone."),
        order=40,
    )
)
