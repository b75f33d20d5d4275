from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class HolidayNotice(models.Model):
    """The State Council's annual notice of public holidays (国务院办公厅关于…部分节假日安排的通知)
    for one year, entered by the credit office. A year has an authoritative calendar when the
    ``chinesecalendar`` package covers it or a notice for it has been entered here."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    title = models.CharField(_("title"), max_length=300)
    published_on = models.DateField(_("published on"))
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("holiday notice")
        verbose_name_plural = _("holiday notices")

    def __str__(self) -> str:
        return f"{self.year}: {self.title}"


class CalendarDay(models.Model):
    """A day whose status differs from the plain Monday–Friday week: a public holiday falling on a
    weekday, or a weekend day turned into a working day (调休). Entries here override the
    ``chinesecalendar`` package, so a correction never needs a release."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday (not a working day)")
        WORKDAY = "workday", _("Adjusted working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

    def clean(self) -> None:
        if self.kind == self.Kind.WORKDAY and self.date and self.date.weekday() < 5:
            raise ValidationError({"kind": _("Monday to Friday are working days already.")})
