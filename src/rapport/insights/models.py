"""No tables of its own in the ORM database: the warehouse is a DuckDB file (warehouse.py).

``Warehouse`` exists only to carry the ``insights.view_warehouse`` permission (granted by role in
``core.roles``); it is unmanaged, so no table is ever created for it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Warehouse(models.Model):
    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = _("analytical warehouse")
        verbose_name_plural = _("analytical warehouse")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
