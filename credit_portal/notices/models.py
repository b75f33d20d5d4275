"""In-app notices to users, each also sent once by email to a recipient who has an address."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.models import Department

kind_validator = RegexValidator(
    r"^[a-z0-9_]+(\.[a-z0-9_]+)*\Z",
    _("Use lower-case letters, digits and '_', in parts separated by '.' (e.g. disclosure.at_risk)."),
)
single_line_validator = RegexValidator(r"[\r\n]", _("Use a single line."), inverse_match=True)


def validate_relative_link(value: str) -> None:
    """A path on this portal: a notice never sends its reader (or an email) to another site."""
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(c.isspace() for c in value)
    ):
        raise ValidationError(_("Use a path on this portal, starting with a single '/'."), code="invalid")


class Notice(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notices",
    )
    # The department the notice is about (or sent through), if any.
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=64, validators=[kind_validator])
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=200, validators=[single_line_validator])
    subject_en = models.CharField(
        _("subject (English)"), max_length=200, blank=True, validators=[single_line_validator]
    )
    body_zh = models.TextField(_("body (Chinese)"), blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True, validators=[validate_relative_link])
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)
    # A recipient gets at most one notice per key, so that a sweep may run as often as it likes.
    dedupe_key = models.CharField(_("deduplication key"), max_length=200)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="notice_once_per_recipient_key"),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notice_unread_for_user"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}: {self.subject_zh}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def subject(self) -> str:
        """The subject in the active language, falling back to Chinese."""
        if (get_language() or "").startswith("en") and self.subject_en:
            return self.subject_en
        return self.subject_zh

    @property
    def in_reader_language(self) -> bool:
        """Whether ``subject`` is in the active language (a notice without an English subject is
        read in Chinese by everyone)."""
        return not (get_language() or "").startswith("en") or bool(self.subject_en)

    @property
    def body(self) -> str:
        if (get_language() or "").startswith("en") and self.body_en:
            return self.body_en
        return self.body_zh
