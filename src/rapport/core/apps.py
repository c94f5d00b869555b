from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "rapport.core"
    label = "core"
    verbose_name = "Rapport core"

    def ready(self) -> None:
        from rapport.core import roles

        # Groups and their permissions are configuration derived from code (roles.py); keeping
        # them in sync after every migrate means a new model's permissions reach the right roles.
        # Not tied to one sender: each app's permissions exist only after its own post_migrate.
        post_migrate.connect(roles.roles_sync_after_migrate, dispatch_uid="rapport-roles-sync")
