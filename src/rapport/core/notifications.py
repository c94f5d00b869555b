"""In-app notifications, mirrored by email for users who ask for it."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from rapport.core.models import Notification, User


def notification_send(*, user: User, kind: str, message: str, url: str = "") -> Notification:
    """Store a notification; if the user wants email, send it after the transaction commits."""
    note = Notification.objects.create(user=user, kind=kind, message=message[:500], url=url[:300])
    if user.email_notifications and user.email:
        from rapport.core.tasks import notification_email_task

        transaction.on_commit(lambda: notification_email_task.delay(note.pk))
    return note


def notification_email(notification_id: int) -> bool:
    """Email one notification once (idempotent: ``emailed_at`` is set on success)."""
    note = Notification.objects.select_related("user").filter(pk=notification_id, emailed_at__isnull=True).first()
    if note is None or not note.user.email:
        return False
    link = f"\n\n{settings.RAPPORT_BASE_URL}{note.url}" if note.url else ""
    send_mail(
        subject=f"[Rapport] {note.message[:120]}",
        message=f"{note.message}{link}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[note.user.email],
    )
    Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())
    return True


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
