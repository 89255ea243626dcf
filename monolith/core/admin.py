from django.contrib import admin

from monolith.core.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("created_at", "method", "path", "key", "principal_id", "response_status")
    search_fields = ("key", "path")
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]
