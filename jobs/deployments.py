"""Deploying: launch a deployment's SageMaker resources, follow endpoints to a settled state, and
remove them. Celery tasks (jobs/tasks.py) call these; views only read rows and enqueue tasks."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aws import AwsError, jumpstart, sagemaker, training
from aws.errors import explain

from .models import CostPolicy, Deployment, PollMark

log = logging.getLogger(__name__)
S = Deployment.Status

# SageMaker's EndpointStatus in our words.
STATUS_FROM_AWS = {
    "Creating": S.CREATING, "Updating": S.UPDATING, "SystemUpdating": S.UPDATING, "RollingBack": S.UPDATING,
    "InService": S.IN_SERVICE, "Deleting": S.DELETING, "Failed": S.FAILED, "UpdateRollbackFailed": S.FAILED,
    "OutOfService": S.FAILED,
}


def build_request(deployment):
    """The SageMaker requests for a deployment, resolved from its model's spec (pure, no AWS): the
    JumpStart model as it is, or the artifact a training job made from it, as estimator.deploy()
    sends it."""
    common = dict(
        region=settings.AWS_REGION, model_name=deployment.model_name,
        endpoint_config_name=deployment.endpoint_config_name, endpoint_name=deployment.endpoint_name,
        instance_type=deployment.instance_type, instance_count=deployment.instance_count,
        role_arn=deployment.role_arn, subnets=deployment.subnets, security_groups=deployment.security_groups,
        kms_key_id=deployment.kms_key_id or None, tags=[deployment.owner_tag],
    )
    if deployment.training_job_id:
        return training.fine_tuned_deploy_request(
            deployment.model.spec_of(deployment.model_version), model_data_uri=deployment.training_job.artifact_uri,
            **common)
    return jumpstart.deploy_request(deployment.model.spec_of(deployment.model_version),
                                    accept_eula=deployment.eula_accepted_at is not None,
                                    config_name=deployment.config_name or None, **common)


def recorded_request(deployment):
    """The requests as the deployment keeps them (what the endpoint page shows), from build_request."""
    request = build_request(deployment)
    return {
        "model": request.model, "endpoint_config": request.endpoint_config, "endpoint": request.endpoint,
        "sources": {name: {"value": s.value, "source": s.source} for name, s in request.sources.items() if s},
    }


CREATES = ("model", "endpoint_config", "endpoint")


def launch(deployment):
    """Create the Model, EndpointConfig and Endpoint the deployment recorded when it was submitted;
    safe to run twice: names come from the row, and what already exists is adopted only when it
    carries this deployment's tag. AwsError propagates when transient."""
    if deployment.status != S.QUEUED or deployment.pending != "launch":
        return
    if not deployment.request.get("endpoint"):
        try:
            deployment.request = recorded_request(deployment)
        except jumpstart.SpecError as exc:
            deployment.move(S.FAILED, allowed_from=[S.QUEUED], failure_reason=str(exc), message=str(exc))
            return
        deployment.save(update_fields=["request"])
    made = []
    try:
        for kind in CREATES:
            sagemaker.create(kind, deployment.request[kind], owner_tag=deployment.owner_tag)
            made.append(kind)
    except AwsError as exc:
        if exc.transient:
            raise
        deployment.fail(exc, allowed_from=[S.QUEUED], also=_take_back(deployment, made))
        return
    deployment.move(S.CREATING, allowed_from=[S.QUEUED], pending="", message="SageMaker is creating the endpoint.")


def _take_back(deployment, made):
    """After a refusal part-way (a quota, say), delete what this launch had made, so nothing is
    left behind unsaid. Returns a sentence for the failure reason."""
    names = {"model": deployment.model_name, "endpoint_config": deployment.endpoint_config_name}
    gone, left = [], []
    for kind in reversed([kind for kind in made if kind in names]):
        noun = kind.replace("_", " ")
        try:
            sagemaker.delete(kind, names[kind])
            gone.append(noun)
        except AwsError as exc:
            log.warning("could not delete %s %s: %s", kind, names[kind], exc)
            left.append(f"the {noun} {names[kind]}")
    if left:
        return (f"It made {' and '.join(left)}, which could not be deleted: they cost nothing while no "
                "endpoint uses them; delete them in the SageMaker console.")
    if gone:
        return f"The {' and '.join(gone)} it had made {'were' if len(gone) > 1 else 'was'} deleted again."
    return ""


def poll():
    """Bring every in-flight deployment up to date: one paged list of the endpoints changed since
    the last poll, then a describe only for those that failed (for the reason) and for endpoints
    being deleted that the list no longer shows. Returns the number of rows that moved."""
    in_flight = list(Deployment.objects.in_flight())
    if not in_flight:
        return 0
    seen = PollMark.changes("endpoints", sagemaker.changed_endpoints)
    moved = 0
    for deployment in in_flight:
        state = seen.get(deployment.endpoint_name)
        if state is None and deployment.status == S.DELETING:
            # Gone endpoints are not listed: ask about this one.
            state = sagemaker.describe_endpoint(deployment.endpoint_name)
            if state is None:
                moved += finish_delete(deployment)
                continue
        if state is not None:
            moved += apply(deployment, state)
    return moved


def refresh(deployment):
    """Staff's "refresh now": describe one endpoint and apply what SageMaker says."""
    if deployment.status in (S.QUEUED, S.DELETED):
        return False
    state = sagemaker.describe_endpoint(deployment.endpoint_name)
    if state is None:
        if deployment.status == S.DELETING:
            return finish_delete(deployment)
        reason = "The endpoint no longer exists in SageMaker."
        return deployment.move(S.FAILED, allowed_from=[deployment.status], failure_reason=reason, message=reason)
    return apply(deployment, state)


def apply(deployment, state):
    """Move the row to what SageMaker reports; True when it moved."""
    status = STATUS_FROM_AWS.get(state.status)
    if status is None or status == deployment.status:
        return False
    if deployment.status == S.DELETING:
        # Deletion was asked for but its task may not have reached SageMaker yet: what SageMaker
        # says of the endpoint until then is not news. Only its disappearance ends a deletion.
        return False
    if status == S.FAILED and not state.failure_reason:
        state = sagemaker.describe_endpoint(deployment.endpoint_name) or state
    reason = state.failure_reason or (f"The endpoint is {state.status}." if status == S.FAILED else "")
    return deployment.move(status, allowed_from=[deployment.status], failure_reason=reason,
                           message=reason or f"SageMaker reports {state.status}.")


def request_deletion(deployment, user, *, via=""):
    """Move the deployment to Deleting and hand the delete to a worker; False when it was not in a
    state that can be deleted (or someone else asked first). `user` None: a rule asked (`via`)."""
    from .tasks import hand_over  # tasks call this module

    who = user.get_username() if user else ""
    with transaction.atomic():
        moved = deployment.move(S.DELETING, allowed_from=[S.IN_SERVICE, S.FAILED, S.UPDATING], pending="delete",
                                message=f"Deletion requested by {who}{via}.")
        if moved:
            hand_over(deployment, "delete")
    return moved


def delete(deployment):
    """Delete the endpoint; when it is already gone, finish at once (config and model too). The poll
    follows the deletion from there."""
    if deployment.status != S.DELETING or deployment.pending != "delete":
        return
    try:
        existed = sagemaker.delete("endpoint", deployment.endpoint_name)
    except AwsError as exc:
        if exc.transient:
            raise
        reason = f"Deleting the endpoint failed: {explain(exc)} It may still be running: try again."
        deployment.move(S.FAILED, allowed_from=[S.DELETING], failure_reason=reason, message=reason)
        return
    if existed:
        deployment.step_done("delete")
    else:
        finish_delete(deployment)


def finish_delete(deployment):
    """The endpoint is gone: remove its config and model, and close the row. A solution's stack
    deletes its own config and model."""
    if deployment.solution_launch_id:
        return deployment.move(S.DELETED, allowed_from=[S.DELETING], message="Deleted with its solution's stack.")
    for kind, name in (("endpoint_config", deployment.endpoint_config_name), ("model", deployment.model_name)):
        try:
            sagemaker.delete(kind, name)
        except AwsError as exc:
            # Left behind costs nothing while no endpoint uses it; say so in the history.
            log.warning("could not delete %s %s: %s", kind, name, exc)
            deployment.events.create(status=deployment.status, message=f"Could not delete the {kind.replace('_', ' ')}: {exc.reason}")
    return deployment.move(S.DELETED, allowed_from=[S.DELETING], message="Endpoint, its config and its model deleted.")


def enforce_ttl(now=None):
    """Staff's time-to-live for forgotten endpoints (CostPolicy): an endpoint InService longer is
    flagged, its history saying when it will go; one flagged for the warning period is deleted,
    the deletion recorded. Every user's endpoints: it is an admin's rule. Endpoints a solution's
    stack made go with their stack and are left out. Returns (flagged, deleted)."""
    policy = CostPolicy.current()
    if not policy.endpoint_ttl_hours:
        return 0, 0
    now = now or timezone.now()
    cutoff = now - timedelta(hours=policy.endpoint_ttl_hours)
    warned_before = now - timedelta(hours=policy.warning_hours)
    flagged = deleted = 0
    due = Deployment.objects.filter(status=S.IN_SERVICE, in_service_at__lte=cutoff, solution_launch__isnull=True)
    for deployment in due:
        if deployment.ttl_warned_at is None:
            # Compare-and-swap: of two beats, one flags it.
            if Deployment.objects.filter(pk=deployment.pk, ttl_warned_at__isnull=True).update(ttl_warned_at=now):
                goes = now + timedelta(hours=policy.warning_hours)
                deployment.events.create(status=deployment.status, message=(
                    f"In service for more than the time-to-live of {policy.endpoint_ttl_hours} h: it will be "
                    f"deleted after {goes:%Y-%m-%d %H:%M} UTC. Delete it yourself if you are done with it."))
                flagged += 1
        elif deployment.ttl_warned_at <= warned_before:
            deleted += request_deletion(deployment, None, via=(
                f"the endpoint time-to-live ({policy.endpoint_ttl_hours} h, then {policy.warning_hours} h of warning)"))
    return flagged, deleted
