"""Users, teams, audit, tokens, notifications, configuration and the base classes of every domain row."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.core.choices import AuditAction, CustomFieldType, Role, TokenScope, Visibility


class Team(models.Model):
    """A group of users with one manager. The manager sees and edits every record of the team."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in. Belongs to at most one team; roles are Django groups."""

    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    email_notifications = models.BooleanField(
        _("email me notifications"),
        default=True,
        help_text=_("Reminders and assignments are also sent by email."),
    )
    away_until = models.DateField(
        _("away until"),
        null=True,
        blank=True,
        help_text=_("While away (up to and including this day) no leads or cases are assigned to you."),
    )
    # A random key inside the signed calendar-feed URL: rotating it revokes every copy of the URL.
    calendar_key = models.CharField(max_length=32, blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role_names(self) -> set[str]:
        if getattr(self, "_role_names", None) is None:
            from rapport.core.access import access_profile_load

            access_profile_load(self)  # roles, permissions and managed teams in one query
        return self._role_names  # type: ignore[no-any-return]

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or Role.ADMINISTRATOR in self.role_names


class TimestampedModel(models.Model):
    """Base of every domain row.

    Invariants: ``version`` starts at 1 and grows by one on every successful update; an update
    that names an older version is refused (``core.versioning``). ``created_by`` is never
    changed after creation.
    """

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


class OwnedModel(TimestampedModel):
    """A domain row with an owner and a team: the unit row-level access is decided on."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True


class ObjectVisibility(models.Model):
    """Per object type, who may read records they do not own. Absent rows mean ``team``."""

    content_type = models.OneToOneField(ContentType, on_delete=models.CASCADE)
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.TEAM)

    class Meta:
        verbose_name = _("object visibility")
        verbose_name_plural = _("object visibility")

    def __str__(self) -> str:
        return f"{self.content_type}: {self.get_visibility_display()}"


class AuditEvent(models.Model):
    """One change to one domain row: who, when, and field-level ``{field: [before, after]}``.

    Append-only: nothing updates or deletes audit events except erasure of personal data, which
    blanks the values and keeps the fact that a change happened.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=200, blank=True, default="")
    changes = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id", "-at"], name="audit_object")]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.content_type.model} #{self.object_id}"


class ApiToken(models.Model):
    """A per-user API token. Only a SHA-256 of the secret is stored; it is shown once.

    Tokens are 256-bit random, so a fast hash is as safe as a slow one here and keeps every
    API request cheap. ``prefix`` (public) finds the row; the hash is compared in constant time.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    scope = models.CharField(_("scope"), max_length=12, choices=TokenScope.choices, default=TokenScope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Notification(models.Model):
    """An in-app message to one user (a reminder, an assignment). Read when ``read_at`` is set."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=500)
    url = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.message


class CustomFieldDefinition(models.Model):
    """An admin-defined field on one object type; values live in the object's ``custom`` JSON.

    ``key`` is the JSON key, a slug, unique per object type. Values are validated by
    ``core.custom_fields.custom_values_clean`` on every write path (form, API, import).
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    key = models.SlugField(_("key"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=10, choices=CustomFieldType.choices)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("For choice fields: a list of values.")
    )
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["content_type", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["content_type", "key"], name="custom_field_unique_key")]

    def __str__(self) -> str:
        return self.label


class SavedView(models.Model):
    """A named list filter (the list page's query string), private or shared."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("query"), max_length=2000)
    is_shared = models.BooleanField(_("shared with everyone"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


__all__ = [
    "ApiToken",
    "AuditAction",
    "AuditEvent",
    "CustomFieldDefinition",
    "Notification",
    "ObjectVisibility",
    "OwnedModel",
    "Role",
    "SavedView",
    "Team",
    "TimestampedModel",
    "User",
]
