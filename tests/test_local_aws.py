"""The local AWS (aws.local) still works with the installed moto: it fails loudly when an upgrade
breaks it, since the demo and the browser tests stand on it."""

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
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


def test_install_replaces_each_moto_method_it_patches_and_a_second_call_changes_nothing():
    local.install()
    local.install()
    patches = local._patches()
    assert len(patches) == 25
    assert len({name for _, name, _ in patches}) == len(patches)  # _stock is keyed by name
    for cls, name, ours in patches:
        assert getattr(cls, name) is ours, f"{cls.__name__}.{name} is not patched"
        # What ours calls is moto's own method, never ours again.
        assert local._stock[name].__module__.startswith("moto."), f"{cls.__name__}.{name}"
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    assert SageMakerRuntimeResponse.use_raw_body is True


def test_install_adds_the_training_job_methods_moto_lacks():
    local.install()
    additions = local._additions()
    assert {(cls.__name__, name) for cls, name, _ in additions} == {
        ("SageMakerModelBackend", "stop_training_job"), ("SageMakerResponse", "stop_training_job")}
    for cls, name, ours in additions:
        assert getattr(cls, name) is ours, f"{cls.__name__}.{name} is not added"


def test_a_moto_that_has_grown_a_method_the_local_aws_adds_is_refused(monkeypatch):
    class Backend:
        def stop_training_job(self):
            pass

    def ours(self):
        pass

    monkeypatch.setattr(local, "_installed", False)
    monkeypatch.setattr(local, "_patches", lambda: [])
    monkeypatch.setattr(local, "_additions", lambda: [(Backend, "stop_training_job", ours)])
    with pytest.raises(local.MotoVersionMismatch, match=r"moto now has Backend\.stop_training_job"):
        local.install()
    assert Backend.stop_training_job is not ours


def test_a_moto_without_a_method_to_patch_is_refused_before_anything_is_patched(monkeypatch):
    class Backend:
        def create_endpoint(self):
            pass

    def _create_endpoint(self):
        pass

    monkeypatch.setattr(local, "_installed", False)
    monkeypatch.setattr(local, "_patches", lambda: [
        (Backend, "create_endpoint", _create_endpoint), (Backend, "list_endpoints", _create_endpoint)])
    with pytest.raises(local.MotoVersionMismatch, match=r"cannot find Backend\.list_endpoints"):
        local.install()
    assert Backend.create_endpoint is not _create_endpoint


def test_configure_returns_what_it_replaced_and_reset_restores_the_defaults():
    previous = local.configure(endpoint_seconds=7, failing_instance_types={"ml.g5.xlarge"})
    try:
        assert previous == local.DEFAULT_SETTINGS
        assert local.configure(**previous)["endpoint_seconds"] == 7
        local.configure(no_quota_instance_types=set())
        assert local._settings["no_quota_instance_types"] == frozenset()
    finally:
        local.reset()
    assert local._settings == local.DEFAULT_SETTINGS
    assert local.DEFAULT_SETTINGS["endpoint_seconds"] == 3
    assert local.DEFAULT_SETTINGS["training_seconds"] == 2
    assert local.DEFAULT_SETTINGS["training_max_epochs"] == 5


@pytest.mark.parametrize("change", [
    {"endpoint_seconds": -1},
    {"failing_instance_types": "ml.g5.xlarge"},  # a string, not a set of them
    {"no_quota_instance_types": {"p4d.24xlarge"}},
    {"training_seconds": -0.5},
    {"training_max_epochs": 0},
    {"training_max_epochs": 2.5},
])
def test_configure_refuses_settings_that_would_silently_do_nothing(change):
    with pytest.raises(ValueError):
        local.configure(**change)
    assert local._settings == local.DEFAULT_SETTINGS


def test_serve_settings_come_from_the_jsui_local_environment_variables():
    environ = {
        "JSUI_LOCAL_ENDPOINT_SECONDS": "0.5",
        "JSUI_LOCAL_FAILING_INSTANCE_TYPES": "ml.g5.xlarge, ml.m5.large",
        "JSUI_LOCAL_NO_QUOTA_INSTANCE_TYPES": "",
        "JSUI_LOCAL_CREATE_SECONDS": "0.25",
        "JSUI_LOCAL_TRAINING_SECONDS": "1.5",
        "JSUI_LOCAL_TRAINING_MAX_EPOCHS": "3",
        "JSUI_LOCAL_STACK_SECONDS": "4",
    }
    try:
        local.configure_from_env(environ)
        assert local._settings == {
            "endpoint_seconds": 0.5,
            "failing_instance_types": {"ml.g5.xlarge", "ml.m5.large"},
            "no_quota_instance_types": frozenset(),
            "create_seconds": 0.25,
            "training_seconds": 1.5,
            "training_max_epochs": 3,
            "stack_seconds": 4.0,
        }
        assert local.describe_settings() == (
            "endpoints take 0.5 s; stacks take 4 s; create calls answer in 0.25 s; failing instance types: "
            "ml.g5.xlarge, ml.m5.large; no quota for: none; training jobs take 1.5 s a step, "
            "at most 3 epochs")
    finally:
        local.reset()
    assert local._settings == local.DEFAULT_SETTINGS


@pytest.mark.parametrize("variable, value", [
    ("JSUI_LOCAL_ENDPOINT_SECONDS", "soon"),
    ("JSUI_LOCAL_FAILING_INSTANCE_TYPES", "g5.xlarge"),
    ("JSUI_LOCAL_TRAINING_SECONDS", "-1"),
    ("JSUI_LOCAL_TRAINING_MAX_EPOCHS", "many"),
])
def test_a_bad_environment_variable_is_named_and_changes_nothing(variable, value):
    with pytest.raises(local.BadSetting, match=variable):
        local.configure_from_env({"JSUI_LOCAL_ENDPOINT_SECONDS": "9", variable: value})
    assert local._settings == local.DEFAULT_SETTINGS


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


def test_training_jobs_still_start_in_progress_log_and_stop_over_http_with_the_installed_moto(endpoint):
    """The training lifecycle stands on moto's private FakeTrainingJob, SageMakerResponse, S3, Logs
    and CloudWatch internals: this fails loudly when an upgrade moves them."""
    s3 = boto3.client("s3", region_name="us-east-1")
    local.seed_demo_data(s3)
    sm = boto3.client("sagemaker", region_name="us-east-1")
    request = dict(
        RoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
        AlgorithmSpecification={"TrainingImage": "image", "TrainingInputMode": "File",
                                "MetricDefinitions": [{"Name": "acc", "Regex": "val_accuracy: ([0-9\\.]+)"}]},
        HyperParameters={"epochs": "1"},
        InputDataConfig=[{"ChannelName": "training", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{local.DEMO_DATA_BUCKET}/text-classification/valid/"}}}],
        OutputDataConfig={"S3OutputPath": f"s3://{local.DEMO_DATA_BUCKET}/output"},
        ResourceConfig={"InstanceType": "ml.g5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        Environment={"KEPT": "yes"},
    )
    try:
        local.configure(training_seconds=3600)
        sm.create_training_job(TrainingJobName="slow", **request)
        slow = sm.describe_training_job(TrainingJobName="slow")
        assert (slow["TrainingJobStatus"], slow["SecondaryStatus"], slow["Environment"]) == (
            "InProgress", "Starting", {"KEPT": "yes"})
        assert slow["AlgorithmSpecification"]["MetricDefinitions"][0]["Name"] == "acc"
        sm.stop_training_job(TrainingJobName="slow")
        [summary] = sm.list_training_jobs(NameContains="slow", SortBy="Name")["TrainingJobSummaries"]
        assert (summary["TrainingJobStatus"], summary["SecondaryStatus"]) == ("Stopping", "Stopping")

        local.configure(training_seconds=0)
        sm.create_training_job(TrainingJobName="quick", **request)
        quick = sm.describe_training_job(TrainingJobName="quick")
        assert quick["TrainingJobStatus"] == "Completed"
        assert s3.head_object(Bucket=local.DEMO_DATA_BUCKET, Key="output/quick/output/model.tar.gz")
        assert quick["FinalMetricDataList"][0]["MetricName"] == "acc"
        streams = boto3.client("logs", region_name="us-east-1").describe_log_streams(
            logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix="quick/")["logStreams"]
        assert len(streams) == 1
        with pytest.raises(ClientError, match="Requested resource not found"):
            sm.describe_training_job(TrainingJobName="missing")
    finally:
        local.reset()
        # The server's state is the process's: leave none of it to the next test.
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))


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
        assert any(line.startswith("seeded ") and "training data files in s3://jumpstart-ui-demo-data" in line
                   for line in lines), lines
        assert s3.head_object(Bucket="jumpstart-ui-demo-data", Key="text-classification/valid/data.csv")

        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
