"""The disclosure app's tables: the public index of published records, and credit reports (the
portal's own, verifiable, and third-party ones).

The public index: one narrow row per published record, for the disclosure search.

The records table is wide (a decision carries its facts, basis, structured fields) and its rows sit in
the order they were recorded. The search orders by decision date and filters on a few columns only, so
it reads this table instead: a few hundred bytes per record, in the order records were published
(roughly the order of their decisions), which lets "the newest 20 matches" read a handful of pages.

Rows are kept by PostgreSQL triggers (migration 0001), not by application code: whatever changes a
record — a form, a file import, the sweep's set-based UPDATE — its index row follows in the same
transaction. A record is in the index exactly while it is published and standing."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.models import CreditRecord


class PublicIndexEntry(models.Model):
    record = models.OneToOneField(
        CreditRecord, primary_key=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    decision_date = models.DateField()
    item_id = models.BigIntegerField()
    department_id = models.BigIntegerField()
    division_id = models.CharField(max_length=6)
    search_vector = SearchVectorField()

    class Meta:
        # Written only by the database's triggers.
        managed = True
        default_permissions = ()
        indexes = [
            # A short pending list: every search reads all of it (migration 0006).
            GinIndex(fields=["search_vector"], name="public_index_search_gin", gin_pending_list_limit=64),
            models.Index(fields=["-decision_date", "-record"], name="public_index_date_idx"),
            models.Index(fields=["department_id", "-decision_date"], name="public_index_department_idx"),
            models.Index(fields=["item_id", "-decision_date"], name="public_index_item_idx"),
            models.Index(fields=["division_id", "-decision_date"], name="public_index_division_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.record_id}"


class CreditReport(models.Model):
    """A standard public credit report (公共信用信息报告) on one entity: a canonical JSON document and a
    PDF rendered from it, numbered and verifiable by anyone at ``/verify/<number>``."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RENDERING = "rendering", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    class Channel(models.TextChoices):
        SELF_SERVICE = "my", _("The entity itself")
        STAFF = "staff", _("Department staff")
        API = "api", _("Agency API")

    number = models.CharField(_("report number"), max_length=24, unique=True)
    entity = models.ForeignKey(
        "records.MarketEntity", on_delete=models.PROTECT, related_name="credit_reports"
    )
    channel = models.CharField(_("requested through"), max_length=8, choices=Channel.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by_department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requester_label = models.CharField(max_length=200)
    period_from = models.DateField(_("period from"))
    period_to = models.DateField(_("period to"))
    sections = models.JSONField(_("sections"))
    language = models.CharField(max_length=8, default="zh-hans")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    failure = models.TextField(blank=True)
    document = models.JSONField(_("document"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256 of the document"), max_length=64, blank=True)
    pdf = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    # Of the PDF's bytes as issued, so that anyone can check a file against it. Empty for a report
    # rendered before it was kept whose stored file was missing when it was added.
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    render_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("credit report")
        verbose_name_plural = _("credit reports")
        indexes = [models.Index(fields=["entity", "-requested_at"], name="report_entity_idx")]

    def __str__(self) -> str:
        return self.number


class ThirdPartyReport(models.Model):
    """A report on an entity by a registered credit service agency, shown as third-party, with the
    agency named. The portal does not vouch for its content."""

    agency = models.ForeignKey(
        "records.CreditServiceAgency", on_delete=models.PROTECT, related_name="reports"
    )
    entity = models.ForeignKey(
        "records.MarketEntity", on_delete=models.PROTECT, related_name="third_party_reports"
    )
    title = models.CharField(_("title"), max_length=200, validators=[ProhibitNullCharactersValidator()])
    summary = models.TextField(
        _("summary"), max_length=2000, blank=True, validators=[ProhibitNullCharactersValidator()]
    )
    file = models.FileField(upload_to="third_party_reports/%Y/%m/")
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_on"]
        verbose_name = _("third-party credit report")
        verbose_name_plural = _("third-party credit reports")

    def __str__(self) -> str:
        return self.title
