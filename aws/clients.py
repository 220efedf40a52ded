"""boto3 clients, built on first use (never at import) with botocore's standard retry mode.

boto3's standard credential chain and AWS_ENDPOINT_URL apply as usual, so the same code talks to
real AWS or to the local AWS.
"""

import threading

import boto3
from botocore.config import Config
from django.conf import settings

_clients = {}
_lock = threading.Lock()


def client(service, region=None):
    region = region or settings.AWS_REGION
    key = (service, region)
    with _lock:
        if key not in _clients:
            config = Config(
                retries={"mode": "standard", "total_max_attempts": settings.AWS_MAX_ATTEMPTS},
                connect_timeout=settings.AWS_TIMEOUT_SECONDS,
                read_timeout=settings.AWS_TIMEOUT_SECONDS,
            )
            _clients[key] = boto3.session.Session().client(service, region_name=region, config=config)
        return _clients[key]


def reset_clients():
    """Forget built clients, so the next call picks up a changed environment (tests, moto)."""
    with _lock:
        _clients.clear()
