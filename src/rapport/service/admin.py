from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rapport.service.models import Case


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Cases are worked through ``service.services`` (the app and the API), which keep
    ``resolved_at`` and ``satisfaction`` in step with the status: here those are read-only, and
    cases are never deleted (``models.Case``)."""

    list_display = ("__str__", "account", "kind", "priority", "status", "channel", "owner", "opened_at", "resolved_at")
    list_filter = ("status", "kind", "priority", "channel")
    search_fields = ("subject",)
    raw_id_fields = ("account", "contact", "owner", "team")
    readonly_fields = ("status", "resolved_at", "satisfaction", "created_by", "created_at", "updated_at", "version")
    date_hierarchy = "opened_at"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
