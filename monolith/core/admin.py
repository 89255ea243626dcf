from django.contrib import admin
from django.http import HttpRequest

from monolith.core.models import CapabilityOwnership, IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("created_at", "method", "path", "key", "principal_id", "response_status")
    search_fields = ("key", "path")
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]


@admin.register(CapabilityOwnership)
class CapabilityOwnershipAdmin(admin.ModelAdmin):
    """Read-only: the fence moves only through /internal/ownership/<capability>/fence, which computes the position."""

    list_display = ("capability", "fenced", "fenced_at", "position")
    readonly_fields = [f.name for f in CapabilityOwnership._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CapabilityOwnership | None = None) -> bool:
        return False
