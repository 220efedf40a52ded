"""The Celery app: configured from Django settings, tasks found in the apps."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jumpstart_ui.settings")

app = Celery("jumpstart_ui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule(sender, **kwargs):
    from django.conf import settings

    # A tick that waited longer than this in the queue is dropped, not piled up behind the next
    # one; never under 10 s, so a worker busy for a moment (or a broker that delivers once a
    # second) does not drop every tick of a short period.
    late = max(2 * settings.POLL_SECONDS, 10)

    sender.add_periodic_task(
        settings.POLL_SECONDS,
        sender.signature("jobs.tasks.poll_endpoints", expires=late),
        name="follow in-flight endpoints",
    )
    sender.add_periodic_task(
        settings.POLL_SECONDS,
        sender.signature("jobs.tasks.resume_lost_steps", expires=late),
        name="send lost job steps to the workers again",
    )
    sender.add_periodic_task(
        settings.POLL_SECONDS,
        sender.signature("jobs.tasks.poll_training_jobs", expires=late),
        name="follow in-flight training jobs",
    )
    sender.add_periodic_task(
        settings.LOG_POLL_SECONDS,
        sender.signature("jobs.tasks.watch_training_jobs", expires=max(2 * settings.LOG_POLL_SECONDS, 10)),
        name="read the logs of watched training jobs",
    )
    sender.add_periodic_task(
        settings.POLL_SECONDS,
        sender.signature("jobs.tasks.poll_solutions", expires=late),
        name="follow solutions' stacks",
    )
    sender.add_periodic_task(
        300, sender.signature("jobs.tasks.enforce_endpoint_ttl", expires=300),
        name="the endpoint time-to-live",
    )
    sender.add_periodic_task(
        24 * 3600, sender.signature("jobs.tasks.refresh_machines", expires=12 * 3600),
        name="what each machine type is (EC2)",
    )
    if settings.CATALOG_SYNC_HOURS:
        # expires drops a tick that waited in the queue past the next one instead of piling up.
        period = settings.CATALOG_SYNC_HOURS * 3600
        sender.add_periodic_task(
            period, sender.signature("catalog.tasks.sync_catalog", expires=period / 2),
            name="sync the catalog from JumpStart's bucket",
        )


@worker_ready.connect
def _facts_at_start(sender, **kwargs):
    """Machine facts (GPUs, memory) are wanted from the first form on: ask EC2 once at start."""
    sender.app.send_task("jobs.tasks.refresh_machines")
