"""What every imitated service shares: the pinned moto version, the settings a test or the demo
turns (configure, reset, configure_from_env), moto's own methods that ours wrap, AWS-shaped
errors, and the filter-sort-page of SageMaker's List* calls."""

import base64
import json
import os
import re
import threading
import time

# install() reaches into moto's private internals, which change between releases: built for this one.
MOTO_VERSION = "5.2.5"


class MotoVersionMismatch(RuntimeError):
    pass


class BadSetting(ValueError):
    pass


def check_moto_version():
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise MotoVersionMismatch(
            f"aws.local was built for moto {MOTO_VERSION} but moto {moto.__version__} is installed. "
            f"Install the pinned one (pip install -e '.[local]'), or port aws/local/ to the new "
            f"version and run tests/test_local_aws.py."
        )


# --- Settings ------------------------------------------------------------------------------------

DEFAULT_SETTINGS = {
    "endpoint_seconds": 3.0,
    # Supported by ~180 bundled models and the default of none: deploying on it shows a failure.
    "failing_instance_types": frozenset({"ml.g4dn.xlarge"}),
    # New accounts have no quota for it, for endpoints or training (26 bundled models default to it).
    "no_quota_instance_types": frozenset({"ml.p4d.24xlarge"}),
    # How long a Create* call takes to answer, after the resource exists (as on AWS, where an
    # answer lost on its way back leaves the resource made).
    "create_seconds": 0.0,
    # Each step of a training job (Starting, Downloading, each epoch, Uploading) takes this long.
    "training_seconds": 2.0,
    # The epochs a job's `epochs` hyperparameter asks for are capped at this, to keep jobs short.
    "training_max_epochs": 5,
    # A CloudFormation stack creates (or deletes) its resources in this long, shared out among
    # them; an endpoint in it takes as long as any endpoint besides (aws.local.cloudformation).
    "stack_seconds": 3.0,
}
ENV_SETTINGS = {
    "create_seconds": "JSUI_LOCAL_CREATE_SECONDS",
    "endpoint_seconds": "JSUI_LOCAL_ENDPOINT_SECONDS",
    "failing_instance_types": "JSUI_LOCAL_FAILING_INSTANCE_TYPES",
    "no_quota_instance_types": "JSUI_LOCAL_NO_QUOTA_INSTANCE_TYPES",
    "training_seconds": "JSUI_LOCAL_TRAINING_SECONDS",
    "training_max_epochs": "JSUI_LOCAL_TRAINING_MAX_EPOCHS",
    "stack_seconds": "JSUI_LOCAL_STACK_SECONDS",
}
# ml.<family>.<size>: ml.g5.2xlarge, ml.inf2.xlarge, ml.p6-b200.48xlarge, ml.t2.medium
INSTANCE_TYPE = re.compile(
    r"ml\.[a-z]+[0-9][a-z0-9]*(-[a-z0-9]+)*\.(nano|micro|small|medium|large|[0-9]*xlarge)")
# The names of our lifecycles in moto's state manager.
ENDPOINT_STATE = "sagemaker::endpoint"
TRAINING_STATE = "sagemaker::training_job"

_settings = dict(DEFAULT_SETTINGS)


def configure(*, endpoint_seconds=None, failing_instance_types=None, no_quota_instance_types=None,
              create_seconds=None, training_seconds=None, training_max_epochs=None,
              stack_seconds=None):
    """Change how the local SageMaker behaves from its next request on; returns the settings
    replaced, so that `configure(**previous)` puts them back. They are process-wide."""
    previous = dict(_settings)
    for name, seconds in (("endpoint_seconds", endpoint_seconds), ("create_seconds", create_seconds),
                          ("training_seconds", training_seconds), ("stack_seconds", stack_seconds)):
        if seconds is not None:
            if not seconds >= 0:
                raise ValueError(f"{name} must be 0 or more, not {seconds!r}")
            _settings[name] = float(seconds)
    if training_max_epochs is not None:
        if not isinstance(training_max_epochs, int) or isinstance(training_max_epochs, bool) \
                or training_max_epochs < 1:
            raise ValueError(f"training_max_epochs must be a whole number, 1 or more, not "
                             f"{training_max_epochs!r}")
        _settings["training_max_epochs"] = int(training_max_epochs)
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
    """Restore the default settings and drop any state_manager override of the endpoint and
    training job paces."""
    from moto.moto_api import state_manager

    configure(**DEFAULT_SETTINGS)
    state_manager.unset_transition(ENDPOINT_STATE)
    state_manager.unset_transition(TRAINING_STATE)


def configure_from_env(environ=os.environ):
    """Apply the JSUI_LOCAL_* variables that are set; returns the settings replaced."""
    previous = dict(_settings)
    for name, variable in ENV_SETTINGS.items():
        raw = environ.get(variable)
        if raw is None:
            continue
        try:
            if name.endswith("_seconds"):
                configure(**{name: float(raw)})
            elif name.endswith("_epochs"):
                configure(**{name: int(raw)})
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
    return (f"endpoints take {s['endpoint_seconds']:g} s; stacks take {s['stack_seconds']:g} s; "
            f"create calls answer in {s['create_seconds']:g} s; "
            f"failing instance types: "
            f"{', '.join(sorted(s['failing_instance_types'])) or 'none'}; no quota for: "
            f"{', '.join(sorted(s['no_quota_instance_types'])) or 'none'}; "
            f"training jobs take {s['training_seconds']:g} s a step, at most "
            f"{s['training_max_epochs']} epochs")


def _register_pace():
    from moto.moto_api import state_manager

    for state, seconds in ((ENDPOINT_STATE, _settings["endpoint_seconds"]),
                           (TRAINING_STATE, _settings["training_seconds"])):
        # "time": a read moves a resource one step once `seconds` have passed since its last
        # step; "immediate": the next read takes it to its end.
        pace = {"progression": "time", "seconds": seconds} if seconds else {"progression": "immediate"}
        state_manager.register_default_transition(state, pace)


def answer_late():
    """A Create* call has done its work: take as long to answer as configured."""
    if _settings["create_seconds"]:
        time.sleep(_settings["create_seconds"])

_stock = {}  # method name -> moto's own method, which ours call for the work moto does right
_lock = threading.Lock()  # the server answers from several threads


def _now():
    """Now, to the millisecond as AWS returns it, so a time read back compares equal."""
    from moto.core.utils import utcnow

    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _error(code, message):
    # moto picks the service's error shapes by the exception's module: use a SageMaker one.
    from moto.sagemaker.exceptions import SagemakerClientError

    return SagemakerClientError(code, message)


# --- SageMaker's List* calls: filter, sort, then page ---------------------------------------------

def check_enum(field, value, allowed):
    if value is not None and value not in allowed:
        raise _error("ValidationException", (
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"))


def check_max_results(max_results):
    if max_results is not None and not 1 <= max_results <= 100:
        bound = "less than or equal to 100" if max_results > 100 else "greater than or equal to 1"
        raise _error("ValidationException", f"1 validation error detected: Value '{max_results}' "
                     f"at 'maxResults' failed to satisfy constraint: Member must have value {bound}")


def sort_and_page(found, *, sort_by, sort_key, name_of, descending, next_token, max_results):
    """One page of `found` (already filtered) sorted by sort_key then name, and the token of the
    next page or None. The token is the sort key of the last one sent, so that resources created
    or gone between two pages neither repeat nor skip one (AWS's tokens are opaque: ours are too).
    """
    key = lambda r: [sort_key(r), name_of(r)]  # noqa: E731 (names break ties)
    found = sorted(found, key=key, reverse=descending)
    if next_token:
        after = _read_token(next_token, sort_by)
        found = [r for r in found if (key(r) < after if descending else key(r) > after)]
    page = found[:max_results or 10]  # 10: AWS's default page
    more = len(found) > len(page)
    return page, (_write_token(sort_by, key(page[-1])) if more else None)


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
