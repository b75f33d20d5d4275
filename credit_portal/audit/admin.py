from django.contrib import admin
from django.db import transaction

from credit_portal.accounts.actors import actor_for_user
from credit_portal.audit import services as audit
from credit_portal.audit.models import AuditEvent


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletions are audit events like any service write: the admin
    is a door too. ``audited_fields`` are recorded before and after."""

    audited_fields: list[str] = []

    def _fields(self, obj) -> list[str]:
        return self.audited_fields or [
            f.name for f in obj._meta.concrete_fields if f.name not in ("password",)
        ]

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        before = None
        if change:
            old = type(obj).objects.filter(pk=obj.pk).first()
            before = audit.snapshot(old, self._fields(obj)) if old is not None else None
        super().save_model(request, obj, form, change)
        after = audit.snapshot(obj, self._fields(obj))
        if before is not None:
            changed = [k for k, v in after.items() if before.get(k) != v]
            before = {k: before[k] for k in changed}
            after = {k: after[k] for k in changed}
        audit.log(
            actor=actor_for_user(request.user),
            action=f"admin.{obj._meta.label_lower}.{'changed' if change else 'added'}",
            target=obj,
            before=before,
            after=after,
        )

    @transaction.atomic
    def delete_model(self, request, obj):
        before = audit.snapshot(obj, self._fields(obj))
        audit.log(
            actor=actor_for_user(request.user),
            action=f"admin.{obj._meta.label_lower}.deleted",
            target=obj,
            before=before,
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


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
