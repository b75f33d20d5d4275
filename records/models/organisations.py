"""Industry associations and third-party credit service agencies (guideline part 18), registered by
the credit office. Both are market entities themselves; their own users act for them in ``/my/``."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.models.registry import MarketEntity, no_nul


class IndustryAssociation(models.Model):
    """An industry association (行业协会): keeps its members' pledges under its own pledge system."""

    entity = models.OneToOneField(MarketEntity, on_delete=models.PROTECT, related_name="association")
    pledge_system_zh = models.TextField(_("the association's pledge system (Chinese)"), validators=[no_nul])
    pledge_system_en = models.TextField(
        _("the association's pledge system (English)"), blank=True, validators=[no_nul]
    )
    members = models.ManyToManyField(MarketEntity, related_name="associations", blank=True)
    registered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("industry association")
        verbose_name_plural = _("industry associations")

    def __str__(self) -> str:
        return self.entity.name


class CreditServiceAgency(models.Model):
    """A third-party credit service agency (信用服务机构) whose reports on entities the portal shows,
    marked as third-party and with the agency named."""

    entity = models.OneToOneField(MarketEntity, on_delete=models.PROTECT, related_name="credit_agency")
    licence = models.CharField(_("filing or licence number"), max_length=100, validators=[no_nul])
    registered_at = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("credit service agency")
        verbose_name_plural = _("credit service agencies")

    def __str__(self) -> str:
        return self.entity.name
