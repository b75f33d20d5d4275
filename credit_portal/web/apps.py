from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "credit_portal.web"
    label = "web"
    verbose_name = _("Web")

    def ready(self) -> None:
        from django.core import checks

        from credit_portal.accounts.capabilities import Cap
        from credit_portal.links import check_site_url
        from credit_portal.web.registry import NavItem, staff_nav

        staff_nav.add(NavItem(_("Working-day calendar"), "staff:calendar", None, order=90))
        staff_nav.add(NavItem(_("API tokens"), "staff:tokens", Cap.TOKENS_MANAGE, order=92))
        staff_nav.add(NavItem(_("Audit trail"), "staff:audit", Cap.AUDIT_READ, order=94))
        staff_nav.add(NavItem(_("Sign-in lockouts"), "staff:signin_lockouts", Cap.SIGNIN_UNLOCK, order=93))

        # The admin's sign-in goes through the same guard as the portal's doors.
        from django.contrib import admin

        from credit_portal.web.forms import AdminLoginForm

        admin.site.login_form = AdminLoginForm

        # Production needs the public address its links are made from (credit_portal/links.py).
        checks.register(check_site_url, checks.Tags.security, deploy=True)
