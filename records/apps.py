from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = _("Credit records")

    def ready(self) -> None:
        from records import (
            audit_labels,  # noqa: F401 - registers the labels of its audit actions
            staff_panels,  # noqa: F401 - registers the dashboard panels
        )
