"""Reads on the timeline: the merged, paginated 360° timeline of a contact or an account."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet

from rapport.activities.models import Task
from rapport.activities.timeline import TimelineEntry, TimelinePage, timeline
from rapport.core import permissions
from rapport.core.errors import NotFound
from rapport.core.models import User
from rapport.parties.models import Account, Contact

__all__ = ["TimelineEntry", "TimelinePage", "timeline", "open_tasks", "my_tasks", "timeline_rows", "timeline_item_get",
           "task_list"]


def open_tasks(*, party: Contact | Account, limit: int = 20) -> list[Task]:
    party_field = "contact" if isinstance(party, Contact) else "account"
    return list(
        Task.objects.filter(**{party_field: party, "done_at__isnull": True})
        .select_related("assignee")
        .order_by("due_at", "id")[:limit]
    )


def my_tasks(*, actor: User, include_done: bool = False, limit: int = 100) -> list[Task]:
    qs = Task.objects.filter(assignee=actor).select_related("contact", "account")
    if not include_done:
        qs = qs.filter(done_at__isnull=True)
    return list(qs.order_by("due_at", "id")[:limit])


_PARTY_VIAS = ("contact", "account")


def timeline_rows(*, actor: User, model: type[Model]) -> QuerySet[Any]:
    """Rows of one timeline model the actor may read (through their contact, else their account)."""
    return permissions.readable_via_first(actor, model._default_manager.all(), vias=_PARTY_VIAS)


def timeline_item_get(*, actor: User, model: type[Model], pk: Any) -> Any:
    """A note/task/attachment/interaction the actor may read, else ``NotFound``."""
    try:
        return timeline_rows(actor=actor, model=model).select_related("contact", "account").get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"{model._meta.verbose_name.capitalize()} {pk} was not found.") from None


def task_list(
    *,
    actor: User,
    assignee_id: int | None = None,
    contact: Contact | None = None,
    account: Account | None = None,
    done: bool | None = None,
) -> QuerySet[Task]:
    """Tasks the actor may read, narrowed by assignee, party and state."""
    qs = timeline_rows(actor=actor, model=Task)
    if assignee_id is not None:
        qs = qs.filter(assignee_id=assignee_id)
    if contact is not None:
        qs = qs.filter(contact=contact)
    if account is not None:
        qs = qs.filter(account=account)
    if done is not None:
        qs = qs.filter(done_at__isnull=not done)
    return qs
