"""The CloudFormation calls that launch and delete solutions (create, describe, events, resources,
delete), with AWS's answers mapped into our vocabulary: StackState, StackEvent, StackResource,
None for "no such stack", and AwsError for every failure
(transient when trying again could help, as in aws.sagemaker).

Every call takes a stack's name or its id (StackId, an ARN). A deleted stack is found by its id
only: by name, AWS says it does not exist. Follow a deletion by id, and delete by id, since the
name may meanwhile belong to a new stack."""

from dataclasses import dataclass, field
from datetime import datetime

from .clients import client
from .errors import AWS_EXCEPTIONS, AwsError
from .sagemaker import _utc, _wrap  # the same error mapping and clock as the SageMaker calls

__all__ = ["StackEvent", "StackResource", "StackState", "create_stack",
           "delete_stack", "describe_stack", "stack_events", "stack_resources"]

# CloudFormation answers ValidationError with these words for a stack that is not there.
NOT_FOUND = "does not exist"
IN_PROGRESS = "_IN_PROGRESS"
DELETE_COMPLETE = "DELETE_COMPLETE"
EVENTS_LIMIT = 500
PAGES_MAX = 20  # of events or resources: a solution's stack has a few dozen of each


@dataclass(frozen=True)
class StackState:
    """What DescribeStacks says of one stack."""

    name: str
    id: str  # the StackId, an ARN: the one name a stack keeps after it is deleted
    status: str  # CREATE_IN_PROGRESS, CREATE_COMPLETE, ROLLBACK_COMPLETE, DELETE_COMPLETE, ...
    status_reason: str  # "" when AWS gives none (the reasons that matter are in the events)
    created: datetime
    last_updated: datetime  # the newest of its creation, last update and deletion times (UTC)
    deleted_at: datetime | None  # when its deletion began (DeletionTime)
    outputs: dict = field(default_factory=dict)  # OutputKey -> OutputValue, once created
    tags: dict = field(default_factory=dict)

    @property
    def in_progress(self):
        return self.status.endswith(IN_PROGRESS)

    @property
    def deleted(self):
        """Gone, with everything it made (a DELETE_FAILED stack is not: something is left)."""
        return self.status == DELETE_COMPLETE


@dataclass(frozen=True)
class StackEvent:
    id: str
    timestamp: datetime
    logical_id: str  # the stack's own events carry the stack's name
    resource_type: str  # AWS::SageMaker::Endpoint, ..., AWS::CloudFormation::Stack
    physical_id: str  # "" until the resource exists
    status: str
    reason: str


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    resource_type: str
    physical_id: str  # for SageMaker resources their ARN; for a bucket its name
    status: str
    reason: str
    last_updated: datetime


def create_stack(name, template_body, *, parameters=None, tags=None, capabilities=(),
                 client_request_token, owner_tag):
    """Create the stack and return its id. AWS answers at once, with the stack CREATE_IN_PROGRESS;
    follow it with describe_stack and stack_events.

    `parameters` and `tags` are dicts; `owner_tag` (key, value) is added to the tags. A retry with
    the same `client_request_token` (letters, digits and hyphens, starting with a letter) is the
    same request to AWS, which answers with the same stack id. A stack of that name already there
    is adopted when it carries `owner_tag` (a retry whose token changed): its id is returned
    whatever its status (a ROLLBACK_COMPLETE one must be deleted before the name can be used
    again), unless it is being deleted, which is transient (StackBeingDeleted). One without our
    tag is somebody else's: AwsError NameTaken.
    """
    key, value = owner_tag
    request = {
        "StackName": name, "TemplateBody": template_body, "ClientRequestToken": client_request_token,
        "Parameters": [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in (parameters or {}).items()],
        "Tags": [{"Key": k, "Value": str(v)} for k, v in {**(tags or {}), key: value}.items()],
        "Capabilities": list(capabilities),
    }
    try:
        return client("cloudformation").create_stack(**request)["StackId"]
    except AWS_EXCEPTIONS as exc:
        error = _wrap(exc)
        if error.code != "AlreadyExistsException":
            raise error from exc
    existing = describe_stack(name)
    if existing is None or existing.status == "DELETE_IN_PROGRESS" and existing.tags.get(key) == value:
        raise AwsError("StackBeingDeleted", f"A stack named {name} is being deleted; it can be created "
                       "again once it is gone.", transient=True)
    if existing.tags.get(key) != value:
        raise AwsError("NameTaken", f"A CloudFormation stack named {name} already exists in this account and "
                       "region and was not made by this launch.")
    return existing.id


def describe_stack(name):
    """The stack's state, or None when there is no such stack (by name, a deleted one is not)."""
    try:
        answer = client("cloudformation").describe_stacks(StackName=name)
    except AWS_EXCEPTIONS as exc:
        error = _wrap(exc)
        if _is_missing(error):
            return None
        raise error from exc
    stacks = answer.get("Stacks") or []
    if not stacks:
        return None
    stack = stacks[0]
    return StackState(
        **_common(stack),
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []},
        tags={t["Key"]: t["Value"] for t in stack.get("Tags") or []},
    )


def stack_events(name, since_event_id=None, limit=EVENTS_LIMIT):
    """The stack's events after `since_event_id` (all of them when None), oldest first; None when
    there is no such stack.

    DescribeStackEvents sends the newest first, a page at a time: pages are read until the event
    `since_event_id` turns up, at most `limit` events and PAGES_MAX pages. When more than that are
    new, the newest `limit` come back (the older ones are not read). Pass the last one's id next
    time."""
    found = []
    request = {"StackName": name}
    try:
        for _ in range(PAGES_MAX):
            page = client("cloudformation").describe_stack_events(**request)
            for event in page.get("StackEvents", []):
                if event["EventId"] == since_event_id or len(found) >= limit:
                    return found[::-1]
                found.append(_event(event))
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    except AWS_EXCEPTIONS as exc:
        error = _wrap(exc)
        if _is_missing(error):
            return None
        raise error from exc
    return found[::-1]


def stack_resources(name):
    """The resources the stack has begun to make, in its own words; None when there is no such
    stack. One paged ListStackResources (PAGES_MAX pages at most)."""
    found = []
    request = {"StackName": name}
    try:
        for _ in range(PAGES_MAX):
            page = client("cloudformation").list_stack_resources(**request)
            found += [StackResource(
                logical_id=r["LogicalResourceId"], resource_type=r["ResourceType"],
                physical_id=r.get("PhysicalResourceId") or "", status=r["ResourceStatus"],
                reason=r.get("ResourceStatusReason") or "", last_updated=_utc(r["LastUpdatedTimestamp"]),
            ) for r in page.get("StackResourceSummaries", [])]
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    except AWS_EXCEPTIONS as exc:
        error = _wrap(exc)
        if _is_missing(error):
            return None
        raise error from exc
    return found


def delete_stack(name, client_request_token=None):
    """Ask CloudFormation to delete the stack and all it made. False when it is gone already (or
    was never there: AWS's DeleteStack says nothing of a missing stack, so this looks first);
    True when its deletion is under way, including one begun before. A DELETE_FAILED stack is
    deleted again (what failed is tried again)."""
    state = describe_stack(name)
    if state is None or state.deleted:
        return False
    if state.status == "DELETE_IN_PROGRESS":
        return True
    request = {"StackName": state.id}
    if client_request_token:
        request["ClientRequestToken"] = client_request_token
    try:
        client("cloudformation").delete_stack(**request)
    except AWS_EXCEPTIONS as exc:
        raise _wrap(exc) from exc
    return True


# -- helpers ----------------------------------------------------------------------------------------


def _is_missing(error):
    return error.code == "ValidationError" and NOT_FOUND in error.reason


def _common(stack):
    """The fields DescribeStacks and ListStacks share."""
    created = _utc(stack["CreationTime"])
    times = [created] + [_utc(stack[k]) for k in ("LastUpdatedTime", "DeletionTime") if stack.get(k)]
    return {
        "name": stack["StackName"], "id": stack["StackId"], "status": stack["StackStatus"],
        "status_reason": stack.get("StackStatusReason") or "", "created": created,
        "last_updated": max(times),
        "deleted_at": _utc(stack["DeletionTime"]) if stack.get("DeletionTime") else None,
    }


def _event(answer):
    return StackEvent(
        id=answer["EventId"], timestamp=_utc(answer["Timestamp"]), logical_id=answer.get("LogicalResourceId", ""),
        resource_type=answer.get("ResourceType", ""), physical_id=answer.get("PhysicalResourceId") or "",
        status=answer.get("ResourceStatus", ""), reason=answer.get("ResourceStatusReason") or "",
    )
