from django.contrib import admin

from rapport.insights.models import ChurnAlert, CustomerScore, ScoringRun, ScoringSettings


@admin.register(ScoringSettings)
class ScoringSettingsAdmin(admin.ModelAdmin):
    """One row: the admin edits it (``clean`` refuses thresholds out of order); never adds or deletes."""

    list_display = ("__str__", "pyramid_basis", "churn_alert_threshold", "jump_threshold", "save_team_user",
                    "save_team", "updated_at")
    raw_id_fields = ("save_team_user",)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def, override]
        return not ScoringSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def, override]
        return False


@admin.register(ScoringRun)
class ScoringRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "finished_at", "as_of", "customers", "alerts")
    readonly_fields = ("started_at", "finished_at", "as_of", "customers", "alerts", "notes", "cluster_descriptions")


@admin.register(CustomerScore)
class CustomerScoreAdmin(admin.ModelAdmin):
    list_display = ("account", "rfm_segment", "value_tier", "clv", "churn_probability", "scored_at")
    list_filter = ("rfm_segment", "value_tier")
    raw_id_fields = ("account", "run")
    show_full_result_count = False  # no count(*) over a million rows


@admin.register(ChurnAlert)
class ChurnAlertAdmin(admin.ModelAdmin):
    list_display = ("account", "status", "probability", "suggested_action", "assignee", "created_at", "outcome_at")
    list_filter = ("status", "suggested_action")
    raw_id_fields = ("account", "assignee", "task", "decided_by")
