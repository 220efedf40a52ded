"""The local SageMaker: models, endpoint configs and endpoints that act as SageMaker's do.

- Endpoints take time. create_endpoint answers with the endpoint `Creating`; `endpoint_seconds`
  later it is `InService`, or `Failed` when its config uses a failing instance type, with the
  FailureReason "The primary container for production variant AllTraffic did not pass the ping
  health check. Please check CloudWatch logs for this endpoint." delete_endpoint makes it `Deleting`,
  and `endpoint_seconds` later it is gone. Changes happen when the endpoint is read (describe_endpoint,
  list_endpoints, invoke_endpoint), and each moves LastModifiedTime to the moment it happened.
  The pace is moto's state manager transition "sagemaker::endpoint", so a test may also take
  control with state_manager.set_transition (or POST /moto-api/state-manager/set-transition).
- No quota. create_endpoint for a config with a no-quota instance type raises ResourceLimitExceeded:
  "The account-level service limit 'ml.p4d.24xlarge for endpoint usage' is 0 Instances, with current
  utilization of 0 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to
  request an increase for this quota."
- Real instance types. Endpoint configs take any well-formed ml.<family>.<size> (ml.g5.2xlarge,
  ml.p6-b200.48xlarge); a malformed one is a ValidationException.
- Names as on AWS, each a ValidationException: a taken name is refused with 'Cannot create already
  existing model "ARN".' (likewise endpoint configuration, endpoint), and a name taken in another
  case is taken; describing or deleting a missing one says 'Could not find model "ARN".' (endpoint
  configuration, endpoint), and reads match the exact name.
- list_endpoints filters (StatusEquals, NameContains, CreationTime/LastModifiedTime Before/After),
  sorts (SortBy Name, CreationTime or Status; AWS's default CreationTime, Descending), and only then
  pages (MaxResults 1-100, default 10 as on AWS; NextToken). SortBy LastModifiedTime is refused, as
  AWS refuses it: poll for changes with LastModifiedTimeAfter.
"""

import weakref

from .core import (
    ENDPOINT_STATE, INSTANCE_TYPE, _error, _lock, _now, _settings, _stock, answer_late, check_enum,
    check_max_results, sort_and_page,
)


def patches():
    """(moto class, method, our version) for the SageMaker methods install() replaces."""
    from moto.sagemaker.models import FakeEndpointConfig, SageMakerModelBackend

    backend_methods = [
        _create_model, _describe_model, _delete_model,
        _create_endpoint_config, _describe_endpoint_config, _delete_endpoint_config,
        _create_endpoint, _describe_endpoint, _delete_endpoint, _list_endpoints,
    ]
    return [
        *[(SageMakerModelBackend, ours.__name__.lstrip("_"), ours) for ours in backend_methods],
        (FakeEndpointConfig, "validate_instance_type", _validate_instance_type),
    ]


# --- The endpoint lifecycle --------------------------------------------------------------------

GONE = "(deleted)"  # the step after Deleting: the endpoint leaves the backend
SERVING = ("InService", "Updating", "SystemUpdating")  # the statuses that answer invocations
MODEL_ID_TAG = "sagemaker-sdk:jumpstart-model-id"
FAILURE_REASON = ("The primary container for production variant {variant} did not pass the ping "
                  "health check. Please check CloudWatch logs for this endpoint.")
QUOTA_MESSAGE = ("The account-level service limit '{instance_type} for endpoint usage' is 0 Instances, "
                 "with current utilization of 0 Instances and a request delta of {delta} Instances. "
                 "Please use AWS Service Quotas to request an increase for this quota.")

# FakeEndpoint -> _Life. Beside moto's object, not on it: moto answers describe with its __dict__.
_lives = weakref.WeakKeyDictionary()


class _Life:
    """Where one endpoint is heading, and what it needs to act its part on the way."""

    def __init__(self, model_id, variant, failure_reason=None):
        self.model_id = model_id
        self.variant = variant
        self.failure_reason = failure_reason
        self.step = None

    def head(self, now, then):
        from moto.moto_api._internal.managed_state_model import ManagedState

        self.step = ManagedState(ENDPOINT_STATE, [(now, then)])


def _settle(backend, names=None):
    """A read of endpoints: each may take its next step, which moves its LastModifiedTime."""
    with _lock:
        for name in list(backend.endpoints if names is None else names):
            endpoint = backend.endpoints.get(name)
            life = _lives.get(endpoint) if endpoint is not None else None
            if life is None or life.step is None:
                continue
            life.step.advance()
            status = life.step.status
            if status == endpoint.endpoint_status:
                continue
            if status == GONE:
                del backend.endpoints[name]
                continue
            endpoint.endpoint_status = status
            endpoint.last_modified_time = _now()
            if status == "Failed":
                endpoint.failure_reason = life.failure_reason


KINDS = {  # ARN resource type -> (the backend's dict of them, what AWS's messages call them)
    "model": ("_models", "model"),
    "endpoint-config": ("endpoint_configs", "endpoint configuration"),
    "endpoint": ("endpoints", "endpoint"),
}


def _arn(backend, kind, name):
    from moto.sagemaker.utils import arn_formatter

    return arn_formatter(kind, name, backend.account_id, backend.region_name)


def _require(backend, kind, name):
    attribute, noun = KINDS[kind]
    if name not in getattr(backend, attribute):
        raise _error("ValidationException", f'Could not find {noun} "{_arn(backend, kind, name)}".')


def _refuse_taken(backend, kind, name):
    """SageMaker's names are case-insensitive in Create* (the case given is kept, and reads must
    match it): "Alice-Net" is taken while "alice-net" exists."""
    attribute, noun = KINDS[kind]
    if name.lower() in {taken.lower() for taken in getattr(backend, attribute)}:
        raise _error("ValidationException",
                     f'Cannot create already existing {noun} "{_arn(backend, kind, name)}".')


def _create_model(self, model_name, **request):
    _refuse_taken(self, "model", model_name)
    model = _stock["create_model"](self, model_name=model_name, **request)
    answer_late()
    return model


def _describe_model(self, model_name):
    _require(self, "model", model_name)
    return _stock["describe_model"](self, model_name)


def _delete_model(self, model_name):
    _require(self, "model", model_name)
    return _stock["delete_model"](self, model_name)


def _validate_instance_type(self, instance_type):
    """FakeEndpointConfig's check, against the form of a type instead of moto's list of old ones."""
    _check_instance_type(instance_type)


def _check_instance_type(instance_type):
    if not INSTANCE_TYPE.fullmatch(str(instance_type)):
        raise _error("ValidationException", (
            f"1 validation error detected: Value '{instance_type}' at "
            f"'productionVariants.member.instanceType' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {INSTANCE_TYPE.pattern}"))


def _create_endpoint_config(self, endpoint_config_name, production_variants, **request):
    for variant in production_variants:  # as on AWS, the request's form is checked first
        if "InstanceType" in variant:
            _check_instance_type(variant["InstanceType"])
    _refuse_taken(self, "endpoint-config", endpoint_config_name)
    for variant in production_variants:
        _require(self, "model", variant["ModelName"])
    config = _stock["create_endpoint_config"](
        self, endpoint_config_name=endpoint_config_name, production_variants=production_variants,
        **request)
    answer_late()
    return config


def _describe_endpoint_config(self, endpoint_config_name):
    _require(self, "endpoint-config", endpoint_config_name)
    return _stock["describe_endpoint_config"](self, endpoint_config_name)


def _delete_endpoint_config(self, endpoint_config_name):
    _require(self, "endpoint-config", endpoint_config_name)
    return _stock["delete_endpoint_config"](self, endpoint_config_name)


def _create_endpoint(self, endpoint_name, endpoint_config_name, tags=None):
    _settle(self, [endpoint_name])  # one that finished deleting frees its name
    _refuse_taken(self, "endpoint", endpoint_name)
    _require(self, "endpoint-config", endpoint_config_name)
    variants = self.endpoint_configs[endpoint_config_name].production_variants
    for variant in variants:
        instance_type = variant.get("InstanceType")
        if instance_type in _settings["no_quota_instance_types"]:
            delta = sum(v.get("InitialInstanceCount") or 1
                        for v in variants if v.get("InstanceType") == instance_type)
            raise _error("ResourceLimitExceeded",
                         QUOTA_MESSAGE.format(instance_type=instance_type, delta=delta))

    endpoint = _stock["create_endpoint"](
        self, endpoint_name=endpoint_name, endpoint_config_name=endpoint_config_name, tags=tags)
    failing = [v for v in variants if v.get("InstanceType") in _settings["failing_instance_types"]]
    life = _Life(
        # Remembered now: AWS lets the config and the model be deleted under a running endpoint.
        model_id=_jumpstart_model_id(self, variants),
        variant=variants[0]["VariantName"] if variants else None,
        failure_reason=FAILURE_REASON.format(variant=failing[0]["VariantName"]) if failing else None,
    )
    life.head("Creating", "Failed" if failing else "InService")
    endpoint.endpoint_status = "Creating"
    endpoint.creation_time = endpoint.last_modified_time = _now()
    _lives[endpoint] = life
    answer_late()
    return endpoint


def _jumpstart_model_id(backend, variants):
    model = backend._models.get(variants[0]["ModelName"]) if variants else None
    tags = {tag["Key"]: tag["Value"] for tag in (model.tags if model else [])}
    return tags.get(MODEL_ID_TAG)


def _describe_endpoint(self, endpoint_name):
    _settle(self, [endpoint_name])
    _require(self, "endpoint", endpoint_name)
    return _stock["describe_endpoint"](self, endpoint_name)


def _delete_endpoint(self, endpoint_name):
    _settle(self, [endpoint_name])
    _require(self, "endpoint", endpoint_name)
    endpoint = self.endpoints[endpoint_name]
    if endpoint.endpoint_status == "Deleting":
        return
    life = _lives.setdefault(endpoint, _Life(model_id=None, variant=None))
    life.head("Deleting", GONE)
    endpoint.endpoint_status = "Deleting"
    endpoint.last_modified_time = _now()


# --- list_endpoints: filter, sort, then page ------------------------------------------------------

SORT_KEYS = {
    "Name": lambda e: e.endpoint_name,
    "CreationTime": lambda e: e.creation_time.isoformat(timespec="microseconds"),
    "Status": lambda e: e.endpoint_status,
}
ENDPOINT_STATUSES = ["OutOfService", "Creating", "Updating", "SystemUpdating", "RollingBack",
                     "InService", "Deleting", "Failed", "UpdateRollbackFailed"]


def _list_endpoints(self, sort_by=None, sort_order=None, next_token=None, max_results=None,
                    name_contains=None, creation_time_before=None, creation_time_after=None,
                    last_modified_time_before=None, last_modified_time_after=None,
                    status_equals=None):
    check_enum("sortBy", sort_by, list(SORT_KEYS))
    check_enum("sortOrder", sort_order, ["Ascending", "Descending"])
    check_enum("statusEquals", status_equals, ENDPOINT_STATUSES)
    check_max_results(max_results)
    _settle(self)

    def wanted(e):
        return ((not name_contains or name_contains.lower() in e.endpoint_name.lower())
                and (not status_equals or e.endpoint_status == status_equals)
                and (not creation_time_before or e.creation_time < creation_time_before)
                and (not creation_time_after or e.creation_time > creation_time_after)
                and (not last_modified_time_before or e.last_modified_time < last_modified_time_before)
                and (not last_modified_time_after or e.last_modified_time > last_modified_time_after))

    sort_by = sort_by or "CreationTime"
    everyone = list(self.endpoints.values())  # a copy: the server's other threads may add some
    return sort_and_page(
        filter(wanted, everyone), sort_by=sort_by, sort_key=SORT_KEYS[sort_by],
        name_of=lambda e: e.endpoint_name, descending=(sort_order or "Descending") == "Descending",
        next_token=next_token, max_results=max_results)
