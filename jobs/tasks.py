"""Celery tasks for deployments: thin wrappers that take ids and retry by kind of error."""

from celery import shared_task

from aws import AwsError

from . import deployments
from .models import Deployment

# Throttling and network errors back off and retry; after the last try the deployment fails with
# AWS's reason instead of waiting forever.
RETRY = {"bind": True, "max_retries": 5, "acks_late": True}


def _retry_or_fail(task, deployment, exc, allowed_from):
    if task.request.retries < task.max_retries:
        raise task.retry(exc=exc, countdown=min(60, 2 ** (task.request.retries + 1)))
    deployments.fail(deployment, exc, allowed_from=allowed_from)


@shared_task(name="jobs.tasks.launch_deployment", **RETRY)
def launch_deployment(self, pk):
    deployment = Deployment.objects.select_related("model").get(pk=pk)
    try:
        deployments.launch(deployment)
    except AwsError as exc:
        _retry_or_fail(self, deployment, exc, [Deployment.Status.QUEUED])


@shared_task(name="jobs.tasks.delete_deployment", **RETRY)
def delete_deployment(self, pk):
    deployment = Deployment.objects.get(pk=pk)
    try:
        deployments.delete(deployment)
    except AwsError as exc:
        _retry_or_fail(self, deployment, exc, [Deployment.Status.DELETING])


@shared_task(name="jobs.tasks.poll_endpoints")
def poll_endpoints():
    """Beat runs this every few seconds with an expiry, so late ticks are dropped, not piled up."""
    return deployments.poll()
