from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "rapport.commerce"
    label = "commerce"
    verbose_name = "Catalogue, orders and billing"
