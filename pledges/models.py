"""Matters where a pledge may be used, their pledge templates and pre-permit education; permit
applications made with pledges; pledges of every kind and how they were kept."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.models import Department
from records.models import CreditRecord, IndustryAssociation, MarketEntity, Severity, no_nul


def _local(zh: str, en: str) -> str:
    return en if (get_language() or "").startswith("en") and en else zh


class Matter(models.Model):
    """A matter (事项): a kind of permit a department grants, published with the pledge that may be
    used for it (承诺制), the materials a pledge may stand in for, and compliance material."""

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="matters"
    )
    code = models.SlugField(_("code"), max_length=64)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, validators=[no_nul])
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True, validators=[no_nul])
    description_zh = models.TextField(_("description (Chinese)"), blank=True, validators=[no_nul])
    description_en = models.TextField(_("description (English)"), blank=True, validators=[no_nul])
    pledge_allowed = models.BooleanField(_("a pledge may be used"), default=True)
    materials_due_days = models.PositiveSmallIntegerField(
        _("working days to supply missing materials"),
        default=20,
        help_text=_("Counted from acceptance; the day of acceptance is not counted."),
    )
    statutory_days = models.PositiveSmallIntegerField(_("statutory time limit (working days)"), default=20)
    is_published = models.BooleanField(_("published"), default=True)

    class Meta:
        ordering = ["department__code", "code"]
        verbose_name = _("matter")
        verbose_name_plural = _("matters")
        constraints = [models.UniqueConstraint(fields=["department", "code"], name="matter_unique_code")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _local(self.name_zh, self.name_en)

    @property
    def description(self) -> str:
        return _local(self.description_zh, self.description_en)

    def current_template(self) -> PledgeTemplate | None:
        return self.templates.order_by("-version").first()


class MatterMaterial(models.Model):
    """A material an application for the matter needs; some may be replaced for a while by a pledge."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="materials")
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, validators=[no_nul])
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True, validators=[no_nul])
    pledge_may_replace = models.BooleanField(_("a pledge may stand in for it"), default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["matter", "order", "id"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _local(self.name_zh, self.name_en)


class PledgeTemplate(models.Model):
    """The standard text of the matter's pledge, versioned: a signed pledge keeps the version and the
    exact words signed, whatever the template becomes later."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="templates")
    version = models.PositiveIntegerField(_("version"))
    text_zh = models.TextField(_("pledge (Chinese)"), validators=[no_nul])
    text_en = models.TextField(_("pledge (English)"), blank=True, validators=[no_nul])
    consequences_zh = models.TextField(_("what breaking it means (Chinese)"), validators=[no_nul])
    consequences_en = models.TextField(_("what breaking it means (English)"), blank=True, validators=[no_nul])
    published_at = models.DateTimeField(_("published at"), default=timezone.now)

    class Meta:
        ordering = ["matter", "-version"]
        verbose_name = _("pledge template")
        verbose_name_plural = _("pledge templates")
        constraints = [models.UniqueConstraint(fields=["matter", "version"], name="pledge_template_version")]

    def __str__(self) -> str:
        return f"{self.matter} v{self.version}"

    @property
    def text(self) -> str:
        return _local(self.text_zh, self.text_en)

    @property
    def consequences(self) -> str:
        return _local(self.consequences_zh, self.consequences_en)


class ComplianceMaterial(models.Model):
    """Pre-permit education for a matter: what the law asks, links, a short checklist. Free, and
    never a condition of anything: an application proceeds whether or not it was read."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="education")
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, validators=[no_nul])
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True, validators=[no_nul])
    body_zh = models.TextField(_("text (Chinese)"), validators=[no_nul])
    body_en = models.TextField(_("text (English)"), blank=True, validators=[no_nul])
    # [{"title": ..., "url": ...}] and [{"zh": ..., "en": ...}]
    links = models.JSONField(_("links"), default=list, blank=True)
    checklist = models.JSONField(_("checklist"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["matter", "order", "id"]
        verbose_name = _("compliance material")
        verbose_name_plural = _("compliance material")

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return _local(self.title_zh, self.title_en)

    @property
    def body(self) -> str:
        return _local(self.body_zh, self.body_en)


class EducationAcknowledgement(models.Model):
    """That a user read a matter's compliance material, for an entity. Recorded, never required."""

    matter = models.ForeignKey(Matter, on_delete=models.CASCADE, related_name="acknowledgements")
    entity = models.ForeignKey(MarketEntity, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["matter", "entity", "user"], name="education_ack_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} read {self.matter}"


class PermitApplication(models.Model):
    """An application for a matter by an entity, with or without a pledge."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("permit application status", "Submitted")
        ACCEPTED = "accepted", _("Accepted")
        ACCEPTED_PENDING_MATERIALS = "accepted_pending", _("Accepted with materials to follow")
        APPROVED = "approved", pgettext_lazy("permit application status", "Approved: permit granted")
        REJECTED = "rejected", pgettext_lazy("permit application status", "Rejected: permit refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    number = models.CharField(_("application number"), max_length=24, unique=True)
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="applications")
    entity = models.ForeignKey(MarketEntity, on_delete=models.PROTECT, related_name="permit_applications")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(_("reasons"), blank=True, validators=[no_nul])
    processing_days = models.PositiveSmallIntegerField(_("working days to a decision"), null=True, blank=True)
    missing_materials = models.ManyToManyField(MatterMaterial, blank=True, related_name="+")
    # Drawn when the application form is shown and sent back with it: the same form submitted
    # twice (a double click, a resend after a dropped connection) makes one application.
    submission_key = models.UUIDField(_("submission key"), null=True, blank=True, editable=False)
    # Written with the approval, in the same transaction: the administrative permit itself, a
    # record of the deciding department disclosed by the publication deadline like any permit.
    permit_record = models.ForeignKey(
        CreditRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The administrative permit record written on approval."),
    )

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("permit application")
        verbose_name_plural = _("permit applications")
        indexes = [models.Index(fields=["matter", "status"], name="application_matter_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "submission_key"],
                condition=models.Q(submission_key__isnull=False),
                name="application_submission_once",
            )
        ]

    def __str__(self) -> str:
        return self.number


class MaterialSubmission(models.Model):
    """A material supplied for an application (at once, or later against a pledge)."""

    application = models.ForeignKey(PermitApplication, on_delete=models.CASCADE, related_name="submissions")
    material = models.ForeignKey(MatterMaterial, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to="materials/%Y/%m/")
    original_name = models.CharField(max_length=255)
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["application", "submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["application", "material"], name="material_once_per_application")
        ]

    def __str__(self) -> str:
        return f"{self.application} {self.material}"


class Pledge(models.Model):
    """A credit pledge (信用承诺): made with a permit application, published voluntarily to the public,
    or registered by an industry association for a member. The exact words signed are kept."""

    class Kind(models.TextChoices):
        PERMIT = "permit", _("Pledge with a permit application")
        PUBLIC = "public", _("Voluntary public pledge")
        ASSOCIATION = "association", _("Industry association pledge")

    class Status(models.TextChoices):
        ACTIVE = "active", _("In force")
        OVERDUE = "overdue", _("Materials overdue: being checked")
        # The department intends to find a breach and has told the entity, which may state its
        # defence (陈述申辩) until the notice's deadline; only then may the finding be confirmed.
        NOTICED = "noticed", _("Intended breach finding: the entity may state its defence")
        FULFILLED = "fulfilled", _("Kept")
        BROKEN = "broken", _("Broken")
        LAPSED = "lapsed", _("Lapsed: no longer in force")

    number = models.CharField(_("pledge number"), max_length=24, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    entity = models.ForeignKey(MarketEntity, on_delete=models.PROTECT, related_name="pledges")
    application = models.OneToOneField(
        PermitApplication, null=True, blank=True, on_delete=models.PROTECT, related_name="pledge"
    )
    template = models.ForeignKey(
        PledgeTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    association = models.ForeignKey(
        IndustryAssociation, null=True, blank=True, on_delete=models.PROTECT, related_name="pledges"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department that oversees it"),
        on_delete=models.PROTECT,
        related_name="pledges",
    )
    text_signed = models.TextField(_("text signed"), validators=[no_nul])
    consequences = models.TextField(_("what breaking it means"), blank=True, validators=[no_nul])
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(_("signed by"), max_length=100, validators=[no_nul])
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    materials_due_on = models.DateField(_("materials due by"), null=True, blank=True)
    valid_until = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("For a voluntary or association pledge: the last day it is given for, if limited."),
    )
    settled_at = models.DateTimeField(_("kept or broken at"), null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    breach_reason = models.TextField(_("how it was broken"), blank=True, validators=[no_nul])
    record = models.ForeignKey(
        CreditRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The pledge's credit record."),
    )
    performance_record = models.ForeignKey(
        CreditRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The record of how it was kept."),
    )

    class Meta:
        ordering = ["-signed_at"]
        verbose_name = _("credit pledge")
        verbose_name_plural = _("credit pledges")
        indexes = [
            models.Index(
                fields=["materials_due_on"],
                name="pledge_materials_due_idx",
                condition=Q(status="active", materials_due_on__isnull=False),
            ),
            # The public list, newest first (/pledges/).
            models.Index(fields=["-signed_at", "-id"], name="pledge_signed_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def public_status_display(self) -> str:
        """The status as the public sees it: an intended finding is not a finding, so a pledge
        under notice shows as being checked until the department decides."""
        if self.status == self.Status.NOTICED:
            return str(_("Being checked by the department"))
        return self.get_status_display()

    @property
    def breach_record_status(self) -> str:
        """For a broken pledge, what became of the credit record of its breach when it no longer
        stands as recorded: ``revoked`` (the finding was overturned, e.g. an objection upheld),
        ``restored`` (credit restored) or ``corrected``; ``ended`` when its disclosure period is
        over (or it is not disclosed at all), so that the public pages stop telling of it too;
        "" otherwise."""
        record = self.performance_record if self.status == self.Status.BROKEN else None
        if record is None:
            return ""
        standing = (CreditRecord.Status.REVOKED, CreditRecord.Status.RESTORED, CreditRecord.Status.CORRECTED)
        if record.status in standing:
            return record.status
        shown = (CreditRecord.Disclosure.PENDING, CreditRecord.Disclosure.PUBLISHED)
        return "" if record.disclosure in shown else "ended"


class BreachNotice(models.Model):
    """A notice of an intended breach finding (拟认定违背信用承诺告知): before a department finds a
    pledge broken it tells the entity the grounds, the severity it intends and the provision it
    relies on (and, apart from it, what the pledge itself said breaking it means), and gives it a
    defence window in working days (陈述申辩) counted from the day the notice was served (送达) —
    through the portal, or by post, in person or by publication for an entity with no portal
    account. The entity's answer is kept; the finding is confirmed only after the window closed or
    once the entity answered, or the department drops it. A confirmed finding keeps the remedies
    and the restoration notice served with it (两书同达). One open notice per pledge."""

    class Status(models.TextChoices):
        SERVED = "served", _("Notice served: the defence window is open")
        ANSWERED = "answered", _("The entity stated its defence")
        CONFIRMED = "confirmed", _("Breach confirmed")
        DROPPED = "dropped", _("Dropped: no breach found")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Through the portal (My pledges, with an email)")
        POST = "post", _("By post")
        IN_PERSON = "in_person", _("In person")
        PUBLICATION = "publication", _("By publication (public announcement)")

    OPEN = (Status.SERVED, Status.ANSWERED)

    pledge = models.ForeignKey(Pledge, on_delete=models.PROTECT, related_name="breach_notices")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SERVED)
    grounds = models.TextField(_("facts and grounds"), validators=[no_nul])
    severity = models.CharField(_("intended severity"), max_length=8, choices=Severity.choices)
    legal_basis = models.TextField(_("provision relied on"), validators=[no_nul])
    # What the pledge said breaking it means, as signed: told to the entity, but not a legal basis.
    pledge_consequences = models.TextField(
        _("what the pledge said breaking it means"), blank=True, validators=[no_nul]
    )
    pledge_status_before = models.CharField(max_length=10, choices=Pledge.Status.choices)
    served_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    served_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    service_channel = models.CharField(
        _("how the notice was served"), max_length=12, choices=Channel.choices, default=Channel.PORTAL
    )
    # The day the entity received the notice (or, by publication, is deemed to have): the defence
    # window is counted from it, that day not counted.
    served_on = models.DateField(_("date of service"))
    service_reference = models.CharField(
        _("reference of the service"), max_length=200, blank=True, validators=[no_nul]
    )
    portal_recipients = models.PositiveSmallIntegerField(_("portal users notified"), null=True, blank=True)
    defence_days = models.PositiveSmallIntegerField(_("working days for the defence"))
    defence_due_on = models.DateField(_("defence due by"))
    defence = models.TextField(_("the entity's defence"), blank=True, validators=[no_nul])
    defence_file = models.FileField(upload_to="defences/%Y/%m/", blank=True)
    defence_file_name = models.CharField(max_length=255, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(_("reasons of the decision"), blank=True, validators=[no_nul])
    # Served with a confirmed finding: the remedies (objection, reconsideration, litigation) and
    # the restoration notice, as the rules in force on the decision date word them.
    remedies_zh = models.TextField(_("remedies and restoration (Chinese)"), blank=True)
    remedies_en = models.TextField(_("remedies and restoration (English)"), blank=True)
    restoration_from = models.DateField(_("restoration may be sought from"), null=True, blank=True)

    class Meta:
        ordering = ["pledge", "-served_at", "-id"]
        verbose_name = _("notice of an intended breach finding")
        verbose_name_plural = _("notices of intended breach findings")
        constraints = [
            models.UniqueConstraint(
                fields=["pledge"],
                condition=Q(status__in=["served", "answered"]),
                name="breach_notice_one_open",
            )
        ]
        indexes = [
            models.Index(
                fields=["defence_due_on"], name="breach_notice_due_idx", condition=Q(status="served")
            )
        ]

    def __str__(self) -> str:
        return f"{self.pledge} {self.served_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def remedies(self) -> str:
        return _local(self.remedies_zh, self.remedies_en)

    @property
    def defence_due_is_provisional(self) -> bool:
        """Whether the deadline falls in a year whose official holidays are not entered yet (it
        counts weekends only until they are)."""
        from credit_portal.workdays import services as workdays

        return workdays.is_provisional(self.defence_due_on)

    @property
    def effective_defence_due_on(self):
        """The deadline as the calendar now counts it, never earlier than the one served: a
        deadline that was provisional when served (its year's holidays not yet entered) moves later
        once they are, so the entity never loses a working day it was owed."""
        from credit_portal.workdays import services as workdays

        return max(self.defence_due_on, workdays.add_working_days(self.served_on, self.defence_days))

    def defence_window_open(self, today) -> bool:
        return today <= self.effective_defence_due_on


class RemedyRule(models.Model):
    """What the notice of a confirmed breach tells the entity it may do (救济途径告知) and how it
    may seek credit restoration (信用修复告知, served with the decision: 两书同达). Text with its
    citation, versioned by the day it takes effect, so that a changed law is an entry by the
    credit office, not a release: a decision quotes the rows in force on its date.

    The text may hold placeholders the decision fills in: ``{answer_days}`` (objection: the working
    days the department has to answer, from the deadline rule ``objection.answer``), and
    ``{earliest}``, ``{min_months}``, ``{department}`` (restoration: the earliest day, from the
    minimum period of the disclosure-period rule in force on the decision date, and the deciding
    department)."""

    class Kind(models.TextChoices):
        OBJECTION = "objection", _("Objection to the credit record")
        RECONSIDERATION = "reconsideration", _("Administrative reconsideration")
        LITIGATION = "litigation", _("Administrative litigation")
        RESTORATION = "restoration", _("Credit restoration")

    PLACEHOLDERS = {
        Kind.OBJECTION: ("answer_days",),
        Kind.RECONSIDERATION: (),
        Kind.LITIGATION: (),
        Kind.RESTORATION: ("earliest", "min_months", "department"),
    }

    kind = models.CharField(_("remedy"), max_length=16, choices=Kind.choices)
    effective_from = models.DateField(_("effective from"))
    text_zh = models.TextField(_("text (Chinese)"), max_length=400, validators=[no_nul])
    text_en = models.TextField(_("text (English)"), max_length=400, validators=[no_nul])
    basis_zh = models.CharField(_("basis (Chinese)"), max_length=200, validators=[no_nul])
    basis_en = models.CharField(_("basis (English)"), max_length=200, validators=[no_nul])

    class Meta:
        ordering = ["kind", "-effective_from"]
        verbose_name = _("remedy rule")
        verbose_name_plural = _("remedy rules")
        constraints = [
            models.UniqueConstraint(fields=["kind", "effective_from"], name="remedy_rule_kind_from_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.effective_from})"

    @property
    def text(self) -> str:
        return _local(self.text_zh, self.text_en)

    @property
    def basis(self) -> str:
        return _local(self.basis_zh, self.basis_en)
