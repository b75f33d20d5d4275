from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Group
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.capabilities import StaffRole

division_code_validator = RegexValidator(r"^\d{6}$", _("An administrative division code is six digits."))
department_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9_-]{1,31}$",
    _("Use 2–32 upper-case letters, digits, '-' or '_'."),
)


class BilingualNameMixin(models.Model):
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language, falling back to Chinese."""
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name_zh


class Division(BilingualNameMixin):
    """An administrative division (行政区划, GB/T 2260)."""

    class Level(models.TextChoices):
        NATIONAL = "national", _("National")
        PROVINCE = "province", _("Province")
        PREFECTURE = "prefecture", _("Prefecture")
        COUNTY = "county", _("County")

    code = models.CharField(_("code"), max_length=6, primary_key=True, validators=[division_code_validator])
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("administrative division")
        verbose_name_plural = _("administrative divisions")


class Department(BilingualNameMixin):
    """A government department (部门) that records, decides and discloses credit information."""

    class Level(models.TextChoices):
        NATIONAL = "national", _("National")
        PROVINCIAL = "provincial", _("Provincial")
        MUNICIPAL = "municipal", _("Municipal")
        COUNTY = "county", _("County")

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[department_code_validator])
    division = models.ForeignKey(
        Division,
        verbose_name=_("administrative division"),
        on_delete=models.PROTECT,
        related_name="departments",
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("department above"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # The group through which django-guardian grants this department's object permissions.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="department", editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    # The department's own review rule: whether a clerk's file import is a batch of drafts that a
    # reviewer confirms (as a clerk's form entry always is), or effective at once.
    clerk_imports_reviewed = models.BooleanField(
        _("a clerk's file imports are reviewed"),
        default=True,
        help_text=_(
            "When set, the rows a clerk imports are drafts until a reviewer of the department confirms them."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")


class User(AbstractUser):
    """A person who signs in: a department's staff member or a market entity's user.

    The public is anonymous and agencies use API tokens, so neither has a row here.
    """

    class Kind(models.TextChoices):
        STAFF = "staff", _("Department staff")
        ENTITY = "entity", _("Market entity user")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.ENTITY)
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    staff_role = models.CharField(_("staff role"), max_length=32, choices=StaffRole.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_staff_has_department_and_role",
                condition=(Q(kind="staff") & Q(department__isnull=False) & ~Q(staff_role=""))
                | (Q(kind="entity") & Q(department__isnull=True) & Q(staff_role="")),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username


class ApiToken(models.Model):
    """A department's credential for the agency API. Only a SHA-256 digest of the secret is kept;
    the secret is shown once, when the token is issued."""

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(_("token name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, db_index=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = ArrayField(models.CharField(max_length=64), verbose_name=_("scopes"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.department.code})"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
