from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "rapport.commerce"
    label = "commerce"
    verbose_name = "Catalogue, orders and billing"

    def ready(self) -> None:
        # An account merge moves orders between accounts: their purchase summaries follow.
        from rapport.commerce.purchase_stats import merge_refresh
        from rapport.parties.merge_engine import merge_listen

        merge_listen(merge_refresh)
