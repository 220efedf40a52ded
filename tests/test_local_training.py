"""The local SageMaker's training jobs (aws.local.install()) act as SageMaker's do where the
product can tell: they move through their states and log while they train, leave a model in S3,
stop, fail on purpose, bill less under spot, keep a warm pool, refuse what AWS refuses, and list
filtered before paged; and the local S3 holds the data the demo and the tests train on."""

import csv
import io
import json
import re
import tarfile
import time
import urllib.request
from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.moto_api import state_manager

from aws import local
from aws.local import datasets, logs, training
from catalog.sync import BUNDLED_DIR

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
OUTPUT = "s3://jumpstart-ui-demo-output/fine-tuned"
DATA = "s3://jumpstart-ui-demo-data/text-classification/valid/"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.0.0-gpu-py310"
METRICS = [{"Name": "val-accuracy", "Regex": "val_accuracy: ([0-9\\.]+)"},
           {"Name": "eval-loss", "Regex": "'eval_loss': ([0-9]+\\.[0-9]+)"}]
SESSION = boto3.session.Session(region_name="us-east-1")


@pytest.fixture
def sm(aws):
    """The local SageMaker in-process, the demo's data seeded; a job runs to its end on its next
    read unless a test sets another pace."""
    local.configure(training_seconds=0)
    s3 = SESSION.client("s3")
    local.seed_demo_data(s3)
    local.create_bucket(s3, "jumpstart-ui-demo-output")
    return SESSION.client("sagemaker")


@pytest.fixture
def s3(sm):
    return SESSION.client("s3")


@pytest.fixture
def cloudwatch_logs(sm):
    return SESSION.client("logs")


@pytest.fixture
def manual():
    """Each describe moves a job one step."""
    state_manager.set_transition(local.TRAINING_STATE, {"progression": "manual", "times": 1})


@pytest.fixture
def clock(monkeypatch):
    """The local SageMaker's clock, moved on by hand: clock.tick(seconds); every step a job takes
    also takes `clock.step` seconds, so a job's times look like a real job's."""
    now = [training._now()]

    class Clock:
        step = 30

        def tick(self, seconds):
            now[0] += timedelta(seconds=seconds)

        def __call__(self):
            now[0] += timedelta(seconds=self.step)
            return now[0]

    fake = Clock()
    monkeypatch.setattr(training, "_now", fake)
    return fake


def job(sm, name="ft-1", *, data=DATA, epochs=3, instance_type="ml.g5.2xlarge", count=1, spot=False,
        keep_alive=None, metrics=METRICS, **changes):
    """Create a training job as the product does for a JumpStart model; returns its request."""
    request = {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File",
                                   "MetricDefinitions": metrics},
        "HyperParameters": {"epochs": str(epochs), "batch_size": "8", "sagemaker_program": "transfer_learning.py",
                            "sagemaker_submit_directory": "s3://jumpstart-cache-prod-us-east-1/sourcedir.tar.gz"},
        "InputDataConfig": [{"ChannelName": "training", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": data, "S3DataDistributionType": "FullyReplicated"}}}],
        "OutputDataConfig": {"S3OutputPath": OUTPUT},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": count, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "Environment": {"SAGEMAKER_REGION": "us-east-1"},
        "Tags": [{"Key": "sagemaker-sdk:jumpstart-model-id", "Value": "huggingface-tc-bert-base-cased"}],
    }
    if spot:
        request["EnableManagedSpotTraining"] = True
        request["StoppingCondition"]["MaxWaitTimeInSeconds"] = 7200
    if keep_alive is not None:
        request["ResourceConfig"]["KeepAlivePeriodInSeconds"] = keep_alive
    request.update(changes)
    sm.create_training_job(**request)
    return request


def describe(sm, name="ft-1"):
    return sm.describe_training_job(TrainingJobName=name)


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def log_lines(cloudwatch_logs, name="ft-1"):
    """{stream name: [messages]} of the job's streams ({} before any job logged)."""
    try:
        streams = cloudwatch_logs.describe_log_streams(
            logGroupName=logs.LOG_GROUP, logStreamNamePrefix=f"{name}/")["logStreams"]
    except cloudwatch_logs.exceptions.ResourceNotFoundException:
        return {}
    return {s["logStreamName"]: [e["message"] for e in cloudwatch_logs.get_log_events(
        logGroupName=logs.LOG_GROUP, logStreamName=s["logStreamName"], startFromHead=True)["events"]]
        for s in streams}


# --- The lifecycle -------------------------------------------------------------------------------

def test_a_job_moves_through_every_state_with_its_transitions_and_ends_with_its_model_in_s3(sm, s3, manual):
    job(sm, epochs=2)
    seen = []
    while not seen or seen[-1][0] == "InProgress":
        answer = describe(sm)
        seen.append((answer["TrainingJobStatus"], answer["SecondaryStatus"], answer["LastModifiedTime"],
                     "ModelArtifacts" in answer))
    assert [(status, secondary) for status, secondary, _, _ in seen] == [
        ("InProgress", "Downloading"), ("InProgress", "Training"), ("InProgress", "Training"),
        ("InProgress", "Uploading"), ("Completed", "Completed")]
    assert [artifacts for *_, artifacts in seen] == [False, False, False, False, True]
    times = [at for _, _, at, _ in seen]
    assert times[0] < times[1] == times[2] < times[3] < times[4]  # an epoch is no status change

    done = describe(sm)
    transitions = done["SecondaryStatusTransitions"]
    assert [(t["Status"], t["StatusMessage"]) for t in transitions] == [
        ("Starting", "Preparing the instances for training"),
        ("Downloading", "Downloading input data"),
        ("Training", "Training image download completed. Training in progress."),
        ("Uploading", "Uploading generated training model"),
        ("Completed", "Training job completed"),
    ]
    assert all(t["EndTime"] >= t["StartTime"] for t in transitions)
    assert [t["EndTime"] for t in transitions[:-1]] == [t["StartTime"] for t in transitions[1:]]
    assert done["TrainingStartTime"] == transitions[1]["StartTime"]
    assert done["TrainingEndTime"] == done["LastModifiedTime"] == transitions[-1]["EndTime"]
    assert done["TrainingTimeInSeconds"] == done["BillableTimeInSeconds"] >= 1

    artifact = done["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == f"{OUTPUT}/ft-1/output/model.tar.gz"
    body = s3.get_object(Bucket="jumpstart-ui-demo-output", Key="fine-tuned/ft-1/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["model-info.json", "model.bin"]
        info = json.loads(tar.extractfile("model-info.json").read())
    assert info["training_job"] == "ft-1" and info["hyperparameters"]["epochs"] == "2"


def test_a_new_job_is_in_progress_starting_with_nothing_it_has_not_made_yet(sm):
    local.configure(training_seconds=3600)
    job(sm)
    answer = describe(sm)
    assert (answer["TrainingJobStatus"], answer["SecondaryStatus"]) == ("InProgress", "Starting")
    assert answer["CreationTime"] == answer["LastModifiedTime"]
    for absent in ("ModelArtifacts", "FinalMetricDataList", "TrainingStartTime", "TrainingEndTime",
                   "TrainingTimeInSeconds", "BillableTimeInSeconds", "FailureReason", "WarmPoolStatus"):
        assert absent not in answer
    assert [t["Status"] for t in answer["SecondaryStatusTransitions"]] == ["Starting"]


def test_each_step_takes_the_training_seconds_setting(sm):
    local.configure(training_seconds=1)
    job(sm, epochs=1)
    assert describe(sm)["SecondaryStatus"] == "Starting"
    time.sleep(1.1)
    assert describe(sm)["SecondaryStatus"] == "Downloading"
    assert describe(sm)["SecondaryStatus"] == "Downloading"  # one step a second, however often read
    assert local.describe_settings().endswith("training jobs take 1 s a step, at most 5 epochs")


def test_moto_state_manager_can_take_over_the_pace_until_reset(sm):
    state_manager.set_transition(local.TRAINING_STATE, {"progression": "manual", "times": 2})
    job(sm)
    assert [describe(sm)["SecondaryStatus"] for _ in range(4)] == ["Starting", "Downloading", "Downloading", "Training"]
    local.reset()
    assert state_manager.get_transition(local.TRAINING_STATE) == {"progression": "time", "seconds": 2.0}


def test_a_list_moves_jobs_along_but_is_no_tick_of_a_manual_pace(sm, manual):
    job(sm)
    for _ in range(3):
        assert sm.list_training_jobs()["TrainingJobSummaries"][0]["SecondaryStatus"] == "Starting"
    assert describe(sm)["SecondaryStatus"] == "Downloading"


def test_the_request_s_metric_definitions_hyperparameters_environment_and_tags_are_kept(sm):
    request = job(sm)
    answer = describe(sm)
    assert answer["AlgorithmSpecification"]["MetricDefinitions"] == METRICS  # moto puts a fake one
    assert answer["HyperParameters"] == request["HyperParameters"]
    assert answer["Environment"] == {"SAGEMAKER_REGION": "us-east-1"}  # moto drops it
    assert sm.list_tags(ResourceArn=answer["TrainingJobArn"])["Tags"] == request["Tags"]
    job(sm, "no-metrics", AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"})
    assert describe(sm, "no-metrics")["AlgorithmSpecification"] == {"TrainingImage": IMAGE, "TrainingInputMode": "File"}


# --- Logs and metrics ---------------------------------------------------------------------------

def test_logs_have_a_stream_per_instance_with_an_epoch_counter_and_lines_the_metric_regexes_read(sm, cloudwatch_logs):
    job(sm, epochs=3, count=2)
    final = describe(sm)
    streams = log_lines(cloudwatch_logs)
    started = int(final["SecondaryStatusTransitions"][2]["StartTime"].timestamp())
    assert sorted(streams) == [f"ft-1/algo-1-{started}", f"ft-1/algo-2-{started}"]

    lines = streams[f"ft-1/algo-1-{started}"]
    assert "Invoking script with the following command:" in lines
    assert "/usr/bin/python3 transfer_learning.py --batch_size 8 --epochs 3" in lines
    assert [line for line in lines if line.startswith("Epoch ")] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert lines[-1].endswith("Reporting training SUCCESS")
    text = "\n".join(lines)
    assert '"current_host": "algo-1"' in text and '"batch_size": "8"' in text
    assert '"current_host": "algo-2"' in "\n".join(streams[f"ft-1/algo-2-{started}"])
    for definition in METRICS:
        values = [float(v) for v in re.findall(definition["Regex"], text)]
        assert len(values) == 3, definition
        final_value = next(m["Value"] for m in final["FinalMetricDataList"] if m["MetricName"] == definition["Name"])
        assert values[-1] == final_value
    accuracy = [float(v) for v in re.findall(METRICS[0]["Regex"], text)]
    loss = [float(v) for v in re.findall(METRICS[1]["Regex"], text)]
    assert accuracy == sorted(accuracy) and len(set(accuracy)) == 3  # improves each epoch
    assert loss == sorted(loss, reverse=True) and len(set(loss)) == 3


def test_metric_values_are_put_to_cloudwatch_for_the_first_host(sm):
    job(sm, epochs=2)
    describe(sm)
    cloudwatch = SESSION.client("cloudwatch")
    listed = cloudwatch.list_metrics(Namespace="/aws/sagemaker/TrainingJobs")["Metrics"]
    assert {(m["MetricName"], m["Dimensions"][0]["Value"]) for m in listed} == {
        ("val-accuracy", "ft-1/algo-1"), ("eval-loss", "ft-1/algo-1")}


def test_logs_flow_epoch_by_epoch_while_the_job_trains(sm, cloudwatch_logs, manual):
    job(sm, epochs=3)
    describe(sm), describe(sm)  # Downloading, Training (epoch 1)
    assert [line for line in next(iter(log_lines(cloudwatch_logs).values())) if line.startswith("Epoch")] == ["Epoch 1/3"]
    describe(sm)
    assert [line for line in next(iter(log_lines(cloudwatch_logs).values())) if line.startswith("Epoch")] == [
        "Epoch 1/3", "Epoch 2/3"]


@pytest.mark.parametrize("hyperparameters, epochs", [
    ({"epochs": "2"}, 2), ({"epochs": "50"}, 5), ({"epoch": "1"}, 1), ({"num_epochs": "4"}, 4),
    ({"n_epochs": "3.0"}, 3), ({"learning_rate": "0.1"}, 3), ({"epochs": "lots"}, 3),
])
def test_the_epoch_count_comes_from_the_hyperparameters_capped_to_keep_jobs_short(sm, cloudwatch_logs, hyperparameters, epochs):
    job(sm, HyperParameters=hyperparameters)
    describe(sm)
    lines = next(iter(log_lines(cloudwatch_logs).values()))
    assert [line for line in lines if line.startswith("Epoch")][-1] == f"Epoch {epochs}/{epochs}"


def _bundled_metric_regexes():
    regexes = set()
    for path in BUNDLED_DIR.rglob("specs_*.json"):
        regexes.update(m["Regex"] for m in json.loads(path.read_text()).get("metrics") or [])
    return sorted(regexes)


@pytest.mark.parametrize("regex", _bundled_metric_regexes())
def test_a_log_line_is_written_for_every_metric_regex_in_the_bundled_specs(regex):
    for value in (0.8123, 2.5, 12.0):
        line = logs.example_line(regex, value)
        assert float(re.search(regex, line).group(1)) == pytest.approx(value)


def test_the_bundled_specs_have_the_metric_regexes_the_line_writer_is_tested_on():
    regexes = _bundled_metric_regexes()
    assert "val_accuracy: ([0-9\\.]+)" in regexes and "eval_ppl=tensor\\(([0-9\\.]+)" in regexes
    assert len(regexes) >= 11


def test_a_regex_without_a_group_has_no_line():
    with pytest.raises(ValueError):
        logs.example_line("val_accuracy", 0.5)


# --- Spot, warm pools --------------------------------------------------------------------------

def test_managed_spot_bills_less_than_the_training_time(sm, clock):
    job(sm, "on-demand")
    job(sm, "spot", spot=True)
    on_demand, spot = describe(sm, "on-demand"), describe(sm, "spot")
    assert on_demand["BillableTimeInSeconds"] == on_demand["TrainingTimeInSeconds"]
    assert spot["TrainingTimeInSeconds"] == 5 * clock.step  # from Downloading: 3 epochs, Uploading, Completed
    assert 0.6 <= spot["BillableTimeInSeconds"] / spot["TrainingTimeInSeconds"] <= 0.7
    assert spot["EnableManagedSpotTraining"] is True


def test_spot_without_a_max_wait_at_least_the_max_runtime_is_refused(sm):
    for stopping in ({"MaxRuntimeInSeconds": 3600}, {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 1800}):
        assert error_of(job, sm=sm, spot=True, StoppingCondition=stopping) == ("ValidationException", (
            "Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to "
            "MaxRuntimeInSeconds"))
    assert sm.list_training_jobs()["TrainingJobSummaries"] == []


def test_a_warm_pool_is_available_after_completion_then_terminated_once_its_keep_alive_passed(sm, clock):
    job(sm, keep_alive=600)
    clock.step = 1
    done = describe(sm)
    assert done["TrainingJobStatus"] == "Completed"
    assert done["WarmPoolStatus"]["Status"] == "Available"
    clock.tick(300)
    available = describe(sm)["WarmPoolStatus"]
    assert available["Status"] == "Available"
    assert 300 <= available["ResourceRetainedBillableTimeInSeconds"] < 310
    listed = sm.list_training_jobs(WarmPoolStatusEquals="Available")["TrainingJobSummaries"]
    assert [s["WarmPoolStatus"]["Status"] for s in listed] == ["Available"]
    clock.tick(300)
    assert describe(sm)["WarmPoolStatus"] == {"Status": "Terminated", "ResourceRetainedBillableTimeInSeconds": 600}
    job(sm, "no-pool")
    assert "WarmPoolStatus" not in describe(sm, "no-pool")


# --- Stopping, failing --------------------------------------------------------------------------

def test_stop_moves_a_job_to_stopped_and_a_second_stop_is_refused(sm, manual):
    job(sm)
    describe(sm), describe(sm)  # Training
    sm.stop_training_job(TrainingJobName="ft-1")
    stopping = sm.list_training_jobs()["TrainingJobSummaries"][0]
    assert (stopping["TrainingJobStatus"], stopping["SecondaryStatus"]) == ("Stopping", "Stopping")
    assert error_of(sm.stop_training_job, TrainingJobName="ft-1") == (
        "ValidationException", "The request was rejected because the training job is in status Stopping.")
    stopped = describe(sm)
    assert (stopped["TrainingJobStatus"], stopped["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert [t["Status"] for t in stopped["SecondaryStatusTransitions"]] == [
        "Starting", "Downloading", "Training", "Stopping", "Stopped"]
    assert "ModelArtifacts" not in stopped and "TrainingEndTime" in stopped
    assert describe(sm)["TrainingJobStatus"] == "Stopped"  # and stays so
    assert error_of(sm.stop_training_job, TrainingJobName="ft-1") == (
        "ValidationException", "The request was rejected because the training job is in status Stopped.")
    assert error_of(sm.stop_training_job, TrainingJobName="nope") == (
        "ValidationException", "Requested resource not found.")


def test_the_failure_marker_fails_the_job_in_training_with_an_algorithm_error(sm, cloudwatch_logs, manual):
    job(sm, data="s3://jumpstart-ui-demo-data/text-classification/fails-in-training/")
    trace = [describe(sm) for _ in range(3)]
    assert [(a["TrainingJobStatus"], a["SecondaryStatus"]) for a in trace] == [
        ("InProgress", "Downloading"), ("InProgress", "Training"), ("Failed", "Failed")]
    failed = trace[-1]
    assert failed["FailureReason"] == (
        "AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage \"" + datasets.FAILURE_TEXT + "\"\n"
        "Command \"/usr/bin/python3 transfer_learning.py --batch_size 8 --epochs 3\", exit code: 1")
    assert failed["SecondaryStatusTransitions"][-1]["Status"] == "Failed"
    assert "ModelArtifacts" not in failed and failed["TrainingTimeInSeconds"] >= 1
    assert [m["MetricName"] for m in failed["FinalMetricDataList"]] == ["val-accuracy", "eval-loss"]
    lines = next(iter(log_lines(cloudwatch_logs).values()))
    assert "Epoch 1/3" in lines and "Epoch 2/3" not in lines
    assert lines.index("Traceback (most recent call last):") > lines.index("Epoch 1/3")
    assert datasets.FAILURE_TEXT in lines
    assert any(line.endswith("Reporting training FAILURE") for line in lines)
    assert lines[-1] == 'Command "/usr/bin/python3 transfer_learning.py --batch_size 8 --epochs 3", exit code: 1'
    assert sm.list_training_jobs(StatusEquals="Failed")["TrainingJobSummaries"][0]["TrainingJobName"] == "ft-1"


def test_an_empty_failure_marker_fails_the_job_with_a_value_error(sm, s3):
    s3.put_object(Bucket="jumpstart-ui-demo-data", Key="mine/data.csv", Body=b"0,fine\n1,good\n")
    s3.put_object(Bucket="jumpstart-ui-demo-data", Key="mine/JSUI_FAIL_TRAINING", Body=b"")
    job(sm, data="s3://jumpstart-ui-demo-data/mine/")
    assert "ErrorMessage \"ValueError: " in describe(sm)["FailureReason"]


@pytest.mark.parametrize("data", [
    "s3://jumpstart-ui-demo-data/nothing-here/",
    "s3://no-such-bucket/train/",
    "s3://jumpstart-ui-demo-data-eu/text-classification/valid/",  # in eu-west-1: not readable here
])
def test_training_data_that_is_not_there_fails_the_job_at_downloading_as_aws_says(sm, cloudwatch_logs, data):
    job(sm, data=data)
    failed = describe(sm)
    assert (failed["TrainingJobStatus"], failed["SecondaryStatus"]) == ("Failed", "Failed")
    assert [t["Status"] for t in failed["SecondaryStatusTransitions"]] == ["Starting", "Downloading", "Failed"]
    bucket = data.split("/")[2]
    assert failed["FailureReason"] == (
        f'ClientError: No S3 objects found under S3 URL "{data}" given in input data source. Please '
        f'ensure that the bucket exists in the selected region (us-east-1), that objects exist under '
        f'that S3 prefix, and that the role "{ROLE}" has "s3:ListBucket" permissions on bucket "{bucket}".')
    assert log_lines(cloudwatch_logs) == {}  # no container ever started


def test_a_missing_output_bucket_fails_the_job_at_uploading(sm):
    job(sm, OutputDataConfig={"S3OutputPath": "s3://no-such-output/models"})
    failed = describe(sm)
    assert failed["TrainingJobStatus"] == "Failed"
    assert [t["Status"] for t in failed["SecondaryStatusTransitions"]][-2:] == ["Uploading", "Failed"]
    assert "no-such-output" in failed["FailureReason"]


# --- What AWS refuses ----------------------------------------------------------------------------

def test_a_taken_name_is_refused_as_aws_words_it_in_any_case(sm):
    job(sm, "Fine-Tune-1")
    arn = describe(sm, "Fine-Tune-1")["TrainingJobArn"]
    for name in ("Fine-Tune-1", "fine-tune-1"):
        assert error_of(job, sm=sm, name=name) == ("ResourceInUse", (
            "Training job names must be unique within an AWS account and region, and a training job "
            f"with this name already exists ({arn})"))
    assert len(sm.list_training_jobs()["TrainingJobSummaries"]) == 1


@pytest.mark.parametrize("changes, field", [
    ({"name": "bad_name"}, "trainingJobName"),
    ({"name": "-starts-with-a-dash"}, "trainingJobName"),
    ({"instance_type": "ml.bogus"}, "resourceConfig.instanceType"),
    ({"instance_type": "g5.2xlarge"}, "resourceConfig.instanceType"),
    ({"count": 0}, "resourceConfig.instanceCount"),
    ({"keep_alive": 99999}, "resourceConfig.keepAlivePeriodInSeconds"),
    ({"data": "not-an-s3-uri"}, "inputDataConfig.1.member.dataSource.s3DataSource.s3Uri"),
    ({"OutputDataConfig": {"S3OutputPath": "bucket/models"}}, "outputDataConfig.s3OutputPath"),
    ({"RoleArn": "arn:aws:iam::123456789012:user/someone"}, "roleArn"),
])
def test_a_malformed_request_is_refused_and_creates_nothing(sm, changes, field):
    code, message = error_of(job, sm=sm, **changes)
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value '")
    assert f"' at '{field}' failed to satisfy constraint: Member must" in message
    assert sm.list_training_jobs()["TrainingJobSummaries"] == []


def test_every_problem_of_a_request_is_named_at_once(sm):
    _, message = error_of(job, sm=sm, name="bad_name", instance_type="ml.bogus", count=0)
    assert message.startswith("3 validation errors detected: Value 'bad_name' at 'trainingJobName' ")
    assert "; Value 'ml.bogus' at 'resourceConfig.instanceType' " in message
    assert message.endswith("; Value '0' at 'resourceConfig.instanceCount' failed to satisfy constraint: "
                            "Member must have value greater than or equal to 1")
    _, message = error_of(job, sm=sm, name="x" * 64)
    assert message.startswith("2 validation errors detected: ")
    assert "Member must have length less than or equal to 63" in message


def test_an_instance_type_without_quota_is_refused_as_aws_refuses_it(sm):
    assert error_of(job, sm=sm, instance_type="ml.p4d.24xlarge", count=2) == ("ResourceLimitExceeded", (
        "The account-level service limit 'ml.p4d.24xlarge for training job usage' is 0 Instances, with "
        "current utilization of 0 Instances and a request delta of 2 Instances. Please use AWS Service "
        "Quotas to request an increase for this quota."))
    assert "'ml.p4d.24xlarge for spot training job usage'" in error_of(
        job, sm=sm, instance_type="ml.p4d.24xlarge", spot=True)[1]
    assert sm.list_training_jobs()["TrainingJobSummaries"] == []


def test_real_instance_types_moto_does_not_know_are_accepted(sm):
    for n, instance_type in enumerate(["ml.g5.2xlarge", "ml.p5.48xlarge", "ml.trn1.32xlarge", "ml.g6e.xlarge"]):
        job(sm, f"job-{n}", instance_type=instance_type)
    assert len(sm.list_training_jobs()["TrainingJobSummaries"]) == 4


def test_describing_a_missing_job_says_requested_resource_not_found_as_aws_does(sm):
    assert error_of(sm.describe_training_job, TrainingJobName="nope") == (
        "ValidationException", "Requested resource not found.")


# --- list_training_jobs: filter, sort, then page --------------------------------------------------

def _all_pages(sm, **request):
    names, pages, token = [], 0, None
    while True:
        page = sm.list_training_jobs(**request, **({"NextToken": token} if token else {}))
        names += [s["TrainingJobName"] for s in page["TrainingJobSummaries"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            return names, pages


def test_list_filters_then_sorts_then_pages_a_thousand_jobs(sm):
    local.configure(training_seconds=3600)  # they stay InProgress until a test moves them
    names = [f"{('alpha', 'beta', 'gamma')[n % 3]}-{n:04d}" for n in range(1000)]
    for name in names:
        job(sm, name)
    finished = set(names[::7])
    for name in finished:
        sm.stop_training_job(TrainingJobName=name)

    everyone, pages = _all_pages(sm, MaxResults=100)
    assert sorted(everyone) == sorted(names) and pages == 10
    created = {name: describe(sm, name)["CreationTime"] for name in names}
    assert everyone == sorted(names, key=lambda n: (created[n], n))  # CreationTime, Ascending: AWS's default
    assert _all_pages(sm, NameContains="BETA", SortBy="Name", SortOrder="Descending", MaxResults=37)[0] == \
        sorted((n for n in names if "beta" in n), reverse=True)
    stopping, pages = _all_pages(sm, StatusEquals="Stopping", MaxResults=50)
    assert stopping == [n for n in names if n in finished] and pages == 3  # 143 of them
    by_status = _all_pages(sm, SortBy="Status", MaxResults=100)[0]
    assert by_status == sorted(n for n in names if n not in finished) + sorted(finished)  # InProgress < Stopping
    default = sm.list_training_jobs(NameContains="gamma")
    assert len(default["TrainingJobSummaries"]) == 10 and default["NextToken"]


def test_list_filters_by_creation_and_last_modified_time(sm):
    local.configure(training_seconds=3600)
    job(sm, "early")
    mark = describe(sm, "early")["CreationTime"]
    time.sleep(0.01)
    job(sm, "late")

    def listed(**request):
        return [s["TrainingJobName"] for s in sm.list_training_jobs(**request)["TrainingJobSummaries"]]

    assert listed(CreationTimeAfter=mark) == ["late"]
    assert listed(CreationTimeBefore=mark + timedelta(milliseconds=1)) == ["early"]
    time.sleep(0.01)
    sm.stop_training_job(TrainingJobName="early")
    changed = describe(sm, "early")["LastModifiedTime"]
    assert listed(LastModifiedTimeAfter=changed - timedelta(milliseconds=1)) == ["early"]
    assert listed(LastModifiedTimeBefore=changed) == ["late"]


def test_list_pages_neither_repeat_nor_skip_a_job_when_others_come_between_pages(sm):
    local.configure(training_seconds=3600)
    for n in range(10):
        job(sm, f"job-{n:02d}")
    first = sm.list_training_jobs(SortBy="Name", MaxResults=4)
    job(sm, "job-00a")  # sorts into the page already read
    second = sm.list_training_jobs(SortBy="Name", MaxResults=4, NextToken=first["NextToken"])
    job(sm, "job-99")  # sorts after every page
    sm.stop_training_job(TrainingJobName="job-09")  # changes, but keeps its place by name
    names = [s["TrainingJobName"] for s in first["TrainingJobSummaries"] + second["TrainingJobSummaries"]]
    token = second["NextToken"]
    while token:
        page = sm.list_training_jobs(SortBy="Name", MaxResults=4, NextToken=token)
        names += [s["TrainingJobName"] for s in page["TrainingJobSummaries"]]
        token = page.get("NextToken")
    assert names == [f"job-{n:02d}" for n in range(10)] + ["job-99"]


def test_list_summaries_carry_the_secondary_status_end_time_and_last_modified_time(sm):
    job(sm)
    describe(sm)
    summary = sm.list_training_jobs()["TrainingJobSummaries"][0]
    assert set(summary) == {"TrainingJobName", "TrainingJobArn", "CreationTime", "TrainingEndTime",
                            "LastModifiedTime", "TrainingJobStatus", "SecondaryStatus"}
    assert summary["SecondaryStatus"] == "Completed"


@pytest.mark.parametrize("request_, message", [
    ({"MaxResults": 101}, "Member must have value less than or equal to 100"),
    ({"SortBy": "LastModifiedTime"}, "at 'sortBy' failed to satisfy constraint"),
    ({"StatusEquals": "Bogus"}, "at 'statusEquals' failed to satisfy constraint"),
    ({"NextToken": "not-ours"}, 'Invalid pagination token "not-ours".'),
])
def test_list_refuses_what_aws_refuses(sm, request_, message):
    code, text = error_of(sm.list_training_jobs, **request_)
    assert code == "ValidationException" and message in text


# --- Seeded data --------------------------------------------------------------------------------

def _rows(s3, bucket, key):
    return list(csv.reader(io.StringIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())))


def _keys(s3, bucket, prefix=""):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def test_the_demo_data_bucket_holds_a_valid_and_a_broken_dataset_of_each_kind(s3):
    bucket = local.DEMO_DATA_BUCKET
    assert bucket == "jumpstart-ui-demo-data"
    tc = "text-classification/"
    valid = _rows(s3, bucket, f"{tc}valid/data.csv")
    assert len(valid) == 20 and all(row[0] in ("0", "1") and row[1] for row in valid) and {r[0] for r in valid} == {"0", "1"}
    assert _rows(s3, bucket, f"{tc}broken-header/data.csv")[0] == ["label", "text"]
    assert _rows(s3, bucket, f"{tc}broken-header/data.csv")[1:] == valid
    broken_label = _rows(s3, bucket, f"{tc}broken-label/data.csv")
    assert [n for n, row in enumerate(broken_label, 1) if not row[0].isdigit()] == [7]
    empty_text = _rows(s3, bucket, f"{tc}broken-empty-text/data.csv")
    assert [n for n, row in enumerate(empty_text, 1) if len(row) < 2 or not row[1].strip()] == [4]
    assert _keys(s3, bucket, f"{tc}broken-no-csv/") == [f"{tc}broken-no-csv/data.txt"]
    assert _keys(s3, bucket, f"{tc}fails-in-training/") == [
        f"{tc}fails-in-training/JSUI_FAIL_TRAINING", f"{tc}fails-in-training/data.csv"]

    pairs = _rows(s3, bucket, "sentence-pair/valid/data.csv")
    assert len(pairs) == 20 and all(len(row) == 3 and row[0] in ("0", "1") and row[1] and row[2] for row in pairs)
    broken = _rows(s3, bucket, "sentence-pair/broken-columns/data.csv")
    assert [n for n, row in enumerate(broken, 1) if len(row) != 3] == [5]

    ic = "image-classification/"
    valid_images = _keys(s3, bucket, f"{ic}valid/")
    assert {k.split("/")[2] for k in valid_images} == {"cats", "dogs", "birds"}
    assert all(k.endswith((".jpg", ".jpeg", ".png")) for k in valid_images) and len(valid_images) == 9
    assert {k.split("/")[2] for k in _keys(s3, bucket, f"{ic}broken-one-class/")} == {"cats"}
    assert all(k.count("/") == 2 for k in _keys(s3, bucket, f"{ic}broken-no-folders/"))
    not_images = _keys(s3, bucket, f"{ic}broken-not-images/birds/")
    assert not_images and all(k.endswith(".txt") for k in not_images)
    image = s3.get_object(Bucket=bucket, Key=f"{ic}valid/cats/img-001.jpg")
    assert image["ContentType"] == "image/jpeg" and image["Body"].read()[:2] == b"\xff\xd8"
    png = s3.get_object(Bucket=bucket, Key=f"{ic}valid/cats/img-003.png")["Body"].read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_module_docstring_names_every_prefix_of_the_demo_data_bucket():
    for key in datasets.demo_data_files():
        task, example, _ = key.split("/", 2)
        assert f"{task}/{example}/" in datasets.__doc__, key


def test_the_other_region_bucket_is_in_eu_west_1_with_a_valid_text_dataset(s3):
    assert s3.get_bucket_location(Bucket=local.DEMO_DATA_EU_BUCKET)["LocationConstraint"] == "eu-west-1"
    assert _rows(s3, local.DEMO_DATA_EU_BUCKET, "text-classification/valid/data.csv") == \
        _rows(s3, local.DEMO_DATA_BUCKET, "text-classification/valid/data.csv")


def test_stand_ins_exist_for_every_key_the_bundled_specs_name_and_one_can_be_removed(s3):
    bucket = "jumpstart-cache-prod-us-east-1"
    local.create_bucket(s3, bucket)
    written = datasets.seed_stand_ins(s3, bucket, BUNDLED_DIR)
    named = local.stand_ins(BUNDLED_DIR)
    assert {field for field, _ in named.values()} == set(datasets.STAND_IN_FIELDS)
    assert len([f for f, _ in named.values() if f == "default_training_dataset_key"]) == 7  # 17 specs share them
    stored = set(_keys(s3, bucket))
    assert set(written) == stored
    for key in named:
        assert (key in stored) if not key.endswith("/") else any(k.startswith(key) for k in stored), key

    script = "source-directory-tarballs/pytorch/transfer_learning/ic/v2.3.0/sourcedir.tar.gz"
    with tarfile.open(fileobj=s3.get_object(Bucket=bucket, Key=script)["Body"], mode="r|gz") as tar:
        assert tar.getnames() == ["transfer_learning.py"]
    flowers = _keys(s3, bucket, "training-datasets/tf_flowers/")
    assert len({k.split("/")[2] for k in flowers}) >= 2 and all(k.endswith((".jpg", ".jpeg", ".png")) for k in flowers)
    qnli = _rows(s3, bucket, "training-datasets/QNLI/data.csv")
    assert all(len(row) == 3 and row[0].isdigit() for row in qnli)
    assert _keys(s3, bucket, "pytorch-ic/pytorch-ic-mobilenet-v2/artifacts/inference-prepack/v1.0.0/") == [
        "pytorch-ic/pytorch-ic-mobilenet-v2/artifacts/inference-prepack/v1.0.0/code/inference.py",
        "pytorch-ic/pytorch-ic-mobilenet-v2/artifacts/inference-prepack/v1.0.0/model.bin"]

    removed = local.remove_stand_in(s3, bucket, "training-datasets/tf_flowers/")
    assert removed == flowers and _keys(s3, bucket, "training-datasets/tf_flowers/") == []
    artifact = "pytorch-training/v2.0.0/train-pytorch-ic-mobilenet-v2.tar.gz"
    assert local.remove_stand_in(s3, bucket, artifact) == [artifact]
    assert error_of(s3.head_object, Bucket=bucket, Key=artifact)[0] == "404"


def test_a_job_on_jumpstart_s_default_dataset_and_model_artifact_trains_until_one_is_removed(sm, s3):
    bucket = "jumpstart-cache-prod-us-east-1"
    local.create_bucket(s3, bucket)
    datasets.seed_stand_ins(s3, bucket, BUNDLED_DIR)
    channels = [
        {"ChannelName": "training", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/training-datasets/tf_flowers/"}}},
        {"ChannelName": "model", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/pytorch-training/v2.0.0/train-pytorch-ic-mobilenet-v2.tar.gz"}}},
    ]
    job(sm, "with-stand-ins", InputDataConfig=channels)
    assert describe(sm, "with-stand-ins")["TrainingJobStatus"] == "Completed"
    local.remove_stand_in(s3, bucket, "pytorch-training/v2.0.0/train-pytorch-ic-mobilenet-v2.tar.gz")
    job(sm, "without", InputDataConfig=channels)
    assert "train-pytorch-ic-mobilenet-v2.tar.gz" in describe(sm, "without")["FailureReason"]


def test_a_default_dataset_stand_in_is_a_valid_dataset_for_its_task():
    ic = datasets.dataset_for("ic", "d/")
    assert len({k.split("/")[1] for k in ic}) >= 2
    tc = datasets.dataset_for("tc", "d/")
    assert list(tc) == ["d/data.csv"]
    rows = list(csv.reader(io.StringIO(tc["d/data.csv"].decode())))
    assert all(row[0].isdigit() and row[1] for row in rows)
    assert set(datasets.dataset_for("classification", "d/")) == {"d/train/data.csv", "d/validation/data.csv"}


def test_many_objects_can_be_made_for_a_benchmark(s3):
    keys = local.seed_many_objects(s3, prefix="bench/", count=120)
    assert len(keys) == 120 and _keys(s3, local.DEMO_DATA_BUCKET, "bench/") == keys


# --- Server mode ----------------------------------------------------------------------------------

@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    srv = local.start_server(port=0)
    url = local.endpoint_url(srv)
    yield url
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))  # state is process-wide
    srv.stop()
    local.reset()


def test_in_server_mode_jobs_run_and_log_on_a_timer_and_stop_over_http(server):
    local.configure(training_seconds=0.1)
    clients = {name: SESSION.client(name, endpoint_url=server) for name in ("s3", "sagemaker", "logs")}
    local.seed_demo_data(clients["s3"])
    local.create_bucket(clients["s3"], "jumpstart-ui-demo-output")
    sm = clients["sagemaker"]
    job(sm, "timed", epochs=2)
    job(sm, "to-stop", epochs=5)

    # Nobody describes "timed": its logs come on the timer's pace all the same.
    deadline = time.monotonic() + 10
    lines = []
    while not any(line.endswith("Reporting training SUCCESS") for line in lines):
        assert time.monotonic() < deadline, lines
        time.sleep(0.1)
        lines = [line for stream in log_lines(clients["logs"], "timed").values() for line in stream]
    assert [line for line in lines if line.startswith("Epoch")] == ["Epoch 1/2", "Epoch 2/2"]

    sm.stop_training_job(TrainingJobName="to-stop")
    assert error_of(sm.stop_training_job, TrainingJobName="to-stop")[1] == (
        "The request was rejected because the training job is in status Stopping.")
    time.sleep(0.3)
    assert describe(sm, "to-stop")["TrainingJobStatus"] == "Stopped"
    done = describe(sm, "timed")
    assert done["TrainingJobStatus"] == "Completed"
    assert clients["s3"].head_object(Bucket="jumpstart-ui-demo-output", Key="fine-tuned/timed/output/model.tar.gz")
    assert [s["TrainingJobName"] for s in sm.list_training_jobs(SortBy="Name", SortOrder="Descending")[
        "TrainingJobSummaries"]] == ["to-stop", "timed"]
