from django.contrib import admin

from rapport.marketing.models import Campaign, CampaignMember


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "status", "starts_on", "ends_on", "owner", "team")
    list_filter = ("status", "channel")
    search_fields = ("name",)
    raw_id_fields = ("owner",)
    readonly_fields = ("created_at", "updated_at", "created_by", "version")


@admin.register(CampaignMember)
class CampaignMemberAdmin(admin.ModelAdmin):
    list_display = ("__str__", "campaign", "account", "contact", "sent_at", "opened_at", "clicked_at", "responded_at")
    list_filter = ("campaign",)
    raw_id_fields = ("campaign", "account", "contact")
    list_select_related = ("campaign", "account", "contact")
    readonly_fields = ("created_at", "updated_at", "created_by", "version")
