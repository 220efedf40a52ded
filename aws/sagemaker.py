"""The SageMaker calls the jobs make (create, describe, list, delete, stop, invoke; execution roles
from IAM), with AWS's answers mapped into our vocabulary: EndpointState, TrainingState, True/False
for "made"/"gone", and AwsError for every failure (transient when trying again could help)."""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from django.conf import settings

from .clients import client
from .errors import AWS_EXCEPTIONS, AwsError, explain

log = logging.getLogger(__name__)

__all__ = ["EndpointState", "TrainingState", "TrainingSummary", "create", "describe_endpoint", "changed_endpoints",
           "changed_training_jobs", "describe_training_job", "stop_training_job", "delete", "invoke",
           "execution_roles", "endpoint_name_taken", "training_job_name_taken", "explain"]

# kind -> (create call, delete call, name parameter, describe call, ARN field)
KINDS = {
    "model": ("create_model", "delete_model", "ModelName", "describe_model", "ModelArn"),
    "endpoint_config": ("create_endpoint_config", "delete_endpoint_config", "EndpointConfigName",
                        "describe_endpoint_config", "EndpointConfigArn"),
    "endpoint": ("create_endpoint", "delete_endpoint", "EndpointName", "describe_endpoint", "EndpointArn"),
    "training_job": ("create_training_job", None, "TrainingJobName", "describe_training_job", "TrainingJobArn"),
}
# SageMaker answers ValidationException with these words for a duplicate name and a missing resource.
ALREADY_EXISTS = "Cannot create already existing"
NOT_FOUND = "Could not find"

LIST_PAGE_SIZE = 100
LIST_MAX_PAGES = 50  # 5,000 endpoints changed since the last poll is more than one poll should read
FILTER_SLACK = timedelta(seconds=1)
ROLES_PAGE_SIZE = 100
ROLES_MAX_PAGES = 10
SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"

INVOKE_MAX_BYTES = 1024 * 1024
INVOKE_CONNECT_TIMEOUT = 5
INVOKE_READ_TIMEOUT = 30  # a person is waiting in the browser; SageMaker itself stops at 60 s


@dataclass(frozen=True)
class EndpointState:
    name: str
    status: str  # SageMaker's EndpointStatus: Creating, InService, Updating, Deleting, Failed, ...
    failure_reason: str  # "" unless Failed
    last_modified: datetime  # AWS's clock, in UTC


def create(kind, request_kwargs, *, owner_tag):
    """Make the model, endpoint config or endpoint. True when made; False when one of that name
    exists already and carries `owner_tag` (key, value): a retried task adopts what it made. One
    that exists without our tag is somebody else's: AwsError NameTaken, never adopted."""
    create_call, _, parameter, _, _ = KINDS[kind]
    try:
        getattr(client("sagemaker"), create_call)(**request_kwargs)
    except AWS_EXCEPTIONS as exc:
        error = _wrap(exc)
        if not (error.code == "ValidationException" and ALREADY_EXISTS in error.reason
                or error.code == "ResourceInUse"):  # what CreateTrainingJob says of a taken name
            raise error from exc
        name = request_kwargs[parameter]
        key, value = owner_tag
        if _tags(kind, name).get(key) == value:
            return False
        noun = kind.replace("_", " ")
        raise AwsError("NameTaken", f"A SageMaker {noun} named {name} already exists in this account and "
                       "was not made by this deployment.") from exc
    return True


def _tags(kind, name):
    """The tags of the resource of that exact name ({} when there is none of that exact name: AWS
    refuses a create whose name differs only in case, and such a one is never ours)."""
    _, _, parameter, describe_call, arn_field = KINDS[kind]
    sm = client("sagemaker")
    try:
        arn = getattr(sm, describe_call)(**{parameter: name})[arn_field]
        tags = sm.list_tags(ResourceArn=arn, MaxResults=100).get("Tags", [])
    except AWS_EXCEPTIONS as exc:
        error = _wrap(exc)
        if _is_missing(error):
            return {}
        raise error from exc
    return {tag["Key"]: tag["Value"] for tag in tags}


def describe_endpoint(name):
    """The endpoint's state, or None when SageMaker has no endpoint of that name."""
    try:
        answer = client("sagemaker").describe_endpoint(EndpointName=name)
    except AWS_EXCEPTIONS as exc:
        error = _wrap(exc)
        if _is_missing(error):
            return None
        raise error from exc
    return _state(answer)


def endpoint_name_taken(name):
    """Is an endpoint of this name in the account, compared as SageMaker compares endpoint names
    (case does not count)? A ListEndpoints with NameContains, which finds the exact name whatever
    AWS does with case, compared without case; then a describe of the exact name."""
    try:
        page = client("sagemaker").list_endpoints(NameContains=name, MaxResults=LIST_PAGE_SIZE)
    except AWS_EXCEPTIONS as exc:
        raise _wrap(exc) from exc
    if any(e["EndpointName"].lower() == name.lower() for e in page.get("Endpoints", [])):
        return True
    return describe_endpoint(name) is not None  # in case more than a page contains the name


def changed_endpoints(since):
    """Endpoints last modified at or after `since` (all of them when None), from one paged
    list_endpoints filtered by LastModifiedTimeAfter.

    ListEndpoints sorts only by Name, CreationTime or Status (SortBy=LastModifiedTime is a
    ValidationException), so the filter, not the order, bounds the read: AWS sends only what changed.
    Returns (states, new_since): new_since is the newest LastModifiedTime listed, on AWS's clock, for
    the caller to keep and pass next time; None when nothing changed (keep the mark you have)."""
    return _changed("list_endpoints", "Endpoints", _state, since)


def changed_training_jobs(since):
    """Training jobs last modified at or after `since`, as changed_endpoints reads endpoints: one
    paged ListTrainingJobs filtered by LastModifiedTimeAfter. Returns (summaries, new_since)."""
    return _changed("list_training_jobs", "TrainingJobSummaries", _training_summary, since)


def _changed(list_call, key, to_state, since):
    since = _utc(since) if since else None
    request = {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": LIST_PAGE_SIZE}
    if since:
        # AWS's filter is strictly after; step back a moment so a resource changed at `since` counts.
        request["LastModifiedTimeAfter"] = since - FILTER_SLACK
    states = []
    try:
        for _ in range(LIST_MAX_PAGES):
            page = getattr(client("sagemaker"), list_call)(**request)
            states += [state for state in map(to_state, page.get(key, []))
                       if not since or state.last_modified >= since]
            if not page.get("NextToken"):
                return states, _newest(states)
            request["NextToken"] = page["NextToken"]
    except AWS_EXCEPTIONS as exc:
        raise _wrap(exc) from exc
    # More changed than one poll reads: report what was read, but keep the caller's mark where it
    # is, so what was left unread is read next time.
    log.warning("%s: more than %d changed since %s; read the first %d", list_call, LIST_MAX_PAGES * LIST_PAGE_SIZE,
                since, len(states))
    return states, None


@dataclass(frozen=True)
class TrainingSummary:
    name: str
    status: str  # TrainingJobStatus: InProgress, Completed, Failed, Stopping, Stopped
    secondary_status: str
    last_modified: datetime


@dataclass(frozen=True)
class TrainingState:
    """What DescribeTrainingJob says, in the words the job page shows."""

    name: str
    arn: str
    status: str
    secondary_status: str
    failure_reason: str
    last_modified: datetime
    transitions: list  # [{"status", "start", "end", "message"}], times in ISO 8601
    started_at: datetime | None
    training_seconds: int | None
    billable_seconds: int | None
    artifact: str
    final_metrics: list  # [{"name", "value"}]
    warm_pool: dict  # {"status", "retained_billable_seconds"}


def describe_training_job(name):
    """The job's state, or None when SageMaker has no training job of that name."""
    try:
        answer = client("sagemaker").describe_training_job(TrainingJobName=name)
    except AWS_EXCEPTIONS as exc:
        error = _wrap(exc)
        if _is_missing(error) or "not found" in error.reason.lower():
            return None
        raise error from exc
    return TrainingState(
        name=answer["TrainingJobName"], arn=answer.get("TrainingJobArn", ""),
        status=answer.get("TrainingJobStatus", ""), secondary_status=answer.get("SecondaryStatus", ""),
        failure_reason=answer.get("FailureReason") or "", last_modified=_utc(answer["LastModifiedTime"]),
        transitions=[{"status": t.get("Status", ""), "message": t.get("StatusMessage", ""),
                      "start": _iso(t.get("StartTime")), "end": _iso(t.get("EndTime"))}
                     for t in answer.get("SecondaryStatusTransitions") or []],
        started_at=_utc(answer["TrainingStartTime"]) if answer.get("TrainingStartTime") else None,
        training_seconds=answer.get("TrainingTimeInSeconds"), billable_seconds=answer.get("BillableTimeInSeconds"),
        artifact=(answer.get("ModelArtifacts") or {}).get("S3ModelArtifacts", ""),
        final_metrics=[{"name": m.get("MetricName"), "value": m.get("Value")}
                       for m in answer.get("FinalMetricDataList") or []],
        warm_pool={"status": answer["WarmPoolStatus"].get("Status", ""),
                   "retained_billable_seconds": answer["WarmPoolStatus"].get("ResourceRetainedBillableTimeInSeconds")}
        if answer.get("WarmPoolStatus") else {},
    )


def stop_training_job(name):
    """Ask SageMaker to stop the job. False when it is no longer running (nothing to stop)."""
    try:
        client("sagemaker").stop_training_job(TrainingJobName=name)
    except AWS_EXCEPTIONS as exc:
        error = _wrap(exc)
        if error.code == "ValidationException" and "status" in error.reason.lower():
            return False
        raise error from exc
    return True


def delete(kind, name):
    """Delete the model, endpoint config or endpoint. False when it was already gone."""
    _, delete_call, parameter, _, _ = KINDS[kind]
    try:
        getattr(client("sagemaker"), delete_call)(**{parameter: name})
    except AWS_EXCEPTIONS as exc:
        error = _wrap(exc)
        if _is_missing(error):
            return False
        raise error from exc
    return True


def invoke(endpoint_name, body, content_type, accept):
    """Send one request to the endpoint; returns (content type, body bytes). The answer is read up to
    INVOKE_MAX_BYTES, and the call is tried once with a short timeout: a person is waiting."""
    try:
        answer = _runtime_client().invoke_endpoint(
            EndpointName=endpoint_name, Body=body, ContentType=content_type, Accept=accept)
        stream = answer["Body"]
        try:
            data = stream.read(INVOKE_MAX_BYTES + 1)
        finally:
            stream.close()
    except AWS_EXCEPTIONS as exc:
        raise _wrap(exc) from exc
    if len(data) > INVOKE_MAX_BYTES:
        raise AwsError("ResponseTooLarge", f"The endpoint answered with more than {INVOKE_MAX_BYTES // 1024} KB, "
                       "more than this page shows. Ask for a smaller answer (fewer tokens, a smaller image).")
    return answer.get("ContentType") or "application/octet-stream", data


def training_job_name_taken(name):
    """Is there a training job of this name in the account? (Names are never freed: a training job
    cannot be deleted.) One ListTrainingJobs with NameContains, compared without case, then a
    describe of the exact name."""
    try:
        page = client("sagemaker").list_training_jobs(NameContains=name, MaxResults=LIST_PAGE_SIZE)
    except AWS_EXCEPTIONS as exc:
        raise _wrap(exc) from exc
    if any(j["TrainingJobName"].lower() == name.lower() for j in page.get("TrainingJobSummaries", [])):
        return True
    return describe_training_job(name) is not None


def execution_roles(limit=50):
    """ARNs of IAM roles whose trust policy lets SageMaker assume them, from one bounded paged
    list_roles (at most ROLES_MAX_PAGES pages), up to `limit` of them."""
    found = []
    request = {"MaxItems": ROLES_PAGE_SIZE}
    try:
        for _ in range(ROLES_MAX_PAGES):
            page = client("iam").list_roles(**request)
            for role in page.get("Roles", []):
                if _trusts_sagemaker(role.get("AssumeRolePolicyDocument")):
                    found.append(role["Arn"])
                    if len(found) >= limit:
                        return found
            if not page.get("IsTruncated") or not page.get("Marker"):
                break
            request["Marker"] = page["Marker"]
    except AWS_EXCEPTIONS as exc:
        raise _wrap(exc) from exc
    return found


# -- helpers ----------------------------------------------------------------------------------------


def _wrap(exc):
    """AwsError.wrap, plus what it leaves permanent that is not: any 5xx answer, and a timeout
    while reading the answer (botocore's ReadTimeoutError is not a ConnectionError)."""
    if isinstance(exc, AwsError):
        return exc
    error = AwsError.wrap(exc)
    if error.transient:
        return error
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if status >= 500:
            return AwsError(error.code, error.reason, transient=True)
    if isinstance(exc, HTTPClientError):
        return AwsError("NetworkError", f"AWS did not answer in time ({exc})", transient=True)
    return error


def _is_missing(error):
    return error.code in ("ValidationException", "ResourceNotFound") and NOT_FOUND in error.reason


def _state(answer):
    status = answer.get("EndpointStatus", "")
    return EndpointState(
        name=answer["EndpointName"],
        status=status,
        failure_reason=(answer.get("FailureReason") or "") if status == "Failed" else "",
        last_modified=_utc(answer["LastModifiedTime"]),
    )


def _utc(moment):
    if moment.tzinfo is None:  # naive means UTC here, as Django stores it
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _training_summary(answer):
    return TrainingSummary(name=answer["TrainingJobName"], status=answer.get("TrainingJobStatus", ""),
                           secondary_status=answer.get("SecondaryStatus", ""),
                           last_modified=_utc(answer["LastModifiedTime"]))


def _iso(moment):
    return _utc(moment).isoformat() if moment else None


def _newest(states):
    return max((state.last_modified for state in states), default=None)


def _trusts_sagemaker(document):
    """Does the trust policy allow sagemaker.amazonaws.com to assume the role?"""
    if isinstance(document, str):  # the API sends it URL-encoded; boto3 usually decodes it
        try:
            document = json.loads(unquote(document))
        except ValueError:
            return False
    if not isinstance(document, dict):
        return False
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        if not any(action in ("sts:AssumeRole", "sts:*", "*") for action in actions):
            continue
        principal = statement.get("Principal") or {}
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if SAGEMAKER_PRINCIPAL in services:
            return True
    return False


def _runtime_client():
    """sagemaker-runtime with one attempt and a short timeout, built per call: invoking is rare, and
    botocore's standard retries would keep a person waiting through four read timeouts."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=INVOKE_CONNECT_TIMEOUT,
        read_timeout=INVOKE_READ_TIMEOUT,
    )
    return boto3.session.Session().client("sagemaker-runtime", region_name=settings.AWS_REGION, config=config)
