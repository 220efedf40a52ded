"""Catalog background work: the periodic sync from JumpStart's bucket (scheduled in celery.py)."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import sync
from .models import SyncRun

log = logging.getLogger(__name__)

# A run still "running" after this long died with its worker; it no longer blocks a new one.
STALE_AFTER = timedelta(hours=1)


# The time limits end a stuck run before STALE_AFTER, so a run marked running is a live one.
@shared_task(name="catalog.tasks.sync_catalog", soft_time_limit=50 * 60, time_limit=55 * 60)
def sync_catalog():
    """Sync from the bucket unless a sync is already under way; a late tick is simply dropped."""
    running = SyncRun.objects.filter(
        status=SyncRun.Status.RUNNING, started_at__gte=timezone.now() - STALE_AFTER
    ).first()
    if running:
        log.info("Catalog sync skipped: run %s is still going", running.pk)
        return None
    run = sync.sync_from_bucket()
    level = logging.ERROR if run.status == SyncRun.Status.FAILED else logging.INFO
    log.log(level, "%s", sync.summary(run))
    return run.pk
