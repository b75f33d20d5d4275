from django.contrib import admin

from credit_portal.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["id", "occurred_at", "actor_label", "action", "target_type", "target_id"]
    list_filter = ["action", "actor_kind"]
    search_fields = ["target_id", "actor_label", "action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
