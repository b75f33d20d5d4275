from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PunishmentsConfig(AppConfig):
    name = "punishments"
    verbose_name = _("Joint punishments")
