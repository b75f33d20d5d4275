from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "disclosure"
    verbose_name = _("Disclosure and credit reports")

    def ready(self) -> None:
        from disclosure import (
            audit_labels,  # noqa: F401 - registers the labels of its audit actions
            staff_panels,  # noqa: F401 - registers the dashboard panel and nav item
        )
