"""The local AWS: moto, plus what makes it behave like AWS where the product can tell. Imported only
by the demo command and the tests, never by product code.

One module per service it imitates (sagemaker and training for SageMaker, runtime, logs, s3,
cloudformation, and datasets for the data the demo and the tests train on), the settings they
share in core, and server, which runs moto's server with all of it: `python -m aws.local serve
--port 5055 --seed-dir catalog/data/jumpstart-cache`. install() patches moto's classes (and adds
what moto lacks), so the in-process mock_aws of the tests and the demo's server behave alike.

Settings, process-wide: configure(endpoint_seconds=3, failing_instance_types={"ml.g4dn.xlarge"},
no_quota_instance_types={"ml.p4d.24xlarge"}, create_seconds=0, training_seconds=2,
training_max_epochs=5, stack_seconds=3) changes any of them and returns the previous ones; reset()
restores these defaults. `serve` reads JSUI_LOCAL_ENDPOINT_SECONDS,
JSUI_LOCAL_FAILING_INSTANCE_TYPES and JSUI_LOCAL_NO_QUOTA_INSTANCE_TYPES (comma-separated, empty
for none), JSUI_LOCAL_CREATE_SECONDS, JSUI_LOCAL_TRAINING_SECONDS, JSUI_LOCAL_TRAINING_MAX_EPOCHS
and JSUI_LOCAL_STACK_SECONDS.
"""

# moto itself (the [local] extra) is imported where it is used, so this package imports without it.
from . import cloudformation, runtime, sagemaker, training
from .core import (  # noqa: F401 (_settings, _stock: for the smoke tests)
    DEFAULT_SETTINGS, ENDPOINT_STATE, INSTANCE_TYPE, MOTO_VERSION, TRAINING_STATE, BadSetting,
    MotoVersionMismatch, _settings, _stock, check_moto_version, configure, configure_from_env,
    describe_settings, failing_instance_types, no_quota_instance_types, reset,
)
from .datasets import (
    DEMO_DATA_BUCKET, DEMO_DATA_EU_BUCKET, DEMO_DATA_EU_REGION, remove_stand_in, seed_demo_data,
    seed_many_objects, stand_ins,
)
from .s3 import DEMO_OUTPUT_BUCKET, create_bucket, output_bucket, seed_jumpstart_bucket
from .training import FAILURE_MARKER

_installed = False


def install():
    """Make the in-process moto behave like AWS (see each service module); idempotent.

    Call it before the first AWS call, under mock_aws or not: it patches moto's classes, so the
    server, the demo and the tests all get the same behaviour from this one call.
    """
    global _installed
    if _installed:
        return
    check_moto_version()
    patches, additions = _patches(), _additions()
    # Both checked before patching anything, so that a failed install changes nothing.
    missing = [f"{cls.__name__}.{name}" for cls, name, _ in patches
               if not callable(getattr(cls, name, None))]
    if missing:
        raise MotoVersionMismatch(f"aws.local cannot find {', '.join(missing)} in moto to patch")
    present = [f"{cls.__name__}.{name}" for cls, name, _ in additions if hasattr(cls, name)]
    if present:  # moto has grown its own: ours may no longer be what it needs
        raise MotoVersionMismatch(f"moto now has {', '.join(present)}, which aws.local adds")
    for cls, name, ours in patches:
        _stock[name] = getattr(cls, name)
        setattr(cls, name, ours)
    for cls, name, ours in additions:
        setattr(cls, name, ours)
    runtime.prepare()
    configure()  # registers the pace of the lifecycles with moto's state manager
    _installed = True


def _patches():
    """(moto class, method, our version) for every method install() replaces."""
    return [*sagemaker.patches(), *training.patches(), *runtime.patches(), *cloudformation.patches()]


def _additions():
    """(moto class, method, ours) for every method moto lacks, which install() adds."""
    return training.additions()


# server imports install() from here.
from .server import (  # noqa: E402
    DEFAULT_PORT, HOST, STOP_SIGNALS, PortInUse, endpoint_url, ensure_port_free, serve, start_server,
)

__all__ = [
    "BadSetting", "DEFAULT_PORT", "DEFAULT_SETTINGS", "DEMO_DATA_BUCKET", "DEMO_DATA_EU_BUCKET",
    "DEMO_DATA_EU_REGION", "DEMO_OUTPUT_BUCKET", "ENDPOINT_STATE", "FAILURE_MARKER", "HOST",
    "INSTANCE_TYPE", "MOTO_VERSION", "MotoVersionMismatch", "PortInUse", "STOP_SIGNALS",
    "TRAINING_STATE", "check_moto_version", "configure", "configure_from_env", "create_bucket",
    "describe_settings", "endpoint_url", "ensure_port_free", "failing_instance_types", "install",
    "no_quota_instance_types", "output_bucket", "remove_stand_in", "reset", "seed_demo_data",
    "seed_jumpstart_bucket", "seed_many_objects", "serve", "stand_ins", "start_server",
]
