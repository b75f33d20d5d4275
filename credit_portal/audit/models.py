from datetime import UTC

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One audited fact: who (a user, a token or the system) did what to which target, with the
    state before and after. Rows are chained: each row's hash covers the previous row's hash and its
    own content, under the chain's ``scheme``:

    * ``HMAC_SHA256`` (every row since the chain was keyed): ``HMAC-SHA256(key, canonical content
      including the row's id, prev_hash, scheme and key_id)``, the key kept outside the database
      (``AUDIT_CHAIN_KEY``; ``key_id`` names which one), so recomputing the chain needs the key;
    * ``SHA256`` (rows written before, left as they were): ``SHA-256(prev_hash + canonical content)``.
      The first keyed row covers the last of them, so they are sealed by it.

    The database refuses UPDATE and DELETE on this table (see the migration's trigger), and the
    runtime role holds only SELECT and INSERT on it (docs/adr/0009)."""

    class Scheme(models.IntegerChoices):
        SHA256 = 1, "SHA-256 (before the chain was keyed)"
        HMAC_SHA256 = 2, "HMAC-SHA256"

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
    scheme = models.PositiveSmallIntegerField(choices=Scheme.choices, default=Scheme.HMAC_SHA256)
    # Which key signed the row (a fingerprint of it, see credit_portal.audit.chain); "" before keying.
    key_id = models.CharField(max_length=16, blank=True)
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


class AuditAnchor(models.Model):
    """The head of the audit chain (审计链锚点) at a moment: the id and hash of its newest row.

    Anchors are published (the public page and the API) and appended to a file store outside
    PostgreSQL, so that whoever keeps a copy can later prove what the trail held: ``verify_audit``
    fails when the row an anchor names is gone or differs. Append-only like the events."""

    id = models.BigAutoField(primary_key=True)
    anchored_at = models.DateTimeField(_("anchored at"))
    # The id of the newest event (0: the trail was empty) and its hash (the genesis hash when empty).
    sequence = models.BigIntegerField(_("head event"))
    hash = models.CharField(_("head hash"), max_length=64)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit anchor")
        verbose_name_plural = _("audit anchors")

    def __str__(self) -> str:
        return f"anchor #{self.pk}: event #{self.sequence} {self.hash[:12]}…"

    def as_public(self) -> dict:
        """The anchor as it is written to the anchor file, shown on the page and given by the API."""
        return {
            "sequence": self.sequence,
            "hash": self.hash,
            "anchored_at": self.anchored_at.astimezone(UTC).isoformat(),
        }
