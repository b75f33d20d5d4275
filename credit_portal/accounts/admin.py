from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from credit_portal.accounts.models import ApiToken, Department, Division, User
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
