from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Group
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.capabilities import Cap, StaffRole
from credit_portal.text import refuse_invisible_in_name

division_code_validator = RegexValidator(r"^\d{6}$", _("An administrative division code is six digits."))
department_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9_-]{1,31}$",
    _("Use 2–32 upper-case letters, digits, '-' or '_'."),
)


class BilingualNameMixin(models.Model):
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, validators=[refuse_invisible_in_name])
    name_en = models.CharField(
        _("name (English)"), max_length=200, blank=True, validators=[refuse_invisible_in_name]
    )

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
    full_name = models.CharField(
        _("full name"), max_length=100, blank=True, validators=[refuse_invisible_in_name]
    )
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

    @property
    def scope_labels(self) -> list[tuple[str, str]]:
        """(scope, what it allows, in the active language) of each of the token's scopes."""
        return [(scope, str(Cap(scope).label) if scope in Cap.values else scope) for scope in self.scopes]

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class SignInLockout(models.Model):
    """A sign-in closed for an account or for a network address after repeated failed attempts
    (登录锁定). One row per account name or address, re-armed by each new lockout; the audit trail
    keeps every lockout and every lift. Failures are counted in Redis; the lockout itself is kept
    here, so that it holds in every process and outlives a restart of Redis."""

    class Kind(models.TextChoices):
        ACCOUNT = "account", _("Account")
        ADDRESS = "address", _("Network address")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # The user name as typed (whether or not an account has it: a lockout must not tell), or the
    # client address.
    subject = models.CharField(_("locked account or address"), max_length=150)
    user = models.ForeignKey(
        User,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="signin_lockouts",
    )
    failures = models.PositiveIntegerField(_("failed attempts"))
    locked_at = models.DateTimeField(_("locked at"))
    locked_until = models.DateTimeField(_("locked until"), db_index=True)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        User, verbose_name=_("lifted by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-locked_at"]
        verbose_name = _("sign-in lockout")
        verbose_name_plural = _("sign-in lockouts")
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject"], name="signin_lockout_unique_subject")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.lifted_at is None and self.locked_until > now


class PendingSignup(models.Model):
    """A request to open a business account, waiting for its owner to confirm the email address
    (待确认的注册). The account is created only from the link sent to that address, so the sign-up
    page answers the same whether or not the address already has an account."""

    email = models.EmailField(_("email"), max_length=150, unique=True)
    full_name = models.CharField(_("full name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    password = models.CharField(_("password"), max_length=128)  # a hash, as in User.password
    # Part of the confirmation link, which is signed with SECRET_KEY (a copy of this table alone
    # cannot make a link); renewed by each new request, so only the latest link works.
    nonce = models.CharField(max_length=64, editable=False)
    language = models.CharField(_("language"), max_length=16, blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)

    class Meta:
        verbose_name = _("pending sign-up")
        verbose_name_plural = _("pending sign-ups")

    def __str__(self) -> str:
        return self.email
