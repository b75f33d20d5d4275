"""The pledges app's contributions to the staff navigation and dashboard, and to the business door's."""

from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.web.registry import DashboardPanel, MyNavItem, NavItem, dashboard_panels, my_nav, staff_nav
from pledges import selectors


def _pledges_panel(actor: Actor) -> dict:
    return selectors.pending_counts(actor)


staff_nav.add(NavItem(_("Permit applications"), "staff:application_queue", Cap.PLEDGES_MANAGE, order=40))
staff_nav.add(NavItem(_("Pledges"), "staff:pledge_staff_list", Cap.PLEDGES_MANAGE, order=41))
staff_nav.add(NavItem(_("Matters"), "staff:matter_staff_list", Cap.PLEDGES_MANAGE, order=42))
staff_nav.add(
    NavItem(_("Industry associations"), "staff:association_list", Cap.ORGANISATIONS_MANAGE, order=85)
)
dashboard_panels.add(DashboardPanel("pledges/staff/panel.html", _pledges_panel, Cap.PLEDGES_MANAGE, order=40))
my_nav.add(
    MyNavItem(
        _("Permits and pledges"),
        "my:pledge_my_home",
        _(
            "Apply for a permit with a credit pledge (accepted on the spot, or with materials to follow), "
            "follow your applications and the pledges your entities have given."
        ),
        order=30,
    )
)
