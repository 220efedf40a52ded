"""The local CloudFormation: stacks that take time, write the events AWS writes, really make (and
unmake) the SageMaker and S3 resources they declare, and fail, roll back and refuse as AWS does.

- CreateStack answers with the stack CREATE_IN_PROGRESS ("User Initiated") and nothing made yet.
  Its resources are then made one at a time in dependency order (DependsOn, Ref, Fn::GetAtt and
  Fn::Sub references; a resource whose Condition is false is skipped), `stack_seconds` shared out
  among them. Each writes the events AWS writes: CREATE_IN_PROGRESS (no reason, no physical id),
  CREATE_IN_PROGRESS "Resource creation Initiated" (with the physical id), CREATE_COMPLETE. An
  AWS::SageMaker::Endpoint is complete only once the local SageMaker has it InService (it goes
  Creating -> InService at the pace of `endpoint_seconds`), as CloudFormation waits for it. Then
  CREATE_COMPLETE for the stack, and its Outputs (none before). The template's ModelName,
  EndpointConfigName and EndpointName are honoured (moto makes up its own names); the stack's
  tags and aws:cloudformation:stack-name, stack-id and logical-id are added to each SageMaker
  resource, as AWS adds them.
- Failure: a resource whose creation AWS would refuse (an endpoint whose instance type is in
  `no_quota_instance_types` fails with SageMaker's ResourceLimitExceeded, written the way
  CloudFormation quotes a service error), an endpoint that goes Failed (`failing_instance_types`:
  its FailureReason is the reason), and a resource type the local AWS cannot make ("Resource type
  X is not supported by the local AWS"; moto would skip it silently) is CREATE_FAILED. The stack
  is then ROLLBACK_IN_PROGRESS, "The following resource(s) failed to create: [Endpoint]. Rollback
  requested by user.", deletes what it made (DELETE_IN_PROGRESS, DELETE_COMPLETE; the failed one
  straight to DELETE_COMPLETE when nothing of it was made) and ends ROLLBACK_COMPLETE. OnFailure
  DO_NOTHING (or DisableRollback) stops at CREATE_FAILED; OnFailure DELETE deletes the stack.
- DeleteStack: DELETE_IN_PROGRESS ("User Initiated", DeletionTime set), the resources deleted in
  reverse order (an endpoint waits until the local SageMaker has let it go; DeletionPolicy Retain
  leaves one, DELETE_SKIPPED), DELETE_COMPLETE.
  The stack is then found by its id only (DescribeStacks by name: "Stack with id NAME does not
  exist"; ListStacks still lists it). A bucket that is not empty is DELETE_FAILED, "The bucket
  you tried to delete is not empty", and the stack DELETE_FAILED; DeleteStack again retries it.
  Deleting a stack that is still being created stops its creation and deletes what was made.
- Refusals, each as AWS words them: a taken name (AlreadyExistsException "Stack [name] already
  exists") unless ClientRequestToken is the one that created it (then CreateStack answers with
  the same StackId again), malformed stack names and tokens, templates over 51,200 bytes or not
  well-formed, missing, unknown or disallowed parameters, IAM resources without
  CAPABILITY_IAM / CAPABILITY_NAMED_IAM, circular dependencies, an update while in progress.
- ListStacks pages (100 summaries a page, newest first; moto sends them all at once) and filters
  by StackStatusFilter; DescribeStackEvents pages (100 a page, newest first); ListStackResources
  and DescribeStackResources report each resource's own status, reason and time (moto reports
  CREATE_COMPLETE for all, and making the list would make every resource at once).
- Stacks move when they are read (DescribeStacks, DescribeStackEvents, ListStacks,
  ListStackResources, DescribeStackResource(s)), and catch up on a read: each step is stamped
  with the moment it was due, however late the read. LastUpdatedTime is left unset, as on AWS for
  a stack that was never updated: a stack's times do not move when its creation ends.
"""

import base64
import re
import threading
import uuid
import weakref
from datetime import timedelta

from .core import _now, _settings, _stock

CREATE, ROLLBACK, DELETE = "create", "rollback", "delete"
STACK_TYPE = "AWS::CloudFormation::Stack"
ENDPOINT_TYPE = "AWS::SageMaker::Endpoint"
BUCKET_TYPE = "AWS::S3::Bucket"
# The name property AWS honours for each SageMaker resource (moto's models name none).
NAME_PROPERTIES = {
    "AWS::SageMaker::Model": "ModelName",
    "AWS::SageMaker::EndpointConfig": "EndpointConfigName",
    ENDPOINT_TYPE: "EndpointName",
}
# moto has a model for these, but making them needs what the local AWS does not run (a Lambda for
# custom resources, a signal for a wait condition) or would bypass its lifecycle (a nested stack).
NOT_LOCAL = {"AWS::CloudFormation::Stack", "AWS::CloudFormation::WaitCondition",
             "AWS::CloudFormation::CustomResource"}
# Made by nobody: only its physical id exists (moto has no model and needs none).
NOTHING_TO_MAKE = {"AWS::CloudFormation::WaitConditionHandle"}
IAM_NAME_PROPERTIES = {"RoleName", "UserName", "GroupName", "ManagedPolicyName",
                       "InstanceProfileName"}
STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")
TOKEN = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")
MAX_NAME = 128
MAX_TEMPLATE_BYTES = 51_200
PAGE = 100
ON_FAILURE = ("DO_NOTHING", "ROLLBACK", "DELETE")
FAILED_TO_CREATE = "The following resource(s) failed to create: [{}]. "
FAILED_TO_DELETE = "The following resource(s) failed to delete: [{}]. "
ROLLBACK_REQUESTED = "Rollback requested by user."
UNSUPPORTED = "Resource type {} is not supported by the local AWS"
BUCKET_NOT_EMPTY = "The bucket you tried to delete is not empty"
# How CloudFormation quotes a service's refusal in a resource's status reason.
SERVICE_ERROR = ("{message} (Service: {service}; Status Code: {status}; Error Code: {code}; "
                 "Request ID: {request_id}; Proxy: null)")
SERVICES = {"SageMaker": "AmazonSageMaker", "S3": "Amazon S3"}

_lock = threading.RLock()  # stacks move on reads, and the server reads from several threads
_runs = weakref.WeakKeyDictionary()  # moto's Stack -> _Run; beside it, as moto serialises Stacks


def patches():
    """(moto class or module, name, ours) for what install() replaces: CloudFormation's responses
    (the lifecycle lives there, so moto's backend methods keep their stock behaviour for moto's
    own callers) and the name property of SageMaker resources."""
    from moto.cloudformation import parsing
    from moto.cloudformation.responses import CloudFormationResponse

    responses = [_create_stack, _delete_stack, _update_stack, _describe_stacks, _list_stacks,
                 _describe_stack_events, _list_stack_resources, _describe_stack_resources,
                 _describe_stack_resource]
    return [
        *[(CloudFormationResponse, ours.__name__.lstrip("_"), ours) for ours in responses],
        (parsing, "resource_name_property_from_type", _resource_name_property_from_type),
    ]


def _resource_name_property_from_type(resource_type):
    return NAME_PROPERTIES.get(resource_type) or _stock["resource_name_property_from_type"](resource_type)


# --- One stack's life ------------------------------------------------------------------------------

class _Resource:
    def __init__(self, logical_id, resource_type):
        self.logical_id = logical_id
        self.type = resource_type
        self.status = None
        self.reason = None
        self.physical_id = None
        self.updated = None


class _Run:
    """Where a stack is in its life, and what it has made on the way."""

    def __init__(self, stack, plan, token, on_failure):
        self.plan = plan  # logical ids, in the order they are made
        self.types = {lid: stack.template_dict["Resources"][lid]["Type"] for lid in plan}
        self.resources = {}  # logical id -> _Resource, for each one begun
        self.started = []  # logical ids in the order they were begun
        self.token = token  # the ClientRequestToken of the CreateStack
        self.event_token = token  # ... of the operation now under way
        self.on_failure = on_failure
        self.phase = CREATE
        self.queue = list(plan)
        self.current = None  # (logical id, when it began)
        self.at = stack.creation_time  # when the next step is due
        self.reason = "User Initiated"
        self.failed = []
        self.outputs = None
        self.deletion_time = None

    def step(self):
        """How long one resource takes, as now configured: `stack_seconds` shared out."""
        return timedelta(seconds=_settings["stack_seconds"] / max(1, len(self.plan)))


def _settle(backend, stack):
    """A read of the stack: it takes every step that is due."""
    with _lock:
        run = _runs.get(stack)
        if run is not None and run.phase:
            _advance(backend, stack, run, _now())


def _advance(backend, stack, run, now):
    while run.phase:
        if run.current is None:
            if not run.queue:
                _end_phase(backend, stack, run)
                continue
            if run.at > now:
                return
            logical_id = run.queue.pop(0)
            (_begin_create if run.phase == CREATE else _begin_delete)(backend, stack, run, logical_id)
        else:
            logical_id, began = run.current
            due = began + run.step()
            if due > now:
                return
            finish = _finish_create if run.phase == CREATE else _finish_delete
            if not finish(backend, stack, run, logical_id, due, now):
                return  # waiting for the local SageMaker


def _begin_create(backend, stack, run, logical_id):
    resource = run.resources[logical_id] = _Resource(logical_id, run.types[logical_id])
    run.started.append(logical_id)
    _event(stack, run, resource, "CREATE_IN_PROGRESS", at=run.at)
    if not _supported(resource.type):
        return _fail(backend, stack, run, resource, UNSUPPORTED.format(resource.type), run.at)
    try:
        if resource.type in NOTHING_TO_MAKE:
            from moto.cloudformation.parsing import generate_resource_name

            physical_id = generate_resource_name(resource.type, stack.name, logical_id)
        else:
            made = stack.resource_map[logical_id]  # moto's own creation of it, from the template
            physical_id = made.physical_resource_id
            _tag(stack, run, logical_id, made)
    except Exception as exc:  # whatever refused it is the resource's failure, as on AWS
        return _fail(backend, stack, run, resource, _reason(resource.type, exc), run.at)
    resource.physical_id = physical_id
    _event(stack, run, resource, "CREATE_IN_PROGRESS", "Resource creation Initiated", at=run.at)
    run.current = (logical_id, run.at)


def _finish_create(backend, stack, run, logical_id, due, now):
    resource = run.resources[logical_id]
    at = due
    if resource.type == ENDPOINT_TYPE:
        endpoint = _endpoint(stack, resource)
        status = endpoint.endpoint_status if endpoint is not None else None
        if status == "Creating":
            return False
        if status != "InService":
            reason = (endpoint.failure_reason if endpoint is not None else None) or (
                f"Endpoint {resource.physical_id} is {status or 'gone'}")
            _fail(backend, stack, run, resource, reason, max(due, _stamp(endpoint, now)))
            return True
        at = max(due, _stamp(endpoint, now))
    _event(stack, run, resource, "CREATE_COMPLETE", at=at)
    run.current, run.at = None, at
    return True


def _fail(backend, stack, run, resource, reason, at):
    _event(stack, run, resource, "CREATE_FAILED", reason, at=at)
    run.current, run.at = None, at
    run.failed.append(resource.logical_id)
    reason = FAILED_TO_CREATE.format(", ".join(run.failed))
    if run.on_failure == "DO_NOTHING":
        run.phase, run.queue = None, []
        _stack_event(stack, run, "CREATE_FAILED", reason, at)
    elif run.on_failure == "DELETE":
        _start_delete(stack, run, at, reason)
    else:
        run.phase, run.failed = ROLLBACK, []
        run.queue = _to_delete(run)
        _stack_event(stack, run, "ROLLBACK_IN_PROGRESS", reason + ROLLBACK_REQUESTED, at)


def _to_delete(run):
    """What is left to delete, last made first (the one being deleted now excepted)."""
    busy = run.current[0] if run.current is not None else None
    return [lid for lid in reversed(run.started)
            if run.resources[lid].status != "DELETE_COMPLETE" and lid != busy]


def _start_delete(stack, run, at, reason="User Initiated"):
    if run.phase == CREATE:
        run.current = None  # what was being made is deleted with the rest
    run.phase, run.failed, run.queue = DELETE, [], _to_delete(run)
    run.deletion_time = at
    _stack_event(stack, run, "DELETE_IN_PROGRESS", reason, at)


def _begin_delete(backend, stack, run, logical_id):
    resource = run.resources[logical_id]
    if resource.physical_id is None:  # nothing of it was made
        _event(stack, run, resource, "DELETE_COMPLETE", at=run.at)
        return
    policy = stack.template_dict["Resources"][logical_id].get("DeletionPolicy")
    if policy == "Retain" or policy == "RetainExceptOnCreate" and run.phase == DELETE:
        _event(stack, run, resource, "DELETE_SKIPPED", at=run.at)  # left in the account
        return
    _event(stack, run, resource, "DELETE_IN_PROGRESS", at=run.at)
    try:
        _delete_resource(stack, resource)
    except Exception as exc:
        if not _already_gone(exc):
            _event(stack, run, resource, "DELETE_FAILED", _reason(resource.type, exc), at=run.at)
            run.failed.append(logical_id)
            return
    run.current = (logical_id, run.at)


def _finish_delete(backend, stack, run, logical_id, due, now):
    resource = run.resources[logical_id]
    at = due
    if resource.type == ENDPOINT_TYPE:
        if _endpoint(stack, resource) is not None:
            return False  # still Deleting
        at = max(due, now)
    _event(stack, run, resource, "DELETE_COMPLETE", at=at)
    run.current, run.at = None, at
    return True


def _end_phase(backend, stack, run):
    at, failed = run.at, run.failed
    if run.phase == CREATE:
        run.phase = None
        run.outputs = [{k: v for k, v in output.items() if v is not None}
                       for output in stack.outputs or []]
        for export in stack.exports:
            backend.exports[export.name] = export
        _stack_event(stack, run, "CREATE_COMPLETE", None, at)
    elif run.phase == ROLLBACK:
        run.phase = None
        if failed:
            _stack_event(stack, run, "ROLLBACK_FAILED", FAILED_TO_DELETE.format(", ".join(failed)), at)
        else:
            _stack_event(stack, run, "ROLLBACK_COMPLETE", None, at)
    else:
        run.phase = None
        if failed:
            _stack_event(stack, run, "DELETE_FAILED", FAILED_TO_DELETE.format(", ".join(failed)), at)
            return
        _stack_event(stack, run, "DELETE_COMPLETE", None, at)
        for export in stack.exports if run.outputs is not None else []:
            backend.exports.pop(export.name, None)
        backend.stacks.pop(stack.stack_id, None)
        backend.deleted_stacks[stack.stack_id] = stack


def _event(stack, run, resource, status, reason=None, *, at):
    from moto.cloudformation.models import Event

    resource.status, resource.reason, resource.updated = status, reason, at
    event = Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=resource.logical_id,
                  physical_resource_id=resource.physical_id or "", resource_type=resource.type,
                  resource_status=status, resource_status_reason=reason, resource_properties=None)
    _record(stack, run, event, at)


def _stack_event(stack, run, status, reason, at):
    from moto.cloudformation.models import Event

    stack.status, run.reason = status, reason
    event = Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=stack.name,
                  physical_resource_id=stack.stack_id, resource_type=STACK_TYPE, resource_status=status,
                  resource_status_reason=reason, resource_properties=None)
    _record(stack, run, event, at)


def _record(stack, run, event, at):
    event.timestamp = at
    event.client_request_token = run.event_token
    event.sendToSns(stack.account_id, stack.region_name, stack.notification_arns)
    stack.events.append(event)


def _stamp(endpoint, now):
    """When the endpoint took its last step (the read that saw it), never later than now."""
    return min(endpoint.last_modified_time, now) if endpoint is not None else now


def _supported(resource_type):
    from moto.cloudformation.parsing import get_model_map

    if resource_type in NOTHING_TO_MAKE:
        return True
    return (resource_type in get_model_map() and resource_type not in NOT_LOCAL
            and not resource_type.startswith("Custom::"))


def _endpoint(stack, resource):
    """The local SageMaker's endpoint the stack made for `resource`, settled; None once gone."""
    from moto.sagemaker.models import sagemaker_backends

    from .sagemaker import _settle as settle_endpoints

    name = resource.physical_id.rsplit("/", 1)[-1]  # its physical id is its ARN
    backend = sagemaker_backends[stack.account_id][stack.region_name]
    settle_endpoints(backend, [name])
    return backend.endpoints.get(name)


def _tag(stack, run, logical_id, made):
    """The stack's tags and CloudFormation's own on what it made, as AWS tags SageMaker resources
    (a tag the template gives the resource wins over the stack's of the same key)."""
    tags = getattr(made, "tags", None)
    if not isinstance(tags, list) or not type(made).__module__.startswith("moto.sagemaker"):
        return
    own = {tag.get("Key") for tag in tags}
    extra = {**stack.tags, "aws:cloudformation:stack-name": stack.name,
             "aws:cloudformation:stack-id": stack.stack_id, "aws:cloudformation:logical-id": logical_id}
    tags.extend({"Key": key, "Value": value} for key, value in extra.items() if key not in own)


def _delete_resource(stack, resource):
    resource_map = stack.resource_map
    made = resource_map._parsed_resources.get(resource.logical_id)
    if made is None:  # nothing moto made (a wait condition handle)
        return
    if resource.type == BUCKET_TYPE:
        _refuse_full_bucket(stack, made)
    resource_map._delete_resource(made, resource_map._resource_json_map[resource.logical_id])
    resource_map._parsed_resources.pop(resource.logical_id, None)


class _ServiceRefusal(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _refuse_full_bucket(stack, bucket):
    # moto's delete_bucket keeps a bucket with objects in it and says nothing.
    if bucket.keys:
        raise _ServiceRefusal("BucketNotEmpty", BUCKET_NOT_EMPTY, 409)


def _already_gone(exc):
    text = str(getattr(exc, "message", "") or exc)
    return "Could not find" in text or "does not exist" in text or "NoSuchBucket" in type(exc).__name__


def _reason(resource_type, exc):
    """A resource's failure in the words CloudFormation uses for it."""
    if isinstance(exc, KeyError):  # moto reads required properties without checking for them
        return (f"Properties validation failed for resource with message: #: required key "
                f"[{exc.args[0]}] not found")
    code = getattr(exc, "code", None) or getattr(exc, "error_type", None)
    message = getattr(exc, "message", None) or str(exc)
    if not isinstance(code, str):  # moto's JSON errors keep the HTTP status in `code`
        code = getattr(exc, "error_type", None) or type(exc).__name__
    status = getattr(exc, "status", None) or (exc.code if isinstance(getattr(exc, "code", None), int) else 400)
    service = resource_type.split("::")[1] if resource_type.count("::") == 2 else "CloudFormation"
    return SERVICE_ERROR.format(message=message, service=SERVICES.get(service, f"AWS{service}"),
                                status=status, code=code, request_id=uuid.uuid4())


# --- Creating: what AWS checks before it answers -----------------------------------------------------

def _error(kind, message):
    from moto.cloudformation import exceptions

    if kind == "AlreadyExists":
        return exceptions.AlreadyExistsException(message)
    if kind == "InsufficientCapabilities":
        return _insufficient_capabilities()(message)
    return exceptions.ValidationError(message=message)


_capability_error = []


def _insufficient_capabilities():
    if not _capability_error:
        from moto.cloudformation.exceptions import CloudFormationError

        _capability_error.append(type("InsufficientCapabilitiesException", (CloudFormationError,),
                                      {"code": "InsufficientCapabilitiesException"}))
    return _capability_error[0]


def _pattern_error(value, field, pattern):
    return _error("ValidationError", (
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {pattern}"))


def _check_request(name, token, body):
    if not name or len(name) > MAX_NAME or not STACK_NAME.fullmatch(name):
        raise _pattern_error(name, "stackName", STACK_NAME.pattern)
    if token is not None and (len(token) > MAX_NAME or not TOKEN.fullmatch(token)):
        raise _pattern_error(token, "clientRequestToken", TOKEN.pattern)
    if not body:
        raise _error("ValidationError", "Either Template URL or Template Body must be specified.")
    if len(body.encode()) > MAX_TEMPLATE_BYTES:
        raise _error("ValidationError", (
            f"1 validation error detected: Value '{body[:40]}...' at 'templateBody' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_TEMPLATE_BYTES}"))


def _parse(body):
    from moto.cloudformation.models import Stack

    try:
        template = Stack.parse_template(body)
    except ValueError as exc:
        raise _error("ValidationError", f"Template format error: JSON not well-formed. ({exc})") from None
    except Exception as exc:  # YAML's own errors
        raise _error("ValidationError", f"Template format error: YAML not well-formed. ({exc})") from None
    if not isinstance(template, dict):
        raise _error("ValidationError", "Template format error: not a JSON or YAML object")
    if not isinstance(template.get("Resources"), dict) or not template["Resources"]:
        raise _error("ValidationError", "Template format error: At least one Resources member must be defined.")
    return template


def _check_parameters(template, given):
    declared = template.get("Parameters") or {}
    unknown = [key for key in given if key not in declared]
    if unknown:
        raise _error("ValidationError", f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    missing = [key for key, slot in declared.items() if key not in given and "Default" not in slot]
    if missing:
        raise _error("ValidationError", f"Parameters: [{', '.join(missing)}] must have values")
    for key, slot in declared.items():
        value = str(given.get(key, slot.get("Default")))
        allowed = slot.get("AllowedValues")
        if allowed and value not in [str(v) for v in allowed]:
            raise _error("ValidationError", f"Parameter '{key}' must be one of AllowedValues")
        pattern = slot.get("AllowedPattern")
        if pattern and not re.fullmatch(pattern, value):
            raise _error("ValidationError", f"Parameter '{key}' must match pattern {pattern}")


def _check_capabilities(template, capabilities):
    iam = [r for r in template["Resources"].values() if str(r.get("Type", "")).startswith("AWS::IAM::")]
    named = any(IAM_NAME_PROPERTIES & set(r.get("Properties") or {}) for r in iam)
    if named and "CAPABILITY_NAMED_IAM" not in capabilities:
        raise _error("InsufficientCapabilities", "Requires capabilities : [CAPABILITY_NAMED_IAM]")
    if iam and not {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"} & set(capabilities):
        raise _error("InsufficientCapabilities", "Requires capabilities : [CAPABILITY_IAM]")


def _plan(template):
    """The logical ids in an order that makes each after what it refers to (template order
    otherwise), as CloudFormation orders them; a cycle is refused as AWS refuses it."""
    resources = template["Resources"]
    needs = {lid: _references(body, set(resources)) - {lid} for lid, body in resources.items()}
    order, state = [], {}

    def visit(lid, path):
        if state.get(lid) == "done":
            return
        if state.get(lid) == "visiting":
            cycle = set(path[path.index(lid):])
            raise _error("ValidationError", f"Circular dependency between resources: [{', '.join(sorted(cycle))}]")
        state[lid] = "visiting"
        for need in [n for n in resources if n in needs[lid]]:
            visit(need, path + [need])
        state[lid] = "done"
        order.append(lid)

    for lid in resources:
        visit(lid, [lid])
    return order


def _references(node, names):
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str) and value in names:
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) and value else str(value).split(".")[0]
                if target in names:
                    found.add(target)
            elif key == "Fn::Sub":
                text, local = (value[0], set(value[1])) if isinstance(value, list) else (value, set())
                for ref in re.findall(r"\$\{([^}!][^}]*)\}", str(text)):
                    target = ref.split(".")[0]
                    if target in names and target not in local:
                        found.add(target)
                if isinstance(value, list) and len(value) > 1:
                    found |= _references(value[1], names)
            elif key == "DependsOn":
                found |= {value} if isinstance(value, str) else set(value or [])
            else:
                found |= _references(value, names)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item, names)
    return found & names


# --- The responses -----------------------------------------------------------------------------------

def _create_stack(self):
    from moto.cloudformation.models import Stack
    from moto.cloudformation.utils import generate_stack_id
    from moto.core.responses import ActionResult

    backend = self.cloudformation_backend
    name = self._get_param("StackName")
    token = self._get_param("ClientRequestToken")
    body = self._get_param("TemplateBody")
    if not body and self._get_param("TemplateURL"):
        body = self._get_stack_from_s3_url(self._get_param("TemplateURL"))
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in self._get_param("Parameters", [])}
    tags = {tag["Key"]: tag["Value"] for tag in self._get_param("Tags", [])}
    capabilities = self._get_param("Capabilities", [])
    on_failure = self._get_param("OnFailure")
    disable_rollback = self._get_param("DisableRollback")
    if on_failure is not None and disable_rollback is not None:
        raise _error("ValidationError", "You cannot specify both DisableRollback and OnFailure.")
    if on_failure is not None and on_failure not in ON_FAILURE:
        raise _pattern_error(on_failure, "onFailure", "|".join(ON_FAILURE))
    on_failure = on_failure or ("DO_NOTHING" if str(disable_rollback).lower() == "true" else "ROLLBACK")
    _check_request(name, token, body)

    with _lock:
        taken = next((s for s in backend.stacks.values() if s.name == name), None)
        if taken is not None:
            _settle(backend, taken)
            taken = next((s for s in backend.stacks.values() if s.name == name), None)
        if taken is not None:
            run = _runs.get(taken)
            if token and run is not None and run.token == token:
                return ActionResult({"StackId": taken.stack_id})  # the same request, again
            raise _error("AlreadyExists", f"Stack [{name}] already exists")
        template = _parse(body)
        _check_parameters(template, parameters)
        _check_capabilities(template, capabilities)
        stack = _new_stack(
            Stack, stack_id=generate_stack_id(name, backend.region_name, backend.account_id), name=name,
            template=body, parameters=parameters, account_id=backend.account_id,
            region_name=backend.region_name, notification_arns=self._get_param("NotificationARNs", []),
            tags=tags, role_arn=self._get_param("RoleARN"),
            cross_stack_resources=backend.exports,
            enable_termination_protection=self._get_param("EnableTerminationProtection"),
            timeout_in_mins=self._get_param("TimeoutInMinutes"),
            stack_policy_body=self._get_param("StackPolicyBody"),
        )
        stack.creation_time = _now()
        plan = [lid for lid in _plan(stack.template_dict) if _wanted(stack, lid)]
        run = _Run(stack, plan, token, on_failure)
        stack.capabilities = list(capabilities)
        stack.disable_rollback = on_failure == "DO_NOTHING"
        _runs[stack] = run
        backend.stacks[stack.stack_id] = stack
        _stack_event(stack, run, "CREATE_IN_PROGRESS", "User Initiated", stack.creation_time)
    return ActionResult({"StackId": stack.stack_id})


def _new_stack(cls, **arguments):
    """moto's Stack, which resolves parameters, mappings and conditions (but makes nothing yet);
    what it trips over in the template is a template error, as AWS reports it at CreateStack."""
    from moto.cloudformation.exceptions import CloudFormationError

    try:
        return cls(**arguments)
    except CloudFormationError:
        raise
    except Exception as exc:
        raise _error("ValidationError", f"Template error: {exc!r}") from None


def _wanted(stack, logical_id):
    condition = stack.template_dict["Resources"][logical_id].get("Condition")
    return not condition or bool(stack.resource_map.lazy_condition_map[condition])


def _delete_stack(self):
    from moto.core.responses import EmptyResult

    backend = self.cloudformation_backend
    name = self._get_param("StackName")
    token = self._get_param("ClientRequestToken")
    with _lock:
        stack = backend.stacks.get(name) or next(
            (s for s in backend.stacks.values() if s.name == name), None)
        if stack is None:
            return EmptyResult()  # AWS says nothing of a stack that is not there
        _settle(backend, stack)
        run = _runs.get(stack)
        if run is None:  # one moto made without us (a nested stack, a change set)
            return _stock["delete_stack"](self)
        if run.phase == DELETE or stack.status == "DELETE_COMPLETE":
            return EmptyResult()
        run.event_token = token
        _start_delete(stack, run, _now())
    return EmptyResult()


def _update_stack(self):
    backend = self.cloudformation_backend
    with _lock:
        stack = backend.get_stack(self._get_param("StackName"))
        _settle(backend, stack)
        run = _runs.get(stack)
        if run is not None and (run.phase or stack.status.endswith("_FAILED")):
            raise _error("ValidationError",
                         f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")
    return _stock["update_stack"](self)


def _find(backend, name_or_id, missing=None):
    """The stack named (live) or of that id (live or deleted), settled first: a stack whose
    deletion ends with this read is no longer found by its name."""
    with _lock:
        for stack in [s for s in backend.stacks.values() if name_or_id in (s.name, s.stack_id)]:
            _settle(backend, stack)
        stack = backend.stacks.get(name_or_id) or next(
            (s for s in backend.stacks.values() if s.name == name_or_id), None) or (
            backend.deleted_stacks.get(name_or_id))
    if stack is None:
        raise _error("ValidationError", missing or f"Stack with id {name_or_id} does not exist")
    return stack


def _describe_stacks(self):
    from moto.core.responses import ActionResult

    backend = self.cloudformation_backend
    name = self._get_param("StackName")
    if name:
        stacks = [_find(backend, name)]
    else:
        with _lock:
            for stack in list(backend.stacks.values()):
                _settle(backend, stack)
            stacks = sorted(backend.stacks.values(), key=lambda s: s.creation_time, reverse=True)
    page, token = _page(stacks, self._get_param("NextToken"), key=lambda s: s.stack_id)
    return ActionResult({"Stacks": [_stack_answer(s) for s in page], "NextToken": token})


def _list_stacks(self):
    from moto.core.responses import ActionResult

    backend = self.cloudformation_backend
    wanted = set(self._get_param("StackStatusFilter", []))
    with _lock:
        for stack in list(backend.stacks.values()):
            _settle(backend, stack)
        stacks = [*backend.stacks.values(), *backend.deleted_stacks.values()]
    stacks = sorted((s for s in stacks if not wanted or s.status in wanted),
                    key=lambda s: (s.creation_time, s.stack_id), reverse=True)
    page, token = _page(stacks, self._get_param("NextToken"), key=lambda s: s.stack_id)
    return ActionResult({"StackSummaries": [_summary(s) for s in page], "NextToken": token})


def _describe_stack_events(self):
    from moto.core.responses import ActionResult

    name = self._get_param("StackName")
    stack = _find(self.cloudformation_backend, name, missing=f"Stack [{name}] does not exist")
    events = list(reversed(stack.events))  # newest first, as AWS sends them
    page, token = _page(events, self._get_param("NextToken"), key=lambda e: str(e.event_id))
    return ActionResult({"StackEvents": [_event_answer(e) for e in page], "NextToken": token})


def _list_stack_resources(self):
    from moto.core.responses import ActionResult

    stack = _find(self.cloudformation_backend, self._get_param("StackName"))
    resources = _resources(stack)
    page, token = _page(resources, self._get_param("NextToken"), key=lambda r: r.logical_id)
    return ActionResult({"StackResourceSummaries": [{
        "LogicalResourceId": r.logical_id, "PhysicalResourceId": r.physical_id, "ResourceType": r.type,
        "LastUpdatedTimestamp": r.updated, "ResourceStatus": r.status,
        **({"ResourceStatusReason": r.reason} if r.reason else {}),
        "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
    } for r in page], "NextToken": token})


def _describe_stack_resources(self):
    from moto.core.responses import ActionResult

    backend = self.cloudformation_backend
    name, physical_id = self._get_param("StackName"), self._get_param("PhysicalResourceId")
    logical_id = self._get_param("LogicalResourceId")
    if name:
        stack = _find(backend, name)
    elif physical_id:
        stack = next((s for s in backend.stacks.values()
                      if any(r.physical_id == physical_id for r in _resources(s))), None)
        if stack is None:
            raise _error("ValidationError", f"Stack for {physical_id} does not exist")
        stack = _find(backend, stack.stack_id)
    else:
        raise _error("ValidationError", "Either StackName or PhysicalResourceId must be specified.")
    resources = [r for r in _resources(stack) if (not logical_id or r.logical_id == logical_id)
                 and (not physical_id or r.physical_id == physical_id)]
    return ActionResult({"StackResources": [_resource_answer(stack, r) for r in resources]})


def _describe_stack_resource(self):
    from moto.core.responses import ActionResult

    name, logical_id = self._get_param("StackName"), self._get_param("LogicalResourceId")
    stack = _find(self.cloudformation_backend, name)
    found = next((r for r in _resources(stack) if r.logical_id == logical_id), None)
    if found is None:
        raise _error("ValidationError", f"Resource {logical_id} does not exist for stack {name}")
    answer = _resource_answer(stack, found)
    answer["LastUpdatedTimestamp"] = answer.pop("Timestamp")
    return ActionResult({"StackResourceDetail": answer})


# --- Answers ------------------------------------------------------------------------------------------

def _page(items, token, key):
    """One page of PAGE items after the one the token names (the key of the last one sent), and
    the next token or None."""
    start = 0
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
            start = [key(item) for item in items].index(after) + 1
        except (ValueError, UnicodeDecodeError):
            raise _error("ValidationError", f"Invalid NextToken: {token}") from None
    page = items[start:start + PAGE]
    more = len(items) > start + PAGE
    return page, (base64.urlsafe_b64encode(key(page[-1]).encode()).decode() if more else None)


def _resources(stack):
    run = _runs.get(stack)
    if run is None:  # a stack moto made without us: what moto has made, as moto reports it
        found = []
        for lid, made in stack.resource_map._parsed_resources.items():
            if lid in stack.template_dict.get("Resources", {}) and hasattr(made, "physical_resource_id"):
                resource = _Resource(lid, stack.template_dict["Resources"][lid]["Type"])
                resource.status, resource.updated = stack.status, stack.creation_time
                resource.physical_id = made.physical_resource_id
                found.append(resource)
        return found
    return [run.resources[lid] for lid in run.started]


def _resource_answer(stack, resource):
    return {
        "StackName": stack.name, "StackId": stack.stack_id, "LogicalResourceId": resource.logical_id,
        "PhysicalResourceId": resource.physical_id, "ResourceType": resource.type,
        "Timestamp": resource.updated, "ResourceStatus": resource.status,
        **({"ResourceStatusReason": resource.reason} if resource.reason else {}),
        "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
    }


def _stack_answer(stack):
    run = _runs.get(stack)
    outputs = run.outputs if run is not None else (
        [{k: v for k, v in o.items() if v is not None} for o in stack.outputs or []]
        if stack.status.endswith("_COMPLETE") else None)
    answer = {
        "StackId": stack.stack_id, "StackName": stack.name, "Description": stack.description,
        "Parameters": [{"ParameterKey": p["ParameterKey"], "ParameterValue": _text(p["ParameterValue"])}
                       for p in stack.parameter_list],
        "CreationTime": stack.creation_time,
        "DeletionTime": run.deletion_time if run is not None else None,
        "RollbackConfiguration": {}, "StackStatus": stack.status,
        "StackStatusReason": run.reason if run is not None else None,
        "DisableRollback": stack.disable_rollback, "NotificationARNs": stack.notification_arns,
        "TimeoutInMinutes": stack.timeout_in_minutes,
        "Capabilities": getattr(stack, "capabilities", None) or None,
        "Outputs": outputs or None, "RoleARN": stack.role_arn,
        "Tags": dict(stack.tags),  # moto's response turns it into [{"Key", "Value"}]
        "EnableTerminationProtection": stack.enable_termination_protection,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
    return {k: v for k, v in answer.items() if v is not None}


def _summary(stack):
    run = _runs.get(stack)
    answer = {
        "StackId": stack.stack_id, "StackName": stack.name, "TemplateDescription": stack.description,
        "CreationTime": stack.creation_time,
        "DeletionTime": run.deletion_time if run is not None else None,
        "StackStatus": stack.status, "StackStatusReason": run.reason if run is not None else None,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
    return {k: v for k, v in answer.items() if v is not None}


def _event_answer(event):
    answer = {
        "StackId": event.stack_id, "EventId": str(event.event_id), "StackName": event.stack_name,
        "LogicalResourceId": event.logical_resource_id, "PhysicalResourceId": event.physical_resource_id,
        "ResourceType": event.resource_type, "Timestamp": event.timestamp,
        "ResourceStatus": event.resource_status, "ResourceStatusReason": event.resource_status_reason,
        "ClientRequestToken": event.client_request_token,
    }
    return {k: v for k, v in answer.items() if v is not None}


def _text(value):
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)

