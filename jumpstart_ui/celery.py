"""The Celery app: configured from Django settings, tasks found in the apps."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jumpstart_ui.settings")

app = Celery("jumpstart_ui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule(sender, **kwargs):
    from django.conf import settings

    sender.add_periodic_task(
        settings.POLL_SECONDS,
        sender.signature("jobs.tasks.poll_endpoints", expires=settings.POLL_SECONDS),
        name="follow in-flight endpoints",
    )
    sender.add_periodic_task(
        settings.POLL_SECONDS,
        sender.signature("jobs.tasks.resume_lost_steps", expires=settings.POLL_SECONDS),
        name="send lost job steps to the workers again",
    )
    if settings.CATALOG_SYNC_HOURS:
        # expires drops a tick that waited in the queue past the next one instead of piling up.
        period = settings.CATALOG_SYNC_HOURS * 3600
        sender.add_periodic_task(
            period, sender.signature("catalog.tasks.sync_catalog", expires=period / 2),
            name="sync the catalog from JumpStart's bucket",
        )
