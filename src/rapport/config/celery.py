"""The Celery application.

With no broker configured (the embedded install) tasks run eagerly in the calling process, as
pretix does, so nothing but Python is needed. With ``CELERY_BROKER_URL`` or ``REDIS_URL`` set,
tasks go to workers (``rapport worker``) and periodic jobs to beat.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.config.settings")

app = Celery("rapport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
