"""A JumpStart model spec turned into the SageMaker requests for a deploy: CreateModel,
CreateEndpointConfig and CreateEndpoint, resolved the way the SageMaker Python SDK v2 resolves them for
`JumpStartModel(model_id, model_version).deploy(instance_type=..., accept_eula=...)`.

Pure code: no client, no AWS call. Every resolved value records where in the spec it came from, so
users and admins can see why a deploy asks for what it asks for.
"""

import io
import json
import math
import re
import struct
import wave
from copy import deepcopy
from dataclasses import dataclass

# The SDK's instance family pattern (sagemaker.utils.get_instance_type_family): "ml.g5.2xlarge" -> "g5";
# with the hyphen its later versions allow, for families such as "p6-b200".
_FAMILY = re.compile(r"^ml[._]([a-z\d-]+)\.?\w*$")
# What the SDK's Model class adds in script mode (sagemaker.model.Model._script_mode_env_vars).
ENTRY_POINT = "inference.py"  # jumpstart.constants.INFERENCE_ENTRY_POINT_SCRIPT_NAME
CONTAINER_LOG_LEVEL = "20"  # Model(container_log_level=logging.INFO), stringified
# jumpstart.enums.JumpStartTag
TAG_MODEL_ID = "sagemaker-sdk:jumpstart-model-id"
TAG_MODEL_VERSION = "sagemaker-sdk:jumpstart-model-version"
TAG_INFERENCE_CONFIG = "sagemaker-sdk:jumpstart-inference-config-name"
VARIANT_NAME = "AllTraffic"
# deploy_kwargs (snake_case, as the spec writes them) -> ProductionVariant fields (session.production_variant)
_DEPLOY_KWARGS = {
    "model_data_download_timeout": "ModelDataDownloadTimeoutInSeconds",
    "container_startup_health_check_timeout": "ContainerStartupHealthCheckTimeoutInSeconds",
    "volume_size": "VolumeSizeInGB",
}
# Fields a named inference config may not override (types.JumpStartConfigComponent.OVERRIDING_DENY_LIST).
_CONFIG_DENY = {
    "model_id", "url", "version", "min_sdk_version", "deprecated", "deprecated_message",
    "deprecate_warn_message", "resource_name_base", "gated_bucket", "training_supported",
    "incremental_training_supported",
}


@dataclass(frozen=True)
class Sourced:
    """A resolved value and where it came from (shown to users and admins)."""

    value: object
    source: str


class SpecError(Exception):
    """The spec lacks something the deploy needs; the message says what, in plain words."""


@dataclass(frozen=True)
class DeployRequest:
    model: dict  # kwargs for sagemaker.create_model
    endpoint_config: dict  # kwargs for sagemaker.create_endpoint_config
    endpoint: dict  # kwargs for sagemaker.create_endpoint
    sources: dict  # name -> Sourced (or None): image, model_data, script, environment, ...


def jumpstart_bucket(region):
    return f"jumpstart-cache-prod-{region}"


def gated_bucket(region):
    return f"jumpstart-private-cache-prod-{region}"


def instance_family(instance_type):
    """"ml.g5.2xlarge" -> "g5"; "" when the name is not an ML instance type."""
    match = _FAMILY.match(instance_type or "")
    return match.group(1) if match else ""


def hardware(instance_type):
    """"gpu", "neuron" or "cpu": which kind of container image the instance type needs."""
    family = instance_family(instance_type)
    if family.startswith(("inf", "trn")):
        return "neuron"
    if family[:1] in ("g", "p"):
        return "gpu"
    return "cpu"


def deploy_request(spec, *, region, model_name, endpoint_config_name, endpoint_name, instance_type,
                   instance_count=1, role_arn, subnets=(), security_groups=(), kms_key_id=None,
                   accept_eula=False, tags=(), config_name=None):
    """The three SageMaker requests that deploy `spec` on `instance_type` in `region`, with the named
    inference config `config_name` (default: the best-ranked one for the instance type).

    Raises SpecError when the spec cannot give what the deploy needs (or a gated model's license is
    not accepted), ValueError for arguments that contradict each other.
    """
    if bool(subnets) != bool(security_groups):
        raise ValueError("a VPC needs both subnets and security groups")
    if not instance_family(instance_type):
        raise SpecError(f"{instance_type!r} is not a SageMaker instance type such as ml.g5.2xlarge.")
    spec, config = _apply_inference_config(spec, instance_type, config_name)
    model_id = spec.get("model_id") or "this model"
    _refuse_unusable(spec, model_id)
    eula = _check_eula(spec, region, accept_eula)
    if kms_key_id and not _takes_ebs_volume(instance_type):
        raise SpecError(
            f"{instance_type} keeps its storage on local NVMe disks, which SageMaker encrypts itself: "
            "it takes no KMS key. Leave the KMS key empty, or choose an instance type without local "
            "storage (no \"d\" in the family, not g5)."
        )

    variants = (spec.get("hosting_instance_type_variants") or {}).get("variants") or {}
    image = _resolve_image(spec, region, instance_type)
    model_data, data_source, script = _resolve_model_data(spec, region, instance_type, variants, eula)
    isolation = _network_isolation(spec)
    if script and isolation.value:
        raise SpecError(
            "The spec keeps the inference code apart from the model artifact (hosting_script_key), and "
            "asks for network isolation, which would keep the container from fetching that code. "
            "The SageMaker Python SDK repacks such artifacts into your own bucket first; this "
            "dashboard does not."
        )
    environment = _resolve_environment(spec, region, instance_type, variants, script)

    container = {"Image": image.value, "Environment": environment.value}
    additional = _additional_data_sources(spec, region, eula)
    if additional:
        container["AdditionalModelDataSources"] = additional.value
    if isinstance(data_source, dict):
        container["ModelDataSource"] = data_source
    else:
        container["ModelDataUrl"] = data_source
    tag_list = _tags(spec, tags)
    if config and TAG_INFERENCE_CONFIG not in {tag["Key"] for tag in tag_list}:
        tag_list.append({"Key": TAG_INFERENCE_CONFIG, "Value": config.value})
    model, endpoint_config, endpoint, endpoint_settings = assemble(
        spec, container=container, isolation=isolation.value, tag_list=tag_list, model_name=model_name,
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
        "eula": eula,
        "config": config,
        "additional_data": additional,
    }
    return DeployRequest(model=model, endpoint_config=endpoint_config, endpoint=endpoint, sources=sources)


def assemble(spec, *, container, isolation, tag_list, model_name, endpoint_config_name, endpoint_name,
             role_arn, instance_type, instance_count, subnets, security_groups, kms_key_id):
    """The three requests from resolved parts, as session.create_model, production_variant and
    endpoint_from_production_variants write them. Returns (model, endpoint config, endpoint,
    Sourced endpoint settings)."""
    model = {
        "ModelName": model_name,
        "ExecutionRoleArn": role_arn,
        "PrimaryContainer": container,
        "EnableNetworkIsolation": isolation,
        "Tags": deepcopy(tag_list),
    }
    if subnets:
        model["VpcConfig"] = {"Subnets": list(subnets), "SecurityGroupIds": list(security_groups)}
    endpoint_settings = _endpoint_settings(spec, instance_type)
    variant = {
        "VariantName": VARIANT_NAME,
        "ModelName": model_name,
        "InitialInstanceCount": instance_count,
        "InstanceType": instance_type,
        "InitialVariantWeight": 1,
        **endpoint_settings.value,
    }
    endpoint_config = {"EndpointConfigName": endpoint_config_name, "ProductionVariants": [variant],
                       "Tags": deepcopy(tag_list)}
    if kms_key_id:
        endpoint_config["KmsKeyId"] = kms_key_id
    endpoint = {"EndpointName": endpoint_name, "EndpointConfigName": endpoint_config_name,
                "Tags": deepcopy(tag_list)}
    return model, endpoint_config, endpoint, endpoint_settings


# -- resolution steps, each as the SDK takes it ------------------------------------------------------


def inference_config_names(spec):
    """The spec's named inference configs, best-ranked first: rankings["overall"] order, else the
    names sorted (types.JumpStartModelSpecs)."""
    configs = spec.get("inference_configs") or {}
    ranking = (spec.get("inference_config_rankings") or {}).get("overall") or {}
    return [name for name in (ranking.get("rankings") or sorted(configs)) if name in configs]


def resolved_config(spec, name):
    """The spec with the named config's components merged over its base fields."""
    configs = spec.get("inference_configs") or {}
    components = spec.get("inference_config_components") or {}
    merged = deepcopy(spec)
    for component in (configs[name] or {}).get("component_names") or []:
        merged = _deep_override(merged, components.get(component) or {})
    if merged.get("hosting_model_package_arns"):
        merged["inference_environment_variables"] = []
    return merged


def _apply_inference_config(spec, instance_type, config_name=None):
    """Merge a named inference config over the base fields: the one asked for, else the best-ranked
    whose resolved supported_inference_instance_types include the instance type, as the SDK picks
    one at deploy, else the best-ranked."""
    names = inference_config_names(spec)
    if not names:
        if config_name:
            raise SpecError(f"The spec has no named inference configs, so none called {config_name!r}.")
        return spec, None
    if config_name:
        if config_name not in names:
            raise SpecError(f"The spec has no inference config {config_name!r}: it has {', '.join(names)}.")
        candidate = resolved_config(spec, config_name)
        if instance_type not in (candidate.get("supported_inference_instance_types") or [instance_type]):
            raise SpecError(f"The {config_name} configuration does not run on {instance_type}: choose one of "
                            f"{', '.join(candidate['supported_inference_instance_types'])}.")
        return candidate, Sourced(config_name, f"inference_configs[{config_name}], as chosen")
    for name in names:
        candidate = resolved_config(spec, name)
        if instance_type in (candidate.get("supported_inference_instance_types") or []):
            return candidate, Sourced(name, f"inference_configs[{name}], the best-ranked config for {instance_type}")
    return resolved_config(spec, names[0]), Sourced(names[0], f"inference_configs[{names[0]}], the best-ranked config")


def _additional_data_sources(spec, region, eula):
    """hosting_additional_data_sources.speculative_decoding as the SDK sends them
    (factory.model._add_additional_model_data_sources_to_kwargs, then
    utils._add_model_access_configs_to_model_data_sources): ChannelName and S3DataSource, the
    S3 URI in JumpStart's bucket (gated or not, by the provider's classification), and
    ModelAccessConfig where the source has its own EULA. Other kinds of additional data are not
    sent by the SDK either."""
    sources = ((spec.get("hosting_additional_data_sources") or {}).get("speculative_decoding")) or []
    if not sources:
        return None
    sent = []
    for source in sources:
        provider = source.get("provider") or {}
        if provider.get("name") != "JumpStart":
            raise SpecError(
                f"The {source.get('channel_name') or 'extra'} model data comes from "
                f"{provider.get('name') or 'SageMaker Neo'}'s bucket, which this dashboard does not know: "
                "choose the other configuration."
            )
        bucket = gated_bucket(region) if provider.get("classification") == "gated" else jumpstart_bucket(region)
        data = source.get("s3_data_source") or {}
        uri = data.get("s3_uri") or ""
        uri = uri if uri.startswith("s3://") else f"s3://{bucket}/{uri}"
        s3_source = {key: value for key, value in (("CompressionType", data.get("compression_type")),
                                                  ("S3DataType", data.get("s3_data_type")), ("S3Uri", uri)) if value}
        if source.get("hosting_eula_key"):
            if not eula:
                raise SpecError(f"The {source.get('channel_name')} model data has a license of its own: accept "
                                "the model's license (EULA) to deploy this configuration.")
            s3_source["ModelAccessConfig"] = {"AcceptEula": True}
        sent.append({"ChannelName": source.get("channel_name"), "S3DataSource": s3_source})
    names = ", ".join(s["ChannelName"] for s in sent)
    return Sourced(sent, f"hosting_additional_data_sources.speculative_decoding ({names}), AdditionalModelDataSources")


def benchmarks(spec):
    """The named configurations as Studio shows them, best-ranked first: [{"name", "accelerations",
    "types": {instance type: [{"concurrency", metric name: (value, unit)}]}}]. Empty without configs."""
    shown = []
    for name in inference_config_names(spec):
        config = spec["inference_configs"][name] or {}
        rows = {}
        for instance_type, stats in (config.get("benchmark_metrics") or {}).items():
            by_concurrency = {}
            for stat in stats or []:
                level = by_concurrency.setdefault(str(stat.get("concurrency", "")), {})
                level[stat.get("name", "")] = (stat.get("value"), stat.get("unit", ""))
            rows[instance_type] = [{"concurrency": level, **metrics}
                                   for level, metrics in sorted(by_concurrency.items(), key=lambda i: _number(i[0]))]
        accelerations = [a.get("type") for a in config.get("acceleration_configs") or [] if a.get("enabled")]
        shown.append({"name": name, "accelerations": accelerations, "types": rows,
                      "supported": resolved_config(spec, name).get("supported_inference_instance_types") or []})
    return shown


def _number(text):
    try:
        return float(text)
    except ValueError:
        return float("inf")


def _deep_override(base, override, deny=_CONFIG_DENY):
    """utils.deep_override_dict: nested dicts merge key by key, anything else is replaced; None
    never overrides, and the deny list holds at the top level only."""
    merged = dict(base)
    for key, value in override.items():
        if key in deny or value is None:
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_override(merged[key], value, deny=())
        else:
            merged[key] = deepcopy(value)
    return merged


def _refuse_unusable(spec, model_id):
    """What JumpStartModel refuses unless told to tolerate it (utils.verify_model_region_and_return_specs)."""
    if spec.get("deprecated"):
        raise SpecError(spec.get("deprecated_message") or (
            f"Version {spec.get('version')} of {model_id} is deprecated: deploy a newer version."))
    if spec.get("inference_vulnerable"):
        found = ", ".join(spec.get("inference_vulnerabilities") or []) or "listed in the spec"
        raise SpecError(f"The inference code of {model_id} {spec.get('version')} has dependencies with "
                        f"known vulnerabilities ({found}): deploy a newer version.")
    if spec.get("hosting_model_package_arns"):
        raise SpecError(f"{model_id} deploys from an AWS Marketplace model package, which this dashboard "
                        "does not support: deploy it from SageMaker Studio.")


def _check_eula(spec, region, accept_eula):
    """Gated models (a EULA key or the gated bucket: JumpStartModelSpecs.is_gated_model) need the
    license accepted; the request then carries ModelAccessConfig.AcceptEula."""
    if not (spec.get("gated_bucket") or spec.get("hosting_eula_key")):
        return None
    url = eula_url(spec, region)
    if not accept_eula:
        terms = f" Read the terms at {url}." if url else ""
        raise SpecError(f"{spec.get('model_id') or 'This model'} is gated: accept its end-user license "
                        f"agreement (EULA) to deploy it.{terms}")
    return Sourced(url or True, "hosting_eula_key" if url else "gated_bucket")


def eula_url(spec, region):
    """Where JumpStart publishes the model's license text, or None."""
    key = spec.get("hosting_eula_key")
    if not key:
        return None
    suffix = ".cn" if region.startswith("cn-") else ""
    return f"https://{jumpstart_bucket(region)}.s3.{region}.amazonaws.com{suffix}/{key}"


def _takes_ebs_volume(instance_type):
    """sagemaker.utils.volume_size_supported / instance_supports_kms: families with a "d" and g5 use
    local NVMe storage, which takes neither a volume size nor a KMS key."""
    family = instance_family(instance_type)
    return "d" not in family and not family.startswith("g5")


def _variant_property(variants, instance_type, name):
    """A variant property for the instance type, else for its family
    (JumpStartInstanceTypeVariants._get_instance_specific_property). Returns (value, variant key)."""
    for key in (instance_type, instance_family(instance_type)):
        value = ((variants.get(key) or {}).get("properties") or {}).get(name) if key else None
        if value:
            return value, key
    return None, None


def _resolve_image(spec, region, instance_type):
    """hosting_instance_type_variants: the variant for the instance type, else its family, names an
    alias ("$gpu_ecr_uri_2") resolved through regional_aliases[region]
    (JumpStartInstanceTypeVariants._get_regional_property)."""
    hosting = spec.get("hosting_instance_type_variants") or {}
    by_region = hosting.get("regional_aliases") or {}
    variants = hosting.get("variants") or {}
    if not by_region:
        if spec.get("hosting_ecr_specs"):
            ecr = spec["hosting_ecr_specs"]
            named = " ".join(str(ecr[k]) for k in ("framework", "framework_version", "py_version") if ecr.get(k))
            raise SpecError(
                f"The spec names its container only by framework ({named}), not by image: the SageMaker "
                "SDK looks that up in image tables of its own, which this dashboard does not carry. "
                "Deploy a newer version of the model, whose spec lists its images."
            )
        raise SpecError("The spec names no container image (hosting_instance_type_variants) to deploy.")
    if region not in by_region:
        raise SpecError(f"The spec gives no container image for {region} "
                        f"(it covers {len(by_region)} other regions, such as {sorted(by_region)[0]}).")
    aliases = by_region[region]
    where = f"hosting_instance_type_variants.regional_aliases[{region}]"

    if variants:
        family = instance_family(instance_type)
        for key in (instance_type, family):
            alias = ((variants.get(key) or {}).get("regional_properties") or {}).get("image_uri")
            if alias:
                break
        else:
            raise SpecError(f"The spec has no container image for {instance_type} (nor for the {family} "
                            f"family): choose one of the instance types the model supports.")
        if not alias.startswith("$") or not aliases.get(alias[1:]):
            raise SpecError(f"The spec's image alias {alias} for {key} has no image in {region}.")
        return Sourced(aliases[alias[1:]], f"{where}.{alias[1:]} via variants[{key}]")

    # No variants (the catalog holds only the aliases public sources gave): the SDK would return no
    # image. Take the alias that fits the instance's hardware, or the only one when it names none.
    kind = hardware(instance_type)
    fitting = [name for name in aliases if _alias_hardware(name) == kind]
    if len(fitting) == 1:
        name = fitting[0]
        return Sourced(aliases[name], f"{where}.{name} (the spec lists no variants; its only {kind.upper()} image)")
    if len(aliases) == 1 and not fitting:
        name = next(iter(aliases))
        built_for = _alias_hardware(name)
        if built_for is None:
            return Sourced(aliases[name], f"{where}.{name} (the spec lists no variants; its only image)")
        raise SpecError(f"The spec's only image for {region} ({name}) is built for {built_for.upper()} "
                        f"instances, and {instance_type} is a {kind.upper()} instance: choose a "
                        f"{built_for.upper()} instance type.")
    raise SpecError(f"The spec lists several images for {region} ({', '.join(sorted(aliases))}) but no "
                    f"variants saying which one {instance_type} takes.")


def _alias_hardware(alias_name):
    name = alias_name.lower()
    for kind, marks in (("gpu", ("gpu",)), ("cpu", ("cpu",)), ("neuron", ("neuron", "inf1", "inf2", "trn1", "trn2"))):
        if any(mark in name for mark in marks):
            return kind
    return None


def _resolve_model_data(spec, region, instance_type, variants, eula):
    """model_uris._retrieve_model_uri and factory.model._add_model_data_to_kwargs, then
    session.container_def: the artifact key (prepacked when the spec has one), an S3 prefix as a
    ModelDataSource, and ModelAccessConfig for gated models. Returns (Sourced uri, container value,
    Sourced script uri or None)."""
    prepacked = spec.get("hosting_prepacked_artifact_key") is not None
    use_script = not prepacked and bool(spec.get("hosting_use_script_uri", True))
    field = "hosting_prepacked_artifact_key" if prepacked else "hosting_artifact_key"
    key, variant_key = _variant_property(variants, instance_type, "prepacked_artifact_key" if prepacked else "artifact_key")
    source = f"variants[{variant_key}].properties.{'prepacked_artifact_key' if prepacked else 'artifact_key'}"
    if not key:
        key, source = spec.get(field), field
    if not key:
        raise SpecError("The spec names no model artifact (hosting_artifact_key) to deploy: its weights "
                        "cannot be found in JumpStart's bucket.")
    bucket = gated_bucket(region) if spec.get("gated_bucket") else jumpstart_bucket(region)
    uri = f"s3://{bucket}/{key}"

    if uri.endswith("/"):
        data = {"S3DataSource": {"S3Uri": uri, "S3DataType": "S3Prefix", "CompressionType": "None"}}
        shape = "an S3 prefix, uncompressed (ModelDataSource)"
    elif eula and uri.endswith("tar.gz"):
        data = {"S3DataSource": {"S3Uri": uri, "S3DataType": "S3Object", "CompressionType": "Gzip"}}
        shape = "one gzipped tarball (ModelDataSource, for the license acceptance)"
    else:
        data = uri
        shape = "one tarball (ModelDataUrl)"
    if eula and isinstance(data, dict):
        data["S3DataSource"]["ModelAccessConfig"] = {"AcceptEula": True}
        shape += ", license accepted"
    model_data = Sourced(uri, f"{source} in {bucket}: {shape}")

    script = None
    if use_script:
        script_key = spec.get("hosting_script_key")
        if not script_key:
            raise SpecError("The spec keeps the inference code apart from the model (hosting_use_script_uri) "
                            "but names no hosting_script_key.")
        script = Sourced(f"s3://{jumpstart_bucket(region)}/{script_key}",
                         "hosting_script_key (the artifact is not prepacked with its inference code)")
    return model_data, data, script


def _resolve_environment(spec, region, instance_type, variants, script):
    """environment_variables.retrieve_default(include_aws_sdk_env_vars=False): the variables marked
    required_for_model_class, str() of their defaults, then the instance variant's (family, then
    type); in script mode the Model class's own variables go over them."""
    spec_vars = spec.get("inference_environment_variables") or []
    environment = {var["name"]: str(var.get("default")) for var in spec_vars
                   if var.get("name") and var.get("required_for_model_class")}
    parts = [f"{len(environment)} of {len(spec_vars)} inference_environment_variables "
             "(those required_for_model_class)"]
    family = instance_family(instance_type)
    for key in (family, instance_type):
        extra = ((variants.get(key) or {}).get("properties") or {}).get("environment_variables") or {}
        if extra:
            environment.update({name: str(value) for name, value in extra.items()})
            parts.append(f"variants[{key}].properties.environment_variables ({', '.join(sorted(extra))})")
    if script:
        # Model._script_mode_env_vars without a repack (as for a ModelDataSource): the container
        # fetches the code from S3 when it starts.
        environment.update({
            "SAGEMAKER_PROGRAM": ENTRY_POINT,
            "SAGEMAKER_SUBMIT_DIRECTORY": script.value,
            "SAGEMAKER_CONTAINER_LOG_LEVEL": CONTAINER_LOG_LEVEL,
            "SAGEMAKER_REGION": region,
        })
        parts.append("script mode (SAGEMAKER_SUBMIT_DIRECTORY from hosting_script_key)")
    return Sourced(environment, " + ".join(parts))


def _network_isolation(spec):
    if "inference_enable_network_isolation" in spec:
        return Sourced(bool(spec["inference_enable_network_isolation"]), "inference_enable_network_isolation")
    return Sourced(False, "default: the spec does not ask for network isolation")


def _endpoint_settings(spec, instance_type):
    """kwargs._retrieve_model_deploy_kwargs: deploy_kwargs, plus inference_volume_size where the
    instance takes an EBS volume, as ProductionVariant fields."""
    deploy_kwargs = dict(spec.get("deploy_kwargs") or {})
    parts = [f"deploy_kwargs.{name}" for name in deploy_kwargs if name in _DEPLOY_KWARGS]
    if spec.get("inference_volume_size") is not None and _takes_ebs_volume(instance_type):
        deploy_kwargs["volume_size"] = spec["inference_volume_size"]
        parts.append("inference_volume_size")
    settings = {field: deploy_kwargs[name] for name, field in _DEPLOY_KWARGS.items()
                if deploy_kwargs.get(name) is not None}
    return Sourced(settings, " + ".join(parts) if parts else "none: the spec sets no deploy_kwargs")


def _tags(spec, tags):
    """JumpStart's model id and version tags (utils.add_jumpstart_model_info_tags), unless the caller
    sets the same keys, then the caller's."""
    given = [{"Key": str(key), "Value": str(value)} for key, value in tags]
    keys = {tag["Key"] for tag in given}
    ours = [{"Key": key, "Value": str(value)} for key, value in
            ((TAG_MODEL_ID, spec.get("model_id")), (TAG_MODEL_VERSION, spec.get("version")))
            if value and key not in keys]
    return ours + given


# -- invoking ---------------------------------------------------------------------------------------


def content_types(spec):
    """(content type, accept) the model's predictor expects by default; None where the spec is silent."""
    predictor = spec.get("predictor_specs") or {}
    return predictor.get("default_content_type"), predictor.get("default_accept_type")


IMAGE_TASKS = {"ic", "od", "od1", "semseg", "is", "icembedding"}
AUDIO_TASKS = {"asr", "audioembedding"}
PAIR_TASKS = {"spc", "eqa"}
TEXT_TASKS = {"tc", "ner", "zstc", "fillmask", "summarization", "translation", "tcembedding"}
GENERATIVE_TASKS = {"llm", "llmneuron", "textgeneration", "textgeneration1", "textgeneration2",
                    "textgenerationjp", "textgenerationneuron", "reasoning", "vlm"}
EMBEDDING_TASKS = {"textembedding", "sentencesimilarity"}
IMAGE_GENERATION_TASKS = {"txt2img", "txt2imgneuron", "imagegeneration"}
TABULAR_TASKS = {"classification", "regression", "tabtransformerclassification", "tabtransformerregression"}

_TEXT = "The new library opened downtown, and on its first day the reading rooms were full."
_QUESTION = ("Where is the new library?", _TEXT)


def example_payload(spec, task):
    """An example request body for the model: the spec's first default payload when it has one that
    needs no S3 lookup, else a small one for the task family in the spec's content type.
    Returns (body bytes, content type)."""
    for payload in (spec.get("default_payloads") or {}).values():
        body, content_type = payload.get("body"), payload.get("content_type")
        if content_type and isinstance(body, (dict, list)) and not _mentions_s3(body):
            return json.dumps(body).encode(), content_type
        if content_type and isinstance(body, str) and not body.startswith("$"):
            return body.encode(), content_type

    task = (task or "").lower()
    content_type = content_types(spec)[0] or _default_content_type(task)
    kind = content_type.split(";")[0].strip().lower()
    if kind.startswith("image/") or kind == "application/x-image":
        return tiny_jpeg(), content_type
    if kind.startswith("audio/"):
        return tiny_wav(), content_type
    if kind == "application/list-text":
        return json.dumps(list(_QUESTION if task in PAIR_TASKS else (_TEXT,))).encode(), content_type
    if kind == "text/csv":
        return b"0.5,1.25,3.0,0.0,7.5\n", content_type
    if "json" in kind:
        return json.dumps(_json_example(task)).encode(), content_type
    return _plain_example(task).encode(), content_type


def _default_content_type(task):
    if task in IMAGE_TASKS:
        return "application/x-image"
    if task in AUDIO_TASKS:
        return "audio/wav"
    if task in PAIR_TASKS:
        return "application/list-text"
    if task in TEXT_TASKS:
        return "application/x-text"
    if task in TABULAR_TASKS:
        return "text/csv"
    return "application/json"


def _json_example(task):
    if task in GENERATIVE_TASKS:
        return {"inputs": "Write one sentence about why libraries matter.", "parameters": {"max_new_tokens": 64}}
    if task == "text2text":
        return {"text_inputs": "Translate to German: The library opens at nine.", "max_length": 50}
    if task in EMBEDDING_TASKS or task == "tcembedding":
        return {"text_inputs": [_TEXT, "Reading rooms are quiet places."]}
    if task in IMAGE_GENERATION_TASKS:
        return {"prompt": "a watercolor painting of a lighthouse at dawn"}
    if task in PAIR_TASKS:
        return {"question": _QUESTION[0], "context": _QUESTION[1]}
    if task == "forecasting":
        return {"inputs": [{"target": [10.0, 12.0, 13.0, 12.5, 14.0, 15.5, 15.0, 16.5]}],
                "parameters": {"prediction_length": 4}}
    return {"inputs": _TEXT}


def _plain_example(task):
    if task in IMAGE_GENERATION_TASKS:
        return "a watercolor painting of a lighthouse at dawn"
    if task == "translation":
        return "The library opens at nine in the morning."
    return _TEXT


def _mentions_s3(value):
    return "$s3" in json.dumps(value)


def tiny_jpeg(width=32, height=32):
    """A valid baseline JPEG of a plain grey square, built here so no binary file is committed.

    Three colour components without subsampling; every 8x8 block is flat mid-grey, so each block
    codes as DC difference 0 and end-of-block, with one-symbol Huffman tables ("0" for both)."""
    def segment(marker, payload):
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    components = (1, 2, 3)
    jfif = b"JFIF\x00" + bytes([1, 1, 0]) + struct.pack(">HH", 1, 1) + bytes([0, 0])
    quant = bytes([0]) + bytes([1] * 64)
    frame = bytes([8]) + struct.pack(">HH", height, width) + bytes([len(components)])
    frame += b"".join(bytes([c, 0x11, 0]) for c in components)
    one_symbol = bytes([1] + [0] * 15) + bytes([0])
    scan = bytes([len(components)]) + b"".join(bytes([c, 0x00]) for c in components) + bytes([0, 63, 0])
    blocks = math.ceil(width / 8) * math.ceil(height / 8) * len(components)
    bits = "00" * blocks
    bits += "1" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big")  # only 0x00 and 0x3F/0x0F/0x03: no stuffing
    return (b"\xff\xd8" + segment(0xE0, jfif) + segment(0xDB, quant) + segment(0xC0, frame)
            + segment(0xC4, bytes([0x00]) + one_symbol) + segment(0xC4, bytes([0x10]) + one_symbol)
            + segment(0xDA, scan) + data + b"\xff\xd9")


def tiny_wav(seconds=0.5, rate=16000):
    """Half a second of a quiet 440 Hz tone, 16-bit mono PCM WAV."""
    frames = b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(int(seconds * rate)))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return out.getvalue()
