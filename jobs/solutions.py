"""Solutions: launch a solution's CloudFormation stack, follow its events to completion or
rollback, list what it made (its endpoints join the Endpoints list), and delete it with all it
made. Celery tasks (jobs/tasks.py) call these; views read rows only."""

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aws import AwsError, cloudformation
from aws.errors import explain

from .models import Deployment, SolutionLaunch, StackEvent

log = logging.getLogger(__name__)
L = SolutionLaunch.Status
D = Deployment.Status
ENDPOINT_TYPE = "AWS::SageMaker::Endpoint"
STACK_TYPE = "AWS::CloudFormation::Stack"
# The template parameters the product fills in, when the template declares them.
ROLE_PARAMETER = "ExecutionRoleArn"


def build_request(launch):
    """The CreateStack request the launch sends: the solution's template as it is now, with the
    execution role where the template asks for one, the launch's owner tag, and an idempotency
    token from the row (a retried create is the same request)."""
    template = launch.solution.stack_template
    declared = template.get("Parameters") or {}
    parameters = {ROLE_PARAMETER: launch.role_arn} if ROLE_PARAMETER in declared else {}
    return {
        "name": launch.stack_name, "template_body": launch.solution.template, "parameters": parameters,
        "tags": {"jumpstart-ui:solution": launch.solution.slug},
        "client_request_token": f"jsui-{launch.request_token.hex}",
        "capabilities": ["CAPABILITY_IAM"] if _needs_iam(template) else [],
    }


def _needs_iam(template):
    return any(str(r.get("Type", "")).startswith("AWS::IAM::") for r in (template.get("Resources") or {}).values())


def launch(solution_launch):
    """Create the stack; safe to run twice (the same token is the same request to AWS, and a
    stack of that name is adopted only with our tag)."""
    if solution_launch.status != L.QUEUED or solution_launch.pending != "launch":
        return
    request = solution_launch.request or build_request(solution_launch)
    try:
        stack_id = cloudformation.create_stack(
            request["name"], request["template_body"], parameters=request["parameters"], tags=request["tags"],
            capabilities=request["capabilities"], client_request_token=request["client_request_token"],
            owner_tag=solution_launch.owner_tag)
    except AwsError as exc:
        if exc.transient:
            raise
        solution_launch.fail(exc, allowed_from=[L.QUEUED])
        return
    solution_launch.move(L.CREATING, allowed_from=[L.QUEUED], pending="", stack_id=stack_id,
                         message="CloudFormation is creating the solution's resources.")


def request_deletion(solution_launch, user, *, via=""):
    """Move the launch to Deleting and hand the stack's deletion to a worker."""
    from .tasks import hand_over  # tasks call this module

    with transaction.atomic():
        moved = solution_launch.move(L.DELETING, allowed_from=[L.COMPLETE, L.FAILED], pending="delete",
                                     message=f"Deletion of the solution's resources requested by "
                                             f"{user.get_username()}{via}.")
        if moved:
            solution_launch.deployments.filter(status__in=[D.IN_SERVICE, D.FAILED, D.UPDATING]).update(
                status=D.DELETING, updated_at=timezone.now())
            hand_over(solution_launch, "delete")
    return moved


def delete(solution_launch):
    if solution_launch.status != L.DELETING or solution_launch.pending != "delete":
        return
    try:
        cloudformation.delete_stack(solution_launch.stack_id or solution_launch.stack_name,
                                    client_request_token=f"jsui-del-{solution_launch.request_token.hex}")
    except AwsError as exc:
        if exc.transient:
            raise
        reason = f"Deleting the stack failed: {explain(exc)} Its resources may still be running: try again."
        solution_launch.move(L.FAILED, allowed_from=[L.DELETING], failure_reason=reason, message=reason)
        return
    solution_launch.step_done("delete")


# -- following ---------------------------------------------------------------------------------------

# A stack's status in our words; the status a launch moves to from each.
STATUS_FROM_STACK = {
    "CREATE_IN_PROGRESS": L.CREATING, "CREATE_COMPLETE": L.COMPLETE, "ROLLBACK_IN_PROGRESS": L.ROLLING_BACK,
    "ROLLBACK_COMPLETE": L.FAILED, "ROLLBACK_FAILED": L.FAILED, "CREATE_FAILED": L.FAILED,
    "DELETE_IN_PROGRESS": L.DELETING, "DELETE_FAILED": L.FAILED, "DELETE_COMPLETE": L.DELETED,
}


def poll():
    """Follow every launch whose stack is changing: one DescribeStacks and one page of new events
    each (solutions are few; ListStacks would read every stack of the account each time).
    Returns the launches that moved."""
    moved = 0
    for solution_launch in SolutionLaunch.objects.in_flight().select_related("solution"):
        if solution_launch.status == L.DELETING and solution_launch.pending == "delete":
            continue  # its deletion has not been asked of AWS yet: what AWS says is not news
        moved += follow(solution_launch)
    return moved


def follow(solution_launch):
    """Read the stack's new events and state, and move the launch with them."""
    stack = solution_launch.stack_id or solution_launch.stack_name
    state = cloudformation.describe_stack(stack)
    events = cloudformation.stack_events(stack, since_event_id=solution_launch.last_event_id or None) or []
    if events:
        StackEvent.objects.bulk_create([
            StackEvent(launch=solution_launch, at=e.timestamp, logical_id=e.logical_id,
                       resource_type=e.resource_type, status=e.status, reason=e.reason) for e in events])
        SolutionLaunch.objects.filter(pk=solution_launch.pk).update(last_event_id=events[-1].id)
    status = STATUS_FROM_STACK.get(state.status) if state else (L.DELETED if solution_launch.status == L.DELETING else None)
    if state:
        SolutionLaunch.objects.filter(pk=solution_launch.pk).update(stack_status=state.status, outputs=state.outputs)
    if status is None or status == solution_launch.status:
        return False
    fields = {}
    if status == L.COMPLETE:
        fields["resources"] = _resources(stack)
    reason = ""
    if status == L.FAILED:
        reason = _failure(solution_launch, state)
    message = {L.COMPLETE: "The solution's resources are ready.", L.DELETED: "The stack and all it made are deleted.",
               L.ROLLING_BACK: "A resource failed: CloudFormation is taking the others back."}.get(status, reason)
    if not solution_launch.move(status, allowed_from=[solution_launch.status], failure_reason=reason,
                                message=message or f"CloudFormation reports {state.status}.", **fields):
        return False
    if status == L.COMPLETE:
        _record_endpoints(solution_launch)
    if status == L.DELETED:
        solution_launch.deployments.exclude(status=D.DELETED).update(
            status=D.DELETED, ended_at=timezone.now(), updated_at=timezone.now())
    return True


def _resources(stack):
    found = cloudformation.stack_resources(stack) or []
    return [{"logical_id": r.logical_id, "type": r.resource_type, "physical_id": r.physical_id, "status": r.status}
            for r in found]


def _failure(solution_launch, state):
    """Why the stack failed, from its first failed resource's event, in plain words."""
    deleting = bool(state and state.status == "DELETE_FAILED")
    # A creation's first failure is its cause (the rest are cancellations); a deletion's latest.
    failures = solution_launch.stack_events.filter(status="DELETE_FAILED" if deleting else "CREATE_FAILED").exclude(
        reason="").exclude(resource_type=STACK_TYPE)
    failed = failures.last() if deleting else failures.first()
    said = failed.reason if failed else (state.status_reason if state else "")
    where = f"{failed.logical_id} ({failed.resource_type}) " if failed else ""
    if deleting:
        return (f"Deleting the stack failed: {where}{said} The rest of what it made is deleted; "
                "deal with that one (an S3 bucket must be emptied first) and delete again.")
    return f"The solution could not be created: {where}failed: {said} CloudFormation took back what it had made."


def _record_endpoints(solution_launch):
    """The endpoints the stack made join the Endpoints list, followed and deleted with the stack."""
    from catalog.models import Model

    template = solution_launch.solution.stack_template
    model = Model.objects.filter(model_id=solution_launch.solution.served_model_id).first()
    if model is None:
        log.warning("launch %s: the template names no catalog model; its endpoints are not listed", solution_launch.pk)
        return
    resources = template.get("Resources") or {}
    parameters = template.get("Parameters") or {}
    for resource in solution_launch.resources:
        if resource["type"] != ENDPOINT_TYPE or not resource["physical_id"]:
            continue
        name = resource["physical_id"].rsplit("/", 1)[-1]
        config = _config_of(resources, resources.get(resource["logical_id"], {}))
        variant = ((config.get("Properties") or {}).get("ProductionVariants") or [{}])[0]
        instance_type = _value(variant.get("InstanceType"), parameters)
        Deployment.objects.get_or_create(
            solution_launch=solution_launch, endpoint_name=name,
            defaults=dict(user=solution_launch.user, model=model, model_version=model.deploy_version or model.version,
                          instance_type=instance_type or "", instance_count=int(_value(variant.get("InitialInstanceCount"), parameters) or 1),
                          role_arn=solution_launch.role_arn, status=D.IN_SERVICE, in_service_at=timezone.now(),
                          request_token=uuid.uuid4()))


def _config_of(resources, endpoint):
    ref = ((endpoint.get("Properties") or {}).get("EndpointConfigName") or {})
    logical = ref.get("Fn::GetAtt", [None])[0] if isinstance(ref, dict) and "Fn::GetAtt" in ref else (
        ref.get("Ref") if isinstance(ref, dict) else None)
    return resources.get(logical, {})


def _value(value, parameters):
    """A template value, with a Ref to a parameter read as the parameter's default."""
    if isinstance(value, dict) and "Ref" in value:
        return (parameters.get(value["Ref"]) or {}).get("Default")
    return value


def default_role():
    """Launch takes no options: the installation's execution role goes where a template asks."""
    return settings.SAGEMAKER_ROLE_ARN


def instance_type_of(solution):
    """The machine type the template deploys on by default (its InstanceType parameter), or ""."""
    parameters = solution.stack_template.get("Parameters") or {}
    return str((parameters.get("InstanceType") or {}).get("Default") or "")
