"""The local AWS (aws.local) still works with the installed moto: it fails loudly when an upgrade
breaks it, since the demo and the browser tests stand on it."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import moto
import pytest
from django.conf import settings

import aws
from aws import local
from aws.s3 import read_json

MANIFEST = [
    {
        "model_id": "pytorch-ic-mobilenet-v2",
        "version": "3.0.25",
        "min_version": "2.189.0",
        "spec_key": "community_models/pytorch-ic-mobilenet-v2/specs_v3.0.25.json",
    }
]


@pytest.fixture
def jumpstart_dir(tmp_path):
    """A folder laid out like JumpStart's bucket: the manifest and one spec file."""
    root = tmp_path / "jumpstart-cache"
    spec = root / MANIFEST[0]["spec_key"]
    spec.parent.mkdir(parents=True)
    spec.write_text(json.dumps({"model_id": "pytorch-ic-mobilenet-v2", "version": "3.0.25"}))
    (root / "models_manifest.json").write_text(json.dumps(MANIFEST))
    return root


@pytest.fixture
def server():
    srv = local.start_server(port=0)
    yield srv
    srv.stop()


@pytest.fixture
def endpoint(server, monkeypatch):
    """AWS_ENDPOINT_URL at the local AWS, as the demo sets it for the product."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", local.endpoint_url(server))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    aws.reset_clients()
    yield local.endpoint_url(server)
    aws.reset_clients()


def test_installed_moto_is_the_version_the_local_aws_was_built_for():
    assert moto.__version__ == local.MOTO_VERSION
    local.check_moto_version()


def test_another_moto_version_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with pytest.raises(local.MotoVersionMismatch, match=r"built for moto 5\.2\.5 but moto 9\.9\.9"):
        local.check_moto_version()


def test_seeded_manifest_reads_back_through_the_aws_boundary(endpoint, jumpstart_dir):
    s3 = boto3.client("s3", region_name="us-east-1")
    keys = local.seed_jumpstart_bucket(s3, "jumpstart-cache-prod-us-east-1", jumpstart_dir)

    assert keys == [MANIFEST[0]["spec_key"], "models_manifest.json"]
    assert aws.client("s3").meta.endpoint_url == endpoint
    assert read_json("jumpstart-cache-prod-us-east-1", "models_manifest.json") == MANIFEST
    head = s3.head_object(Bucket="jumpstart-cache-prod-us-east-1", Key=MANIFEST[0]["spec_key"])
    assert head["ContentType"] == "application/json"
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert local.output_bucket() in buckets


def test_seeding_outside_us_east_1_creates_the_bucket_in_that_region(endpoint, jumpstart_dir):
    s3 = boto3.client("s3", region_name="eu-west-1")
    local.seed_jumpstart_bucket(s3, "jumpstart-cache-prod-eu-west-1", jumpstart_dir)
    local.seed_jumpstart_bucket(s3, "jumpstart-cache-prod-eu-west-1", jumpstart_dir)  # again: no error

    location = s3.get_bucket_location(Bucket="jumpstart-cache-prod-eu-west-1")["LocationConstraint"]
    assert location == "eu-west-1"


def test_local_aws_listens_on_127_0_0_1_only(server):
    host, port = server.get_host_and_port()
    assert host == "127.0.0.1"
    # /proc/net/tcp rows: local address as HEX_IP:HEX_PORT (IP little-endian), state 0A = LISTEN.
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    listening = [row[1] for row in rows if row[1].endswith(f":{port:04X}") and row[3] == "0A"]
    assert listening == [f"0100007F:{port:04X}"]  # 127.0.0.1, and nothing else


def test_a_taken_port_is_reported_instead_of_hanging(server):
    _, port = server.get_host_and_port()
    with pytest.raises(local.PortInUse, match=f"port {port} on 127.0.0.1 is already in use"):
        local.start_server(port)


def test_serve_command_seeds_prints_ready_and_stops_on_sigterm(jumpstart_dir):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aws.local", "serve", "--port", str(port),
         "--seed-dir", str(jumpstart_dir)],
        cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "local AWS ready on" in line:
                break
        assert lines[-1].strip() == f"local AWS ready on http://127.0.0.1:{port}", lines
        s3 = boto3.client(
            "s3", endpoint_url=f"http://127.0.0.1:{port}", region_name=settings.AWS_REGION,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )
        manifest = s3.get_object(Bucket=settings.JUMPSTART_BUCKET, Key="models_manifest.json")
        assert json.loads(manifest["Body"].read()) == MANIFEST

        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
