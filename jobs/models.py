"""Jobs: what we ask SageMaker to run for a user, and the one state machine they all share.

Every kind of job (a deployment now; training jobs and solutions next) is a `Job`: a status that
moves by compare-and-swap, an event history, and the step it owes a worker (`pending`: launch,
delete, stop) with the time by which a worker must have taken it (`pending_due`). A step whose
message was lost (a worker killed, a broker restarted) is handed over again by beat
(jobs.tasks.resume_lost_steps), and every step is safe to run twice: SageMaker names come from our
own row, and what already exists is adopted only when it carries that row's tag."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from aws import AwsError
from aws.errors import explain


class InstanceType(models.Model):
    """A machine type: staff's policy (a type nobody has restricted is allowed), and what the
    machine is (vCPUs, memory, GPUs), as EC2's DescribeInstanceTypes says, refreshed in Celery."""

    name = models.CharField(max_length=60, unique=True)
    allowed = models.BooleanField(default=True, verbose_name="allowed for endpoints")
    allowed_for_training = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True, help_text="Why it is restricted, for users.")
    vcpus = models.PositiveIntegerField(null=True, blank=True)
    memory_mib = models.PositiveIntegerField(null=True, blank=True)
    gpus = models.PositiveIntegerField(null=True, blank=True)
    gpu_name = models.CharField(max_length=60, blank=True)
    offered = models.BooleanField(null=True, help_text="Does EC2 still list it in this region? Unknown until asked.")
    facts_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @classmethod
    def disallowed(cls, training=False):
        """The types staff restricted, for endpoints or for training jobs."""
        restricted = {"allowed_for_training" if training else "allowed": False}
        return set(cls.objects.filter(**restricted).values_list("name", flat=True))


class JobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Your own jobs; everyone's with the model's view permission (superusers have it)."""
        if user.has_perm(f"{self.model._meta.app_label}.view_{self.model._meta.model_name}"):
            return self
        return self.filter(user=user)

    def lost_steps(self, now=None):
        """Jobs owing a worker a step that no worker has taken in time."""
        return self.exclude(pending="").filter(pending_due__lt=now or timezone.now())


class Job(models.Model):
    """What every kind of job shares. Subclasses define Status (TextChoices, with the field), the
    statuses that end a job (ENDED), `user` and `model`, and an `events` relation to their
    JobEvent subclass."""

    # What it runs on, and the security settings every launch takes.
    instance_type = models.CharField(max_length=60)
    instance_count = models.PositiveSmallIntegerField(default=1)
    role_arn = models.CharField(max_length=2048)
    subnets = models.JSONField(default=list, blank=True)
    security_groups = models.JSONField(default=list, blank=True)
    kms_key_id = models.CharField(max_length=2048, blank=True)
    eula_accepted_at = models.DateTimeField(null=True, blank=True)
    eula_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The form's one-time token: a double-clicked submit finds the job the first click made.
    request_token = models.UUIDField(unique=True, default=uuid.uuid4)
    request = models.JSONField(default=dict, blank=True, help_text="What is sent to SageMaker, and where each value came from.")
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The step a worker owes this job ("" for none) and when it counts as lost if not yet taken.
    pending = models.CharField(max_length=20, blank=True, db_index=True)
    pending_due = models.DateTimeField(null=True, blank=True)

    ENDED = ()

    class Meta:
        abstract = True

    def may(self, user, action):
        """Owners may do anything to their job; others need the model's permission for the action
        ("view", "change" or "delete"), as the admin asks."""
        meta = self._meta
        return self.user_id == user.pk or user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}")

    def move(self, to, *, allowed_from, message="", pending=None, **fields):
        """Compare-and-swap transition: True when this call moved the row, False when another
        worker (or an earlier delivery of the same task) already did. `pending` sets the step the
        job owes a worker next ("" clears it); a job that ends owes nothing."""
        now = timezone.now()
        if to in self.ENDED:
            fields.setdefault("ended_at", now)
            pending = ""
        if pending is not None:
            fields.update(pending=pending, pending_due=due(now) if pending else None)
        with transaction.atomic():
            moved = type(self).objects.filter(pk=self.pk, status__in=allowed_from).update(
                status=to, updated_at=now, **fields
            )
            if moved:
                self.events.create(status=to, message=message)
        if moved:
            self.refresh_from_db()
        return bool(moved)

    def fail(self, exc, *, allowed_from, also=""):
        """Move to Failed with the reason in plain words (AWS's, explained, or the error's own),
        and `also` after it; False when another worker moved the job first."""
        reason = explain(exc) if isinstance(exc, AwsError) else str(exc)
        reason = f"{reason} {also}".strip()
        return self.move(self.Status.FAILED, allowed_from=allowed_from, failure_reason=reason, message=reason)

    def step_done(self, step):
        """The worker has done `step` (its AWS call went through): nothing to hand over again."""
        return type(self).objects.filter(pk=self.pk, pending=step).update(pending="", pending_due=None) == 1

    def postpone(self, step, seconds):
        """A retry of `step` is scheduled in `seconds`: it is not lost before then."""
        later = due(timezone.now() + timedelta(seconds=seconds))
        return type(self).objects.filter(pk=self.pk, pending=step).update(pending_due=later) == 1


def due(moment):
    """When a step handed over at `moment` counts as lost."""
    return moment + timedelta(seconds=settings.RESUME_AFTER_SECONDS)


class JobEvent(models.Model):
    """A job's status history, as its page shows it."""

    message = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]


class DeploymentQuerySet(JobQuerySet):
    def in_flight(self):
        return self.filter(status__in=Deployment.IN_FLIGHT)

    def live(self):
        """Everything that has (or will have) an endpoint on AWS."""
        return self.exclude(status=Deployment.Status.DELETED)


class Deployment(Job):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        CREATING = "creating", "Creating"
        UPDATING = "updating", "Updating"
        IN_SERVICE = "in_service", "InService"
        DELETING = "deleting", "Deleting"
        DELETED = "deleted", "Deleted"
        FAILED = "failed", "Failed"

    # What a poll follows on AWS.
    IN_FLIGHT = [Status.CREATING, Status.UPDATING, Status.DELETING]
    SETTLED = [Status.IN_SERVICE, Status.DELETED, Status.FAILED]
    ENDED = (Status.DELETED, Status.FAILED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deployments")
    model = models.ForeignKey("catalog.Model", on_delete=models.PROTECT, related_name="deployments")
    model_version = models.CharField(max_length=40)
    endpoint_name = models.CharField(max_length=63)
    config_name = models.CharField(max_length=100, blank=True, help_text="The spec's named inference config.")
    # An endpoint a solution's stack made: it is followed here, and deleted with its stack.
    solution_launch = models.ForeignKey("SolutionLaunch", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="deployments")
    # The time-to-live's warning: when this endpoint was flagged for deletion.
    ttl_warned_at = models.DateTimeField(null=True, blank=True)
    # A fine-tuned model: the training job whose artifact this endpoint serves.
    training_job = models.ForeignKey("TrainingJob", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="deployments")

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    in_service_at = models.DateTimeField(null=True, blank=True)

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # A user's newest first (the resources pane) without sorting all their rows.
        indexes = [models.Index(fields=["user", "-created_at"], name="%(class)s_user_newest")]
        constraints = [
            # One live deployment per endpoint name, compared as SageMaker compares them (case
            # does not count); a deleted one frees its name.
            models.UniqueConstraint(
                Lower("endpoint_name"), condition=~Q(status="deleted"), name="one_live_deployment_per_endpoint_name_ci"
            ),
        ]

    def __str__(self):
        return self.endpoint_name

    def get_absolute_url(self):
        return reverse("jobs:endpoint-detail", args=[self.pk])

    # SageMaker names from the row's one-time token, unique across installations sharing an
    # account, and known before the row is saved, so the form can build the whole request.
    @property
    def model_name(self):
        return f"jsui-{self.request_token.hex[:12]}-model"

    @property
    def endpoint_config_name(self):
        return f"jsui-{self.request_token.hex[:12]}-config"

    @property
    def owner_tag(self):
        """The tag that marks SageMaker resources as this deployment's own."""
        return ("jumpstart-ui:deployment", str(self.request_token))

    @property
    def in_flight(self):
        return self.status in self.IN_FLIGHT or self.status == self.Status.QUEUED

    @property
    def can_delete(self):
        """An endpoint a solution's stack made goes with its stack, not alone."""
        return not self.solution_launch_id and self.status in (
            self.Status.IN_SERVICE, self.Status.FAILED, self.Status.UPDATING)

    @property
    def running_for(self):
        """How long the endpoint has been billed: since InService until deleted (or now)."""
        if not self.in_service_at:
            return None
        return (self.ended_at or timezone.now()) - self.in_service_at

    def move(self, to, **kwargs):
        if to == self.Status.IN_SERVICE:
            kwargs.setdefault("in_service_at", timezone.now())
        return super().move(to, **kwargs)


class DeploymentEvent(JobEvent):
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=Deployment.Status.choices)

    class Meta(JobEvent.Meta):
        pass


class PollMark(models.Model):
    """Where the last poll stopped reading, in AWS's own clock (e.g. endpoints' LastModifiedTime)."""

    name = models.CharField(max_length=60, unique=True)
    at = models.DateTimeField()

    @classmethod
    def changes(cls, name, list_changed):
        """What `list_changed(since)` reports changed since this mark, by name, reading a little
        behind the mark (a list may lag a moment behind a change); moves the mark on."""
        mark = cls.objects.filter(name=name).first()
        since = mark.at - timedelta(seconds=settings.POLL_OVERLAP_SECONDS) if mark else None
        changed, newest = list_changed(since)
        if newest:
            cls.objects.update_or_create(name=name, defaults={"at": newest})
        return {state.name: state for state in changed}


class TrainingJobQuerySet(JobQuerySet):
    def in_flight(self):
        return self.filter(status__in=TrainingJob.IN_FLIGHT)

    def billing(self):
        """Jobs that cost money now or soon: queued or running."""
        return self.filter(status__in=[TrainingJob.Status.QUEUED, *TrainingJob.IN_FLIGHT])

    def watched(self, since):
        """Jobs whose page somebody has had open since `since`: only theirs get logs read."""
        return self.filter(watched_at__gte=since)


class TrainingJob(Job):
    """A JumpStart model fine-tuned on the user's data: one SageMaker training job, named by the
    user (the model name), whose artifact lands at <output>/<name>/output/model.tar.gz."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        IN_PROGRESS = "in_progress", "InProgress"
        STOPPING = "stopping", "Stopping"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        STOPPED = "stopped", "Stopped"

    IN_FLIGHT = [Status.IN_PROGRESS, Status.STOPPING]
    ENDED = (Status.COMPLETED, Status.FAILED, Status.STOPPED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_jobs")
    model = models.ForeignKey("catalog.Model", on_delete=models.PROTECT, related_name="training_jobs")
    model_version = models.CharField(max_length=40)
    job_name = models.CharField(max_length=63, help_text="The model name: SageMaker's training job name.")
    training_uri = models.CharField(max_length=1024)
    validation_uri = models.CharField(max_length=1024, blank=True)
    output_uri = models.CharField(max_length=1024, help_text="S3OutputPath: the artifact lands under <name>/output/.")
    hyperparameters = models.JSONField(default=dict, blank=True)
    max_run_seconds = models.PositiveIntegerField(null=True, blank=True)
    use_spot = models.BooleanField(default=False)
    max_wait_seconds = models.PositiveIntegerField(null=True, blank=True)
    checkpoint_uri = models.CharField(max_length=1024, blank=True)
    keep_alive_seconds = models.PositiveIntegerField(default=0)
    data_check = models.JSONField(default=dict, blank=True, help_text="The data check the launch passed.")

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    # What SageMaker says, as the last poll read it.
    arn = models.CharField(max_length=300, blank=True)
    secondary_status = models.CharField(max_length=40, blank=True)
    transitions = models.JSONField(default=list, blank=True, help_text="SecondaryStatusTransitions.")
    started_at = models.DateTimeField(null=True, blank=True)
    training_seconds = models.PositiveIntegerField(null=True, blank=True)
    billable_seconds = models.PositiveIntegerField(null=True, blank=True)
    model_artifact = models.CharField(max_length=1024, blank=True)
    final_metrics = models.JSONField(default=list, blank=True)
    warm_pool = models.JSONField(default=dict, blank=True, help_text="WarmPoolStatus.")
    aws_modified_at = models.DateTimeField(null=True, blank=True, help_text="LastModifiedTime as last described.")
    # Logs are read only while somebody watches: when the page last asked, and where each stream
    # was read to.
    watched_at = models.DateTimeField(null=True, blank=True, db_index=True)
    log_marks = models.JSONField(default=dict, blank=True, help_text="Log stream -> next forward token.")
    logs_complete = models.BooleanField(default=False, help_text="The job has ended and its logs are all read.")
    # Progress as the logs tell it ("Epoch 3/5").
    epoch = models.PositiveIntegerField(null=True, blank=True)
    epochs = models.PositiveIntegerField(null=True, blank=True)

    objects = TrainingJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # A user's newest first (the resources pane) without sorting all their rows.
        indexes = [models.Index(fields=["user", "-created_at"], name="%(class)s_user_newest")]
        constraints = [
            # SageMaker's training job names are unique in the account (without case): so are ours.
            models.UniqueConstraint(Lower("job_name"), name="one_training_job_per_name_ci"),
        ]

    def __str__(self):
        return self.job_name

    def get_absolute_url(self):
        return reverse("jobs:training-detail", args=[self.pk])

    @property
    def owner_tag(self):
        return ("jumpstart-ui:training-job", str(self.request_token))

    @property
    def in_flight(self):
        return self.status in self.IN_FLIGHT or self.status == self.Status.QUEUED

    @property
    def can_stop(self):
        return self.status == self.Status.IN_PROGRESS

    @property
    def artifact_uri(self):
        """Where the fine-tuned model lands, as JumpStart's Training Output shows it."""
        return self.model_artifact or f"{self.output_uri.rstrip('/')}/{self.job_name}/output/model.tar.gz"

    @property
    def spot_saving(self):
        """(1 - billable / training) x 100 %, once SageMaker reports both."""
        if not (self.use_spot and self.training_seconds and self.billable_seconds is not None):
            return None
        return round((1 - self.billable_seconds / self.training_seconds) * 100, 1)

    @property
    def progress(self):
        """The share of epochs done, 0 to 1, where the logs tell it; None where they do not."""
        if not self.epochs:
            return None
        if self.status == self.Status.COMPLETED:
            return 1.0
        return min((self.epoch or 0) / self.epochs, 1.0)

    @property
    def cost_seconds(self):
        """Billable instance-seconds: what the bill counts."""
        return self.billable_seconds * self.instance_count if self.billable_seconds is not None else None


class TrainingJobEvent(JobEvent):
    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=TrainingJob.Status.choices)

    class Meta(JobEvent.Meta):
        pass


class LogLine(models.Model):
    """A line of a training job's CloudWatch logs, as read while somebody watched."""

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="log_lines")
    stream = models.CharField(max_length=512)
    at = models.DateTimeField()
    message = models.TextField()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["job", "at"])]


class Metric(models.Model):
    """A training metric (loss, accuracy...) read from a log line with the spec's regex."""

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=255)
    value = models.FloatField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["job", "name", "at"])]


class DataCheck(models.Model):
    """A fine-tuning dataset checked before launch (in Celery, its progress shown as it goes)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Checking"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Problems found"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey("catalog.Model", on_delete=models.CASCADE, related_name="+")
    training_uri = models.CharField(max_length=1024)
    validation_uri = models.CharField(max_length=1024, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    step = models.CharField(max_length=300, blank=True)
    progress = models.FloatField(default=0)
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class SolutionLaunchQuerySet(JobQuerySet):
    def in_flight(self):
        return self.filter(status__in=SolutionLaunch.IN_FLIGHT)

    def live(self):
        """Stacks that exist (or will): everything not deleted."""
        return self.exclude(status=SolutionLaunch.Status.DELETED)


class SolutionLaunch(Job):
    """A JumpStart solution launched: one CloudFormation stack made from the solution's template,
    followed through its events to completion or rollback, and deleted with all it made."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        CREATING = "creating", "Creating"
        COMPLETE = "complete", "Complete"
        ROLLING_BACK = "rolling_back", "Rolling back"
        FAILED = "failed", "Failed"
        DELETING = "deleting", "Deleting"
        DELETED = "deleted", "Deleted"

    IN_FLIGHT = [Status.CREATING, Status.ROLLING_BACK, Status.DELETING]
    ENDED = (Status.DELETED,)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="solution_launches")
    solution = models.ForeignKey("catalog.Solution", on_delete=models.PROTECT, related_name="launches")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    stack_id = models.CharField(max_length=300, blank=True, help_text="The stack's ARN: its one name after deletion.")
    stack_status = models.CharField(max_length=40, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    resources = models.JSONField(default=list, blank=True, help_text="What the stack made: logical id, type, physical id, status.")
    last_event_id = models.CharField(max_length=200, blank=True)

    objects = SolutionLaunchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # A user's newest first (the resources pane) without sorting all their rows.
        indexes = [models.Index(fields=["user", "-created_at"], name="%(class)s_user_newest")]

    def __str__(self):
        return self.stack_name

    def get_absolute_url(self):
        return reverse("jobs:solution-launch", args=[self.pk])

    @property
    def stack_name(self):
        """From the row's token: unique across installations sharing an account."""
        return f"jsui-{self.solution.slug[:40]}-{self.request_token.hex[:8]}"

    @property
    def owner_tag(self):
        return ("jumpstart-ui:solution-launch", str(self.request_token))

    @property
    def in_flight(self):
        return self.status in self.IN_FLIGHT or self.status == self.Status.QUEUED

    @property
    def can_delete(self):
        return self.status in (self.Status.COMPLETE, self.Status.FAILED)


class SolutionLaunchEvent(JobEvent):
    launch = models.ForeignKey(SolutionLaunch, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=SolutionLaunch.Status.choices)

    class Meta(JobEvent.Meta):
        pass


class StackEvent(models.Model):
    """One of CloudFormation's events for a launch's stack, as its page shows them."""

    launch = models.ForeignKey(SolutionLaunch, on_delete=models.CASCADE, related_name="stack_events")
    at = models.DateTimeField()
    logical_id = models.CharField(max_length=255)
    resource_type = models.CharField(max_length=255)
    status = models.CharField(max_length=40)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]


class CostPolicy(models.Model):
    """Staff's rule for forgotten endpoints: one row. An endpoint InService longer than the
    time-to-live is flagged, and deleted after the warning period unless it is kept."""

    endpoint_ttl_hours = models.PositiveIntegerField(
        null=True, blank=True, help_text="Delete endpoints that have been InService this long (empty: never).")
    warning_hours = models.PositiveIntegerField(
        default=24, help_text="How long an endpoint past its time-to-live is flagged before it is deleted.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "cost policy"

    def __str__(self):
        return f"endpoints live {self.endpoint_ttl_hours} h" if self.endpoint_ttl_hours else "no endpoint time-to-live"

    @classmethod
    def current(cls):
        return cls.objects.order_by("pk").first() or cls()

    def deadline(self, deployment):
        """When the endpoint passes its time-to-live (None: no time-to-live, or not running)."""
        if not self.endpoint_ttl_hours or not deployment.in_service_at or deployment.status != Deployment.Status.IN_SERVICE:
            return None
        return deployment.in_service_at + timedelta(hours=self.endpoint_ttl_hours)

    def past_ttl(self, deployment, now=None):
        deadline = self.deadline(deployment)
        return deadline is not None and (now or timezone.now()) >= deadline
