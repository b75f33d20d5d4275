"""The registry's contributions to the staff dashboard and navigation, and to the business door's."""

from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.web.registry import DashboardPanel, MyNavItem, NavItem, dashboard_panels, my_nav, staff_nav
from records import selectors
from records.access import department_grants
from records.models import MarketEntity


def _registry_panel(actor: Actor) -> dict:
    # pg_class.reltuples would be cheaper on huge tables; an exact count is what staff expect here.
    mine = department_grants(actor).count() if not actor.can(Cap.ALL_DEPARTMENTS) else None
    return {"total": MarketEntity.objects.count(), "mine": mine}


def _review_panel(actor: Actor) -> dict:
    return selectors.review_counts(actor)


def _claims_panel(actor: Actor) -> dict:
    return {"pending": selectors.claims_for_review(actor).count()}


staff_nav.add(NavItem(_("Entity registry"), "staff:registry", Cap.ENTITIES_READ, order=10))
staff_nav.add(NavItem(_("Credit records"), "staff:records", Cap.RECORDS_READ, order=15))
staff_nav.add(NavItem(_("File imports"), "staff:import_list", Cap.RECORDS_WRITE, order=16))
staff_nav.add(NavItem(_("Waiting for review"), "staff:review_queue", Cap.RECORDS_CONFIRM, order=17))
staff_nav.add(NavItem(_("Entity claims"), "staff:claims", Cap.CLAIMS_REVIEW, order=20))
staff_nav.add(NavItem(_("Catalogue"), "staff:catalogue", Cap.RECORDS_READ, order=80))
dashboard_panels.add(
    DashboardPanel("staff/panels/registry.html", _registry_panel, Cap.ENTITIES_READ, order=10)
)
dashboard_panels.add(DashboardPanel("staff/panels/claims.html", _claims_panel, Cap.CLAIMS_REVIEW, order=20))
dashboard_panels.add(DashboardPanel("staff/panels/review.html", _review_panel, Cap.RECORDS_CONFIRM, order=12))

my_nav.add(
    MyNavItem(
        _("Our credit records"),
        "my:objection_records",
        _("Every record about the entities you act for, whatever its status; object to one that is wrong."),
        order=20,
    )
)
my_nav.add(
    MyNavItem(
        _("Our objections"),
        "my:objection_list",
        _("Follow your objections: the recording department answers each by a working-day deadline."),
        order=25,
    )
)
my_nav.add(
    MyNavItem(
        _("Claim an entity"),
        "my:claim",
        _(
            "Act for an entity: claim it by its unified social credit code; a reviewer of its department decides."
        ),
        order=60,
    )
)
