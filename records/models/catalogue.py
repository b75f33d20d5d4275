"""The public credit information catalogue (公共信用信息目录) and the disclosure-period rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.models import Department


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    GENERAL = "general", _("General")
    SERIOUS = "serious", _("Serious")


class CatalogueItem(models.Model):
    """One item of the catalogue: what is collected, by whom, how it is disclosed and for how long.

    ``fields`` lists the item's structured fields beyond the columns every record has, as data:
    ``[{"key", "label_zh", "label_en", "type", "required", "max_length", "choices", "headers"}]``
    (see ``records.fields``), so the credit office can follow a change of the national standard
    without a release."""

    class Polarity(models.TextChoices):
        POSITIVE = "positive", _("Positive")
        NEGATIVE = "negative", _("Negative")
        NEUTRAL = "neutral", _("Neutral")

    class UseScope(models.TextChoices):
        PUBLIC = "public", _("Public")
        GOVERNMENT = "government", _("Shared among government only")
        AUTHORISED = "authorised", _("On authorised request only")

    class PeriodKind(models.TextChoices):
        SEVERITY = "severity", _("By severity, under the disclosure-period rules")
        VALIDITY = "validity", _("Until the end of the decision's validity")
        FIXED = "fixed", _("A fixed number of months")
        INDEFINITE = "indefinite", _("Until revoked, removed or restored")

    class Layout(models.TextChoices):
        PUNISHMENT = "punishment", _("Administrative punishment (national field standard)")
        PERMIT = "permit", _("Administrative permit (national field standard)")
        GENERIC = "generic", _("Generic decision")

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    category = models.CharField(_("category"), max_length=64)
    polarity = models.CharField(_("polarity"), max_length=10, choices=Polarity.choices)
    use_scope = models.CharField(_("use scope"), max_length=12, choices=UseScope.choices)
    layout = models.CharField(
        _("field layout"), max_length=12, choices=Layout.choices, default=Layout.GENERIC
    )
    period_kind = models.CharField(_("disclosure period"), max_length=12, choices=PeriodKind.choices)
    fixed_months = models.PositiveSmallIntegerField(_("months (fixed period)"), null=True, blank=True)
    fields = models.JSONField(_("structured fields"), default=list, blank=True)
    recording_departments = models.ManyToManyField(
        Department,
        verbose_name=_("departments that may record it"),
        blank=True,
        related_name="catalogue_items",
        help_text=_("Leave empty to let every department record this item."),
    )
    workflow_only = models.BooleanField(
        _("recorded only by its workflow"),
        default=False,
        help_text=_(
            "Designations (serious list, abnormal-operation list) and pledge performance are written by "
            "the procedure that produces them, with its notice and defence window, never through the record "
            "form, a file or the records API."
        ),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue items")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def is_public(self) -> bool:
        return self.use_scope == self.UseScope.PUBLIC

    def clean(self) -> None:
        if self.period_kind == self.PeriodKind.FIXED and not self.fixed_months:
            raise ValidationError({"fixed_months": _("A fixed period needs its number of months.")})


class DisclosurePeriodRule(models.Model):
    """How long a decision of a given severity is published, counted from the decision date, under
    the rule in force on that date (e.g. NDRC Order 36 from 2026-04-01). Data, so that the next rule
    is entered, not programmed."""

    effective_from = models.DateField(_("in force from"))
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    min_months = models.PositiveSmallIntegerField(_("minimum period (months)"))
    max_months = models.PositiveSmallIntegerField(_("maximum period (months)"))
    published_by_default = models.BooleanField(
        _("published by default"), default=True, help_text=_("Minor violations are normally not published.")
    )
    restorable = models.BooleanField(_("restorable"), default=True)
    basis_zh = models.CharField(_("basis (Chinese)"), max_length=300)
    basis_en = models.CharField(_("basis (English)"), max_length=300)

    class Meta:
        ordering = ["-effective_from", "severity"]
        verbose_name = _("disclosure-period rule")
        verbose_name_plural = _("disclosure-period rules")
        constraints = [
            models.UniqueConstraint(fields=["effective_from", "severity"], name="period_rule_unique"),
            models.CheckConstraint(
                condition=models.Q(min_months__lte=models.F("max_months")), name="period_rule_min_le_max"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.effective_from} {self.severity}: {self.min_months}–{self.max_months}"
