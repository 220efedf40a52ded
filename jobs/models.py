"""Deployments: a JumpStart model on a SageMaker endpoint, and the state machine that follows it.

SageMaker names are derived from our own row, so a retried or redelivered task finds what it made
instead of making another."""

import uuid

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
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


class DeploymentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if user.is_staff else self.filter(user=user)

    def in_flight(self):
        return self.filter(status__in=Deployment.IN_FLIGHT)

    def live(self):
        """Everything that has (or will have) an endpoint on AWS."""
        return self.exclude(status=Deployment.Status.DELETED)


class Deployment(models.Model):
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
    failure_reason = models.TextField(blank=True)
    request = models.JSONField(default=dict, blank=True, help_text="What was sent to SageMaker, and where each value came from.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    in_service_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One live deployment per endpoint name; a deleted one frees its name.
            models.UniqueConstraint(
                fields=["endpoint_name"], condition=~Q(status="deleted"), name="one_live_deployment_per_endpoint_name"
            ),
        ]

    def __str__(self):
        return self.endpoint_name

    def get_absolute_url(self):
        return reverse("jobs:endpoint-detail", args=[self.pk])

    @property
    def model_name(self):
        return f"jsui-{self.pk}-model"

    @property
    def endpoint_config_name(self):
        return f"jsui-{self.pk}-config"

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

    def move(self, to, *, allowed_from, message="", **fields):
        """Compare-and-swap transition: True when this call moved the row, False when another
        worker (or an earlier delivery of the same task) already did."""
        now = timezone.now()
        if to == self.Status.IN_SERVICE:
            fields.setdefault("in_service_at", now)
        if to in (self.Status.DELETED, self.Status.FAILED):
            fields.setdefault("ended_at", now)
        with transaction.atomic():
            moved = Deployment.objects.filter(pk=self.pk, status__in=allowed_from).update(
                status=to, updated_at=now, **fields
            )
            if moved:
                self.events.create(status=to, message=message)
        if moved:
            self.refresh_from_db()
        return bool(moved)


class DeploymentEvent(models.Model):
    """The deployment's status history, as the endpoint page shows it."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=Deployment.Status.choices)
    message = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]


class PollMark(models.Model):
    """Where the last poll stopped reading, in AWS's own clock (e.g. endpoints' LastModifiedTime)."""

    name = models.CharField(max_length=60, unique=True)
    at = models.DateTimeField()
