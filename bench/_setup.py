"""What the benches share: the project importable and Django set up (first, before any project
import), then a throwaway database and the local AWS in-process, and a counter of AWS calls."""

import os
import sys
import tempfile
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django(**environ):
    """Set up Django on a throwaway SQLite database with fake AWS credentials and no endpoint."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jumpstart_ui.settings")
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[name] = "testing"
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ["AWS_REGION"] = "us-east-1"
    os.environ.update(environ)
    import django as _django

    _django.setup()


@contextmanager
def local_aws():
    """The local AWS in-process (moto with aws.local installed) over a migrated test database."""
    from django.core.management import call_command
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases
    from moto import mock_aws

    from aws import local

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    local.install()
    try:
        with mock_aws():
            call_command("migrate", verbosity=0)
            yield
    finally:
        local.reset()
        teardown_databases(old, verbosity=0)


def count_calls(*services):
    """A Counter of the AWS operations the named services' clients make from now on."""
    import aws

    calls = Counter()
    for service in services:
        aws.client(service).meta.events.register(
            f"before-call.{service}.*", lambda model, **kw: calls.update([model.name]))
    return calls
