from django.apps import AppConfig


class MarketingConfig(AppConfig):
    name = "rapport.marketing"
    label = "marketing"
    verbose_name = "Marketing: campaigns and their responses"
