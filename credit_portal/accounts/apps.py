from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "credit_portal.accounts"
    label = "accounts"
    verbose_name = _("Departments and accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core import checks

        from credit_portal.accounts.demo import check_demo_accounts
        from credit_portal.accounts.sessions import on_user_logged_in

        # Session bookkeeping, not a domain effect: Django's own hook for every sign-in.
        user_logged_in.connect(on_user_logged_in, dispatch_uid="credit_portal.accounts.session_clocks")
        checks.register(check_demo_accounts, checks.Tags.security, checks.Tags.database, deploy=True)
