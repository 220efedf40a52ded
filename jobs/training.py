"""Fine-tuning: launch a training job, follow it to its output, stop it, and read its logs and
metrics while somebody watches. Celery tasks (jobs/tasks.py) call these; views read rows only."""

import logging
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aws import AwsError, logs, sagemaker, training
from aws.errors import explain_training_failure

from .models import LogLine, Metric, PollMark, TrainingJob

log = logging.getLogger(__name__)
T = TrainingJob.Status

# TrainingJobStatus in our words.
STATUS_FROM_AWS = {"InProgress": T.IN_PROGRESS, "Stopping": T.STOPPING, "Completed": T.COMPLETED,
                   "Failed": T.FAILED, "Stopped": T.STOPPED}
WATCH_SECONDS = 60  # a job page open in the last minute counts as watched
KEEP_LOG_LINES = 5000  # per job: the page shows the tail, the chart the metrics
EPOCH = re.compile(r"\bepoch\W{0,3}(\d+)\s*(?:/|of)\s*(\d+)", re.IGNORECASE)


def build_request(job):
    """CreateTrainingJob for the job, resolved from its model's spec as the SDK's fit() sends it
    (pure, no AWS). Returns what the job keeps: the request and where each value came from."""
    built = training.training_request(
        job.model.spec_of(job.model_version), region=settings.AWS_REGION, job_name=job.job_name, instance_type=job.instance_type,
        instance_count=job.instance_count, role_arn=job.role_arn, hyperparameters=job.hyperparameters,
        training_uri=job.training_uri, validation_uri=job.validation_uri or None, output_uri=job.output_uri,
        max_run_seconds=job.max_run_seconds, use_spot=job.use_spot, max_wait_seconds=job.max_wait_seconds,
        checkpoint_uri=job.checkpoint_uri or None, keep_alive_seconds=job.keep_alive_seconds,
        subnets=job.subnets, security_groups=job.security_groups, kms_key_id=job.kms_key_id or None,
        accept_eula=job.eula_accepted_at is not None, tags=[job.owner_tag],
    )
    return {"training_job": built.request,
            "sources": {name: {"value": s.value, "source": s.source} for name, s in built.sources.items() if s}}


def launch(job):
    """Create the training job the row recorded at submission; safe to run twice (a job of that
    name that carries our tag is ours already; one without it is somebody else's)."""
    if job.status != T.QUEUED or job.pending != "launch":
        return
    try:
        sagemaker.create("training_job", job.request["training_job"], owner_tag=job.owner_tag)
    except AwsError as exc:
        if exc.transient:
            raise
        job.fail(exc, allowed_from=[T.QUEUED])
        return
    job.move(T.IN_PROGRESS, allowed_from=[T.QUEUED], pending="", started_at=timezone.now(),
             message="SageMaker is starting the training job.")


def request_stop(job, user, *, via=""):
    """Move a running job to Stopping and hand the stop to a worker."""
    from .tasks import hand_over  # tasks call this module

    with transaction.atomic():
        moved = job.move(T.STOPPING, allowed_from=[T.IN_PROGRESS], pending="stop",
                         message=f"Stop requested by {user.get_username()}{via}.")
        if moved:
            hand_over(job, "stop")
    return moved


def stop(job):
    if job.status != T.STOPPING or job.pending != "stop":
        return
    sagemaker.stop_training_job(job.job_name)  # False: it had ended already; the poll says how
    job.step_done("stop")


# -- following ---------------------------------------------------------------------------------------


def poll():
    """Bring the jobs SageMaker is running up to date: one paged ListTrainingJobs of the jobs
    changed since the last poll, then a describe of only those that changed since we last
    described them. Returns the rows that moved."""
    following = {job.job_name: job for job in TrainingJob.objects.in_flight().select_related("model")}
    if not following and not TrainingJob.objects.filter(warm_pool__status="Available").exists():
        return 0
    changed = PollMark.changes("training_jobs", sagemaker.changed_training_jobs) if following else {}
    moved = 0
    for name in changed.keys() & following.keys():
        job, summary = following[name], changed[name]
        if job.aws_modified_at and summary.last_modified <= job.aws_modified_at:
            continue  # listed again within the overlap, but nothing new since we described it
        state = sagemaker.describe_training_job(name)
        if state is not None:
            moved += apply(job, state)
    # A warm pool is released after its keep-alive without the job's LastModifiedTime moving: ask
    # about the pools that should be gone by now.
    for job in TrainingJob.objects.filter(status=T.COMPLETED, warm_pool__status="Available"):
        if job.ended_at and timezone.now() > job.ended_at + timedelta(seconds=job.keep_alive_seconds):
            if state := sagemaker.describe_training_job(job.job_name):
                apply(job, state)
    return moved


def apply(job, state):
    """Keep what SageMaker says of the job; move its status when it changed. True when it moved."""
    facts = {"arn": state.arn, "secondary_status": state.secondary_status, "transitions": state.transitions,
             "training_seconds": state.training_seconds, "billable_seconds": state.billable_seconds,
             "model_artifact": state.artifact, "final_metrics": state.final_metrics, "warm_pool": state.warm_pool,
             "aws_modified_at": state.last_modified}
    status = STATUS_FROM_AWS.get(state.status)
    if status is None or status == job.status or (job.status == T.STOPPING and status == T.IN_PROGRESS):
        # Not a move (a stop asked for but not yet seen by SageMaker is not undone either).
        TrainingJob.objects.filter(pk=job.pk).update(**facts)
        return False
    reason = ""
    if status == T.FAILED:
        reason = explain_training_failure(state.failure_reason)
        facts["watched_at"] = timezone.now()  # read its last log lines once, for the page
    message = {T.COMPLETED: f"Completed: the model is at {state.artifact}.", T.STOPPED: "Stopped.",
               T.FAILED: reason}.get(status, f"SageMaker reports {state.status} ({state.secondary_status}).")
    return job.move(status, allowed_from=[job.status], failure_reason=reason, message=message, **facts)


def watch(now=None):
    """Read logs and metrics of the jobs somebody watches (page open in the last minute): their
    AWS calls grow with watched jobs, not with jobs in flight. Returns the jobs read."""
    now = now or timezone.now()
    watched = TrainingJob.objects.watched(now - timedelta(seconds=WATCH_SECONDS)).filter(logs_complete=False)
    read = 0
    for job in watched.exclude(status=T.QUEUED):
        read_logs(job)
        read += 1
    return read


def read_logs(job):
    """Read each of the job's log streams on from where the last read stopped; keep the lines,
    the metrics the spec's regexes find in them, and the epoch counter."""
    ended = job.status in TrainingJob.ENDED
    marks = dict(job.log_marks)
    lines, new_anything = [], False
    for stream in logs.training_streams(job.job_name):
        events, marks[stream] = logs.read_forward(stream, marks.get(stream))
        new_anything |= bool(events)
        lines += [LogLine(job=job, stream=stream, at=e.at, message=e.message[:10_000]) for e in events]
    metrics = [Metric(job=job, name=name, value=value, at=line.at)
               for line in lines for name, value in metric_values(job, line.message)]
    epoch = job.epoch
    epochs = job.epochs
    for line in lines:
        if found := EPOCH.search(line.message):
            epoch, epochs = int(found.group(1)), int(found.group(2))
    with transaction.atomic():
        LogLine.objects.bulk_create(lines)
        Metric.objects.bulk_create(metrics)
        TrainingJob.objects.filter(pk=job.pk).update(
            log_marks=marks, epoch=epoch, epochs=epochs or _epochs_asked(job),
            # An ended job whose streams had nothing more to say is read no more.
            logs_complete=ended and not new_anything)
        _trim(job)
    return len(lines)


def metric_values(job, message):
    """(name, value) for each of the job's metric definitions that matches the line, as SageMaker
    applies them: the regex's first group is the value."""
    for definition in _metric_definitions(job):
        try:
            found = re.search(definition["Regex"], message)
        except re.error:
            continue
        if found and found.groups():
            try:
                yield definition["Name"], float(found.group(1))
            except ValueError:
                continue


def _metric_definitions(job):
    return (job.request.get("training_job", {}).get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []


def _epochs_asked(job):
    for name in ("epochs", "num_epochs", "n_epochs", "epoch"):
        try:
            return int(job.hyperparameters.get(name))
        except (TypeError, ValueError):
            continue
    return None


def _trim(job):
    old = LogLine.objects.filter(job=job).order_by("-at", "-pk").values_list("pk", flat=True)[KEEP_LOG_LINES:]
    if old:
        LogLine.objects.filter(pk__in=list(old)).delete()


def step_durations(job, now=None):
    """The secondary-status timeline with the time spent in each step (the current one so far)."""
    now = now or timezone.now()
    rows = []
    for step in job.transitions:
        start = _parse(step.get("start"))
        end = _parse(step.get("end"))
        rows.append({**step, "start": start, "end": end,
                     "seconds": int(((end or now) - start).total_seconds()) if start else None,
                     "current": end is None and job.in_flight})
    return rows


def _parse(text):
    return datetime.fromisoformat(text) if text else None
