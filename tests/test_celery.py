"""Celery through the configured broker (Redis in CI, the filesystem broker elsewhere): a task
sent by the web side is run by a real worker."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from catalog.models import Model, SyncRun
from catalog.tasks import sync_catalog
from jumpstart_ui.celery import app

from .conftest import IN_CI
from .test_sync import BUCKET, upload_fixtures

# A queue of its own, so a demo sharing the broker neither takes nor leaves these messages.
QUEUE = "jsui-test"


def test_ci_runs_celery_on_redis():
    if not IN_CI:
        pytest.skip("only CI is bound to Redis")
    assert app.conf.broker_url.startswith("redis://")


@pytest.mark.django_db(transaction=True)
def test_a_catalog_sync_sent_to_the_broker_is_run_by_a_worker(aws, settings):
    settings.JUMPSTART_BUCKET = BUCKET
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    upload_fixtures(s3)

    with start_worker(app, perform_ping_check=False, queues=[QUEUE], loglevel="WARNING"):
        sync_catalog.apply_async(queue=QUEUE)
        deadline = time.monotonic() + 30
        while not SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists():
            assert time.monotonic() < deadline, "the worker never ran the sync"
            time.sleep(0.2)

    assert Model.objects.count() == 3
