from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from rapport.core.models import (
    ApiToken,
    AuditEvent,
    CustomFieldDefinition,
    ObjectVisibility,
    SavedView,
    Team,
    User,
)
from rapport.core.permissions import visibility_cache_clear


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Rapport", {"fields": ("team", "time_zone", "language", "email_notifications")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "team", "is_active")
    list_filter = ("team", "groups", "is_active")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager")
    search_fields = ("name",)


@admin.register(ObjectVisibility)
class ObjectVisibilityAdmin(admin.ModelAdmin):
    list_display = ("content_type", "visibility")

    def save_model(self, request, obj, form, change):  # noqa: ANN001
        super().save_model(request, obj, form, change)
        visibility_cache_clear()


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(admin.ModelAdmin):
    list_display = ("label", "key", "content_type", "field_type", "required", "position")
    list_filter = ("content_type", "field_type")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "content_type", "object_id", "object_repr")
    list_filter = ("action", "content_type")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "scope", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "secret_hash", "created_at", "last_used_at")


admin.site.register(SavedView)
admin.site.site_header = "Rapport administration"
