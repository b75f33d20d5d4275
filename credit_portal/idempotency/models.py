"""What a request produced, kept for a window so that sending it again produces nothing new."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.models import Department


class FormSubmission(models.Model):
    """One use of a web form's one-time submission key (一次性提交凭证): the form it belongs to,
    a digest of the key (the key itself is a secret given only to the page that showed the form)
    and what the submission filed. The unique constraint makes a second POST with the same key —
    a reload, a double click, two requests at once — find this row instead of filing again.
    Written only by ``credit_portal.idempotency.services``; rows older than the window are purged."""

    form = models.CharField(_("form"), max_length=40)
    key_digest = models.CharField(_("key digest"), max_length=64)
    result_id = models.PositiveBigIntegerField(_("what it filed"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        constraints = [
            models.UniqueConstraint(
                fields=["form", "key_digest"], name="idempotency_form_submission_key_uniq"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_form_created_idx")]

    def __str__(self) -> str:
        return f"{self.form} {self.key_digest[:8]}… → {self.result_id}"


class ApiIdempotencyKey(models.Model):
    """An ``Idempotency-Key`` an agency sent with a POST, scoped to the token's department, with
    a fingerprint of the request (method, path, body) and the response it got, replayed to a retry.
    The row is inserted before the request runs and completed in the same transaction, so a
    concurrent request with the same key waits on the unique constraint and then replays."""

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("key"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    body = models.TextField(_("response body"), blank=True)
    location = models.CharField(_("response location"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("first sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("API idempotency key")
        verbose_name_plural = _("API idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["department", "key"], name="idempotency_api_key_department_uniq")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_api_created_idx")]

    def __str__(self) -> str:
        return f"{self.department_id}:{self.key} {self.method} {self.path} → {self.status_code}"
