from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles are Django groups with these names; ``roles.ROLE_GRANTS`` says what each may do."""

    ADMINISTRATOR = "administrator", _("Administrator")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SALES_REP = "sales_rep", _("Sales rep")
    MARKETER = "marketer", _("Marketer")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    SERVICE_AGENT = "service_agent", _("Service agent")
    ANALYST = "analyst", _("Analyst")


class Visibility(models.TextChoices):
    """Who besides the owner (and the owner's managers) may read a record of one type."""

    PRIVATE = "private", _("Private to the owner")
    TEAM = "team", _("The owner's team")
    PUBLIC = "public", _("Everyone can read")


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    MERGE = "merge", _("Merged")
    RESTORE = "restore", _("Restored")
    ERASE = "erase", _("Erased")


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    BOOLEAN = "boolean", _("Yes/no")
