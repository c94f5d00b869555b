from celery import shared_task

from rapport.core.notifications import notification_email


@shared_task(
    name="rapport.core.tasks.notification_email_task", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def notification_email_task(notification_id: int) -> bool:
    return notification_email(notification_id)
