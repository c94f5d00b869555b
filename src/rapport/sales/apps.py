from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "rapport.sales"
    label = "sales"
    verbose_name = "Sales: leads, pipelines, opportunities, quotes, forecasts"
