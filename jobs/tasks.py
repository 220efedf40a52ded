"""Celery tasks for jobs: thin wrappers that take ids, do one step and retry by kind of error; and
the hand-over that makes sure a step whose message was lost is sent again."""

import logging
from functools import partial

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from aws import AwsError

from . import data_checks, deployments, machines, solutions, training
from .models import DataCheck, Deployment, SolutionLaunch, TrainingJob, due

log = logging.getLogger(__name__)

# Throttling and network errors back off and retry; after the last try the job fails with AWS's
# reason instead of waiting forever.
RETRY = {"bind": True, "max_retries": 5, "acks_late": True}


def _step(task, job, step, do, *, allowed_from):
    """Do one step of a job; on an AWS error retry with back-off, and after the last try fail the
    job (moving it only from allowed_from) with AWS's reason."""
    try:
        do(job)
    except AwsError as exc:
        if task.request.retries < task.max_retries:
            countdown = min(60, 2 ** (task.request.retries + 1))
            job.postpone(step, countdown)  # not lost while it waits for its retry
            raise task.retry(exc=exc, countdown=countdown)
        job.fail(exc, allowed_from=allowed_from)


@shared_task(name="jobs.tasks.launch_deployment", **RETRY)
def launch_deployment(self, pk):
    _step(self, Deployment.objects.select_related("model").get(pk=pk), "launch", deployments.launch,
          allowed_from=[Deployment.Status.QUEUED])


@shared_task(name="jobs.tasks.delete_deployment", **RETRY)
def delete_deployment(self, pk):
    _step(self, Deployment.objects.get(pk=pk), "delete", deployments.delete,
          allowed_from=[Deployment.Status.DELETING])


@shared_task(name="jobs.tasks.refresh_deployment", bind=True, max_retries=3)
def refresh_deployment(self, pk):
    """Staff's "refresh now" from the admin: describe one endpoint and apply what SageMaker says."""
    deployment = Deployment.objects.get(pk=pk)
    try:
        deployments.refresh(deployment)
    except AwsError as exc:
        if exc.transient and self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=5)
        deployment.events.create(status=deployment.status, message=f"Could not refresh the status: {exc.reason}")


@shared_task(name="jobs.tasks.poll_endpoints")
def poll_endpoints():
    """Beat runs this every few seconds with an expiry, so late ticks are dropped, not piled up."""
    return deployments.poll()


@shared_task(name="jobs.tasks.launch_training_job", **RETRY)
def launch_training_job(self, pk):
    _step(self, TrainingJob.objects.select_related("model").get(pk=pk), "launch", training.launch,
          allowed_from=[TrainingJob.Status.QUEUED])


@shared_task(name="jobs.tasks.stop_training_job", **RETRY)
def stop_training_job(self, pk):
    job = TrainingJob.objects.get(pk=pk)
    try:
        training.stop(job)
    except AwsError as exc:
        if self.request.retries < self.max_retries:
            job.postpone("stop", 60)
            raise self.retry(exc=exc, countdown=min(60, 2 ** (self.request.retries + 1)))
        # Still running on AWS: say so, and let the user try again.
        job.move(TrainingJob.Status.IN_PROGRESS, allowed_from=[TrainingJob.Status.STOPPING], pending="",
                 message=f"Stopping failed: {exc.reason} The job may still be running: try again.")


@shared_task(name="jobs.tasks.poll_training_jobs")
def poll_training_jobs():
    return training.poll()


@shared_task(name="jobs.tasks.watch_training_jobs")
def watch_training_jobs():
    """Logs and metrics of the jobs whose page somebody has open."""
    return training.watch()


@shared_task(name="jobs.tasks.launch_solution", **RETRY)
def launch_solution(self, pk):
    _step(self, SolutionLaunch.objects.select_related("solution").get(pk=pk), "launch", solutions.launch,
          allowed_from=[SolutionLaunch.Status.QUEUED])


@shared_task(name="jobs.tasks.delete_solution", **RETRY)
def delete_solution(self, pk):
    _step(self, SolutionLaunch.objects.select_related("solution").get(pk=pk), "delete", solutions.delete,
          allowed_from=[SolutionLaunch.Status.DELETING])


@shared_task(name="jobs.tasks.poll_solutions")
def poll_solutions():
    return solutions.poll()


@shared_task(name="jobs.tasks.enforce_endpoint_ttl")
def enforce_endpoint_ttl():
    """Staff's time-to-live for endpoints: flag, then delete after the warning."""
    return deployments.enforce_ttl()


# -- handing steps to workers -----------------------------------------------------------------------

# (kind of job, step) -> the task that does it.
STEPS = {
    (Deployment, "launch"): launch_deployment,
    (Deployment, "delete"): delete_deployment,
    (TrainingJob, "launch"): launch_training_job,
    (TrainingJob, "stop"): stop_training_job,
    (SolutionLaunch, "launch"): launch_solution,
    (SolutionLaunch, "delete"): delete_solution,
}


def hand_over(job, step):
    """Send `step` of `job` to a worker once the current transaction commits. The row already says
    it owes `step` (job.pending); if the broker is down now, beat sends it again later."""
    task = STEPS[type(job), step]
    transaction.on_commit(partial(task.delay, job.pk), robust=True)


@shared_task(name="jobs.tasks.resume_lost_steps")
def resume_lost_steps():
    """Send again every step that no worker took in time (a worker killed after it fetched the
    message, a broker restarted, a message dropped): beat runs this every POLL_SECONDS, so a lost
    step waits at most RESUME_AFTER_SECONDS plus one poll. Each step is safe to run twice."""
    now = timezone.now()
    resumed = 0
    for model in {kind for kind, _ in STEPS}:
        for job in model.objects.lost_steps(now):
            # Compare-and-swap on the due time: of two beats (or a slow one), only one resends.
            with transaction.atomic():
                taken = model.objects.filter(pk=job.pk, pending=job.pending, pending_due=job.pending_due).update(
                    pending_due=due(now))
                if not taken:
                    continue
                job.events.create(status=job.status, message=(
                    f"No worker had taken the {job.pending} step in time (its message was lost): sent it again."))
                hand_over(job, job.pending)
            resumed += 1
    if resumed:
        log.warning("sent %d lost job step(s) to the workers again", resumed)
    return resumed



@shared_task(name="jobs.tasks.check_dataset", bind=True, max_retries=3)
def check_dataset(self, pk):
    """A fine-tuning dataset checked while the pane shows its progress."""
    data_check = DataCheck.objects.select_related("model").get(pk=pk)
    if data_check.status != DataCheck.Status.RUNNING:
        return
    try:
        data_checks.check(data_check)
    except AwsError as exc:  # only transient ones get here: the check turns the rest into problems
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=2)
        DataCheck.objects.filter(pk=pk).update(
            status=DataCheck.Status.FAILED, step="done", progress=1.0, finished_at=timezone.now(),
            report={"ok": False, "parts": [{"channel": "training", "uri": data_check.training_uri, "checked": "",
                                            "problems": [{"where": data_check.training_uri, "what": exc.reason,
                                                          "fix": "AWS did not answer: try again in a minute."}],
                                            "notes": [], "stats": {}}]})


@shared_task(name="jobs.tasks.refresh_machines")
def refresh_machines():
    """What each machine type in the catalog is (EC2's DescribeInstanceTypes), for the forms."""
    from catalog.models import Model

    names = set()
    for inference, training_types in Model.objects.visible().values_list("deploy_types", "training_types"):
        names.update(inference or [])
        names.update(training_types or [])
    return machines.refresh(sorted(names))
