from django.apps import AppConfig


class PartiesConfig(AppConfig):
    name = "rapport.parties"
    label = "parties"
    verbose_name = "Accounts and contacts"
