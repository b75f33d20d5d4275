from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
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


class WorkdayIndex(models.Model):
    """One row per calendar day, derived from the ``WorkingCalendar`` by ``rebuild_index()`` so
    that deadlines can be computed inside SQL (``cp_add_working_days``, ``cp_working_days_between``)
    for set-based work. Never edited by hand: the calendar above stays the single source of truth.

    ``ordinal`` counts the working days from the first day of the table up to and including this
    day; a non-working day carries the ordinal of the last working day before it. The n-th working
    day after ``d`` is then the working day whose ordinal is ``ordinal(d) + n``.

    Unmanaged: migration 0003 creates the table, its partial unique index on ``ordinal`` for the
    working days and the SQL functions. Being derived data, it is left out of what the test runner
    flushes and serialises (``serialized_rollback`` would otherwise save its ~11,000 rows one by
    one after every such test)."""

    date = models.DateField(_("date"), primary_key=True)
    is_working = models.BooleanField(_("working day"))
    ordinal = models.IntegerField(_("working-day ordinal"))

    class Meta:
        managed = False
        db_table = "workdays_workdayindex"
        ordering = ["date"]
        verbose_name = _("working-day index entry")
        verbose_name_plural = _("working-day index")

    def __str__(self) -> str:
        return f"{self.date} #{self.ordinal}{'' if self.is_working else ' (rest)'}"


deadline_key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
    _("Use lower-case dotted words, e.g. disclosure.publish."),
)


class DeadlineRule(models.Model):
    """How many working days a step may take, as the regulation in force says. Numbers change with
    regulations, so they are data: a new rule with a later ``effective_from`` takes over from that
    date, and deadlines started before it keep the rule they started under."""

    key = models.CharField(_("key"), max_length=60, validators=[deadline_key_validator])
    working_days = models.PositiveSmallIntegerField(_("working days"), validators=[MinValueValidator(1)])
    effective_from = models.DateField(_("effective from"))
    basis_zh = models.TextField(_("basis (Chinese)"))
    basis_en = models.TextField(_("basis (English)"))

    class Meta:
        ordering = ["key", "-effective_from"]
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        constraints = [
            models.UniqueConstraint(
                fields=["key", "effective_from"], name="workdays_deadlinerule_key_from_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(working_days__gte=1), name="workdays_deadlinerule_days_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.working_days} ({self.effective_from})"
