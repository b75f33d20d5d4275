from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PledgesConfig(AppConfig):
    name = "pledges"
    verbose_name = _("Credit pledges and pre-permit education")

    def ready(self) -> None:
        from pledges import (
            audit_labels,  # noqa: F401 - registers the labels of its audit actions
            record_summaries,  # noqa: F401 - registers the English content of its records
            staff_panels,  # noqa: F401 - registers the staff navigation and dashboard panel
        )
