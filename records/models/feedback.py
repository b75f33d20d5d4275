"""What people say back: objections to records (异议) and complaints or tip-offs (投诉举报).
Both must be answered by a working-day deadline; overdue answers escalate."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.models import Department
from records.models.credit import CreditRecord
from records.models.registry import MarketEntity, no_nul


class Objection(models.Model):
    """An objection to a credit record by the entity it concerns (through ``/my/``) or by a person it
    affects. While pending, the record shows "under objection" in public."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the department's answer")
        UPHELD = "upheld", _("Upheld")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Outcome(models.TextChoices):
        NONE = "", _("None")
        CORRECTED = "corrected", _("Record corrected")
        REVOKED = "revoked", _("Record revoked")

    # ``YY-`` and ten random characters (``credit_portal.numbers``).
    REFERENCE_PREFIX = "YY-"
    REFERENCE_LENGTH = 10

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    record = models.ForeignKey(CreditRecord, on_delete=models.PROTECT, related_name="objections")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    objector_name = models.CharField(_("objector"), max_length=100, validators=[no_nul])
    objector_id_masked = models.CharField(_("identity number"), max_length=40, blank=True)
    objector_id_hash = models.CharField(max_length=64, blank=True)
    contact_cipher = models.TextField(blank=True)
    contact_masked = models.CharField(_("contact"), max_length=80, blank=True)
    grounds = models.TextField(_("grounds"), max_length=4000, validators=[no_nul])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    record_status_before = models.CharField(max_length=16, choices=CreditRecord.Status.choices)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    answer_due_on = models.DateField(_("answer due by"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("answer"), max_length=4000, blank=True, validators=[no_nul])
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        constraints = [
            # One open objection per record at a time: the record has one "under objection" state.
            models.UniqueConstraint(
                fields=["record"], condition=Q(status="pending"), name="objection_one_pending"
            ),
        ]
        indexes = [
            models.Index(
                fields=["answer_due_on"], name="objection_pending_due_idx", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class Complaint(models.Model):
    """A complaint or tip-off about an entity's conduct, from the public site or a hotline system
    through the API. Routed to a department, answered by a deadline, followed by its tracking
    number."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        TIP_OFF = "tip_off", _("Tip-off about misconduct")

    class Channel(models.TextChoices):
        WEB = "web", _("Public website")
        API = "api", _("Hotline system (API)")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, being handled")
        ANSWERED = "answered", _("Answered")

    # ``TS`` and twelve random characters (``credit_portal.numbers``).
    TRACKING_PREFIX = "TS"
    TRACKING_LENGTH = 12

    tracking_number = models.CharField(_("tracking number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=4, choices=Channel.choices)
    external_reference = models.CharField(
        _("hotline reference"), max_length=64, blank=True, validators=[no_nul]
    )
    # The department whose hotline system submitted it through the API (None for the website).
    submitted_by = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="submitted_complaints"
    )
    entity = models.ForeignKey(
        MarketEntity, null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    entity_name = models.CharField(_("entity named"), max_length=200, validators=[no_nul])
    description = models.TextField(_("what happened"), max_length=5000, validators=[no_nul])
    submitter_name = models.CharField(_("submitter's name"), max_length=100, blank=True, validators=[no_nul])
    contact_cipher = models.TextField(blank=True)
    contact_masked = models.CharField(_("contact"), max_length=80, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("responsible department"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    answer_due_on = models.DateField(_("answer due by"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("answer"), max_length=5000, blank=True, validators=[no_nul])

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("complaint or tip-off")
        verbose_name_plural = _("complaints and tip-offs")
        indexes = [
            models.Index(
                fields=["answer_due_on"], name="complaint_open_due_idx", condition=Q(status="received")
            ),
            models.Index(fields=["department", "status", "-submitted_at"], name="complaint_department_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                # Ticket ids are unique within one department's hotline system, not across departments.
                fields=["channel", "submitted_by", "external_reference"],
                condition=~Q(external_reference=""),
                name="complaint_unique_hotline_reference",
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_number
