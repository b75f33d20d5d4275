from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One audited fact: who (a user, a token or the system) did what to which target, with the
    state before and after. Rows are chained: ``hash = SHA-256(prev_hash + canonical content)``.

    The database refuses UPDATE and DELETE on this table (see the migration's trigger)."""

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    actor_kind = models.CharField(_("actor kind"), max_length=8)
    actor_label = models.CharField(_("actor"), max_length=200)
    # Plain ids rather than foreign keys: the trail must outlive what it describes.
    actor_user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    actor_department_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.CharField(_("target type"), max_length=100, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_repr = models.CharField(_("target"), max_length=300, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    data = models.JSONField(_("details"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["target_type", "target_id", "-id"], name="audit_target_idx"),
            models.Index(fields=["actor_department_id", "-id"], name="audit_department_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.target_type}:{self.target_id}"
