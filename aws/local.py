"""The local AWS: moto's server in this process, seeded like JumpStart's bucket, plus what makes it
behave like SageMaker. Imported only by the demo command and the tests, never by product code.

    python -m aws.local serve --port 5055 --seed-dir catalog/data/jumpstart-cache

What install() makes moto do, in-process under mock_aws and in the server alike:

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
  existing model "ARN".' (likewise endpoint configuration, endpoint); describing or deleting a
  missing one says 'Could not find model "ARN".' (endpoint configuration, endpoint).
- list_endpoints filters (StatusEquals, NameContains, CreationTime/LastModifiedTime Before/After),
  sorts (SortBy Name, CreationTime or Status; AWS's default CreationTime, Descending), and only then
  pages (MaxResults 1-100, default 10 as on AWS; NextToken). SortBy LastModifiedTime is refused, as
  AWS refuses it: poll for changes with LastModifiedTimeAfter.
- invoke_endpoint (sagemaker-runtime) answers JSON shaped like the JumpStart container of the
  endpoint's model, found through its `sagemaker-sdk:jumpstart-model-id` tag, whose second part is
  the task: ic/tc/spc {"probabilities", "labels", "predicted_label"}; od {"normalized_boxes",
  "classes", "scores", "labels"}; *embedding {"embedding"}; eqa {"answer", "score", "start", "end"};
  text2text, summarization, translation {"generated_text"}; llm*, textgeneration*, reasoning, vlm
  [{"generated_text"}]; txt2img* {"generated_images": [base64 PNG], "prompt"}; anything else an
  echo of what was received. An endpoint that is missing or not InService raises ValidationError
  "Endpoint NAME of account 123456789012 not found.", as AWS does.

Settings, process-wide: configure(endpoint_seconds=3, failing_instance_types={"ml.g4dn.xlarge"},
no_quota_instance_types={"ml.p4d.24xlarge"}) changes any of them and returns the previous ones;
reset() restores these defaults. `serve` reads JSUI_LOCAL_ENDPOINT_SECONDS,
JSUI_LOCAL_FAILING_INSTANCE_TYPES and JSUI_LOCAL_NO_QUOTA_INSTANCE_TYPES (comma-separated, empty
for none).
"""

import argparse
import base64
import errno
import hashlib
import json
import logging
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import weakref
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote

import boto3
from botocore.exceptions import ClientError

# moto itself (the [local] extra) is imported where it is used, so this module imports without it.

# install() reaches into moto's private internals, which change between releases: built for this one.
MOTO_VERSION = "5.2.5"
HOST = "127.0.0.1"
DEFAULT_PORT = 5055
DEMO_OUTPUT_BUCKET = "jumpstart-ui-demo-output"
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}

_installed = False


class PortInUse(Exception):
    pass


class MotoVersionMismatch(RuntimeError):
    pass


class BadSetting(ValueError):
    pass


def check_moto_version():
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise MotoVersionMismatch(
            f"aws.local was built for moto {MOTO_VERSION} but moto {moto.__version__} is installed. "
            f"Install the pinned one (pip install -e '.[local]'), or port aws/local.py to the new "
            f"version and run tests/test_local_aws.py."
        )


def install():
    """Make the in-process moto behave like SageMaker (see the module docstring); idempotent.

    Call it before the first AWS call, under mock_aws or not: it patches moto's classes, so the
    server, the demo and the tests all get the same behaviour from this one call.
    """
    global _installed
    if _installed:
        return
    check_moto_version()
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    patches = _patches()
    missing = [f"{cls.__name__}.{name}" for cls, name, _ in patches
               if not callable(getattr(cls, name, None))]
    if missing:  # checked before patching anything, so that a failed install changes nothing
        raise MotoVersionMismatch(f"aws.local cannot find {', '.join(missing)} in moto to patch")
    for cls, name, ours in patches:
        _stock[name] = getattr(cls, name)
        setattr(cls, name, ours)
    # Invocation bodies may be images: keep them bytes instead of moto's UTF-8 decoding.
    SageMakerRuntimeResponse.use_raw_body = True
    _register_pace()
    _installed = True


def _patches():
    """(moto class, method, our version) for every method install() replaces."""
    from moto.sagemaker.models import FakeEndpointConfig, SageMakerModelBackend
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    backend_methods = [
        _create_model, _describe_model, _delete_model,
        _create_endpoint_config, _describe_endpoint_config, _delete_endpoint_config,
        _create_endpoint, _describe_endpoint, _delete_endpoint, _list_endpoints,
    ]
    return [
        *[(SageMakerModelBackend, ours.__name__.lstrip("_"), ours) for ours in backend_methods],
        (FakeEndpointConfig, "validate_instance_type", _validate_instance_type),
        (SageMakerRuntimeResponse, "invoke_endpoint", _invoke_endpoint),
    ]


# --- Settings ------------------------------------------------------------------------------------

DEFAULT_SETTINGS = {
    "endpoint_seconds": 3.0,
    # Supported by ~180 bundled models and the default of none: deploying on it shows a failure.
    "failing_instance_types": frozenset({"ml.g4dn.xlarge"}),
    # New accounts have no quota for it (26 bundled models default to it).
    "no_quota_instance_types": frozenset({"ml.p4d.24xlarge"}),
}
ENV_SETTINGS = {
    "endpoint_seconds": "JSUI_LOCAL_ENDPOINT_SECONDS",
    "failing_instance_types": "JSUI_LOCAL_FAILING_INSTANCE_TYPES",
    "no_quota_instance_types": "JSUI_LOCAL_NO_QUOTA_INSTANCE_TYPES",
}
# ml.<family>.<size>: ml.g5.2xlarge, ml.inf2.xlarge, ml.p6-b200.48xlarge, ml.t2.medium
INSTANCE_TYPE = re.compile(
    r"ml\.[a-z]+[0-9][a-z0-9]*(-[a-z0-9]+)*\.(nano|micro|small|medium|large|[0-9]*xlarge)")
ENDPOINT_STATE = "sagemaker::endpoint"  # the name of our endpoint lifecycle in moto's state manager

_settings = dict(DEFAULT_SETTINGS)


def configure(*, endpoint_seconds=None, failing_instance_types=None, no_quota_instance_types=None):
    """Change how the local SageMaker behaves from its next request on; returns the settings
    replaced, so that `configure(**previous)` puts them back. They are process-wide."""
    previous = dict(_settings)
    if endpoint_seconds is not None:
        if not endpoint_seconds >= 0:
            raise ValueError(f"endpoint_seconds must be 0 or more, not {endpoint_seconds!r}")
        _settings["endpoint_seconds"] = float(endpoint_seconds)
    for name, types in (("failing_instance_types", failing_instance_types),
                        ("no_quota_instance_types", no_quota_instance_types)):
        if types is not None:
            if isinstance(types, str) or not all(INSTANCE_TYPE.fullmatch(t) for t in types):
                raise ValueError(
                    f"{name} must be a set of instance types like ml.g5.2xlarge, not {types!r}")
            _settings[name] = frozenset(types)
    _register_pace()
    return previous


def reset():
    """Restore the default settings and drop any state_manager override of the endpoint pace."""
    from moto.moto_api import state_manager

    configure(**DEFAULT_SETTINGS)
    state_manager.unset_transition(ENDPOINT_STATE)


def configure_from_env(environ=os.environ):
    """Apply the JSUI_LOCAL_* variables that are set; returns the settings replaced."""
    previous = dict(_settings)
    for name, variable in ENV_SETTINGS.items():
        raw = environ.get(variable)
        if raw is None:
            continue
        try:
            if name == "endpoint_seconds":
                configure(endpoint_seconds=float(raw))
            else:
                configure(**{name: {t.strip() for t in raw.split(",") if t.strip()}})
        except ValueError as exc:
            configure(**previous)
            raise BadSetting(f"{variable}={raw!r}: {exc}") from None
    return previous


def failing_instance_types():
    """The instance types whose endpoints go Failed, as now configured."""
    return _settings["failing_instance_types"]


def no_quota_instance_types():
    """The instance types create_endpoint refuses with ResourceLimitExceeded, as now configured."""
    return _settings["no_quota_instance_types"]


def describe_settings():
    """The settings in a sentence, as `serve` prints them."""
    s = _settings
    return (f"endpoints take {s['endpoint_seconds']:g} s; failing instance types: "
            f"{', '.join(sorted(s['failing_instance_types'])) or 'none'}; no quota for: "
            f"{', '.join(sorted(s['no_quota_instance_types'])) or 'none'}")


def _register_pace():
    from moto.moto_api import state_manager

    seconds = _settings["endpoint_seconds"]
    # "time": a read moves an endpoint one step once `seconds` have passed since its last step;
    # "immediate": the next read does.
    pace = {"progression": "time", "seconds": seconds} if seconds else {"progression": "immediate"}
    state_manager.register_default_transition(ENDPOINT_STATE, pace)


# --- The endpoint lifecycle --------------------------------------------------------------------

GONE = "(deleted)"  # the step after Deleting: the endpoint leaves the backend
SERVING = ("InService", "Updating", "SystemUpdating")  # the statuses that answer invocations
MODEL_ID_TAG = "sagemaker-sdk:jumpstart-model-id"
FAILURE_REASON = ("The primary container for production variant {variant} did not pass the ping "
                  "health check. Please check CloudWatch logs for this endpoint.")
QUOTA_MESSAGE = ("The account-level service limit '{instance_type} for endpoint usage' is 0 Instances, "
                 "with current utilization of 0 Instances and a request delta of {delta} Instances. "
                 "Please use AWS Service Quotas to request an increase for this quota.")

_stock = {}  # method name -> moto's own method, which ours call for the work moto does right
_lock = threading.Lock()  # the server answers from several threads
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


def _now():
    """Now, to the millisecond as AWS returns it, so a time read back compares equal."""
    from moto.core.utils import utcnow

    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _error(code, message):
    # moto picks the service's error shapes by the exception's module: use a SageMaker one.
    from moto.sagemaker.exceptions import SagemakerClientError

    return SagemakerClientError(code, message)


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
    attribute, noun = KINDS[kind]
    if name in getattr(backend, attribute):
        raise _error("ValidationException",
                     f'Cannot create already existing {noun} "{_arn(backend, kind, name)}".')


def _create_model(self, model_name, **request):
    _refuse_taken(self, "model", model_name)
    return _stock["create_model"](self, model_name=model_name, **request)


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
    return _stock["create_endpoint_config"](
        self, endpoint_config_name=endpoint_config_name, production_variants=production_variants,
        **request)


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
    _check_enum("sortBy", sort_by, list(SORT_KEYS))
    _check_enum("sortOrder", sort_order, ["Ascending", "Descending"])
    _check_enum("statusEquals", status_equals, ENDPOINT_STATUSES)
    if max_results is not None and not 1 <= max_results <= 100:
        bound = "less than or equal to 100" if max_results > 100 else "greater than or equal to 1"
        raise _error("ValidationException", f"1 validation error detected: Value '{max_results}' "
                     f"at 'maxResults' failed to satisfy constraint: Member must have value {bound}")
    _settle(self)

    def wanted(e):
        return ((not name_contains or name_contains.lower() in e.endpoint_name.lower())
                and (not status_equals or e.endpoint_status == status_equals)
                and (not creation_time_before or e.creation_time < creation_time_before)
                and (not creation_time_after or e.creation_time > creation_time_after)
                and (not last_modified_time_before or e.last_modified_time < last_modified_time_before)
                and (not last_modified_time_after or e.last_modified_time > last_modified_time_after))

    sort_by = sort_by or "CreationTime"
    descending = (sort_order or "Descending") == "Descending"
    key = lambda e: [SORT_KEYS[sort_by](e), e.endpoint_name]  # noqa: E731 (names break ties)
    everyone = list(self.endpoints.values())  # a copy: the server's other threads may add some
    found = sorted(filter(wanted, everyone), key=key, reverse=descending)
    if next_token:
        # The token is the sort key of the last endpoint sent, so that endpoints created or gone
        # between two pages neither repeat nor skip one.
        after = _read_token(next_token, sort_by)
        found = [e for e in found if (key(e) < after if descending else key(e) > after)]
    page = found[:max_results or 10]
    more = len(found) > len(page)
    return page, (_write_token(sort_by, key(page[-1])) if more else None)


def _check_enum(field, value, allowed):
    if value is not None and value not in allowed:
        raise _error("ValidationException", (
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"))


def _write_token(sort_by, key):
    return base64.urlsafe_b64encode(json.dumps([sort_by, *key]).encode()).decode()


def _read_token(token, sort_by):
    try:
        token_sort_by, *key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError):
        token_sort_by, key = None, None
    if token_sort_by != sort_by or len(key) != 2:
        raise _error("ValidationException", f'Invalid pagination token "{token}".')
    return key


# --- invoke_endpoint: an answer shaped like the model's container ------------------------------

IMAGENET_LABELS = ["tabby cat", "golden retriever", "espresso", "mountain bike", "lighthouse"]
COCO_LABELS = ["person", "dog", "bicycle", "car", "cup"]


def _invoke_endpoint(self):
    from moto.sagemaker.models import sagemaker_backends

    backend = sagemaker_backends[self.current_account][self.region]
    name = unquote(self.path.split("/")[2])
    _settle(backend, [name])
    endpoint = backend.endpoints.get(name)
    if endpoint is None or endpoint.endpoint_status not in SERVING:
        # AWS routes only to serving endpoints: one still Creating, Failed or Deleting is not found.
        raise _error("ValidationError", f"Endpoint {name} of account {self.current_account} not found.")
    life = _lives.get(endpoint) or _Life(model_id=None, variant=None)
    body = self.body if isinstance(self.body, bytes) else (self.body or "").encode()
    answer = _answer(life.model_id, body, self.headers.get("Content-Type"))
    headers = {"Content-Type": "application/json"}
    if life.variant:
        headers["x-Amzn-Invoked-Production-Variant"] = life.variant
    return 200, headers, json.dumps(answer)


def _answer(model_id, body, content_type=None):
    """What the JumpStart container serving `model_id` would answer to `body`, deterministically."""
    task = model_id.split("-")[1] if model_id and "-" in model_id else None
    payload = _payload(body)
    text = _text_in(payload)
    rng = random.Random(hashlib.sha256(body).digest())
    if task in ("ic", "tc", "spc"):
        labels = IMAGENET_LABELS if task == "ic" else ["LABEL_0", "LABEL_1"]
        probabilities = _probabilities(rng, len(labels))
        best = max(range(len(labels)), key=probabilities.__getitem__)
        return {"probabilities": probabilities, "labels": labels, "predicted_label": labels[best]}
    if task == "od":
        boxes = [_box(rng) for _ in range(2)]
        classes = [rng.randrange(len(COCO_LABELS)) for _ in boxes]
        return {"normalized_boxes": boxes, "classes": [float(c) for c in classes],
                "scores": sorted((round(rng.uniform(0.5, 0.99), 4) for _ in boxes), reverse=True),
                "labels": [COCO_LABELS[c] for c in classes]}
    if task and task.endswith("embedding"):
        texts = payload.get("text_inputs") if isinstance(payload, dict) else payload
        if isinstance(texts, list) and texts and all(isinstance(t, str) for t in texts):
            return {"embedding": [_vector(t.encode()) for t in texts]}
        return {"embedding": _vector(body)}
    if task == "eqa":
        return _extractive_answer(payload)
    if task in ("text2text", "summarization", "translation"):
        return {"generated_text": _generated(task, text, model_id)}
    if task and (task.startswith(("llm", "textgeneration")) or task in ("reasoning", "vlm")):
        return [{"generated_text": _generated(task, text, model_id)}]
    if task and task.startswith("txt2img"):
        colour = hashlib.sha256(text.encode()).digest()[:3]
        return {"generated_images": [base64.b64encode(_png(colour)).decode()], "prompt": text}
    return {
        "model_id": model_id, "task": task,
        "received": {"content_type": content_type, "bytes": len(body),
                     "text": text[:200] if text else None},
        "note": "the local AWS has no canned answer for this task, so it says what it received",
    }


def _payload(body):
    """The request as JSON, else as text, else None (an image)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _text_in(payload):
    if isinstance(payload, str):
        return payload
    if isinstance(payload, list):
        return " ".join(filter(None, map(_text_in, payload)))
    if isinstance(payload, dict):
        if messages := payload.get("messages"):  # the chat (Messages API) form
            return _text_in(messages[-1].get("content") if isinstance(messages[-1], dict) else messages)
        for key in ("inputs", "text_inputs", "prompt", "text", "question", "content"):
            if payload.get(key):
                return _text_in(payload[key])
    return ""


def _probabilities(rng, n):
    weights = [rng.random() ** 3 + 0.01 for _ in range(n)]
    return [round(w / sum(weights), 4) for w in weights]


def _box(rng):
    """[x1, y1, x2, y2], each between 0 and 1, as the detectors' normalized_boxes."""
    (x1, x2), (y1, y2) = (sorted(round(rng.random(), 3) for _ in range(2)) for _ in range(2))
    return [x1, y1, x2, y2]


def _vector(seed, dimensions=384):
    rng = random.Random(hashlib.sha256(seed).digest())
    values = [rng.gauss(0, 1) for _ in range(dimensions)]
    norm = sum(v * v for v in values) ** 0.5
    return [round(v / norm, 6) for v in values]


def _generated(task, text, model_id):
    prompt = " ".join(text.split())
    if task == "summarization":
        words = (prompt.split(". ")[0] or "Nothing to summarise.").split()
        return " ".join(words[:30]).rstrip(".") + "."
    if task == "translation":
        return f"{prompt} (translated by the local AWS, which runs no model)"
    shown = prompt if len(prompt) <= 120 else prompt[:117] + "..."
    return (f"Here is an answer to \u201c{shown}\u201d from the local AWS, which stands in for "
            f"{model_id} without running it.")


def _extractive_answer(payload):
    """The context's sentence that shares most words with the question, as an extractive QA
    model would pick a span."""
    if isinstance(payload, list) and len(payload) == 2:  # application/list-text: [question, context]
        question, context = payload
    elif isinstance(payload, dict):
        question, context = payload.get("question", ""), payload.get("context", "")
    else:
        question, context = "", _text_in(payload)
    asked = set(re.findall(r"\w+", str(question).lower()))
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", str(context)) if s.strip()]
    if not sentences:
        return {"answer": "", "score": 0.0, "start": 0, "end": 0}
    overlap = [len(asked & set(re.findall(r"\w+", s.lower()))) for s in sentences]
    best = max(range(len(sentences)), key=overlap.__getitem__)
    answer = sentences[best].rstrip(".!?")
    start = str(context).find(answer)
    score = round(0.5 + 0.49 * overlap[best] / max(len(asked), 1), 4)
    return {"answer": answer, "score": score, "start": start, "end": start + len(answer)}


def _png(rgb, size=16):
    """A size x size PNG of one colour: enough for a page to show that an image came back."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = (b"\x00" + bytes(rgb) * size) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def ensure_port_free(port):
    # ThreadedMotoServer.start() waits forever when its thread cannot bind, so find out first.
    # SO_REUSEADDR as werkzeug sets it: a socket in TIME_WAIT is not "in use".
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"port {port} on {HOST} is already in use") from exc
            raise


def start_server(port=DEFAULT_PORT):
    """Start moto's server on 127.0.0.1:port (0 picks a free port) in a thread of this process."""
    from moto.server import ThreadedMotoServer

    install()
    if port:
        ensure_port_free(port)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # otherwise it logs every request
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    return server


def endpoint_url(server):
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def output_bucket():
    from django.conf import settings

    return settings.OUTPUT_BUCKET or DEMO_OUTPUT_BUCKET


def create_bucket(s3_client, bucket):
    region = s3_client.meta.region_name
    request = {"Bucket": bucket}
    if region != "us-east-1":  # the one region that must not be named as a LocationConstraint
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3_client.create_bucket(**request)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise


def seed_jumpstart_bucket(s3_client, bucket, directory):
    """Create `bucket` and upload every file under `directory`, keyed by its relative path, as
    JumpStart's bucket holds them; also create the output bucket. Returns the keys written."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"no such directory to seed s3://{bucket} from: {directory}")
    create_bucket(s3_client, bucket)
    paths = sorted(p for p in directory.rglob("*") if p.is_file())

    def upload(path):
        key = path.relative_to(directory).as_posix()
        s3_client.put_object(
            Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType="application/json"
        )
        return key

    # Four at a time: one by one, the bundled catalog's ~1,100 files took 18 s here; now 10 s.
    with ThreadPoolExecutor(max_workers=4) as pool:
        keys = list(pool.map(upload, paths))
    create_bucket(s3_client, output_bucket())
    return keys


def serve(port, seed_dir=None, bucket=None):
    """Run the local AWS until SIGINT or SIGTERM."""
    from django.conf import settings

    # Taken by sigwait() below; blocked before the server thread starts, so it inherits the mask.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    configure_from_env()
    server = start_server(port)
    url = endpoint_url(server)
    try:
        if seed_dir:
            bucket = bucket or settings.JUMPSTART_BUCKET
            s3 = boto3.client(
                "s3", endpoint_url=url, region_name=settings.AWS_REGION,
                aws_access_key_id="testing", aws_secret_access_key="testing",
            )
            keys = seed_jumpstart_bucket(s3, bucket, seed_dir)
            print(f"seeded s3://{bucket} with {len(keys)} files from {seed_dir}", flush=True)
        print(f"local SageMaker: {describe_settings()}", flush=True)
        print(f"local AWS ready on {url}", flush=True)
        received = signal.sigwait(STOP_SIGNALS)
        print(f"{signal.Signals(received).name}: stopping the local AWS", flush=True)
    finally:
        server.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m aws.local", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the local AWS on 127.0.0.1 until Ctrl-C")
    serve_parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve_parser.add_argument("--seed-dir", type=Path, help="a folder laid out like JumpStart's bucket")
    serve_parser.add_argument("--bucket", help="the bucket to seed (default: settings.JUMPSTART_BUCKET)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jumpstart_ui.settings")
    try:
        serve(args.port, args.seed_dir, args.bucket)
    except (PortInUse, MotoVersionMismatch, BadSetting, FileNotFoundError) as exc:
        parser.exit(1, f"aws.local: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
