"""The registry of market entities and the persons behind them.

(Credit records and the catalogue join this module in the credit-records stage.)"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase

from credit_portal.accounts.models import Department, Division
from records.identifiers import validate_uscc

no_nul = ProhibitNullCharactersValidator()


class SearchVector(models.Func):
    """``cp_search_vector(text, ...)``: CJK bigrams and Latin words as a ``simple`` tsvector (see
    ``records.search``). Created by migration 0001; needs nothing beyond core PostgreSQL."""

    function = "cp_search_vector"
    output_field = SearchVectorField()


class EntityType(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    INDIVIDUAL_BUSINESS = "individual_business", _("Individual business")
    FARMER_COOPERATIVE = "farmer_cooperative", _("Farmers' cooperative")
    SOCIAL_ORGANISATION = "social_organisation", _("Social organisation")
    PUBLIC_INSTITUTION = "public_institution", _("Public institution")
    GOVERNMENT_ORGAN = "government_organ", _("Government organ")
    OTHER = "other", _("Other organisation")


class Industry(models.TextChoices):
    """Sections of the national industry classification (GB/T 4754-2017)."""

    A = "A", _("Agriculture, forestry, animal husbandry and fishery")
    B = "B", _("Mining")
    C = "C", _("Manufacturing")
    D = "D", _("Electricity, heat, gas and water supply")
    E = "E", _("Construction")
    F = "F", _("Wholesale and retail trade")
    G = "G", _("Transport, storage and postal services")
    H = "H", _("Accommodation and catering")
    I = "I", _("Information transmission, software and IT services")  # noqa: E741 - the standard's letter
    J = "J", _("Finance")
    K = "K", _("Real estate")
    L = "L", _("Leasing and business services")
    M = "M", _("Scientific research and technical services")
    N = "N", _("Water conservancy, environment and public facilities management")
    O = "O", _("Resident services, repair and other services")  # noqa: E741 - the standard's letter
    P = "P", _("Education")
    Q = "Q", _("Health and social work")
    R = "R", _("Culture, sports and entertainment")
    S = "S", _("Public administration, social security and social organisations")
    T = "T", _("International organisations")


class MarketEntity(models.Model):
    """A market entity (市场主体): an enterprise, an individual business, a social organisation, a
    public institution... keyed by its unified social credit code (统一社会信用代码)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("In operation")
        SUSPENDED = "suspended", _("Suspended")
        REVOKED = "revoked", _("Licence revoked")
        DEREGISTERED = "deregistered", _("Deregistered")

    class PublicSector(models.TextChoices):
        NONE = "", _("Neither")
        STATE_OWNED = "state_owned", _("State-owned enterprise")
        PUBLIC_INSTITUTION = "public_institution", _("Public institution")

    code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, validators=[no_nul])
    name_en = models.CharField(_("name (English)"), max_length=300, blank=True, validators=[no_nul])
    entity_type = models.CharField(
        _("entity type"), max_length=32, choices=EntityType.choices, editable=False
    )
    division = models.ForeignKey(
        Division, verbose_name=_("administrative division"), on_delete=models.PROTECT, related_name="+"
    )
    industry = models.CharField(_("industry"), max_length=1, choices=Industry.choices, blank=True)
    registered_on = models.DateField(_("registration date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    address = models.CharField(_("registered address"), max_length=300, blank=True, validators=[no_nul])
    public_sector = models.CharField(
        _("state-owned or public institution"), max_length=24, choices=PublicSector.choices, blank=True
    )
    supervising_department = models.ForeignKey(
        Department,
        verbose_name=_("supervising department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_entities",
        help_text=_("For state-owned enterprises and public institutions: the department above them."),
    )
    registering_department = models.ForeignKey(
        Department,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="registered_entities",
    )
    search_vector = models.GeneratedField(
        expression=SearchVector("name_zh", "name_en"), output_field=SearchVectorField(), db_persist=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("market entity")
        verbose_name_plural = _("market entities")
        ordering = ["code"]
        indexes = [
            GinIndex(fields=["search_vector"], name="entity_search_gin", gin_pending_list_limit=64),
            models.Index(fields=["division", "code"], name="entity_division_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="entity_public_sector_has_supervisor",
                condition=Q(public_sector="") | Q(supervising_department__isnull=False),
                violation_error_message=_(
                    "A state-owned enterprise or public institution needs its supervising department."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"

    @property
    def name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh


class MarketEntityGroupObjectPermission(GroupObjectPermissionBase):
    """django-guardian grants on entities to departments (through their groups), as a direct foreign
    key so that a check is one indexed look-up even with millions of entities."""

    content_object = models.ForeignKey(MarketEntity, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class Person(models.Model):
    """A natural person behind an entity: legal representative (法定代表人), actual controller
    (实际控制人), responsible person (直接责任人员). The identity number is never stored in clear."""

    class IdType(models.TextChoices):
        RESIDENT_ID = "resident_id", _("Resident identity card")
        PASSPORT = "passport", _("Passport")
        HK_MACAO_PERMIT = "hk_macao_permit", _("Mainland travel permit for Hong Kong and Macao residents")
        TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
        FOREIGNER_ID = "foreigner_id", _("Foreign permanent resident ID card")

    name = models.CharField(pgettext_lazy("of a person", "name"), max_length=100, validators=[no_nul])
    id_type = models.CharField(_("identity document"), max_length=24, choices=IdType.choices)
    id_number_hash = models.CharField(max_length=64, editable=False)
    id_number_cipher = models.TextField(editable=False)
    id_number_masked = models.CharField(_("identity number"), max_length=40, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number_hash"], name="person_unique_identity"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id_number_masked})"


class EntityPerson(models.Model):
    """A person's role in an entity, over time."""

    class Role(models.TextChoices):
        LEGAL_REPRESENTATIVE = "legal_representative", _("Legal representative")
        ACTUAL_CONTROLLER = "actual_controller", _("Actual controller")
        RESPONSIBLE_PERSON = "responsible_person", _("Responsible person")

    entity = models.ForeignKey(MarketEntity, on_delete=models.CASCADE, related_name="person_links")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="entity_links")
    role = models.CharField(pgettext_lazy("in an entity", "role"), max_length=24, choices=Role.choices)
    since = models.DateField(_("since"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("person's role in an entity")
        verbose_name_plural = _("persons' roles in entities")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "person", "role"],
                condition=Q(until__isnull=True),
                name="entityperson_one_current_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name}: {self.get_role_display()}"


class EntityMembership(models.Model):
    """A self-service user entitled to act for an entity, after a staff reviewer approved the claim."""

    class Role(models.TextChoices):
        LEGAL_REPRESENTATIVE = "legal_representative", _("Legal representative")
        AGENT = "agent", _("Authorised agent")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    entity = models.ForeignKey(MarketEntity, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(pgettext_lazy("in an entity", "role"), max_length=24, choices=Role.choices)
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)

    class Meta:
        verbose_name = _("entity membership")
        verbose_name_plural = _("entity memberships")
        constraints = [models.UniqueConstraint(fields=["user", "entity"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.entity.code}"


class EntityClaim(models.Model):
    """A user's request to act for an entity, decided by a reviewer of a department maintaining it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entity_claims")
    entity = models.ForeignKey(MarketEntity, on_delete=models.CASCADE, related_name="claims")
    role = models.CharField(
        pgettext_lazy("in an entity", "role"), max_length=24, choices=EntityMembership.Role.choices
    )
    statement = models.TextField(
        _("statement"),
        max_length=2000,
        blank=True,
        validators=[no_nul],
        help_text=_("Who you are in the entity and how the reviewer can confirm it."),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(_("reason"), max_length=2000, blank=True, validators=[no_nul])

    class Meta:
        verbose_name = _("entity claim")
        verbose_name_plural = _("entity claims")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "entity"],
                condition=Q(status="pending"),
                name="claim_one_pending_per_user_entity",
            ),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="claim_status_idx")]

    def __str__(self) -> str:
        return f"{self.user} → {self.entity.code} ({self.get_status_display()})"
