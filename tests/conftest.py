"""Shared fixtures: a signed-in user, moto's AWS, and the CI rule that services never skip."""

import os

import pytest

IN_CI = os.getenv("CI", "").lower() in ("1", "true")


def pytest_sessionstart(session):
    if IN_CI:
        missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.getenv(name)]
        if missing:
            pytest.exit(f"CI runs against PostgreSQL and Redis: {', '.join(missing)} unset", returncode=3)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", password="pw-ada-123")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("grace", password="pw-grace-123")


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def aws(monkeypatch):
    """moto in-process, with fresh boto3 clients on both sides of it."""
    from moto import mock_aws

    import aws as aws_boundary

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    aws_boundary.reset_clients()
    with mock_aws():
        yield aws_boundary
    aws_boundary.reset_clients()
