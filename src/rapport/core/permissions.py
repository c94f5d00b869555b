"""Row-level access: the one place that decides which records a user may read or change.

Two questions, two answers:

* **May this role do this to this type at all?** Django model permissions, granted to roles in
  ``core.roles`` (``require_model_perm``).
* **Which rows?** ``readable``/``writable`` narrow a queryset of an ``OwnedModel``:

  - administrators (and superusers) see and change everything;
  - everyone sees and changes what they own, and a team manager everything of the team;
  - others read according to the type's ``ObjectVisibility``: ``private`` (nobody else),
    ``team`` (the owner's team) or ``public`` (everyone); team members may change what their
    team may read, unless the type is private;

Records that hang off a party (interactions, notes, tasks, attachments) follow their party:
whoever can read the contact can read its timeline (``via`` arguments).

Selectors, views, API endpoints and services all call these functions; nothing re-implements
them. A record the actor may not read is reported as *not found*, so ids do not leak.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db.models import Model, Q, QuerySet

from rapport.core.choices import Visibility
from rapport.core.errors import NotFound, PermissionDenied

if TYPE_CHECKING:
    from rapport.core.models import User

M = TypeVar("M", bound=Model)
_ACTION_VERB = {"view": "see", "add": "create", "change": "change", "delete": "delete"}


def visibility_for(model: type[Model]) -> str:
    """The configured visibility of a type (cached for a minute; admin edits clear it)."""
    from rapport.core.models import ObjectVisibility

    key = f"visibility:{model._meta.label_lower}"
    value = cache.get(key)
    if value is None:
        ct = ContentType.objects.get_for_model(model)
        row = ObjectVisibility.objects.filter(content_type=ct).values_list("visibility", flat=True).first()
        value = row or Visibility.TEAM
        cache.set(key, value, 60)
    return value


def visibility_cache_clear() -> None:
    """Forget cached visibilities (after an admin changed one); other cache entries stay."""
    from django.apps import apps

    cache.delete_many([f"visibility:{model._meta.label_lower}" for model in apps.get_models()])


def managed_team_ids(actor: User) -> list[int]:
    if getattr(actor, "_managed_team_ids", None) is None:
        from rapport.core.access import access_profile_load

        access_profile_load(actor)  # with the roles and permissions, in one query
    return actor._managed_team_ids  # type: ignore[no-any-return]


def _row_q(actor: User, model: type[Model], *, write: bool, prefix: str = "") -> Q | None:
    """The Q that selects rows ``actor`` may read (or write); ``None`` means all rows."""
    if actor.is_administrator:
        return None
    visibility = visibility_for(model)
    if visibility == Visibility.PUBLIC and not write:
        return None
    q = Q(**{f"{prefix}owner_id": actor.pk})
    teams = managed_team_ids(actor)
    if teams:
        q |= Q(**{f"{prefix}team_id__in": teams})
    if visibility != Visibility.PRIVATE and actor.team_id:
        q |= Q(**{f"{prefix}team_id": actor.team_id})
    return q


def require_model_perm(actor: Any, model: type[Model], action: str) -> None:
    """Refuse unless the actor is signed in and a role grants ``action`` on ``model``."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("Sign in first.")
    opts = model._meta
    if not actor.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
        raise PermissionDenied(f"Your role may not {_ACTION_VERB.get(action, action)} {opts.verbose_name_plural}.")


def readable(actor: User, queryset: QuerySet[M], *, via: str = "") -> QuerySet[M]:
    """Narrow ``queryset`` to rows ``actor`` may read.

    ``via`` names the owning relation for rows that inherit access from a party, e.g.
    ``via="contact"`` for interactions.
    """
    require_model_perm(actor, queryset.model, "view")
    return _narrow(actor, queryset, via=via, write=False)


def readable_as(actor: User, queryset: QuerySet[M], model: type[Model]) -> QuerySet[M]:
    """Rows that carry a copy of the owner and team of the ``model`` row they belong to (an
    invoice its order's), narrowed by ``model``'s rule on their own columns: the rows
    ``readable(via=...)`` gives, without joining ``model``. Valid only while the copy is exact."""
    require_model_perm(actor, queryset.model, "view")
    q = _row_q(actor, model, write=False)
    return queryset if q is None else queryset.filter(q)


def writable(actor: User, queryset: QuerySet[M], *, via: str = "") -> QuerySet[M]:
    """Narrow ``queryset`` to rows ``actor`` may change (model permission checked by caller)."""
    return _narrow(actor, queryset, via=via, write=True)


def _narrow(actor: User, queryset: QuerySet[M], *, via: str, write: bool) -> QuerySet[M]:
    model: type[Model] = queryset.model
    prefix = ""
    if via:
        model = model._meta.get_field(via).related_model  # type: ignore[assignment]
        prefix = f"{via}__"
    q = _row_q(actor, model, write=write, prefix=prefix)
    return queryset if q is None else queryset.filter(q)


def readable_via_first(actor: User, queryset: QuerySet[M], *, vias: tuple[str, ...]) -> QuerySet[M]:
    """Rows readable through the first of ``vias`` that is set on each row.

    For timeline rows that hang off a contact or, failing that, an account: a row with a contact
    is readable when its contact is; a row without one when its account is.
    """
    require_model_perm(actor, queryset.model, "view")
    condition = Q()
    unset = Q()
    for via in vias:
        related = queryset.model._meta.get_field(via).related_model
        q = _row_q(actor, related, write=False, prefix=f"{via}__")  # type: ignore[arg-type]
        condition |= unset & Q(**{f"{via}__isnull": False}) & (q if q is not None else Q())
        unset &= Q(**{f"{via}__isnull": True})
    return queryset.filter(condition)


def can_read(actor: User, obj: Model) -> bool:
    if not actor.has_perm(f"{obj._meta.app_label}.view_{obj._meta.model_name}"):
        return False
    return _row_allows(actor, obj, write=False)


def can_write(actor: User, obj: Model) -> bool:
    return _row_allows(actor, obj, write=True)


def _row_allows(actor: User, obj: Model, *, write: bool) -> bool:
    q = _row_q(actor, type(obj), write=write)
    if q is None:
        return True
    return type(obj)._default_manager.filter(q, pk=obj.pk).exists()


def get_readable(actor: User, queryset: QuerySet[M], pk: Any, *, via: str = "") -> M:
    """The row with ``pk`` if ``actor`` may read it, else ``NotFound`` (never a hint it exists)."""
    try:
        return readable(actor, queryset, via=via).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"{queryset.model._meta.verbose_name.capitalize()} {pk} was not found.") from None


def check_write(actor: User, obj: Model, action: str = "change") -> None:
    """Refuse with ``PermissionDenied`` unless ``actor`` may ``action`` (change/delete) ``obj``."""
    require_model_perm(actor, type(obj), action)
    if not can_write(actor, obj):
        raise PermissionDenied(
            f"You may see this {obj._meta.verbose_name} but not {_ACTION_VERB[action]} it; "
            "ask its owner or their manager."
        )


def check_write_via(actor: User, parent: Model, model: type[Model], action: str) -> None:
    """For timeline rows: the model permission, plus read access to the parent party."""
    require_model_perm(actor, model, action)
    if not _row_allows(actor, parent, write=False):
        raise NotFound(f"{parent._meta.verbose_name.capitalize()} {parent.pk} was not found.")
