"""Credit records (信用记录): every fact about an entity that matters for credit, with its versions,
its public life (disclosure) and the change feed that lets other systems follow it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.models import Department
from records.models.catalogue import CatalogueItem, Severity
from records.models.registry import MarketEntity, SearchVector, no_nul


class CreditRecord(models.Model):
    """One decision about one entity: a permit, a punishment, a broken pledge, a designation...

    Written only through ``records.services``. ``fields`` holds the catalogue item's structured
    fields (identity numbers in it are stored masked and encrypted, never in clear)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Awaiting review")
        EFFECTIVE = "effective", _("Effective")
        UNDER_OBJECTION = "under_objection", _("Under objection")
        CORRECTED = "corrected", _("Corrected")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Disclosure period ended")
        RESTORED = "restored", _("Credit restored")

    class Provenance(models.TextChoices):
        FORM = "form", _("Staff form")
        FILE = "file", _("File import")
        API = "api", _("Agency API")
        SYSTEM = "system", _("Portal workflow")

    class Disclosure(models.TextChoices):
        NOT_DISCLOSED = "none", _("Not disclosed")
        PENDING = "pending", _("Awaiting publication")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        ENDED = "ended", _("Disclosure period ended")

    # Statuses in which a record stands (and, for a public item, is shown).
    LIVE_STATUSES = (Status.EFFECTIVE, Status.UNDER_OBJECTION, Status.CORRECTED)

    # No single-column indexes on entity and department: the (entity, date) and (department, date)
    # indexes below lead with them, and every extra index is written again at each publication.
    entity = models.ForeignKey(
        MarketEntity,
        verbose_name=_("entity"),
        on_delete=models.PROTECT,
        related_name="records",
        db_index=False,
    )
    item = models.ForeignKey(
        CatalogueItem, verbose_name=_("catalogue item"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("recording department"),
        on_delete=models.PROTECT,
        related_name="credit_records",
        db_index=False,
    )
    party_name = models.CharField(_("party name"), max_length=200, validators=[no_nul])
    # The entity's English name, copied for the bilingual search (kept in step by entity_update).
    party_name_en = models.CharField(_("party name (English)"), max_length=300, blank=True)
    decision_number = models.CharField(_("decision document number"), max_length=128, validators=[no_nul])
    decision_date = models.DateField(_("decision date"))
    legal_basis = models.TextField(_("legal basis"), max_length=2000, blank=True, validators=[no_nul])
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, blank=True)
    content = models.TextField(_("content"), max_length=4000, blank=True, validators=[no_nul])
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    remarks = models.TextField(_("remarks"), max_length=2000, blank=True, validators=[no_nul])
    fields = models.JSONField(_("structured fields"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.EFFECTIVE)
    provenance = models.CharField(_("provenance"), max_length=8, choices=Provenance.choices)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Disclosure: due dates come from the working-day calendar; the beat sweep acts on them.
    disclosure = models.CharField(
        _("disclosure"), max_length=10, choices=Disclosure.choices, default=Disclosure.NOT_DISCLOSED
    )
    disclosure_due_on = models.DateField(_("to be disclosed by"), null=True, blank=True)
    disclosure_months = models.PositiveSmallIntegerField(
        _("disclosure period (months)"), null=True, blank=True
    )
    disclosure_ends_on = models.DateField(_("disclosed until"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_late_days = models.PositiveIntegerField(_("working days late"), null=True, blank=True)
    withdrawal_due_on = models.DateField(_("to be withdrawn by"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    # The file a record came in with, so that a reviewer confirms an imported batch at once.
    import_job = models.ForeignKey(
        "records.ImportJob",
        verbose_name=_("import job"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="records",
        db_index=False,
    )

    search_vector = models.GeneratedField(
        expression=SearchVector("party_name", "party_name_en", "decision_number"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        verbose_name = _("credit record")
        verbose_name_plural = _("credit records")
        constraints = [
            models.UniqueConstraint(fields=["department", "decision_number"], name="record_unique_decision"),
            models.CheckConstraint(
                name="record_published_has_time",
                condition=~Q(disclosure="published") | Q(published_at__isnull=False),
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="record_search_gin", gin_pending_list_limit=64),
            models.Index(fields=["entity", "-decision_date"], name="record_entity_idx"),
            models.Index(fields=["decision_number"], name="record_decision_number_idx"),
            # The sweeps read only what is due: partial indexes keep them independent of table size.
            models.Index(
                fields=["disclosure_due_on"], name="record_pending_due_idx", condition=Q(disclosure="pending")
            ),
            # What the publishing sweep selects: pending and standing (drafts awaiting review are not
            # publishable, and a backlog of them must not slow every sweep down).
            models.Index(
                fields=["disclosure_due_on", "id"],
                name="record_publishable_due_idx",
                condition=Q(disclosure="pending", status__in=["effective", "under_objection", "corrected"]),
            ),
            models.Index(
                fields=["disclosure_ends_on"],
                name="record_published_ends_idx",
                condition=Q(disclosure="published"),
            ),
            models.Index(fields=["department", "-decision_date"], name="record_department_idx"),
            models.Index(
                fields=["-decision_date", "-id"],
                name="record_public_date_idx",
                condition=Q(disclosure="published"),
            ),
            # The board reads by department and publication or withdrawal time;
            # the sweep checks revoked records still published past their withdrawal deadline.
            models.Index(
                fields=["department", "published_at"],
                name="record_published_at_idx",
                condition=Q(published_at__isnull=False),
            ),
            models.Index(
                fields=["department", "withdrawn_at"],
                name="record_withdrawn_at_idx",
                condition=Q(withdrawn_at__isnull=False),
            ),
            models.Index(
                fields=["withdrawal_due_on"],
                name="record_withdrawal_due_idx",
                condition=Q(disclosure="published", withdrawal_due_on__isnull=False),
            ),
            # The on-time rates read the records due in a window of months, per department.
            models.Index(
                fields=["disclosure_due_on", "department"],
                name="record_due_idx",
                condition=Q(disclosure_due_on__isnull=False),
            ),
            # Drafts awaiting review, by department and by import (the reviewers' queue).
            models.Index(
                fields=["department", "import_job"], name="record_draft_idx", condition=Q(status="draft")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision_number} ({self.party_name})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES


class RecordVersion(models.Model):
    """The full content of a record at each version: its history, kept for good."""

    record = models.ForeignKey(CreditRecord, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=CreditRecord.Status.choices)
    snapshot = models.JSONField()
    reason = models.TextField(blank=True)
    actor_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record", "version"]
        constraints = [models.UniqueConstraint(fields=["record", "version"], name="record_version_unique")]

    def __str__(self) -> str:
        return f"{self.record_id} v{self.version}"


class RecordChange(models.Model):
    """One entry of the agency change feed (``/api/v1/changes/``): created, corrected, revoked,
    expired, restored... with the record as it then stood. Rows are appended under the audit chain's
    lock, so their ids follow commit order and a cursor over ids never skips a late commit."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        CORRECTED = "corrected", _("Corrected")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")
        RESTORED = "restored", _("Restored")
        STATUS = "status", _("Status changed")

    id = models.BigAutoField(primary_key=True)
    record = models.ForeignKey(CreditRecord, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    version = models.PositiveIntegerField()
    occurred_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.record_id} v{self.version}"


class RecordProposal(models.Model):
    """A clerk's correction or revocation of a standing record (更正、撤销申请): it changes nothing
    until a reviewer of the recording department confirms it. Written only through
    ``records.services``."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("Correction")
        REVOCATION = "revocation", _("Revocation")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    record = models.ForeignKey(CreditRecord, on_delete=models.PROTECT, related_name="proposals")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # The record's version the proposal was made on: a proposal made on an older version is stale.
    base_version = models.PositiveIntegerField()
    # A correction's validated values (identity numbers as stored: masked, hashed and encrypted).
    values = models.JSONField(default=dict, blank=True)
    reason = models.TextField(_("reason"), max_length=2000)
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_by_label = models.CharField(max_length=200)
    created_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    decided_by_label = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("reviewer's note"), max_length=2000, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("proposed change of a record")
        verbose_name_plural = _("proposed changes of records")
        constraints = [
            models.UniqueConstraint(
                fields=["record"], condition=Q(status="pending"), name="record_proposal_one_pending"
            )
        ]
        indexes = [
            models.Index(
                fields=["department", "created_at"],
                name="record_proposal_pending_idx",
                condition=Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.record_id} ({self.status})"
