from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from credit_portal.accounts import signin
from credit_portal.accounts.actors import actor_for_user
from credit_portal.accounts.models import ApiToken, Department, Division, SignInLockout, User
from credit_portal.audit.admin import AuditedModelAdmin


@admin.register(Division)
class DivisionAdmin(AuditedModelAdmin):
    list_display = ["code", "name_zh", "name_en", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name_zh", "name_en"]


@admin.register(Department)
class DepartmentAdmin(AuditedModelAdmin):
    list_display = [
        "code",
        "name_zh",
        "name_en",
        "level",
        "division",
        "parent",
        "clerk_imports_reviewed",
        "is_active",
    ]
    list_filter = ["level", "is_active"]
    search_fields = ["code", "name_zh", "name_en"]
    readonly_fields = ["code", "group"]

    def has_add_permission(self, request):
        # Departments are created through the service (which also creates their permission group).
        return False


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    list_display = ["username", "full_name", "kind", "department", "staff_role", "is_active"]
    list_filter = ["kind", "staff_role", "is_active"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Credit Portal", {"fields": ("kind", "full_name", "department", "staff_role", "phone")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin):
    list_display = ["prefix", "name", "department", "scopes", "created_at", "revoked_at", "last_used_at"]
    list_filter = ["department"]
    readonly_fields = [
        "prefix",
        "department",
        "scopes",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]
    exclude = ["digest"]

    def has_add_permission(self, request):
        return False


@admin.register(SignInLockout)
class SignInLockoutAdmin(admin.ModelAdmin):
    """Lockouts are made by the sign-in guard and lifted through its service (audited); the admin
    only lists them and lifts the selected ones."""

    list_display = [
        "kind",
        "subject",
        "user",
        "failures",
        "locked_at",
        "locked_until",
        "lifted_at",
        "lifted_by",
    ]
    list_filter = ["kind"]
    search_fields = ["subject"]
    actions = ["lift"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Lift the selected lockouts"))
    def lift(self, request, queryset):
        actor = actor_for_user(request.user)
        lifted = 0
        for lockout in queryset:
            if lockout.is_active():
                signin.signin_lockout_lift(actor=actor, lockout_id=lockout.pk)
                lifted += 1
        self.message_user(
            request,
            ngettext("%(count)d lockout lifted.", "%(count)d lockouts lifted.", lifted) % {"count": lifted},
            messages.SUCCESS,
        )
