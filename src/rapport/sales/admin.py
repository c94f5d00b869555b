from django.contrib import admin

from rapport.sales.models import Lead, Opportunity, Pipeline, Stage


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "is_active")
    inlines = [StageInline]


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("__str__", "company", "status", "owner", "score", "created_at")
    list_filter = ("status",)
    search_fields = ("last_name", "company", "email")
    raw_id_fields = ("converted_account", "converted_contact", "converted_opportunity")


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ("name", "account", "stage", "status", "amount", "currency", "owner", "expected_close_date")
    list_filter = ("status", "pipeline")
    raw_id_fields = ("account", "contact", "lead")
