"""One row per Celery task a write needs (任务发件箱)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxTask(models.Model):
    """A task recorded in the transaction of the write that needs it: it exists exactly when the
    write was committed, and ``dispatched_at`` says when the broker accepted it. Written only by
    ``credit_portal.outbox.services``."""

    name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    dispatched_at = models.DateTimeField(_("handed to the broker at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox task")
        verbose_name_plural = _("outbox tasks")
        indexes = [
            # The tasks waiting: few at any time, read by the sweep, the pages and /healthz.
            models.Index(fields=["name"], condition=Q(dispatched_at__isnull=True), name="outbox_waiting_idx"),
            models.Index(fields=["name", "created_at"], name="outbox_name_created_idx"),
            models.Index(fields=["dispatched_at"], name="outbox_dispatched_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}{tuple(self.args)}"

    @property
    def waiting(self) -> bool:
        return self.dispatched_at is None
