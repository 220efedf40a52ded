"""A JumpStart spec turned into the SageMaker requests for a deploy (aws/jumpstart.py), checked
against the three real spec files and the bundled catalog."""

import json
import struct
from copy import deepcopy
from pathlib import Path

import pytest

from aws.jumpstart import (
    DeployRequest, Sourced, SpecError, content_types, deploy_request, example_payload, jumpstart_bucket,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "jumpstart" / "community_models"
CATALOG = ROOT / "catalog" / "data" / "jumpstart-cache"
ECR = "763104351884.dkr.ecr"
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"

MOBILENET = "pytorch-ic-mobilenet-v2/specs_v3.0.25.json"
BERT = "huggingface-spc-bert-base-cased/specs_v2.0.3.json"
BIT = "tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1/specs_v4.0.6.json"
REAL_SPECS = (MOBILENET, BERT, BIT)

# What the SageMaker Python SDK sends for these models: the variables marked required_for_model_class.
REQUIRED_ENV = {
    "ENDPOINT_SERVER_TIMEOUT": "3600",
    "MODEL_CACHE_ROOT": "/opt/ml/model",
    "SAGEMAKER_ENV": "1",
    "SAGEMAKER_MODEL_SERVER_WORKERS": "1",
    "SAGEMAKER_PROGRAM": "inference.py",
}


def load(name):
    return json.loads((FIXTURES / name).read_text())


def request(spec, instance_type=None, region="us-east-1", **overrides):
    arguments = dict(
        region=region, model_name="jsui-m-1", endpoint_config_name="jsui-c-1", endpoint_name="jsui-e-1",
        instance_type=instance_type or spec["default_inference_instance_type"], role_arn=ROLE,
    )
    return deploy_request(spec, **{**arguments, **overrides})


def model_data_uri(model_request):
    container = model_request["PrimaryContainer"]
    return container.get("ModelDataUrl") or container["ModelDataSource"]["S3DataSource"]["S3Uri"]


# -- the three real specs ---------------------------------------------------------------------------

REAL_CASES = [
    # spec, instance type, region, image, alias, variant, prepacked artifact prefix, extra env
    (MOBILENET, "ml.m5.large", "us-east-1", f"{ECR}.us-east-1.amazonaws.com/pytorch-inference:1.10.0-cpu-py38",
     "cpu_ecr_uri_1", "m5", "pytorch-ic/pytorch-ic-mobilenet-v2/artifacts/inference-prepack/v1.0.0/",
     {"SAGEMAKER_MODEL_SERVER_TIMEOUT": "3600"}),
    (MOBILENET, "ml.g4dn.xlarge", "eu-central-1", f"{ECR}.eu-central-1.amazonaws.com/pytorch-inference:1.10.0-gpu-py38",
     "gpu_ecr_uri_2", "g4dn", "pytorch-ic/pytorch-ic-mobilenet-v2/artifacts/inference-prepack/v1.0.0/",
     {"SAGEMAKER_MODEL_SERVER_TIMEOUT": "3600"}),
    (BERT, "ml.p3.2xlarge", "us-east-1",
     f"{ECR}.us-east-1.amazonaws.com/huggingface-pytorch-inference:1.7.1-transformers4.6.1-gpu-py36-cu110-ubuntu18.04",
     "gpu_ecr_uri_2", "p3", "huggingface-spc/huggingface-spc-bert-base-cased/artifacts/inference-prepack/v1.0.0/", {}),
    (BERT, "ml.c5.xlarge", "ap-northeast-1",
     f"{ECR}.ap-northeast-1.amazonaws.com/huggingface-pytorch-inference:1.7.1-transformers4.6.1-cpu-py36-ubuntu18.04",
     "cpu_ecr_uri_1", "c5", "huggingface-spc/huggingface-spc-bert-base-cased/artifacts/inference-prepack/v1.0.0/", {}),
    (BIT, "ml.p3.2xlarge", "us-east-1", f"{ECR}.us-east-1.amazonaws.com/tensorflow-inference:2.8-gpu",
     "gpu_ecr_uri_2", "p3",
     "tensorflow-ic/tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1/artifacts/inference-prepack/v1.0.0/", {}),
    (BIT, "ml.m5.xlarge", "sa-east-1", f"{ECR}.sa-east-1.amazonaws.com/tensorflow-inference:2.8-cpu",
     "cpu_ecr_uri_1", "m5",
     "tensorflow-ic/tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1/artifacts/inference-prepack/v1.0.0/", {}),
]


@pytest.mark.parametrize("name, instance_type, region, image, alias, variant, artifact, extra_env", REAL_CASES)
def test_real_spec_becomes_the_model_request_the_sdk_sends(name, instance_type, region, image, alias, variant,
                                                            artifact, extra_env):
    spec = load(name)
    deploy = request(spec, instance_type, region)

    container = deploy.model["PrimaryContainer"]
    assert container["Image"] == image
    assert deploy.sources["image"] == Sourced(
        image, f"hosting_instance_type_variants.regional_aliases[{region}].{alias} via variants[{variant}]")
    # A prepacked artifact is an uncompressed S3 prefix with the inference code inside it: no script.
    assert container["ModelDataSource"] == {"S3DataSource": {
        "S3Uri": f"s3://jumpstart-cache-prod-{region}/{artifact}", "S3DataType": "S3Prefix", "CompressionType": "None",
    }}
    assert "ModelDataUrl" not in container
    assert deploy.sources["model_data"].source.startswith(f"hosting_prepacked_artifact_key in jumpstart-cache-prod-{region}")
    assert deploy.sources["script"] is None
    assert container["Environment"] == {**REQUIRED_ENV, **extra_env}
    assert "SAGEMAKER_SUBMIT_DIRECTORY" not in container["Environment"]
    assert deploy.model["EnableNetworkIsolation"] is True  # all three specs ask for it
    assert deploy.model["ModelName"] == "jsui-m-1" and deploy.model["ExecutionRoleArn"] == ROLE


@pytest.mark.parametrize("name", REAL_SPECS)
def test_endpoint_config_and_endpoint_for_a_real_spec(name):
    spec = load(name)
    deploy = request(spec, instance_count=2)

    assert deploy.endpoint_config == {
        "EndpointConfigName": "jsui-c-1",
        "ProductionVariants": [{
            "VariantName": "AllTraffic", "ModelName": "jsui-m-1", "InitialInstanceCount": 2,
            "InstanceType": spec["default_inference_instance_type"], "InitialVariantWeight": 1,
        }],
        "Tags": deploy.model["Tags"],
    }
    assert deploy.endpoint == {"EndpointName": "jsui-e-1", "EndpointConfigName": "jsui-c-1", "Tags": deploy.model["Tags"]}
    assert deploy.model["Tags"] == [
        {"Key": "sagemaker-sdk:jumpstart-model-id", "Value": spec["model_id"]},
        {"Key": "sagemaker-sdk:jumpstart-model-version", "Value": spec["version"]},
    ]


def test_a_region_the_spec_does_not_cover_is_refused():
    with pytest.raises(SpecError, match="no container image for mars-east-1"):
        request(load(MOBILENET), region="mars-east-1")


def test_an_instance_family_without_a_variant_is_refused():
    with pytest.raises(SpecError, match=r"no container image for ml\.x9\.large"):
        request(load(BIT), "ml.x9.large")


def test_network_isolation_follows_the_spec_and_defaults_to_off():
    spec = load(BERT)
    spec["inference_enable_network_isolation"] = False
    assert request(spec).model["EnableNetworkIsolation"] is False
    del spec["inference_enable_network_isolation"]
    deploy = request(spec)
    assert deploy.model["EnableNetworkIsolation"] is False
    assert deploy.sources["network_isolation"].source.startswith("default")


# -- variants, scripts and artifacts ----------------------------------------------------------------


def test_instance_type_variant_overrides_environment_and_artifact():
    spec = load(BERT)
    variants = spec["hosting_instance_type_variants"]["variants"]
    variants["g5"]["properties"] = {
        "environment_variables": {"SAGEMAKER_MODEL_SERVER_WORKERS": "2", "TENSOR_PARALLEL_DEGREE": "1"},
        "prepacked_artifact_key": "huggingface-spc/huggingface-spc-bert-base-cased/artifacts/inference-prepack/v1.0.0-g5/",
    }
    variants["ml.g5.12xlarge"] = {"properties": {"environment_variables": {"TENSOR_PARALLEL_DEGREE": "4"}}}

    deploy = request(spec, "ml.g5.12xlarge")

    environment = deploy.model["PrimaryContainer"]["Environment"]
    assert environment["SAGEMAKER_MODEL_SERVER_WORKERS"] == "2"  # family variant over the spec default
    assert environment["TENSOR_PARALLEL_DEGREE"] == "4"  # the exact type over its family
    assert "variants[g5]" in deploy.sources["environment"].source
    assert model_data_uri(deploy.model) == (
        "s3://jumpstart-cache-prod-us-east-1/huggingface-spc/huggingface-spc-bert-base-cased/artifacts/inference-prepack/v1.0.0-g5/")
    assert deploy.sources["model_data"].source.startswith("variants[g5].properties.prepacked_artifact_key")
    # Another family keeps the spec's own values.
    other = request(spec, "ml.p3.2xlarge")
    assert other.model["PrimaryContainer"]["Environment"]["SAGEMAKER_MODEL_SERVER_WORKERS"] == "1"
    assert "inference-prepack/v1.0.0/" in model_data_uri(other.model)


def script_spec():
    """mobilenet as its older versions were: the inference code beside the artifact, not inside it."""
    spec = load(MOBILENET)
    del spec["hosting_prepacked_artifact_key"], spec["hosting_prepacked_artifact_version"]
    spec["hosting_use_script_uri"] = True
    spec["inference_enable_network_isolation"] = False
    return spec


def test_unprepacked_artifact_points_the_container_at_the_script():
    deploy = request(script_spec(), region="us-west-2")

    environment = deploy.model["PrimaryContainer"]["Environment"]
    script = "s3://jumpstart-cache-prod-us-west-2/source-directory-tarballs/pytorch/inference/ic/v2.0.0/sourcedir.tar.gz"
    assert environment["SAGEMAKER_SUBMIT_DIRECTORY"] == script
    assert environment["SAGEMAKER_PROGRAM"] == "inference.py"
    assert environment["SAGEMAKER_REGION"] == "us-west-2"
    assert deploy.sources["script"].value == script
    assert model_data_uri(deploy.model) == (
        "s3://jumpstart-cache-prod-us-west-2/pytorch-ic/pytorch-ic-mobilenet-v2/artifacts/inference/v2.0.0/")


def test_variant_artifact_key_wins_for_an_unprepacked_artifact():
    spec = script_spec()
    spec["hosting_instance_type_variants"]["variants"]["m5"]["properties"] = {"artifact_key": "pytorch-ic/m5-build/"}
    deploy = request(spec, "ml.m5.large")
    assert model_data_uri(deploy.model) == "s3://jumpstart-cache-prod-us-east-1/pytorch-ic/m5-build/"


def test_script_with_network_isolation_is_refused():
    spec = script_spec()
    spec["inference_enable_network_isolation"] = True
    with pytest.raises(SpecError, match="network isolation"):
        request(spec)


def test_use_script_uri_false_sends_no_script():
    spec = script_spec()
    spec["hosting_use_script_uri"] = False
    deploy = request(spec)
    assert deploy.sources["script"] is None
    assert "SAGEMAKER_SUBMIT_DIRECTORY" not in deploy.model["PrimaryContainer"]["Environment"]


def test_a_tarball_artifact_goes_as_model_data_url():
    spec = script_spec()
    spec["hosting_artifact_key"] = "pytorch-ic/pytorch-ic-mobilenet-v2/model.tar.gz"
    container = request(spec).model["PrimaryContainer"]
    assert container["ModelDataUrl"] == "s3://jumpstart-cache-prod-us-east-1/pytorch-ic/pytorch-ic-mobilenet-v2/model.tar.gz"
    assert "ModelDataSource" not in container


def test_missing_artifact_key_is_refused():
    spec = load(BIT)
    del spec["hosting_prepacked_artifact_key"], spec["hosting_artifact_key"]
    with pytest.raises(SpecError, match="names no model artifact"):
        request(spec)


# -- gated models -----------------------------------------------------------------------------------


def gated(spec):
    spec = deepcopy(spec)
    spec["gated_bucket"] = True
    spec["hosting_eula_key"] = "fmhMetadata/eula/llamaEula.txt"
    return spec


def test_gated_model_without_accepting_the_eula_is_refused():
    with pytest.raises(SpecError) as refused:
        request(gated(load(MOBILENET)))
    assert "accept its end-user license agreement" in str(refused.value)
    assert "https://jumpstart-cache-prod-us-east-1.s3.us-east-1.amazonaws.com/fmhMetadata/eula/llamaEula.txt" in str(refused.value)


def test_gated_model_with_the_eula_accepted_reads_the_private_bucket():
    deploy = request(gated(load(MOBILENET)), accept_eula=True)

    assert deploy.model["PrimaryContainer"]["ModelDataSource"] == {"S3DataSource": {
        "S3Uri": "s3://jumpstart-private-cache-prod-us-east-1/pytorch-ic/pytorch-ic-mobilenet-v2/artifacts/inference-prepack/v1.0.0/",
        "S3DataType": "S3Prefix", "CompressionType": "None", "ModelAccessConfig": {"AcceptEula": True},
    }}
    assert deploy.sources["eula"].source == "hosting_eula_key"


def test_gated_tarball_becomes_a_model_data_source_to_carry_the_acceptance():
    spec = gated(script_spec())
    spec["hosting_artifact_key"] = "meta-textgeneration/model.tar.gz"
    container = request(spec, accept_eula=True).model["PrimaryContainer"]
    assert container["ModelDataSource"]["S3DataSource"] == {
        "S3Uri": "s3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/model.tar.gz",
        "S3DataType": "S3Object", "CompressionType": "Gzip", "ModelAccessConfig": {"AcceptEula": True},
    }


def test_accepting_a_eula_changes_nothing_for_an_open_model():
    assert request(load(MOBILENET), accept_eula=True) == request(load(MOBILENET))


# -- VPC, KMS, tags, endpoint settings ----------------------------------------------------------------


def test_vpc_kms_and_tags_land_where_sagemaker_reads_them():
    deploy = request(load(MOBILENET), subnets=["subnet-0a1b", "subnet-0c2d"], security_groups=["sg-0e3f"],
                     kms_key_id="alias/jsui", tags=[("team", "vision"), ("jumpstart-ui:deployment", 7)])

    assert deploy.model["VpcConfig"] == {"Subnets": ["subnet-0a1b", "subnet-0c2d"], "SecurityGroupIds": ["sg-0e3f"]}
    assert "VpcConfig" not in deploy.endpoint_config
    assert deploy.endpoint_config["KmsKeyId"] == "alias/jsui"
    assert "KmsKeyId" not in deploy.model and "KmsKeyId" not in deploy.endpoint
    expected_tags = [
        {"Key": "sagemaker-sdk:jumpstart-model-id", "Value": "pytorch-ic-mobilenet-v2"},
        {"Key": "sagemaker-sdk:jumpstart-model-version", "Value": "3.0.25"},
        {"Key": "team", "Value": "vision"},
        {"Key": "jumpstart-ui:deployment", "Value": "7"},
    ]
    assert deploy.model["Tags"] == deploy.endpoint_config["Tags"] == deploy.endpoint["Tags"] == expected_tags


def test_no_vpc_and_no_kms_leave_those_fields_out():
    deploy = request(load(MOBILENET))
    assert "VpcConfig" not in deploy.model and "KmsKeyId" not in deploy.endpoint_config


def test_a_kms_key_on_an_instance_with_local_storage_is_refused():
    with pytest.raises(SpecError, match="takes no KMS key"):
        request(load(BIT), "ml.g5.2xlarge", kms_key_id="alias/jsui")


def test_subnets_without_security_groups_are_a_programming_error():
    with pytest.raises(ValueError):
        request(load(MOBILENET), subnets=["subnet-0a1b"])


def test_deploy_kwargs_and_volume_size_become_production_variant_fields():
    spec = load(BIT)
    spec["deploy_kwargs"] = {"model_data_download_timeout": 1200, "container_startup_health_check_timeout": 600}
    spec["inference_volume_size"] = 256

    variant = request(spec, "ml.p3.2xlarge").endpoint_config["ProductionVariants"][0]
    assert variant["ModelDataDownloadTimeoutInSeconds"] == 1200
    assert variant["ContainerStartupHealthCheckTimeoutInSeconds"] == 600
    assert variant["VolumeSizeInGB"] == 256
    # g5 keeps its storage on local NVMe: the SDK sends no volume size there.
    assert "VolumeSizeInGB" not in request(spec, "ml.g5.2xlarge").endpoint_config["ProductionVariants"][0]


# -- specs the catalog holds ------------------------------------------------------------------------


def catalog_specs():
    for path in sorted(CATALOG.glob("community_models/*/specs_*.json")):
        yield path, json.loads(path.read_text())


def has_artifact(spec):
    return bool(spec.get("hosting_artifact_key") or spec.get("hosting_prepacked_artifact_key"))


def test_bundled_specs_with_us_east_1_images_and_artifacts_resolve_or_say_why():
    deployable, refused = [], {}
    for path, spec in catalog_specs():
        aliases = (spec.get("hosting_instance_type_variants") or {}).get("regional_aliases") or {}
        if "us-east-1" not in aliases or not has_artifact(spec) or not spec.get("default_inference_instance_type"):
            continue
        try:
            deploy = request(spec, accept_eula=False)
        except SpecError as exc:
            assert str(exc), path
            refused[spec["model_id"]] = str(exc)
            continue
        assert isinstance(deploy, DeployRequest)
        assert ".dkr.ecr.us-east-1.amazonaws.com/" in deploy.model["PrimaryContainer"]["Image"], path
        deployable.append(spec["model_id"])

    assert {"pytorch-ic-mobilenet-v2", "huggingface-spc-bert-base-cased",
            "tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1"} <= set(deployable)
    print(f"bundled specs deployable: {len(deployable)}; refused: {len(refused)} {refused}")


def test_every_bundled_spec_either_resolves_or_raises_a_spec_error():
    outcomes = {"deployable": 0, "refused": 0}
    for path, spec in catalog_specs():
        if not spec.get("default_inference_instance_type"):
            continue
        try:
            request(spec, accept_eula=True)
            outcomes["deployable"] += 1
        except SpecError as exc:
            assert str(exc), path
            outcomes["refused"] += 1
    assert outcomes["deployable"] >= 3
    print(f"all bundled specs with a default instance type: {outcomes}")


def partial_spec(aliases, **fields):
    """Shaped like the catalog's partial specs: regional aliases, no variants; plus an artifact."""
    return {
        "model_id": "huggingface-llm-example", "version": "1.0.0",
        "hosting_instance_type_variants": {"regional_aliases": {"us-east-1": aliases}},
        "hosting_artifact_key": "huggingface-llm/example/artifacts/inference/v1.0.0/",
        "hosting_use_script_uri": False, **fields,
    }


def test_without_variants_the_alias_for_the_instance_hardware_is_taken():
    spec = partial_spec({"cpu_ecr_uri_1": f"{ECR}.us-east-1.amazonaws.com/cpu:1",
                         "gpu_ecr_uri_2": f"{ECR}.us-east-1.amazonaws.com/gpu:1"})
    gpu = request(spec, "ml.g5.2xlarge")
    assert gpu.model["PrimaryContainer"]["Image"] == f"{ECR}.us-east-1.amazonaws.com/gpu:1"
    assert gpu.sources["image"].source.startswith("hosting_instance_type_variants.regional_aliases[us-east-1].gpu_ecr_uri_2")
    assert request(spec, "ml.m5.xlarge").model["PrimaryContainer"]["Image"] == f"{ECR}.us-east-1.amazonaws.com/cpu:1"


def test_without_variants_a_single_unnamed_alias_is_taken():
    spec = partial_spec({"alias_ecr_uri_1": f"{ECR}.us-east-1.amazonaws.com/djl-inference:0.28.0"})
    assert request(spec, "ml.g5.2xlarge").model["PrimaryContainer"]["Image"].endswith("djl-inference:0.28.0")


def test_without_variants_a_gpu_only_image_is_refused_for_a_cpu_instance():
    spec = partial_spec({"gpu_ecr_uri_1": f"{ECR}.us-east-1.amazonaws.com/tgi:2"})
    with pytest.raises(SpecError, match="built for GPU instances"):
        request(spec, "ml.m5.xlarge")


def test_a_spec_naming_only_its_framework_is_refused():
    spec = load(BIT)
    del spec["hosting_instance_type_variants"]
    with pytest.raises(SpecError, match="only by framework"):
        request(spec)


def test_deprecated_and_vulnerable_versions_are_refused_as_the_sdk_does():
    spec = load(BIT)
    spec["deprecated"] = True
    with pytest.raises(SpecError, match="deprecated"):
        request(spec)
    spec = load(BIT)
    spec["inference_vulnerable"], spec["inference_vulnerabilities"] = True, ["transformers==4.6.1"]
    with pytest.raises(SpecError, match="known vulnerabilities"):
        request(spec)


def test_best_ranked_inference_config_that_fits_the_instance_is_applied():
    spec = load(BERT)
    spec["inference_config_components"] = {
        "lmi": {"supported_inference_instance_types": ["ml.p3.2xlarge"], "deploy_kwargs": {"model_data_download_timeout": 900}},
        "cpu": {"supported_inference_instance_types": ["ml.m5.large"],
                "hosting_prepacked_artifact_key": "huggingface-spc/cpu-build/"},
    }
    spec["inference_configs"] = {"lmi": {"component_names": ["lmi"]}, "cpu": {"component_names": ["cpu"]}}
    spec["inference_config_rankings"] = {"overall": {"description": "", "rankings": ["lmi", "cpu"]}}

    gpu = request(spec, "ml.p3.2xlarge")
    assert gpu.sources["config"].value == "lmi"
    assert gpu.endpoint_config["ProductionVariants"][0]["ModelDataDownloadTimeoutInSeconds"] == 900
    cpu = request(spec, "ml.m5.large")
    assert cpu.sources["config"].value == "cpu"
    assert model_data_uri(cpu.model) == "s3://jumpstart-cache-prod-us-east-1/huggingface-spc/cpu-build/"


def test_jumpstart_bucket_is_named_per_region():
    assert jumpstart_bucket("eu-west-2") == "jumpstart-cache-prod-eu-west-2"


# -- what a test request looks like -----------------------------------------------------------------


def jpeg_size(data):
    """(width, height) from the SOF0 segment, walking the JPEG's segments as a decoder does."""
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    at = 2
    while at < len(data):
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2:at + 4])[0]
        if marker == 0xC0:
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        at += 2 + length
    raise AssertionError("no SOF0 segment")


def test_content_types_come_from_the_predictor_specs():
    assert content_types(load(BERT)) == ("application/list-text", "application/json")
    assert content_types(load(MOBILENET)) == ("application/x-image", "application/json")
    assert content_types({}) == (None, None)


def test_image_models_get_a_small_generated_jpeg():
    body, content_type = example_payload(load(MOBILENET), "ic")
    assert content_type == "application/x-image"
    assert jpeg_size(body) == (32, 32)
    assert len(body) < 1024


def test_sentence_pair_models_get_two_texts_as_list_text():
    body, content_type = example_payload(load(BERT), "spc")
    assert content_type == "application/list-text"
    pair = json.loads(body)
    assert isinstance(pair, list) and len(pair) == 2 and all(isinstance(text, str) for text in pair)


@pytest.mark.parametrize("task, content_type, check", [
    ("llm", "application/json", lambda body: "max_new_tokens" in json.loads(body)["parameters"]),
    ("textgeneration", None, lambda body: isinstance(json.loads(body)["inputs"], str)),
    ("tc", "application/x-text", lambda body: body.decode().strip() != ""),
    ("tc", None, lambda body: body.decode().strip() != ""),
    ("txt2img", "application/x-text", lambda body: "lighthouse" in body.decode()),
    ("textembedding", "application/json", lambda body: len(json.loads(body)["text_inputs"]) == 2),
    ("asr", None, lambda body: body[:4] == b"RIFF" and body[8:12] == b"WAVE"),
])
def test_other_task_families_get_an_example_in_the_spec_content_type(task, content_type, check):
    spec = {"predictor_specs": {"default_content_type": content_type}} if content_type else {}
    body, sent_as = example_payload(spec, task)
    assert isinstance(body, bytes) and check(body)
    if content_type:
        assert sent_as == content_type


def test_the_spec_default_payload_is_preferred():
    spec = {"default_payloads": {"Dog": {"content_type": "application/json", "body": {"inputs": "woof"}}},
            "predictor_specs": {"default_content_type": "application/x-text"}}
    assert example_payload(spec, "llm") == (b'{"inputs": "woof"}', "application/json")
