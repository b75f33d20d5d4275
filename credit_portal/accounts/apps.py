from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "credit_portal.accounts"
    label = "accounts"
    verbose_name = _("Departments and accounts")

    def ready(self):
        from django.core import checks

        from credit_portal.accounts.demo import check_demo_accounts

        checks.register(check_demo_accounts, checks.Tags.security, checks.Tags.database, deploy=True)
