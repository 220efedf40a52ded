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


class InstanceType(models.Model):
    """Staff's policy for a machine type: a type nobody has restricted is allowed."""

    name = models.CharField(max_length=60, unique=True)
    allowed = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True, help_text="Why it is restricted, for users.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @classmethod
    def disallowed(cls):
        return set(cls.objects.filter(allowed=False).values_list("name", flat=True))


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
    statuses that end a job (ENDED), and an `events` relation to their JobEvent subclass."""

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
    # The form's one-time token: a double-clicked submit finds the deployment the first click made.
    request_token = models.UUIDField(unique=True, default=uuid.uuid4)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    request = models.JSONField(default=dict, blank=True, help_text="What is sent to SageMaker, and where each value came from.")
    in_service_at = models.DateTimeField(null=True, blank=True)

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
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
        return self.status in (self.Status.IN_SERVICE, self.Status.FAILED, self.Status.UPDATING)

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
