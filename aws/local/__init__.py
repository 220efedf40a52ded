"""The local AWS: moto, plus what makes it behave like AWS where the product can tell. Imported only
by the demo command and the tests, never by product code.

One module per service it imitates (sagemaker, runtime, s3), the settings they share in core, and
server, which runs moto's server with all of it: `python -m aws.local serve --port 5055 --seed-dir
catalog/data/jumpstart-cache`. install() patches moto's classes, so the in-process mock_aws of the
tests and the demo's server behave alike.

Settings, process-wide: configure(endpoint_seconds=3, failing_instance_types={"ml.g4dn.xlarge"},
no_quota_instance_types={"ml.p4d.24xlarge"}) changes any of them and returns the previous ones;
reset() restores these defaults. `serve` reads JSUI_LOCAL_ENDPOINT_SECONDS,
JSUI_LOCAL_FAILING_INSTANCE_TYPES and JSUI_LOCAL_NO_QUOTA_INSTANCE_TYPES (comma-separated, empty
for none).
"""

# moto itself (the [local] extra) is imported where it is used, so this package imports without it.
from . import runtime, sagemaker
from .core import (  # noqa: F401 (_settings, _stock: for the smoke tests)
    DEFAULT_SETTINGS, ENDPOINT_STATE, INSTANCE_TYPE, MOTO_VERSION, BadSetting, MotoVersionMismatch,
    _settings, _stock, check_moto_version, configure, configure_from_env, describe_settings,
    failing_instance_types, no_quota_instance_types, reset,
)
from .s3 import DEMO_OUTPUT_BUCKET, create_bucket, output_bucket, seed_jumpstart_bucket

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
    patches = _patches()
    missing = [f"{cls.__name__}.{name}" for cls, name, _ in patches
               if not callable(getattr(cls, name, None))]
    if missing:  # checked before patching anything, so that a failed install changes nothing
        raise MotoVersionMismatch(f"aws.local cannot find {', '.join(missing)} in moto to patch")
    for cls, name, ours in patches:
        _stock[name] = getattr(cls, name)
        setattr(cls, name, ours)
    runtime.prepare()
    configure()  # registers the pace of the lifecycles with moto's state manager
    _installed = True


def _patches():
    """(moto class, method, our version) for every method install() replaces."""
    return [*sagemaker.patches(), *runtime.patches()]


# server imports install() from here.
from .server import (  # noqa: E402
    DEFAULT_PORT, HOST, STOP_SIGNALS, PortInUse, endpoint_url, ensure_port_free, serve, start_server,
)

__all__ = [
    "BadSetting", "DEFAULT_PORT", "DEFAULT_SETTINGS", "DEMO_OUTPUT_BUCKET", "ENDPOINT_STATE", "HOST",
    "INSTANCE_TYPE", "MOTO_VERSION", "MotoVersionMismatch", "PortInUse", "STOP_SIGNALS",
    "check_moto_version", "configure", "configure_from_env", "create_bucket", "describe_settings",
    "endpoint_url", "ensure_port_free", "failing_instance_types", "install", "no_quota_instance_types",
    "output_bucket", "reset", "seed_jumpstart_bucket", "serve", "start_server",
]
