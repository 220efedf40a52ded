"""The local SageMaker's training jobs: they run through SageMaker's states, log and report metrics
as a JumpStart container does, and leave a model.tar.gz in S3.

- create_training_job checks what AWS checks and moto does not, each a ValidationException in
  AWS's words: the name (^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}), the role ARN, the instance type (any
  well-formed ml.<family>.<size>), InstanceCount >= 1, KeepAlivePeriodInSeconds <= 21600, every
  S3 URI (s3://bucket/...), and with managed spot a MaxWaitTimeInSeconds at least
  MaxRuntimeInSeconds. A name already taken (in any case) is ResourceInUse: "Training job names
  must be unique within an AWS account and region, and a training job with this name already
  exists (ARN)". An instance type of the `no_quota_instance_types` setting (as for endpoints) is
  ResourceLimitExceeded: "The account-level service limit 'ml.p4d.24xlarge for training job
  usage' is 0 Instances, ..." ("spot training job usage" with managed spot). The job keeps the
  request's MetricDefinitions, HyperParameters, Environment, RetryStrategy and tags (moto
  replaces the first with a fake one and drops Environment).
- A job is InProgress: Starting -> Downloading -> Training (one step per epoch) -> Uploading, then
  Completed, each secondary status in SecondaryStatusTransitions with AWS's StatusMessage and its
  Start/EndTime, and each moving LastModifiedTime. Each step takes `training_seconds` (moto's
  state manager transition "sagemaker::training_job", so state_manager.set_transition works).
  Epochs: the job's `epochs` (or `epoch`, `num_epochs`, `n_epochs`) hyperparameter, 3 without one,
  at most `training_max_epochs`. See aws.local.logs for what the job logs.
- Steps happen when the job is read (describe_training_job, which is also a tick of a "manual"
  transition; list_training_jobs, which is not) and, in server mode, on a timer thread
  (start_ticker), so that a job's logs keep coming while nobody describes it and each step comes
  on time instead of at the next read: moto's "time" transitions take one step per read.
- Completed: ModelArtifacts.S3ModelArtifacts = <S3OutputPath>/<job>/output/model.tar.gz (a small
  valid tarball really written there), FinalMetricDataList (the last value logged for each
  MetricDefinition), TrainingStartTime (when Downloading began), TrainingEndTime,
  TrainingTimeInSeconds (wall clock, at least 1) and BillableTimeInSeconds (the same, or 60-70 %
  of it with EnableManagedSpotTraining, as the saving of spot shows). With
  ResourceConfig.KeepAlivePeriodInSeconds > 0, WarmPoolStatus is {"Status": "Available",
  "ResourceRetainedBillableTimeInSeconds": seconds since the end} until the keep-alive has passed,
  then "Terminated" with the keep-alive period.
- Failing on purpose: an object named JSUI_FAIL_TRAINING under an input channel's S3 prefix makes
  the job fail after its first epoch, Training -> Failed, with FailureReason "AlgorithmError:
  ExecuteUserScriptError: ExitCode 1 ErrorMessage "ValueError: ..." Command "/usr/bin/python3
  transfer_learning.py ...", exit code: 1" (the marker's text, when it has some, is the error),
  and the same at the end of its logs. A channel whose prefix holds no object, or whose bucket is
  in another region, fails the job at Downloading with AWS's "ClientError: No S3 objects found
  under S3 URL ..."; an output bucket that does not exist fails it at Uploading.
- stop_training_job (which moto lacks): InProgress -> Stopping -> Stopped; a job in any other
  status is refused with "The request was rejected because the training job is in status X.".
- describe or stop of a missing job: ValidationException "Requested resource not found.", AWS's
  words (moto's are "Could not find training job ...").
- list_training_jobs filters (NameContains, StatusEquals, WarmPoolStatusEquals, CreationTime and
  LastModifiedTime Before/After), sorts (SortBy Name, CreationTime or Status; AWS's default
  CreationTime, Ascending), and only then pages (MaxResults 1-100, default 10; NextToken stable
  while jobs come and go); summaries carry SecondaryStatus, TrainingEndTime once ended,
  LastModifiedTime and WarmPoolStatus, as AWS's do.
"""

import copy
import gzip
import hashlib
import io
import itertools
import json
import logging
import math
import re
import tarfile
import threading
import weakref

from . import logs
from .core import (
    INSTANCE_TYPE, TRAINING_STATE, _error, _lock, _now, _settings, answer_late, check_enum,
    check_max_results, sort_and_page,
)

log = logging.getLogger(__name__)

FAILURE_MARKER = "JSUI_FAIL_TRAINING"
DEFAULT_ERROR = "ValueError: invalid literal for int() with base 10: 'positive'"
NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
ROLE_ARN = re.compile(r"arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
S3_URI = re.compile(r"(https|s3)://([^/]+)/?(.*)")
MAX_KEEP_ALIVE = 21600
DEFAULT_EPOCHS = 3
EPOCH_HYPERPARAMETERS = ("epochs", "epoch", "num_epochs", "n_epochs")

STATUS_OF = {"Starting": "InProgress", "Downloading": "InProgress", "Training": "InProgress",
             "Uploading": "InProgress", "Completed": "Completed", "Failed": "Failed",
             "Stopping": "Stopping", "Stopped": "Stopped"}
MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
}
ENDED = ("Completed", "Failed", "Stopped")
TRAINING_STATUSES = ["InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting"]
WARM_POOL_STATUSES = ["Available", "Terminated", "Reused", "InUse"]
NO_OBJECTS = ('ClientError: No S3 objects found under S3 URL "{uri}" given in input data source. '
              'Please ensure that the bucket exists in the selected region ({region}), that objects '
              'exist under that S3 prefix, and that the role "{role}" has "s3:ListBucket" '
              'permissions on bucket "{bucket}".')
QUOTA_MESSAGE = ("The account-level service limit '{instance_type} for {usage} usage' is 0 Instances, "
                 "with current utilization of 0 Instances and a request delta of {delta} Instances. "
                 "Please use AWS Service Quotas to request an increase for this quota.")
NO_OUTPUT_BUCKET = ('ClientError: Artifact upload failed: the bucket "{bucket}" of S3OutputPath '
                    '"{uri}" does not exist in {region}.')


def patches():
    """(moto class, method, our version) for the training job methods install() replaces."""
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    return [
        # The responses: moto's drop Environment and SortBy/SortOrder before the backend sees them.
        (SageMakerResponse, "create_training_job", _respond_create_training_job),
        (SageMakerResponse, "list_training_jobs", _respond_list_training_jobs),
        (SageMakerModelBackend, "describe_training_job", _describe_training_job),
    ]


def additions():
    """(moto class, method, ours) for the training job methods moto lacks, which install() adds."""
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    return [
        (SageMakerModelBackend, "stop_training_job", _stop_training_job),
        (SageMakerResponse, "stop_training_job", _respond_stop_training_job),
    ]


# --- One job's run ------------------------------------------------------------------------------

# FakeTrainingJob -> _Run. Beside moto's object, not on it: moto answers describe with its __dict__.
_runs = weakref.WeakKeyDictionary()


class _Run:
    """Where a job is heading and what it needs to act its part on the way. Holds no reference to
    the job or its backend, so that a moto reset lets both go."""

    def __init__(self, backend, job, epochs, plan, failure=None, error=None):
        self.account_id = backend.account_id
        self.region = backend.region_name
        self.name = job.training_job_name
        self.epochs = epochs
        self.failure = failure  # the FailureReason of a job that fails outside its script
        self.error = error  # the exception of a job whose script fails
        self.seed = int(hashlib.sha256(self.name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        self.streams = []
        self.metrics = {}  # metric name -> (value, time)
        self.ended_at = None
        self.keep_alive = 0
        self.head(plan)

    def head(self, plan):
        from moto.moto_api._internal.managed_state_model import ManagedState

        self.plan = plan
        self.at = plan[0]  # the last state entered
        self.step = ManagedState(TRAINING_STATE, list(itertools.pairwise(plan)))

    @property
    def busy(self):
        return self.at not in ENDED


def _plan(backend, request, epochs):
    """(the states the job will go through, the FailureReason of a job that will fail outside its
    script, the exception of a job whose script will fail). Decided from the local S3 as it is
    when the job is created."""
    training = [f"Training {n}" for n in range(1, epochs + 1)]
    account_id, region = backend.account_id, backend.region_name
    for channel in request["InputDataConfig"] or []:
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        uri = S3_URI.fullmatch(source["S3Uri"]) if source else None
        if not uri or uri.group(1) != "s3" or source.get("S3DataType", "S3Prefix") != "S3Prefix":
            continue
        bucket = uri.group(2)
        keys = _keys_under(account_id, region, bucket, uri.group(3))
        if not keys:
            return ["Starting", "Downloading", "Failed"], NO_OBJECTS.format(
                uri=source["S3Uri"], region=region, role=request["RoleArn"], bucket=bucket), None
        markers = [key for key in keys if key.rsplit("/", 1)[-1] == FAILURE_MARKER]
        if markers:
            error = _marker_text(account_id, region, bucket, markers[0])
            return ["Starting", "Downloading", "Training 1", "Failed"], None, error
    output = S3_URI.fullmatch(request["OutputDataConfig"]["S3OutputPath"])
    if output.group(1) == "s3" and _bucket(account_id, region, output.group(2)) is None:
        return ["Starting", "Downloading", *training, "Uploading", "Failed"], NO_OUTPUT_BUCKET.format(
            bucket=output.group(2), uri=output.group(0), region=region), None
    return ["Starting", "Downloading", *training, "Uploading", "Completed"], None, None


def _epochs(hyperparameters):
    for name in EPOCH_HYPERPARAMETERS:
        try:
            wanted = int(float((hyperparameters or {})[name]))
        except (KeyError, ValueError):
            continue
        return max(1, min(wanted, _settings["training_max_epochs"]))
    return min(DEFAULT_EPOCHS, _settings["training_max_epochs"])


def _settle(backend, names=None, advance=False):
    """A read of training jobs: each may take its next steps. advance: the read is a describe,
    which counts as a tick of a "manual" transition."""
    with _lock:
        for name in list(backend.training_jobs) if names is None else names:
            job = backend.training_jobs.get(name)
            run = _runs.get(job) if job is not None else None
            if run is None:
                continue
            if run.busy:
                if advance:
                    run.step.advance()
                target = run.step.status
                if target != run.at:
                    # Every state on the way, in order: an "immediate" pace jumps to the end.
                    for state in run.plan[run.plan.index(run.at) + 1:run.plan.index(target) + 1]:
                        _enter(job, run, state, _now())
                        run.at = state
            _show_warm_pool(job, run, _now())


def _enter(job, run, state, now):
    secondary, _, epoch = state.partition(" ")
    if epoch and epoch != "1":  # the next epoch: no new status, only its lines in the logs
        _log_epoch(job, run, int(epoch), now)
        return
    transitions = job.secondary_status_transitions
    if transitions and "EndTime" not in transitions[-1]:
        transitions[-1]["EndTime"] = now
    transition = {"Status": secondary, "StartTime": now, "StatusMessage": MESSAGES[secondary]}
    if secondary in ENDED:
        transition["EndTime"] = now
    transitions.append(transition)
    job.secondary_status = secondary
    job.training_job_status = STATUS_OF[secondary]
    job.last_modified_time = now

    if secondary == "Downloading":
        job.training_start_time = now
    elif secondary == "Training":
        _start_container(job, run, now)
        _log_epoch(job, run, 1, now)
    elif secondary == "Uploading":
        _log(run, logs.success_lines(now), now)
    elif secondary in ENDED:
        _end(job, run, secondary, now)


def _start_container(job, run, now):
    count = (job.resource_config or {}).get("InstanceCount") or 1
    hosts = [f"algo-{n}" for n in range(1, count + 1)]
    started = int(logs.epoch_millis(now) // 1000)
    run.streams = [f"{run.name}/{host}-{started}" for host in hosts]
    hyperparameters = job.hyper_parameters or {}
    channels = [c["ChannelName"] for c in job.input_data_config or []]
    image = (job.algorithm_specification or {}).get("TrainingImage")
    for stream, host in zip(run.streams, hosts):
        lines = logs.start_lines(now, run.name, host, hosts, hyperparameters, channels, image)
        logs.write(run.account_id, run.region, [stream], lines, now)


def _log_epoch(job, run, epoch, now):
    """Log the epoch's metrics, each where its MetricDefinition's regex finds it."""
    lines, measured = [], []
    for definition in (job.algorithm_specification or {}).get("MetricDefinitions") or []:
        value = logs.metric_value(definition["Name"], definition["Regex"], epoch, run.epochs, run.seed)
        try:
            lines.append(logs.example_line(definition["Regex"], value))
        except (ValueError, re.error):
            continue  # a regex no line can satisfy: SageMaker would find nothing either
        measured.append((definition["Name"], value))
        run.metrics[definition["Name"]] = (value, now)
    _log(run, logs.epoch_lines(epoch, run.epochs, lines), now)
    logs.put_metrics(run.account_id, run.region, f"{run.name}/algo-1", measured, now)


def _log(run, lines, now):
    if run.streams:
        logs.write(run.account_id, run.region, run.streams, lines, now)


def _end(job, run, secondary, now):
    run.ended_at = job.training_end_time = now
    start = job.training_start_time
    seconds = max(1, math.ceil((now - start).total_seconds())) if start else 0
    job.training_time_in_seconds = seconds
    spot = job.enable_managed_spot_training
    # Spot: the job waited for and ran on spare capacity, billed 60-70 % of its time.
    job.billable_time_in_seconds = int(seconds * (0.6 + 0.1 * run.seed)) if spot else seconds
    if run.metrics:
        job.final_metric_data_list = [{"MetricName": name, "Value": value, "Timestamp": at}
                                      for name, (value, at) in run.metrics.items()]
    if secondary == "Completed":
        job.model_artifacts = {"S3ModelArtifacts": _write_model(job, run, now)}
        run.keep_alive = (job.resource_config or {}).get("KeepAlivePeriodInSeconds") or 0
    elif secondary == "Failed":
        if run.error:
            hyperparameters = job.hyper_parameters or {}
            reason = logs.execute_user_script_error(hyperparameters, run.error)
            job.failure_reason = f"AlgorithmError: {reason}"[:1024]  # AWS's limit
            _log(run, logs.failure_lines(now, hyperparameters, run.error), now)
        else:
            job.failure_reason = run.failure


def _show_warm_pool(job, run, now):
    if not (run.keep_alive and run.ended_at):
        return
    retained = (now - run.ended_at).total_seconds()
    if retained < run.keep_alive:
        job.warm_pool_status = {"Status": "Available", "ResourceRetainedBillableTimeInSeconds": int(retained)}
    else:
        job.warm_pool_status = {"Status": "Terminated", "ResourceRetainedBillableTimeInSeconds": run.keep_alive}


# --- Local S3: the job's data and its model ------------------------------------------------------

def _s3(account_id, region):
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return s3_backends[account_id][get_partition(region)]


def _bucket(account_id, region, name):
    """The bucket `name` if it exists in `region` (where the job runs), else None."""
    bucket = _s3(account_id, region).buckets.get(name)
    return bucket if bucket is not None and bucket.region_name == region else None


def _keys_under(account_id, region, bucket_name, prefix):
    """The keys under the prefix that a job in `region` can read."""
    bucket = _bucket(account_id, region, bucket_name)
    return [] if bucket is None else [key for key in list(bucket.keys) if key.startswith(prefix)]


def _marker_text(account_id, region, bucket, key):
    """The error the failure marker asks for: its own text, or a default one."""
    text = _s3(account_id, region).get_object(bucket, key).value.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else DEFAULT_ERROR


def _write_model(job, run, now):
    """Put a small model.tar.gz where SageMaker puts the model, and return its URI."""
    uri = f"{job.output_data_config['S3OutputPath'].rstrip('/')}/{run.name}/output/model.tar.gz"
    match = S3_URI.fullmatch(uri)
    if match.group(1) == "s3":
        _s3(run.account_id, run.region).put_object(match.group(2), match.group(3), model_tarball(job, run, now))
    return uri


def model_tarball(job, run, now):
    """A valid model.tar.gz: what the job was asked to do, and a stand-in for the weights."""
    info = {
        "training_job": run.name,
        "created": now.isoformat() + "Z",
        "hyperparameters": job.hyper_parameters or {},
        "final_metrics": {name: value for name, (value, _) in run.metrics.items()},
        "note": "Written by the local AWS, which trains nothing: the weights are a stand-in.",
    }
    return tarball({"model-info.json": json.dumps(info, indent=2).encode(),
                    "model.bin": b"local AWS stand-in weights\n"})


def tarball(files):
    """A tar.gz of {name: bytes}, with fixed times so the same files give the same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for name, data in sorted(files.items()):
            member = tarfile.TarInfo(name)
            member.size = len(data)
            member.mode = 0o644
            tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


# --- create_training_job -------------------------------------------------------------------------

CREATE_PARAMETERS = ["TrainingJobName", "HyperParameters", "AlgorithmSpecification", "RoleArn",
                     "InputDataConfig", "OutputDataConfig", "ResourceConfig", "VpcConfig",
                     "StoppingCondition", "Tags", "EnableNetworkIsolation",
                     "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining",
                     "CheckpointConfig", "DebugHookConfig", "DebugRuleConfigurations",
                     "TensorBoardOutputConfig", "ExperimentConfig", "Environment", "RetryStrategy"]


def _respond_create_training_job(self):
    """SageMakerResponse.create_training_job: AWS's checks, then moto's job, set on its way."""
    from moto.core.responses import ActionResult

    request = {name: self._get_param(name) for name in CREATE_PARAMETERS}
    backend = self.sagemaker_backend
    _check_request(request)
    with _lock:
        _refuse_taken(backend, request["TrainingJobName"])
        _refuse_without_quota(request)
        asked_for = copy.deepcopy(request["AlgorithmSpecification"] or {})
        job = backend.create_training_job(  # moto's own, not patched
            training_job_name=request["TrainingJobName"],
            hyper_parameters=request["HyperParameters"],
            algorithm_specification=request["AlgorithmSpecification"] or {},
            role_arn=request["RoleArn"],
            input_data_config=request["InputDataConfig"],
            output_data_config=request["OutputDataConfig"],
            resource_config=request["ResourceConfig"],
            vpc_config=request["VpcConfig"],
            stopping_condition=request["StoppingCondition"],
            tags=request["Tags"],
            enable_network_isolation=request["EnableNetworkIsolation"] or False,
            enable_inter_container_traffic_encryption=request["EnableInterContainerTrafficEncryption"] or False,
            enable_managed_spot_training=request["EnableManagedSpotTraining"] or False,
            checkpoint_config=request["CheckpointConfig"],
            debug_hook_config=request["DebugHookConfig"],
            debug_rule_configurations=request["DebugRuleConfigurations"],
            tensor_board_output_config=request["TensorBoardOutputConfig"],
            experiment_config=request["ExperimentConfig"],
        )
        job.algorithm_specification = asked_for  # moto puts a fake MetricDefinitions in
        job.environment = request["Environment"]
        job.retry_strategy = request["RetryStrategy"]
        _begin(backend, job, request)
    answer_late()
    return ActionResult({"TrainingJobArn": job.arn})


def _begin(backend, job, request):
    """The job as SageMaker has it right after CreateTrainingJob: InProgress, Starting."""
    now = _now()
    job.creation_time = job.last_modified_time = now
    job.training_job_status, job.secondary_status = "InProgress", "Starting"
    job.secondary_status_transitions = [
        {"Status": "Starting", "StartTime": now, "StatusMessage": MESSAGES["Starting"]}]
    # Not there until the job gets that far.
    job.model_artifacts = job.final_metric_data_list = None
    job.training_start_time = job.training_end_time = None
    epochs = _epochs(job.hyper_parameters)
    _runs[job] = _Run(backend, job, epochs, *_plan(backend, request, epochs))


def _check_request(request):
    """What AWS checks of the request's form, all reported at once as AWS does."""
    problems = []

    def check(ok, value, field, constraint):
        if not ok:
            problems.append(f"Value '{value}' at '{field}' failed to satisfy constraint: Member must {constraint}")

    name = request["TrainingJobName"] or ""
    check(len(name) <= 63, name, "trainingJobName", "have length less than or equal to 63")
    check(NAME.fullmatch(name), name, "trainingJobName",
          f"satisfy regular expression pattern: ^{NAME.pattern}")
    role = request["RoleArn"] or ""
    check(ROLE_ARN.fullmatch(role), role, "roleArn",
          f"satisfy regular expression pattern: ^{ROLE_ARN.pattern}")
    resources = request["ResourceConfig"] or {}
    if "InstanceType" in resources:
        check(INSTANCE_TYPE.fullmatch(str(resources["InstanceType"])), resources["InstanceType"],
              "resourceConfig.instanceType", f"satisfy regular expression pattern: {INSTANCE_TYPE.pattern}")
    if "InstanceCount" in resources:
        check(resources["InstanceCount"] >= 1, resources["InstanceCount"], "resourceConfig.instanceCount",
              "have value greater than or equal to 1")
    if "KeepAlivePeriodInSeconds" in resources:
        check(resources["KeepAlivePeriodInSeconds"] <= MAX_KEEP_ALIVE, resources["KeepAlivePeriodInSeconds"],
              "resourceConfig.keepAlivePeriodInSeconds", f"have value less than or equal to {MAX_KEEP_ALIVE}")
    uris = [("outputDataConfig.s3OutputPath", (request["OutputDataConfig"] or {}).get("S3OutputPath"))]
    for n, channel in enumerate(request["InputDataConfig"] or [], start=1):
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if source:
            uris.append((f"inputDataConfig.{n}.member.dataSource.s3DataSource.s3Uri", source.get("S3Uri")))
    if request["CheckpointConfig"]:
        uris.append(("checkpointConfig.s3Uri", request["CheckpointConfig"].get("S3Uri")))
    for field, uri in uris:
        check(uri is not None and S3_URI.fullmatch(uri), uri, field,
              f"satisfy regular expression pattern: ^{S3_URI.pattern}")
    if problems:
        raise _error("ValidationException", f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} "
                     f"detected: {'; '.join(problems)}")

    if request["EnableManagedSpotTraining"]:
        stopping = request["StoppingCondition"] or {}
        wait, runtime = stopping.get("MaxWaitTimeInSeconds"), stopping.get("MaxRuntimeInSeconds", 86400)
        if wait is None or wait < runtime:
            raise _error("ValidationException", "Invalid MaxWaitTimeInSeconds. It must be present and be "
                         "greater than or equal to MaxRuntimeInSeconds")


def _refuse_without_quota(request):
    """A no-quota instance type (the endpoints' setting) has no quota for training either."""
    resources = request["ResourceConfig"] or {}
    if resources.get("InstanceType") in _settings["no_quota_instance_types"]:
        usage = "spot training job" if request["EnableManagedSpotTraining"] else "training job"
        raise _error("ResourceLimitExceeded", QUOTA_MESSAGE.format(
            instance_type=resources["InstanceType"], usage=usage, delta=resources.get("InstanceCount") or 1))


def _refuse_taken(backend, name):
    """Training job names are case-insensitive in CreateTrainingJob, as SageMaker's names are."""
    taken = next((job for job in list(backend.training_jobs.values())
                  if job.training_job_name.lower() == name.lower()), None)
    if taken is not None:
        raise _error("ResourceInUse", (
            "Training job names must be unique within an AWS account and region, and a training "
            f"job with this name already exists ({taken.arn})"))


# --- describe, stop -------------------------------------------------------------------------------

def _require(backend, name):
    if name not in backend.training_jobs:
        raise _error("ValidationException", "Requested resource not found.")
    return backend.training_jobs[name]


def _describe_training_job(self, training_job_name):
    _settle(self, [training_job_name], advance=True)
    return _require(self, training_job_name).response_object


def _stop_training_job(self, training_job_name):
    _settle(self, [training_job_name])
    with _lock:
        job = _require(self, training_job_name)
        if job.training_job_status != "InProgress":
            raise _error("ValidationException", "The request was rejected because the training job "
                         f"is in status {job.training_job_status}.")
        run = _runs.setdefault(job, _Run(self, job, 1, ["Stopping", "Stopped"]))
        _enter(job, run, "Stopping", _now())
        run.head(["Stopping", "Stopped"])


def _respond_stop_training_job(self):
    from moto.core.responses import EmptyResult

    self.sagemaker_backend.stop_training_job(self._get_param("TrainingJobName"))
    return EmptyResult()


# --- list_training_jobs: filter, sort, then page --------------------------------------------------

SORT_KEYS = {
    "Name": lambda j: j.training_job_name,
    "CreationTime": lambda j: j.creation_time.isoformat(timespec="microseconds"),
    "Status": lambda j: j.training_job_status,
}


def _respond_list_training_jobs(self):
    from moto.core.responses import ActionResult

    request = {name: self._get_param(name) for name in (
        "NextToken", "MaxResults", "CreationTimeAfter", "CreationTimeBefore", "LastModifiedTimeAfter",
        "LastModifiedTimeBefore", "NameContains", "StatusEquals", "SortBy", "SortOrder",
        "WarmPoolStatusEquals")}
    jobs, token = list_training_jobs(self.sagemaker_backend, **request)
    answer = {"TrainingJobSummaries": [_summary(job) for job in jobs]}
    if token:
        answer["NextToken"] = token
    return ActionResult(answer)


def list_training_jobs(backend, *, NextToken=None, MaxResults=None, CreationTimeAfter=None,
                       CreationTimeBefore=None, LastModifiedTimeAfter=None, LastModifiedTimeBefore=None,
                       NameContains=None, StatusEquals=None, SortBy=None, SortOrder=None,
                       WarmPoolStatusEquals=None):
    """(the page of jobs, the next token or None), as ListTrainingJobs answers."""
    check_enum("sortBy", SortBy, list(SORT_KEYS))
    check_enum("sortOrder", SortOrder, ["Ascending", "Descending"])
    check_enum("statusEquals", StatusEquals, TRAINING_STATUSES)
    check_enum("warmPoolStatusEquals", WarmPoolStatusEquals, WARM_POOL_STATUSES)
    check_max_results(MaxResults)
    _settle(backend)

    def wanted(j):
        warm_pool = (getattr(j, "warm_pool_status", None) or {}).get("Status")
        return ((not NameContains or NameContains.lower() in j.training_job_name.lower())
                and (not StatusEquals or j.training_job_status == StatusEquals)
                and (not WarmPoolStatusEquals or warm_pool == WarmPoolStatusEquals)
                and (not CreationTimeBefore or j.creation_time < _naive(CreationTimeBefore))
                and (not CreationTimeAfter or j.creation_time > _naive(CreationTimeAfter))
                and (not LastModifiedTimeBefore or j.last_modified_time < _naive(LastModifiedTimeBefore))
                and (not LastModifiedTimeAfter or j.last_modified_time > _naive(LastModifiedTimeAfter)))

    sort_by = SortBy or "CreationTime"
    everyone = list(backend.training_jobs.values())  # a copy: the server's other threads may add some
    return sort_and_page(
        filter(wanted, everyone), sort_by=sort_by, sort_key=SORT_KEYS[sort_by],
        name_of=lambda j: j.training_job_name, descending=SortOrder == "Descending",
        next_token=NextToken, max_results=MaxResults)


def _naive(at):
    """moto keeps times as naive UTC; a request's may carry a zone."""
    from datetime import timezone

    return at.astimezone(timezone.utc).replace(tzinfo=None) if at.tzinfo else at


def _summary(job):
    summary = {
        "TrainingJobName": job.training_job_name,
        "TrainingJobArn": job.arn,
        "CreationTime": job.creation_time,
        "LastModifiedTime": job.last_modified_time,
        "TrainingJobStatus": job.training_job_status,
        "SecondaryStatus": job.secondary_status,
    }
    if job.training_end_time:
        summary["TrainingEndTime"] = job.training_end_time
    if getattr(job, "warm_pool_status", None):
        summary["WarmPoolStatus"] = job.warm_pool_status
    return summary


# --- Server mode: steps on time -------------------------------------------------------------------

class Ticker:
    """A thread that reads every running job every `interval` seconds, as a describe would (but
    without counting as a "manual" tick), so that jobs move and log on time in server mode."""

    def __init__(self, interval=0.1):
        self.interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="aws.local training ticker", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stopped.set()
        self._thread.join(timeout=5)

    def _run(self):
        while not self._stopped.wait(self.interval):
            try:
                tick()
            except Exception:  # keep ticking: one bad job must not stop every other
                log.exception("aws.local: a training job step failed")


def tick():
    """Move every running job as far as its pace allows now."""
    from moto.sagemaker.models import sagemaker_backends

    with _lock:
        running = [(run.account_id, run.region, run.name) for run in list(_runs.values()) if run.busy]
    for account_id, region, name in running:
        _settle(sagemaker_backends[account_id][region], [name])


def start_ticker(interval=0.1):
    return Ticker(interval).start()
