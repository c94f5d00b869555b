from celery import shared_task

from rapport.activities.services import task_reminders_send


@shared_task(name="rapport.activities.tasks.task_reminders_send_task")
def task_reminders_send_task() -> int:
    return task_reminders_send()
