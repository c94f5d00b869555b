from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "rapport.sales"
    label = "sales"
    verbose_name = "Sales: leads, pipelines, opportunities, quotes, forecasts"

    def ready(self) -> None:
        # Deals follow their quote's order (see commerce.order_events for why a registry).
        from rapport.commerce.order_events import EVENTS, order_event_listen
        from rapport.sales.services_quotes import order_event

        for event in EVENTS:
            order_event_listen(event, order_event)
