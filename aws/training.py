"""A JumpStart model spec turned into the SageMaker requests for fine-tuning: the CreateTrainingJob that
the SageMaker Python SDK v2 sends for `JumpStartEstimator(model_id, model_version, ...).fit(channels)`,
the hyperparameter checks of its validators, and the CreateModel/CreateEndpointConfig/CreateEndpoint
requests `estimator.deploy()` sends for the fine-tuned artifact.

Pure code: no client, no AWS call. Read against sagemaker-python-sdk v2.257.6 (master-v2); each step
names the SDK function it mirrors, and every resolved value records where in the spec it came from.
"""

import json
import math
import re
from copy import deepcopy
from dataclasses import dataclass
from typing import NamedTuple

from aws.jumpstart import (
    TAG_INFERENCE_CONFIG,
    TAG_MODEL_ID,
    TAG_MODEL_VERSION,
    DeployRequest,
    Sourced,
    SpecError,
    assemble,
    _apply_inference_config,
    _network_isolation,
    _refuse_unusable,
    _resolve_environment,
    _resolve_image,
    _tags,
    _takes_ebs_volume,
    _variant_property,
    eula_url,
    gated_bucket,
    instance_family,
    jumpstart_bucket,
)

# EstimatorBase defaults and the constants the SDK puts into a JumpStart training job.
DEFAULT_VOLUME_SIZE = 30  # EstimatorBase(volume_size=30)
DEFAULT_MAX_RUN = 24 * 60 * 60  # EstimatorBase(max_run=24 * 60 * 60)
INPUT_MODE = "File"  # EstimatorBase(input_mode="File")
CONTAINER_LOG_LEVEL = 20  # EstimatorBase(container_log_level=logging.INFO)
TRAINING_ENTRY_POINT = "transfer_learning.py"  # jumpstart.constants.TRAINING_ENTRY_POINT_SCRIPT_NAME
INFERENCE_ENTRY_POINT = "inference.py"  # jumpstart.constants.INFERENCE_ENTRY_POINT_SCRIPT_NAME
MODEL_CHANNEL = "model"  # EstimatorBase(model_channel_name="model")
MODEL_CONTENT_TYPE = "application/x-sagemaker-model"  # _Job._load_config, the model channel
CODE_CHANNEL = "code"  # EstimatorBase.code_channel_name
CODE_IN_CONTAINER = "/opt/ml/input/data/code/sourcedir.tar.gz"  # CONTAINER_CODE_CHANNEL_SOURCEDIR_PATH
REPACKED_CODE_DIR = "/opt/ml/model/code"  # Model._script_mode_env_vars after a repack
GATED_ARTIFACT_ENV = "SageMakerGatedModelS3Uri"  # SAGEMAKER_GATED_MODEL_S3_URI_TRAINING_ENV_VAR_KEY
RESOURCE_BASE_NAME = "sagemaker-jumpstart"  # jumpstart.constants.JUMPSTART_RESOURCE_BASE_NAME
MAX_KEEP_ALIVE = 3600  # SageMaker's documented warm pool limit (KeepAlivePeriodInSeconds)
# fw_utils.DEBUGGER_UNSUPPORTED_REGIONS (PROFILER_UNSUPPORTED_REGIONS is the same list).
_NO_DEBUGGER_REGIONS = {"us-iso-east-1", "us-isob-east-1", "ap-southeast-3", "ap-southeast-4", "eu-south-2",
                        "me-central-1", "ap-south-2", "eu-central-2", "us-gov-east-1"}
# sagemaker.utils.volume_size_supported in v2.257: no EBS volume for a "d" family nor these.
_NO_EBS_FAMILIES = ("g5", "g6", "p5", "trn1")
_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# estimator_kwargs the spec may set, as JumpStartEstimatorInitKwargs fields.
_ESTIMATOR_KWARGS = {"encrypt_inter_container_traffic", "max_run", "disable_output_compression", "volume_size",
                     "enable_network_isolation"}
# fit_kwargs that change nothing in the request (JumpStartEstimatorFitKwargs).
_HARMLESS_FIT_KWARGS = {"wait", "logs"}


@dataclass(frozen=True)
class TrainingRequest:
    request: dict  # kwargs for sagemaker.create_training_job
    sources: dict  # name -> Sourced (or None): image, artifact, script, hyperparameters, ...


@dataclass(frozen=True)
class Repack:
    """A copy to make before CreateModel, as the SDK's Model._upload_code(repack=True) makes it
    (utils.repack_model): download `model_uri` (the trained model.tar.gz) and `script_uri` (JumpStart's
    inference sourcedir.tar.gz), unpack the script tarball into the model's `code/` directory (its
    `entry_point` runs from there), and upload the result as one gzipped tarball to `destination_uri`,
    encrypted with `kms_key_id` when one is set. CreateModel reads `destination_uri`."""

    model_uri: str
    script_uri: str
    entry_point: str
    destination_uri: str
    kms_key_id: str | None = None


@dataclass(frozen=True)
class FineTunedDeployRequest(DeployRequest):
    """A DeployRequest for a fine-tuned artifact; `repack`, when set, must be done before CreateModel."""

    repack: Repack | None = None


class Check(NamedTuple):
    """An S3 object (or, for a key ending in "/", a prefix) a launch needs in JumpStart's bucket."""

    what: str
    bucket: str
    key: str


# -- the training job -------------------------------------------------------------------------------


def training_request(spec, *, region, job_name, instance_type, instance_count=1, role_arn, hyperparameters,
                     training_uri, validation_uri=None, output_uri, max_run_seconds=None, use_spot=False,
                     max_wait_seconds=None, checkpoint_uri=None, keep_alive_seconds=0, subnets=(),
                     security_groups=(), kms_key_id=None, accept_eula=False, tags=()):
    """The CreateTrainingJob request for fine-tuning `spec` on `instance_type` in `region`, as
    `JumpStartEstimator(model_id=..., model_version=..., instance_type=..., instance_count=...,
    role=..., hyperparameters=..., output_path=output_uri, max_run=..., use_spot_instances=...,
    max_wait=..., checkpoint_s3_uri=..., keep_alive_period_in_seconds=..., subnets=...,
    security_group_ids=..., output_kms_key=kms_key_id, volume_kms_key=kms_key_id, tags=...)
    .fit({"training": training_uri[, "validation": validation_uri]}, job_name=job_name,
    accept_eula=...)` sends it (factory.estimator.get_init_kwargs and get_fit_kwargs, then
    Estimator.__init__, EstimatorBase._prepare_for_training, _TrainingJob._get_train_args and
    Session.get_train_request).

    `hyperparameters` maps algorithm hyperparameter names to values (strings from a form, or the cleaned
    values of validate_hyperparameters); the others keep the spec's defaults. The SDK names a job
    name_from_base(resource_name_base) (job_name_base); here the caller names it, so a retried launch
    finds its job.

    Raises SpecError when the spec cannot be trained as asked (or a gated model's license is not
    accepted), ValueError for arguments that contradict each other or SageMaker's limits.
    """
    _check_arguments(job_name=job_name, instance_count=instance_count, training_uri=training_uri,
                     validation_uri=validation_uri, output_uri=output_uri, max_run_seconds=max_run_seconds,
                     use_spot=use_spot, max_wait_seconds=max_wait_seconds, checkpoint_uri=checkpoint_uri,
                     keep_alive_seconds=keep_alive_seconds, subnets=subnets, security_groups=security_groups)
    if not instance_family(instance_type):
        raise SpecError(f"{instance_type!r} is not a SageMaker instance type such as ml.g5.2xlarge.")
    _refuse_untrainable(spec)
    variants = _training_variants(spec)
    eula = _check_training_eula(spec, region, accept_eula)

    image = _training_image(spec, region, instance_type)
    artifact, gated_env = _training_artifact(spec, region, instance_type, variants)
    script = _training_script(spec, region)
    settings = _estimator_settings(spec, instance_type)
    max_run = Sourced(max_run_seconds, "max_run_seconds, as given") if max_run_seconds else settings["max_run"]
    if use_spot and max_wait_seconds < max_run.value:
        raise ValueError(f"The spot wait ({max_wait_seconds} s) must be at least the maximum run time "
                         f"({max_run.value} s): SageMaker counts the run inside the wait.")
    isolation = settings["network_isolation"]
    values, hp_source = _hyperparameters(spec, instance_type, variants, hyperparameters)
    hyperparameter_strings = _script_mode_hyperparameters(values, script, isolation.value, job_name, region)
    metrics = _metric_definitions(spec, instance_type, variants)
    environment = _training_environment(spec, instance_type, variants, gated_env, eula)

    channels = [_channel("training", training_uri)]
    if validation_uri:
        channels.append(_channel("validation", validation_uri))
    if gated_env is None:
        model_channel = _channel(MODEL_CHANNEL, artifact.value, content_type=MODEL_CONTENT_TYPE,
                                 input_mode=INPUT_MODE)
        if eula:
            model_channel["DataSource"]["S3DataSource"]["ModelAccessConfig"] = {"AcceptEula": True}
        channels.append(model_channel)
    code_channel = None
    if isolation.value:
        code_channel = Sourced(CODE_CHANNEL, f"network isolation: the code reaches the container as the "
                                             f"\"{CODE_CHANNEL}\" channel, at {CODE_IN_CONTAINER}")
        channels.append(_channel(CODE_CHANNEL, script.value))

    algorithm = {"TrainingInputMode": INPUT_MODE, "TrainingImage": image.value}
    if metrics.value:
        algorithm["MetricDefinitions"] = metrics.value
    output = {"S3OutputPath": output_uri}
    if kms_key_id:
        output["KmsKeyId"] = kms_key_id
    if settings["output_compression"].value == "NONE":
        output["CompressionType"] = "NONE"
    resources = {"VolumeSizeInGB": settings["volume_size"].value}
    if kms_key_id and _volume_size_supported(instance_type):
        resources["VolumeKmsKeyId"] = kms_key_id
    if keep_alive_seconds:
        resources["KeepAlivePeriodInSeconds"] = keep_alive_seconds
    resources.update({"InstanceCount": instance_count, "InstanceType": instance_type})
    stopping = {"MaxRuntimeInSeconds": max_run.value}
    if use_spot:
        stopping["MaxWaitTimeInSeconds"] = max_wait_seconds

    request = {
        "AlgorithmSpecification": algorithm,
        "OutputDataConfig": output,
        "TrainingJobName": job_name,
        "StoppingCondition": stopping,
        "ResourceConfig": resources,
        "RoleArn": role_arn,
        "InputDataConfig": channels,
        "HyperParameters": hyperparameter_strings,
    }
    if environment.value:
        request["Environment"] = environment.value
    request["Tags"] = _training_tags(spec, tags)
    if subnets:
        request["VpcConfig"] = {"Subnets": list(subnets), "SecurityGroupIds": list(security_groups)}
    if isolation.value:
        request["EnableNetworkIsolation"] = True
    if settings["encryption"].value:
        request["EnableInterContainerTrafficEncryption"] = True
    if use_spot:
        request["EnableManagedSpotTraining"] = True
    if checkpoint_uri:
        request["CheckpointConfig"] = {"S3Uri": checkpoint_uri}
    debugger, profiler = _debugger_and_profiler(region, instance_type, output_uri)
    if debugger.value:
        request["DebugHookConfig"] = debugger.value
    request["ProfilerConfig"] = profiler.value

    sources = {
        "image": image,
        "training_artifact": artifact,
        "script": script,
        "code_channel": code_channel,
        "hyperparameters": Sourced(values, hp_source),
        "metrics": metrics,
        "environment": environment,
        "network_isolation": isolation,
        "encryption": settings["encryption"],
        "volume_size": settings["volume_size"],
        "max_run": max_run,
        "output_compression": settings["output_compression"],
        "eula": eula,
        "debugger": debugger,
        "profiler": profiler,
    }
    return TrainingRequest(request=request, sources=sources)


def job_name_base(spec):
    """What the SDK starts a training job's name with (factory.estimator._add_training_job_name_to_kwargs,
    then EstimatorBase._ensure_base_job_name): the spec's resource_name_base, else "sagemaker-jumpstart"
    for JumpStart's own script; utils.name_from_base then adds a timestamp."""
    return spec.get("resource_name_base") or RESOURCE_BASE_NAME


def _check_arguments(*, job_name, instance_count, training_uri, validation_uri, output_uri, max_run_seconds,
                     use_spot, max_wait_seconds, checkpoint_uri, keep_alive_seconds, subnets, security_groups):
    """What the SDK or SageMaker refuses about the arguments themselves (EstimatorBase.__init__,
    _Job._format_string_uri_input, and the CreateTrainingJob limits)."""
    if not _JOB_NAME.match(job_name or "") or len(job_name) > 63:
        raise ValueError(f"{job_name!r} is not a training job name: 1 to 63 letters, digits and hyphens, "
                         "starting and ending with a letter or digit.")
    if not _whole(instance_count) or instance_count < 1:
        raise ValueError(f"A training job needs at least one instance; got {instance_count!r}.")
    for what, uri in (("training data", training_uri), ("validation data", validation_uri),
                      ("output", output_uri), ("checkpoint", checkpoint_uri)):
        if uri is not None and not str(uri).startswith("s3://"):
            raise ValueError(f"The {what} location must be an S3 URI (s3://bucket/prefix); got {uri!r}.")
    if not training_uri or not output_uri:
        raise ValueError("A training job needs both its training data and its output location.")
    if max_run_seconds is not None and (not _whole(max_run_seconds) or max_run_seconds < 1):
        raise ValueError(f"The maximum run time must be a whole number of seconds; got {max_run_seconds!r}.")
    if use_spot:
        if not _whole(max_wait_seconds) or max_wait_seconds < 1:
            raise ValueError("Managed spot training needs a maximum wait (spot capacity plus the run), in "
                             "seconds, at least as long as the maximum run time.")
    elif max_wait_seconds is not None:
        raise ValueError("A maximum wait applies to managed spot training only: turn spot on or leave it out.")
    if not _whole(keep_alive_seconds) or not 0 <= keep_alive_seconds <= MAX_KEEP_ALIVE:
        raise ValueError(f"A warm pool is kept from 0 to {MAX_KEEP_ALIVE} seconds; got {keep_alive_seconds!r}.")
    if bool(subnets) != bool(security_groups):
        raise ValueError("a VPC needs both subnets and security groups")


def _whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _refuse_untrainable(spec):
    """What JumpStartEstimator refuses unless told to tolerate it (utils.verify_model_region_and_return_specs
    with the training scope), what JumpStartModelSpecs cannot load (training_artifact_key and
    training_script_key are read as required fields), and what this dashboard does not run."""
    model_id = spec.get("model_id") or "this model"
    version = spec.get("version")
    if not spec.get("training_supported"):
        raise SpecError(f"{model_id} {version} cannot be fine-tuned: its spec does not support training "
                        "(training_supported is false). Deploy it as it is, or pick a fine-tunable model.")
    if spec.get("deprecated"):
        raise SpecError(spec.get("deprecated_message") or (
            f"Version {version} of {model_id} is deprecated: fine-tune a newer version."))
    if spec.get("training_vulnerable"):
        found = ", ".join(spec.get("training_vulnerabilities") or []) or "listed in the spec"
        raise SpecError(f"The training code of {model_id} {version} has dependencies with known "
                        f"vulnerabilities ({found}): fine-tune a newer version.")
    if not spec.get("training_artifact_key"):
        raise SpecError(f"The spec of {model_id} {version} names no pretrained weights to start from "
                        "(training_artifact_key): sync the catalog from JumpStart's bucket to get its full spec.")
    if not (spec.get("training_prepacked_script_key") or spec.get("training_script_key")):
        raise SpecError(f"The spec of {model_id} {version} names no training code (training_script_key): "
                        "sync the catalog from JumpStart's bucket to get its full spec.")
    if spec.get("training_model_package_artifact_uris"):
        raise SpecError(f"{model_id} trains from an AWS Marketplace package "
                        "(training_model_package_artifact_uris), which this dashboard does not support: "
                        "fine-tune it from SageMaker Studio.")


def _training_variants(spec):
    return (spec.get("training_instance_type_variants") or {}).get("variants") or {}


def _is_gated(spec):
    """JumpStartModelSpecs.is_gated_model: a EULA key or the gated bucket."""
    return bool(spec.get("gated_bucket")) or spec.get("hosting_eula_key") is not None


def _check_training_eula(spec, region, accept_eula):
    """A gated model's license must be accepted (JumpStartEstimator.fit(accept_eula=True))."""
    if not _is_gated(spec):
        return None
    url = eula_url(spec, region)
    if not accept_eula:
        terms = f" Read the terms at {url}." if url else ""
        raise SpecError(f"{spec.get('model_id') or 'This model'} is gated: accept its end-user license "
                        f"agreement (EULA) to fine-tune it.{terms}")
    return Sourced(url or True, "hosting_eula_key" if url else "gated_bucket")


def training_image(spec, region, instance_type):
    """The training image URI for the instance type (SpecError when the spec gives none)."""
    return _training_image(spec, region, instance_type).value


def _training_image(spec, region, instance_type):
    """image_uris._retrieve_image_uri(image_scope="training") through
    JumpStartInstanceTypeVariants._get_regional_property: the variant for the instance type, else for its
    family, names an alias ("$gpu_ecr_uri_1") that regional_aliases[region] resolves."""
    block = spec.get("training_instance_type_variants") or {}
    variants = block.get("variants")
    by_region = block.get("regional_aliases") or {}
    if variants is None or not by_region:
        if spec.get("training_ecr_specs"):
            ecr = spec["training_ecr_specs"]
            named = " ".join(str(ecr[k]) for k in ("framework", "framework_version", "py_version") if ecr.get(k))
            raise SpecError(
                f"The spec names its training container only by framework ({named}, training_ecr_specs), "
                "not by image (training_instance_type_variants): the SageMaker Python SDK v2 cannot train "
                "it either. Fine-tune a newer version of the model, whose spec lists its images."
            )
        raise SpecError("The spec names no training container image (training_instance_type_variants).")
    family = instance_family(instance_type)
    for key in (instance_type, family):
        alias = ((variants.get(key) or {}).get("regional_properties") or {}).get("image_uri")
        if alias:
            break
    else:
        raise SpecError(f"The spec has no training image for {instance_type} (nor for the {family} family): "
                        "choose one of the instance types the model trains on.")
    if not alias.startswith("$"):
        raise SpecError(f"The spec's training image for {key} ({alias}) is not an alias: the spec is malformed.")
    if region not in by_region:
        raise SpecError(f"The spec gives no training image for {region} "
                        f"(it covers {len(by_region)} other regions, such as {min(by_region)}).")
    image = (by_region[region] or {}).get(alias[1:])
    if not image:
        raise SpecError(f"The spec's training image alias {alias} for {key} has no image in {region}.")
    return Sourced(image, f"training_instance_type_variants.regional_aliases[{region}].{alias[1:]} "
                          f"via variants[{key}]")


def _training_artifact(spec, region, instance_type, variants):
    """The pretrained weights: JumpStartModelSpecs.use_training_model_artifact decides between the
    "model" channel (model_uris._retrieve_training_artifact_key: the variant's training_artifact_uri or
    training_artifact_key, else the spec's, in the gated bucket when gated_bucket is set) and, for older
    gated specs whose variants carry gated_model_key_env_var_value, the SageMakerGatedModelS3Uri
    variable the training code reads instead (environment_variables._retrieve_gated_model_uri_env_var_value).
    Returns (Sourced artifact URI, gated environment value or None)."""
    bucket = gated_bucket(region) if spec.get("gated_bucket") else jumpstart_bucket(region)
    supported = spec.get("supported_training_instance_types") or []
    env_keys = {t: _variant_property(variants, t, "gated_model_key_env_var_value")[0] for t in supported}
    if any(env_keys.values()):
        key, variant_key = _variant_property(variants, instance_type, "gated_model_key_env_var_value")
        source = f"variants[{variant_key}].properties.gated_model_key_env_var_value"
        if not key:
            known = set(env_keys.values())
            if len(known) != 1 or None in known:
                raise SpecError(f"The spec keeps a separate gated artifact per instance type and none for "
                                f"{instance_type}: choose one of {', '.join(supported)}.")
            key, source = known.pop(), "gated_model_key_env_var_value, the same for every supported type"
        uri = f"s3://{gated_bucket(region)}/{key}"
        return Sourced(uri, f"{source} in {gated_bucket(region)}: the {GATED_ARTIFACT_ENV} variable"), uri

    key, variant_key = _variant_property(variants, instance_type, "training_artifact_uri")
    source = f"variants[{variant_key}].properties.training_artifact_uri"
    if not key:
        key, variant_key = _variant_property(variants, instance_type, "training_artifact_key")
        source = f"variants[{variant_key}].properties.training_artifact_key"
    if not key:
        key, source = spec["training_artifact_key"], "training_artifact_key"
    uri = key if key.startswith("s3://") else f"s3://{bucket}/{key}"
    return Sourced(uri, f"{source} in {bucket}: the \"{MODEL_CHANNEL}\" channel"), None


def _training_script(spec, region):
    """script_uris._retrieve_script_uri(script_scope="training"): the prepacked script (which also packs
    the inference code into the trained artifact) when the spec has one, else training_script_key,
    always in the public bucket."""
    field = "training_prepacked_script_key" if spec.get("training_prepacked_script_key") else "training_script_key"
    bucket = jumpstart_bucket(region)
    return Sourced(f"s3://{bucket}/{spec[field]}", f"{field} in {bucket}")


def _volume_size_supported(instance_type):
    """sagemaker.utils.volume_size_supported (= instance_supports_kms) in v2.257: families with a "d" and
    g5, g6, p5, trn1 train on local NVMe storage, which takes neither a volume size nor a KMS key."""
    family = instance_family(instance_type)
    return "d" not in family and not family.startswith(_NO_EBS_FAMILIES)


def _estimator_settings(spec, instance_type):
    """kwargs._retrieve_estimator_init_kwargs: estimator_kwargs, training_enable_network_isolation, and
    training_volume_size where the instance takes an EBS volume; EstimatorBase's defaults otherwise."""
    kwargs = dict(spec.get("estimator_kwargs") or {})
    unknown = sorted(set(kwargs) - _ESTIMATOR_KWARGS)
    if unknown:
        raise SpecError(f"The spec asks the estimator for {', '.join(unknown)} (estimator_kwargs), which this "
                        "dashboard does not know how to send: fine-tune it from SageMaker Studio.")
    unknown_fit = sorted(set(spec.get("fit_kwargs") or {}) - _HARMLESS_FIT_KWARGS)
    if unknown_fit:
        raise SpecError(f"The spec asks fit() for {', '.join(unknown_fit)} (fit_kwargs), which this "
                        "dashboard does not know how to send: fine-tune it from SageMaker Studio.")

    # JumpStartModelSpecs reads a missing training_enable_network_isolation as False, and that value
    # goes over estimator_kwargs; only an explicit null leaves estimator_kwargs' own.
    if spec.get("training_enable_network_isolation", False) is not None:
        isolation = Sourced(bool(spec.get("training_enable_network_isolation")), "training_enable_network_isolation"
                            if "training_enable_network_isolation" in spec
                            else "default: the spec does not ask for network isolation")
    else:
        isolation = Sourced(bool(kwargs.get("enable_network_isolation")), "estimator_kwargs.enable_network_isolation")

    if spec.get("training_volume_size") is not None and _volume_size_supported(instance_type):
        volume = Sourced(spec["training_volume_size"], "training_volume_size")
    elif kwargs.get("volume_size") is not None:
        volume = Sourced(kwargs["volume_size"], "estimator_kwargs.volume_size")
    elif spec.get("training_volume_size") is not None:
        volume = Sourced(DEFAULT_VOLUME_SIZE, f"the SDK default: {instance_type} trains on local storage, so "
                                              "training_volume_size does not apply")
    else:
        volume = Sourced(DEFAULT_VOLUME_SIZE, "the SDK default (EstimatorBase volume_size)")

    if kwargs.get("max_run"):
        max_run = Sourced(kwargs["max_run"], "estimator_kwargs.max_run")
    else:
        max_run = Sourced(DEFAULT_MAX_RUN, "the SDK default (EstimatorBase max_run, one day)")
    encryption = (Sourced(bool(kwargs["encrypt_inter_container_traffic"]),
                          "estimator_kwargs.encrypt_inter_container_traffic")
                  if "encrypt_inter_container_traffic" in kwargs
                  else Sourced(False, "default: the spec does not ask for it"))
    compression = (Sourced("NONE", "estimator_kwargs.disable_output_compression: the model is written "
                                   "uncompressed")
                   if kwargs.get("disable_output_compression")
                   else Sourced("GZIP", "default: the model is written as model.tar.gz"))
    return {"network_isolation": isolation, "volume_size": volume, "max_run": max_run,
            "encryption": encryption, "output_compression": compression}


def _hyperparameters(spec, instance_type, variants, given):
    """factory.estimator._add_hyperparameters_to_kwargs: the given values, then for every other name
    hyperparameters.retrieve_default: str() of each algorithm-scope default, and of the instance
    variant's hyperparameters (type, then family). Returns (name -> str, source)."""
    cleaned, errors = validate_hyperparameters(spec, given or {})
    if errors:
        raise ValueError(" ".join(errors.values()))
    defaults = {hp["name"]: str(hp.get("default")) for hp in spec.get("hyperparameters") or []
                if hp.get("scope") == "algorithm"}
    parts = [f"{len(cleaned)} given", f"{len(defaults)} algorithm hyperparameters' defaults"]
    specific = _variant_list(variants, instance_type, "hyperparameters", "name")
    for hp in specific:
        defaults[hp["name"]] = str(hp.get("default"))
    if specific:
        parts.append(f"instance variant defaults ({', '.join(hp['name'] for hp in specific)})")
    values = {name: str(value) for name, value in cleaned.items()}
    values.update({name: value for name, value in defaults.items() if name not in values})
    return values, " + ".join(parts)


def _script_mode_hyperparameters(values, script, isolated, job_name, region):
    """Estimator.set_hyperparameters JSON-encodes every value because source_dir is set (so the string
    "5" is sent as "\\"5\\""), then EstimatorBase._script_mode_hyperparam_update adds where the code is
    (the "code" channel's path under network isolation, else the script's S3 URI), the entry point,
    the log level, the job name and the region, JSON-encoded too; _get_train_args then str()s them."""
    encoded = {str(name): json.dumps(value) for name, value in values.items()}
    encoded.update({
        "sagemaker_submit_directory": json.dumps(CODE_IN_CONTAINER if isolated else script.value),
        "sagemaker_program": json.dumps(TRAINING_ENTRY_POINT),
        "sagemaker_container_log_level": json.dumps(CONTAINER_LOG_LEVEL),
        "sagemaker_job_name": json.dumps(job_name),
        "sagemaker_region": json.dumps(region),
    })
    return encoded


def _variant_list(variants, instance_type, name, key):
    """Items of a list property for the instance type, then those of its family whose `key` the type
    does not have (JumpStartInstanceTypeVariants.get_instance_specific_hyperparameters / _metric_definitions)."""
    own = list(((variants.get(instance_type) or {}).get("properties") or {}).get(name) or [])
    family = instance_family(instance_type)
    inherited = ((variants.get(family) or {}).get("properties") or {}).get(name) or [] if family else []
    names = {item.get(key) for item in own}
    return deepcopy(own + [item for item in inherited if item.get(key) not in names])


def _metric_definitions(spec, instance_type, variants):
    """metric_definitions._retrieve_default_training_metric_definitions: the spec's metrics, each
    replaced by the instance variant's metric of the same name."""
    metrics = deepcopy(spec.get("metrics") or [])
    specific = _variant_list(variants, instance_type, "metrics", "Name")
    for metric in specific:
        metrics = [m for m in metrics if m.get("Name") != metric.get("Name")] + [metric]
    source = "metrics" + (f" + instance variant metrics ({len(specific)})" if specific else "")
    return Sourced(metrics, source if metrics else "none: the spec defines no metrics")


def _training_environment(spec, instance_type, variants, gated_env, eula):
    """environment_variables.retrieve_default(script="training"): the instance variant's
    environment_variables (family, then type) and the gated artifact's SageMakerGatedModelS3Uri.
    Specs with that variable predate the model channel, which is where fit(accept_eula=True) puts the
    acceptance; for them the SDK's documented way, environment={"accept_eula": "true"}, is what is sent."""
    environment, parts = {}, []
    family = instance_family(instance_type)
    for key in (family, instance_type):
        extra = ((variants.get(key) or {}).get("properties") or {}).get("environment_variables") or {}
        if extra:
            environment.update({name: str(value) for name, value in extra.items()})
            parts.append(f"variants[{key}].properties.environment_variables")
    if gated_env:
        environment[GATED_ARTIFACT_ENV] = gated_env
        parts.append(f"{GATED_ARTIFACT_ENV} (the gated artifact)")
        if eula:
            environment["accept_eula"] = "true"
            parts.append("accept_eula (the license, accepted)")
    return Sourced(environment, " + ".join(parts) if parts else "none: the spec sets no training variables")


def _channel(name, uri, *, content_type=None, input_mode=None):
    """A TrainingInput(uri) as _Job._convert_input_to_channel makes it: an S3 prefix, fully replicated."""
    channel = {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                               "S3DataDistributionType": "FullyReplicated"}}}
    if content_type:
        channel["ContentType"] = content_type
    if input_mode:
        channel["InputMode"] = input_mode
    channel["ChannelName"] = name
    return channel


def _training_tags(spec, tags):
    """The caller's tags, then JumpStart's model id and version tags unless the caller set those keys
    (factory.estimator._add_tags_to_kwargs via utils.add_jumpstart_model_info_tags; the URI tags
    add_jumpstart_uri_tags would add are skipped once the model id tag is there)."""
    given = [{"Key": str(key), "Value": str(value)} for key, value in tags]
    keys = {tag["Key"] for tag in given}
    ours = [{"Key": key, "Value": str(value)} for key, value in
            ((TAG_MODEL_ID, spec.get("model_id")), (TAG_MODEL_VERSION, spec.get("version")))
            if value and key not in keys]
    return given + ours


def _debugger_and_profiler(region, instance_type, output_uri):
    """EstimatorBase._prepare_debugger_for_training and _prepare_profiler_for_training with no rules:
    a debugger hook writing under the output path where the region has SageMaker Debugger, and the
    profiler on (same path) except where the region lacks it or the instance is a Trainium one."""
    supported = region.lower() not in _NO_DEBUGGER_REGIONS
    debugger = (Sourced({"S3OutputPath": output_uri, "CollectionConfigurations": []},
                        "the SDK's default debugger hook, under the output path")
                if supported else Sourced(None, f"none: SageMaker Debugger is not offered in {region}"))
    if supported and not instance_family(instance_type).startswith("trn"):
        profiler = Sourced({"S3OutputPath": output_uri, "DisableProfiler": False},
                           "the SDK's default profiler, under the output path")
    else:
        profiler = Sourced({"DisableProfiler": True}, f"profiler off: not offered in {region} or on {instance_type}")
    return debugger, profiler


# -- hyperparameters --------------------------------------------------------------------------------


def hyperparameter_specs(spec):
    """The spec's algorithm-scope hyperparameters (the ones a user sets), in the spec's order:
    dicts with name, type (int, float, text, bool), default, and optionally options, min, max,
    exclusive_min, exclusive_max."""
    return [deepcopy(hp) for hp in spec.get("hyperparameters") or [] if hp.get("scope") == "algorithm"]


def validate_hyperparameters(spec, values):
    """Check user values against the spec as validators.validate_hyperparameters(VALIDATE_PROVIDED)
    does: bool is true/false (any case), text must be a string in `options` with min/max/exclusive
    bounds on its length, int is an optionally signed run of digits and float any number, both within
    min, max, exclusive_min and exclusive_max. Strings are stripped first, as a form field is; beyond
    the SDK, numbers must be finite (no nan or inf). Container-scope names (sagemaker_program...) are
    set by the training job itself and unknown names are refused.

    Returns (cleaned: name -> int, float, bool or str; errors: name -> message naming the fix)."""
    known = {hp["name"]: hp for hp in hyperparameter_specs(spec)}
    container = {hp.get("name") for hp in spec.get("hyperparameters") or [] if hp.get("scope") != "algorithm"}
    cleaned, errors = {}, {}
    for name, raw in values.items():
        if name in container:
            errors[name] = (f"{name} is set by the training job itself (it tells the container where its "
                            "code is), not by you: remove it.")
            continue
        if name not in known:
            choices = ", ".join(list(known)[:12]) + (", ..." if len(known) > 12 else "")
            errors[name] = (f"{spec.get('model_id') or 'This model'} has no hyperparameter named {name}: "
                            f"remove it, or use one of {choices or 'none: it takes no hyperparameters'}.")
            continue
        try:
            cleaned[name] = _clean_hyperparameter(known[name], raw.strip() if isinstance(raw, str) else raw)
        except ValueError as error:
            errors[name] = str(error)
    return cleaned, errors


def _clean_hyperparameter(hp, value):
    """validators._validate_hyperparameter for one value, returning it as its type."""
    name, kind = hp["name"], hp.get("type")
    if value is None or value == "":
        gave = "nothing"
    else:
        gave = str(value) if kind in ("int", "float") else repr(value) if isinstance(value, str) else str(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"{name} must be True or False; you gave {gave}.")
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError(f"{name} must be text; you gave {gave}.")
        if "options" in hp and value not in hp["options"]:
            raise ValueError(f"{name} must be one of {', '.join(map(str, hp['options']))}; you gave {gave}.")
        if not _within(len(value), hp):
            raise ValueError(f"{name} must be {_bounds(hp).removeprefix('of ')} characters long; you gave "
                             f"{len(value)} character{'s' if len(value) != 1 else ''}.")
        return value
    if kind in ("int", "float"):
        noun = "an integer" if kind == "int" else "a number"
        bounds = f" {_bounds(hp)}" if _bounds(hp) else ""
        message = f"{name} must be {noun}{bounds}; you gave {gave}."
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(message) from None
        if not math.isfinite(number):
            raise ValueError(message)
        if kind == "int":
            text = str(value)
            digits = text[1:] if text[:1] in ("+", "-") else text
            if not digits.isdigit():
                raise ValueError(message)
            number = int(text)
        if not _within(number, hp):
            raise ValueError(message)
        return number
    raise ValueError(f"{name} has a type ({kind}) this dashboard cannot check: the spec is malformed.")


def _within(number, hp):
    return not (("min" in hp and number < hp["min"]) or ("max" in hp and number > hp["max"])
                or ("exclusive_min" in hp and number <= hp["exclusive_min"])
                or ("exclusive_max" in hp and number >= hp["exclusive_max"]))


def _bounds(hp):
    """"from 1 to 1000", "of at least 0", "greater than 0 and at most 1", or "" without bounds."""
    low = (f"at least {_number(hp['min'])}" if "min" in hp else None,
           f"greater than {_number(hp['exclusive_min'])}" if "exclusive_min" in hp else None)
    high = (f"at most {_number(hp['max'])}" if "max" in hp else None,
            f"less than {_number(hp['exclusive_max'])}" if "exclusive_max" in hp else None)
    if "min" in hp and "max" in hp and not ({"exclusive_min", "exclusive_max"} & set(hp)):
        return f"from {_number(hp['min'])} to {_number(hp['max'])}"
    parts = [part for part in low + high if part]
    if not parts:
        return ""
    return ("of " if parts[0].startswith("at ") else "") + " and ".join(parts)


def _number(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- before a launch --------------------------------------------------------------------------------


def training_checks(spec, region, instance_type=None):
    """The objects a pre-launch check must find in JumpStart's buckets for training `spec` on
    `instance_type` (default: the spec's default training type): the pretrained artifact (in the gated
    bucket for gated models), the training script, and the default training dataset prefix when the
    spec names one. Raises SpecError when the spec cannot be trained at all."""
    _refuse_untrainable(spec)
    instance_type = instance_type or spec.get("default_training_instance_type") or ""
    artifact, _ = _training_artifact(spec, region, instance_type, _training_variants(spec))
    script = _training_script(spec, region)
    checks = [Check("training artifact", *_split(artifact.value)), Check("training script", *_split(script.value))]
    if spec.get("default_training_dataset_key"):
        checks.append(Check("default training dataset", jumpstart_bucket(region), spec["default_training_dataset_key"]))
    return checks


def default_dataset_uri(spec, region):
    """Where JumpStart keeps the model's example training data (default_training_dataset_uri, else
    default_training_dataset_key in the regional bucket, as JumpStart's notebooks build it), or None."""
    if spec.get("default_training_dataset_uri"):
        return spec["default_training_dataset_uri"]
    key = spec.get("default_training_dataset_key")
    return f"s3://{jumpstart_bucket(region)}/{key}" if key else None


def _split(uri):
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


# -- deploying the fine-tuned model -----------------------------------------------------------------


def fine_tuned_deploy_request(spec, *, region, model_data_uri, model_name, endpoint_config_name, endpoint_name,
                              instance_type, instance_count=1, role_arn, subnets=(), security_groups=(),
                              kms_key_id=None, tags=()):
    """The three SageMaker requests that deploy the artifact a training job of `spec` wrote
    (`model_data_uri`: the job's ModelArtifacts.S3ModelArtifacts), as `estimator.deploy(instance_type=...)`
    sends them: JumpStartEstimator.deploy -> factory.estimator.get_deploy_kwargs (model.get_deploy_kwargs
    and model.get_init_kwargs(model_from_estimator=True), which keep the training output as model data),
    then Estimator.create_model, Model.deploy and Model.prepare_container_def.

    The inference image, environment, network isolation, deploy settings and inference config come from
    the spec as for a JumpStart deploy (aws/jumpstart.py). The inference script is used only where the
    SDK uses one (JumpStartModelSpecs.use_inference_script_uri: no hosting_prepacked_artifact_key and
    hosting_use_script_uri): specs with a prepacked inference artifact train with the prepacked training
    script, which writes the inference code into the trained model.tar.gz, so the SDK deploys that
    tarball as it is. Otherwise the SDK repacks the tarball with hosting_script_key into its own bucket
    (SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code); the returned request's `repack` says what to copy
    where (next to the artifact, at <model_name>/model.tar.gz in its bucket) and CreateModel reads the
    copy. An uncompressed artifact (estimator_kwargs.disable_output_compression) is deployed as an S3
    prefix; the SDK cannot repack those and points the container at the script in S3 instead.

    No license acceptance is sent: the fine-tuned artifact is the caller's own. Raises SpecError when
    the spec cannot be deployed, ValueError for arguments that contradict each other.
    """
    if bool(subnets) != bool(security_groups):
        raise ValueError("a VPC needs both subnets and security groups")
    if not str(model_data_uri).startswith("s3://"):
        raise ValueError(f"The trained model must be an S3 URI; got {model_data_uri!r}.")
    if not instance_family(instance_type):
        raise SpecError(f"{instance_type!r} is not a SageMaker instance type such as ml.g5.2xlarge.")
    if kms_key_id and not _takes_ebs_volume(instance_type):
        raise SpecError(
            f"{instance_type} keeps its storage on local NVMe disks, which SageMaker encrypts itself: "
            "it takes no KMS key. Leave the KMS key empty, or choose an instance type without local "
            "storage (no \"d\" in the family, not g5)."
        )
    spec, config = _apply_inference_config(spec, instance_type)
    _refuse_unusable(spec, spec.get("model_id") or "this model")

    variants = (spec.get("hosting_instance_type_variants") or {}).get("variants") or {}
    image = _resolve_image(spec, region, instance_type)
    isolation = _network_isolation(spec)
    environment = _resolve_environment(spec, region, instance_type, variants, None)
    uncompressed = bool((spec.get("estimator_kwargs") or {}).get("disable_output_compression")) \
        or model_data_uri.endswith("/")

    script, repack = None, None
    uses_script = spec.get("hosting_prepacked_artifact_key") is None and spec.get("hosting_use_script_uri", True)
    if uses_script:
        if not spec.get("hosting_script_key"):
            raise SpecError("The spec keeps the inference code apart from the model (hosting_use_script_uri) "
                            "but names no hosting_script_key.")
        script = Sourced(f"s3://{jumpstart_bucket(region)}/{spec['hosting_script_key']}",
                         "hosting_script_key (the spec has no prepacked inference artifact)")

    env = dict(environment.value)
    if uncompressed:
        prefix = model_data_uri if model_data_uri.endswith("/") else model_data_uri + "/"
        container_data = {"ModelDataSource": {"S3DataSource": {"S3Uri": prefix, "S3DataType": "S3Prefix",
                                                               "CompressionType": "None"}}}
        model_data = Sourced(prefix, "the training job's uncompressed output, as an S3 prefix (ModelDataSource)")
        if script:
            if isolation.value:
                raise SpecError(
                    "The trained model is uncompressed and its inference code lives apart from it "
                    "(hosting_script_key), and the spec asks for network isolation, which would keep the "
                    "container from fetching that code. Deploy it from SageMaker Studio."
                )
            env.update(_model_script_env(script.value, region))
    else:
        container_data = {"ModelDataUrl": model_data_uri}
        model_data = Sourced(model_data_uri, "the training job's model.tar.gz (ModelDataUrl)")
        if script:
            bucket, _ = _split(model_data_uri)
            destination = f"s3://{bucket}/{model_name}/model.tar.gz"
            repack = Repack(model_uri=model_data_uri, script_uri=script.value, entry_point=INFERENCE_ENTRY_POINT,
                            destination_uri=destination, kms_key_id=kms_key_id)
            container_data = {"ModelDataUrl": destination}
            model_data = Sourced(destination, f"the training job's model.tar.gz repacked with the inference "
                                              f"code, to be copied to {destination} (ModelDataUrl)")
            env.update(_model_script_env(REPACKED_CODE_DIR, region))
    environment = Sourced(env, environment.source + (" + script mode (Model._script_mode_env_vars)" if script else ""))

    tag_list = _tags(spec, tags)
    if config and TAG_INFERENCE_CONFIG not in {tag["Key"] for tag in tag_list}:
        tag_list.append({"Key": TAG_INFERENCE_CONFIG, "Value": config.value})
    model, endpoint_config, endpoint, endpoint_settings = assemble(
        spec, container={"Image": image.value, "Environment": environment.value, **container_data},
        isolation=isolation.value, tag_list=tag_list, model_name=model_name,
        endpoint_config_name=endpoint_config_name, endpoint_name=endpoint_name, role_arn=role_arn,
        instance_type=instance_type, instance_count=instance_count, subnets=subnets,
        security_groups=security_groups, kms_key_id=kms_key_id)
    sources = {
        "image": image,
        "model_data": model_data,
        "script": script,
        "environment": environment,
        "network_isolation": isolation,
        "endpoint_settings": endpoint_settings,
        "eula": None,
        "config": config,
        "repack": Sourced(repack, "Model._upload_code(repack=True)") if repack else None,
    }
    return FineTunedDeployRequest(model=model, endpoint_config=endpoint_config, endpoint=endpoint,
                                  sources=sources, repack=repack)


def _model_script_env(submit_directory, region):
    """Model._script_mode_env_vars for the JumpStart entry point (container_log_level=logging.INFO)."""
    return {
        "SAGEMAKER_PROGRAM": INFERENCE_ENTRY_POINT,
        "SAGEMAKER_SUBMIT_DIRECTORY": submit_directory,
        "SAGEMAKER_CONTAINER_LOG_LEVEL": str(CONTAINER_LOG_LEVEL),
        "SAGEMAKER_REGION": region,
    }
