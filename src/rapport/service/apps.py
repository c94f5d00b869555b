from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "rapport.service"
    label = "service"
    verbose_name = "Customer service: cases and satisfaction"
