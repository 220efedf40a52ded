"""A JumpStart spec turned into the CreateTrainingJob request of a fine-tune and the deploy requests of
its result (aws/training.py), checked against real spec files field by field, as the SageMaker Python
SDK v2 sends them, and against botocore's model of the SageMaker API."""

import json
from copy import deepcopy
from pathlib import Path

import pytest
from botocore.exceptions import ParamValidationError
from botocore.session import get_session
from botocore.validate import validate_parameters

from aws.jumpstart import DeployRequest, SpecError
from aws.training import (
    Check,
    FineTunedDeployRequest,
    Repack,
    TrainingRequest,
    default_dataset_uri,
    fine_tuned_deploy_request,
    hyperparameter_specs,
    job_name_base,
    training_checks,
    training_request,
    validate_hyperparameters,
)

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "catalog" / "data" / "jumpstart-cache" / "community_models"
FIXTURES = ROOT / "tests" / "fixtures" / "jumpstart-training"
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
KMS = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ECR = "763104351884.dkr.ecr.us-east-1.amazonaws.com"
PUBLIC = "s3://jumpstart-cache-prod-us-east-1"
PRIVATE = "s3://jumpstart-private-cache-prod-us-east-1"
TRAIN = "s3://training-data/flowers/train/"
VALIDATION = "s3://training-data/flowers/validation/"
OUTPUT = "s3://jsui-output/fine-tunes/"
SAGEMAKER = get_session().get_service_model("sagemaker")


# The bundled real spec files; the bundle also holds other versions of these models.
REAL_VERSIONS = {"pytorch-ic-mobilenet-v2": "3.0.25", "huggingface-spc-bert-base-cased": "2.0.3",
                 "tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1": "4.0.6"}


def bundled(model_id):
    return json.loads((BUNDLED / model_id / f"specs_v{REAL_VERSIONS[model_id]}.json").read_text())


def prototypical():
    return json.loads((FIXTURES / "prototypical_specs.json").read_text())


def llama():
    return json.loads((FIXTURES / "meta-textgeneration-llama-3-1-70b.json").read_text())


def full_training_specs():
    """Every real spec with a full training spec: the bundled ones, the SDK's prototypical ones, Llama."""
    specs = [json.loads(path.read_text()) for path in sorted(BUNDLED.glob("*/specs_v*.json"))]
    specs += list(prototypical().values()) + [llama()]
    return [spec for spec in specs if spec.get("training_supported") and spec.get("training_artifact_key")
            and spec.get("training_instance_type_variants")]


FULL = {spec["model_id"]: spec for spec in full_training_specs()}


def train(spec, instance_type=None, **overrides):
    arguments = {
        "region": "us-east-1", "job_name": "jsui-ft-1",
        "instance_type": instance_type or spec["default_training_instance_type"], "role_arn": ROLE,
        "hyperparameters": {}, "training_uri": TRAIN, "output_uri": OUTPUT,
    }
    return training_request(spec, **{**arguments, **overrides})


def deploy(spec, instance_type="ml.m5.large", **overrides):
    arguments = {
        "region": "us-east-1", "model_data_uri": f"{OUTPUT}jsui-ft-1/output/model.tar.gz",
        "model_name": "jsui-ft-1-model", "endpoint_config_name": "jsui-ft-1-config",
        "endpoint_name": "jsui-ft-1-endpoint", "instance_type": instance_type, "role_arn": ROLE,
    }
    return fine_tuned_deploy_request(spec, **{**arguments, **overrides})


def assert_accepted_by_sagemaker(operation, params):
    """botocore's own check of a request against the SageMaker service model, plus the instance type
    enums it leaves to the service."""
    shape = SAGEMAKER.operation_model(operation).input_shape
    validate_parameters(params, shape)
    if operation == "CreateTrainingJob":
        allowed = shape.members["ResourceConfig"].members["InstanceType"].enum
        assert params["ResourceConfig"]["InstanceType"] in allowed
    if operation == "CreateEndpointConfig":
        allowed = shape.members["ProductionVariants"].member.members["InstanceType"].enum
        assert all(variant["InstanceType"] in allowed for variant in params["ProductionVariants"])


def channels(request):
    return {channel["ChannelName"]: channel for channel in request["InputDataConfig"]}


def s3_channel(name, uri, **extra):
    return {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                            "S3DataDistributionType": "FullyReplicated"}},
            **extra, "ChannelName": name}


def script_mode(script, job_name, isolated=True):
    return {
        "sagemaker_submit_directory": '"/opt/ml/input/data/code/sourcedir.tar.gz"' if isolated else f'"{script}"',
        "sagemaker_program": '"transfer_learning.py"',
        "sagemaker_container_log_level": "20",
        "sagemaker_job_name": f'"{job_name}"',
        "sagemaker_region": '"us-east-1"',
    }


# -- every real training spec -----------------------------------------------------------------------


def test_the_real_training_specs_are_the_seven_known_ones():
    assert sorted(FULL) == [
        "catboost-classification-model", "huggingface-spc-bert-base-cased", "lightgbm-classification-model",
        "meta-textgeneration-llama-3-1-70b", "mxnet-semseg-fcn-resnet50-ade", "pytorch-ic-mobilenet-v2",
        "tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1",
    ]


@pytest.mark.parametrize("model_id", sorted(FULL))
def test_every_real_training_spec_resolves_for_its_default_and_every_supported_instance_type(model_id):
    spec = FULL[model_id]
    instance_types = [spec["default_training_instance_type"], *spec["supported_training_instance_types"]]
    for instance_type in instance_types:
        result = train(spec, instance_type, accept_eula=True)
        request = result.request
        assert isinstance(result, TrainingRequest)
        assert request["AlgorithmSpecification"]["TrainingImage"].startswith(ECR)
        assert "-training" in request["AlgorithmSpecification"]["TrainingImage"]
        assert request["ResourceConfig"]["InstanceType"] == instance_type
        assert channels(request)["training"]["DataSource"]["S3DataSource"]["S3Uri"] == TRAIN
        assert request["HyperParameters"]["sagemaker_program"] == '"transfer_learning.py"'
        names = {hp["name"] for hp in hyperparameter_specs(spec)}
        assert names <= set(request["HyperParameters"])
        assert all(isinstance(value, str) for value in request["HyperParameters"].values())
        assert_accepted_by_sagemaker("CreateTrainingJob", request)


@pytest.mark.parametrize("model_id", sorted(FULL))
def test_every_real_training_spec_resolves_with_every_option_set(model_id):
    spec = FULL[model_id]
    request = train(
        spec, accept_eula=True, validation_uri=VALIDATION, max_run_seconds=7200, use_spot=True,
        max_wait_seconds=10800, checkpoint_uri="s3://jsui-checkpoints/jsui-ft-1/", subnets=["subnet-0a1b2c3d"],
        security_groups=["sg-0a1b2c3d"], kms_key_id=KMS, tags=[("team", "vision")],
    ).request
    assert_accepted_by_sagemaker("CreateTrainingJob", request)
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 10800}


@pytest.mark.parametrize("model_id", sorted(FULL))
def test_a_fine_tuned_real_spec_deploys_on_its_default_inference_type(model_id):
    spec = FULL[model_id]
    result = deploy(spec, spec["default_inference_instance_type"])
    assert isinstance(result, DeployRequest)
    assert result.repack is None  # every real spec has a prepacked inference artifact
    assert_accepted_by_sagemaker("CreateModel", result.model)
    assert_accepted_by_sagemaker("CreateEndpointConfig", result.endpoint_config)
    assert_accepted_by_sagemaker("CreateEndpoint", result.endpoint)


# -- mobilenet and bert, field by field as the SDK sends them ---------------------------------------


def test_mobilenet_fine_tune_is_the_request_the_sdk_sends():
    # JumpStartEstimator(model_id="pytorch-ic-mobilenet-v2", model_version="3.0.25", role=ROLE,
    #   instance_type="ml.m5.xlarge", hyperparameters={"epochs": "3"}, output_path=OUTPUT)
    #   .fit({"training": TRAIN}, job_name="jsui-ft-1")
    spec = bundled("pytorch-ic-mobilenet-v2")
    script = f"{PUBLIC}/source-directory-tarballs/pytorch/transfer_learning/ic/prepack/v1.1.0/sourcedir.tar.gz"
    request = train(spec, "ml.m5.xlarge", hyperparameters={"epochs": "3"}).request
    assert request == {
        "AlgorithmSpecification": {
            "TrainingInputMode": "File",
            "TrainingImage": f"{ECR}/pytorch-training:1.10.0-cpu-py38",
            "MetricDefinitions": [{"Name": "pytorch-ic:val-accuracy", "Regex": "val_accuracy: ([0-9\\.]+)"}],
        },
        "OutputDataConfig": {"S3OutputPath": OUTPUT},
        "TrainingJobName": "jsui-ft-1",
        "StoppingCondition": {"MaxRuntimeInSeconds": 360000},  # estimator_kwargs.max_run
        "ResourceConfig": {"VolumeSizeInGB": 30, "InstanceCount": 1, "InstanceType": "ml.m5.xlarge"},
        "RoleArn": ROLE,
        "InputDataConfig": [
            s3_channel("training", TRAIN),
            s3_channel("model", f"{PUBLIC}/pytorch-training/v2.0.0/train-pytorch-ic-mobilenet-v2.tar.gz",
                       ContentType="application/x-sagemaker-model", InputMode="File"),
            s3_channel("code", script),
        ],
        "HyperParameters": {
            "epochs": '"3"',
            "train_only_top_layer": '"True"',
            "learning_rate": '"0.001"',
            "batch_size": '"4"',
            "reinitialize_top_layer": '"Auto"',
            **script_mode(script, "jsui-ft-1"),
        },
        "Tags": [
            {"Key": "sagemaker-sdk:jumpstart-model-id", "Value": "pytorch-ic-mobilenet-v2"},
            {"Key": "sagemaker-sdk:jumpstart-model-version", "Value": "3.0.25"},
        ],
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "DebugHookConfig": {"S3OutputPath": OUTPUT, "CollectionConfigurations": []},
        "ProfilerConfig": {"S3OutputPath": OUTPUT, "DisableProfiler": False},
    }


def test_bert_fine_tune_with_validation_spot_checkpoints_kms_vpc_and_tags_is_the_request_the_sdk_sends():
    # JumpStartEstimator(model_id="huggingface-spc-bert-base-cased", model_version="2.0.3", role=ROLE,
    #   instance_type="ml.p3.2xlarge", hyperparameters={"epochs": "1", "batch-size": "16"},
    #   output_path=OUTPUT, max_run=7200, use_spot_instances=True, max_wait=14400,
    #   checkpoint_s3_uri=..., subnets=[...], security_group_ids=[...], output_kms_key=KMS,
    #   volume_kms_key=KMS, tags=[{"Key": "project", "Value": "qnli"}])
    #   .fit({"training": TRAIN, "validation": VALIDATION}, job_name="jsui-ft-2")
    spec = bundled("huggingface-spc-bert-base-cased")
    script = f"{PUBLIC}/source-directory-tarballs/huggingface/transfer_learning/spc/prepack/v1.1.0/sourcedir.tar.gz"
    request = train(
        spec, "ml.p3.2xlarge", job_name="jsui-ft-2", hyperparameters={"epochs": "1", "batch-size": "16"},
        validation_uri=VALIDATION, max_run_seconds=7200, use_spot=True, max_wait_seconds=14400,
        checkpoint_uri="s3://jsui-checkpoints/jsui-ft-2/", subnets=["subnet-0a1b2c3d"],
        security_groups=["sg-0a1b2c3d"], kms_key_id=KMS, tags=[("project", "qnli")],
    ).request
    assert request == {
        "AlgorithmSpecification": {
            "TrainingInputMode": "File",
            "TrainingImage": f"{ECR}/huggingface-pytorch-training:1.6.0-transformers4.4.2-gpu-py36-cu110-ubuntu18.04",
            "MetricDefinitions": [{"Name": "hugginface-spc:eval-accuracy", "Regex": "'eval_accuracy': ([0-9\\.]+)"}],
        },
        "OutputDataConfig": {"S3OutputPath": OUTPUT, "KmsKeyId": KMS},
        "TrainingJobName": "jsui-ft-2",
        "StoppingCondition": {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 14400},
        "ResourceConfig": {"VolumeSizeInGB": 30, "VolumeKmsKeyId": KMS, "InstanceCount": 1,
                           "InstanceType": "ml.p3.2xlarge"},
        "RoleArn": ROLE,
        "InputDataConfig": [
            s3_channel("training", TRAIN),
            s3_channel("validation", VALIDATION),
            s3_channel("model", f"{PUBLIC}/huggingface-training/train-huggingface-spc-bert-base-cased.tar.gz",
                       ContentType="application/x-sagemaker-model", InputMode="File"),
            s3_channel("code", script),
        ],
        "HyperParameters": {
            "epochs": '"1"',
            "batch-size": '"16"',
            "adam-learning-rate": '"2e-05"',
            "reinitialize-top-layer": '"Auto"',
            "train-only-top-layer": '"False"',
            **script_mode(script, "jsui-ft-2"),
        },
        "Tags": [
            {"Key": "project", "Value": "qnli"},
            {"Key": "sagemaker-sdk:jumpstart-model-id", "Value": "huggingface-spc-bert-base-cased"},
            {"Key": "sagemaker-sdk:jumpstart-model-version", "Value": "2.0.3"},
        ],
        "VpcConfig": {"Subnets": ["subnet-0a1b2c3d"], "SecurityGroupIds": ["sg-0a1b2c3d"]},
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "EnableManagedSpotTraining": True,
        "CheckpointConfig": {"S3Uri": "s3://jsui-checkpoints/jsui-ft-2/"},
        "DebugHookConfig": {"S3OutputPath": OUTPUT, "CollectionConfigurations": []},
        "ProfilerConfig": {"S3OutputPath": OUTPUT, "DisableProfiler": False},
    }


def test_the_request_says_where_each_value_came_from():
    sources = train(bundled("pytorch-ic-mobilenet-v2"), "ml.m5.xlarge").sources
    assert sources["image"].source == (
        "training_instance_type_variants.regional_aliases[us-east-1].cpu_ecr_uri_1 via variants[m5]")
    assert sources["training_artifact"].source.startswith("training_artifact_key in jumpstart-cache-prod-us-east-1")
    assert sources["script"].source == "training_prepacked_script_key in jumpstart-cache-prod-us-east-1"
    assert sources["max_run"].source == "estimator_kwargs.max_run"
    assert sources["network_isolation"].source == "training_enable_network_isolation"
    assert sources["hyperparameters"].value["epochs"] == "5"
    assert sources["eula"] is None


def test_the_callers_own_model_id_tag_wins_and_the_sdk_adds_no_second_one():
    mine = [("sagemaker-sdk:jumpstart-model-id", "mine")]
    tags = train(bundled("pytorch-ic-mobilenet-v2"), tags=mine).request["Tags"]
    assert tags == [{"Key": "sagemaker-sdk:jumpstart-model-id", "Value": "mine"},
                    {"Key": "sagemaker-sdk:jumpstart-model-version", "Value": "3.0.25"}]


def test_typed_values_from_the_validator_are_sent_like_the_strings_a_form_gives():
    spec = bundled("pytorch-ic-mobilenet-v2")
    cleaned, errors = validate_hyperparameters(spec, {"epochs": "7", "learning_rate": "0.01"})
    assert errors == {} and cleaned == {"epochs": 7, "learning_rate": 0.01}
    from_form = train(spec, hyperparameters={"epochs": "7", "learning_rate": "0.01"}).request["HyperParameters"]
    assert train(spec, hyperparameters=cleaned).request["HyperParameters"] == from_form
    assert from_form["epochs"] == '"7"' and from_form["learning_rate"] == '"0.01"'


def test_bad_hyperparameters_are_refused_before_any_request_exists():
    with pytest.raises(ValueError, match="epochs must be an integer from 1 to 1000; you gave 0"):
        train(bundled("pytorch-ic-mobilenet-v2"), hyperparameters={"epochs": "0"})


# -- hyperparameter validation, as validators.validate_hyperparameters ------------------------------


def test_hyperparameter_specs_are_the_algorithm_scope_ones_in_spec_order():
    specs = hyperparameter_specs(bundled("pytorch-ic-mobilenet-v2"))
    assert [hp["name"] for hp in specs] == ["train_only_top_layer", "epochs", "learning_rate", "batch_size",
                                            "reinitialize_top_layer"]
    assert specs[1] == {"default": 5, "max": 1000, "min": 1, "name": "epochs", "scope": "algorithm", "type": "int"}


SYNTHETIC = {
    "model_id": "example-model",
    "hyperparameters": [
        {"name": "epochs", "type": "int", "default": 5, "min": 1, "max": 1000, "scope": "algorithm"},
        {"name": "dropout", "type": "float", "default": 0.1, "exclusive_min": 0, "exclusive_max": 1,
         "scope": "algorithm"},
        {"name": "warmup", "type": "float", "default": 0.0, "min": 0, "scope": "algorithm"},
        {"name": "layers", "type": "int", "default": -1, "scope": "algorithm"},
        {"name": "optimizer", "type": "text", "default": "adam", "options": ["adam", "sgd"], "scope": "algorithm"},
        {"name": "prefix", "type": "text", "default": "run", "min": 2, "max": 5, "scope": "algorithm"},
        {"name": "tag", "type": "text", "default": "abc", "exclusive_min": 1, "exclusive_max": 4, "scope": "algorithm"},
        {"name": "shuffle", "type": "bool", "default": True, "scope": "algorithm"},
        {"name": "sagemaker_program", "type": "text", "default": "transfer_learning.py", "scope": "container"},
    ],
}


@pytest.mark.parametrize("name, value, cleaned", [
    ("epochs", "1", 1), ("epochs", "1000", 1000), ("epochs", " +12 ", 12), ("epochs", 3, 3),
    ("dropout", "0.5", 0.5), ("dropout", "1e-3", 0.001), ("warmup", "0", 0.0), ("layers", "-7", -7),
    ("optimizer", "sgd", "sgd"), ("prefix", "ab", "ab"), ("prefix", "abcde", "abcde"), ("tag", "ab", "ab"),
    ("shuffle", "TRUE", True), ("shuffle", "false", False), ("shuffle", False, False),
])
def test_values_the_sdk_accepts_are_cleaned_into_their_type(name, value, cleaned):
    assert validate_hyperparameters(SYNTHETIC, {name: value}) == ({name: cleaned}, {})


@pytest.mark.parametrize("name, value, message", [
    ("epochs", "0", "epochs must be an integer from 1 to 1000; you gave 0."),  # min
    ("epochs", "1001", "epochs must be an integer from 1 to 1000; you gave 1001."),  # max
    ("epochs", "2.5", "epochs must be an integer from 1 to 1000; you gave 2.5."),  # wrong type
    ("epochs", "1e3", "epochs must be an integer from 1 to 1000; you gave 1e3."),
    ("epochs", "many", "epochs must be an integer from 1 to 1000; you gave many."),
    ("epochs", "", "epochs must be an integer from 1 to 1000; you gave nothing."),
    ("dropout", "0", "dropout must be a number greater than 0 and less than 1; you gave 0."),  # exclusive_min
    ("dropout", "1", "dropout must be a number greater than 0 and less than 1; you gave 1."),  # exclusive_max
    ("dropout", "nan", "dropout must be a number greater than 0 and less than 1; you gave nan."),
    ("warmup", "-0.5", "warmup must be a number of at least 0; you gave -0.5."),
    ("layers", "1.0", "layers must be an integer; you gave 1.0."),
    ("optimizer", "adamw", "optimizer must be one of adam, sgd; you gave 'adamw'."),  # options
    ("optimizer", 3, "optimizer must be text; you gave 3."),
    ("prefix", "a", "prefix must be from 2 to 5 characters long; you gave 1 character."),  # text length
    ("prefix", "abcdef", "prefix must be from 2 to 5 characters long; you gave 6 characters."),
    ("tag", "a", "tag must be greater than 1 and less than 4 characters long; you gave 1 character."),
    ("tag", "abcd", "tag must be greater than 1 and less than 4 characters long; you gave 4 characters."),
    ("shuffle", "yes", "shuffle must be True or False; you gave 'yes'."),  # bool
    ("shuffle", 1, "shuffle must be True or False; you gave 1."),
])
def test_values_the_sdk_refuses_get_a_message_naming_the_field_the_bound_and_the_fix(name, value, message):
    assert validate_hyperparameters(SYNTHETIC, {name: value}) == ({}, {name: message})


def test_unknown_and_container_hyperparameters_are_refused():
    cleaned, errors = validate_hyperparameters(SYNTHETIC, {"epochs": "3", "epoch": "3", "sagemaker_program": "x.py"})
    assert cleaned == {"epochs": 3}
    assert errors["epoch"].startswith("example-model has no hyperparameter named epoch: remove it, or use one of epochs")
    assert errors["sagemaker_program"].startswith("sagemaker_program is set by the training job itself")


def test_every_default_of_every_real_spec_passes_its_own_validation():
    for spec in FULL.values():
        defaults = {hp["name"]: str(hp["default"]) for hp in hyperparameter_specs(spec)}
        assert validate_hyperparameters(spec, defaults)[1] == {}, spec["model_id"]


# -- spot, warm pools, KMS, network isolation -------------------------------------------------------


def test_spot_training_needs_a_wait_at_least_as_long_as_the_run():
    spec = bundled("pytorch-ic-mobilenet-v2")
    with pytest.raises(ValueError, match="maximum wait"):
        train(spec, use_spot=True)
    with pytest.raises(ValueError, match="must be at least the maximum run time"):
        train(spec, use_spot=True, max_run_seconds=3600, max_wait_seconds=3599)
    with pytest.raises(ValueError, match="must be at least the maximum run time"):
        train(spec, use_spot=True, max_wait_seconds=3600)  # against estimator_kwargs.max_run, 360000
    with pytest.raises(ValueError, match="spot training only"):
        train(spec, max_wait_seconds=7200)
    request = train(spec, use_spot=True, max_run_seconds=3600, max_wait_seconds=3600).request
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 3600}
    assert request["EnableManagedSpotTraining"] is True


def test_without_spot_there_is_no_wait_and_no_spot_flag():
    request = train(bundled("pytorch-ic-mobilenet-v2"), max_run_seconds=600).request
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 600}
    assert "EnableManagedSpotTraining" not in request and "CheckpointConfig" not in request


@pytest.mark.parametrize("seconds", [1, 60, 1800, 3600])
def test_a_warm_pool_is_kept_for_the_seconds_asked(seconds):
    request = train(bundled("pytorch-ic-mobilenet-v2"), keep_alive_seconds=seconds).request
    assert request["ResourceConfig"]["KeepAlivePeriodInSeconds"] == seconds
    assert_accepted_by_sagemaker("CreateTrainingJob", request)


def test_no_warm_pool_sends_no_keep_alive_and_out_of_range_values_are_refused():
    spec = bundled("pytorch-ic-mobilenet-v2")
    assert "KeepAlivePeriodInSeconds" not in train(spec, keep_alive_seconds=0).request["ResourceConfig"]
    for seconds in (-1, 3601, 1.5):
        with pytest.raises(ValueError, match="from 0 to 3600 seconds"):
            train(spec, keep_alive_seconds=seconds)


def test_a_kms_key_encrypts_the_output_but_not_the_local_disks_of_an_nvme_instance():
    spec = bundled("tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1")
    request = train(spec, "ml.g5.xlarge", kms_key_id=KMS).request
    assert request["OutputDataConfig"] == {"S3OutputPath": OUTPUT, "KmsKeyId": KMS}
    assert "VolumeKmsKeyId" not in request["ResourceConfig"]
    assert train(spec, "ml.p3.2xlarge", kms_key_id=KMS).request["ResourceConfig"]["VolumeKmsKeyId"] == KMS


def test_without_network_isolation_the_script_is_fetched_from_s3_and_no_code_channel_is_sent():
    spec = deepcopy(bundled("pytorch-ic-mobilenet-v2"))
    spec["training_enable_network_isolation"] = False
    request = train(spec).request
    script = f"{PUBLIC}/source-directory-tarballs/pytorch/transfer_learning/ic/prepack/v1.1.0/sourcedir.tar.gz"
    assert list(channels(request)) == ["training", "model"]
    assert request["HyperParameters"]["sagemaker_submit_directory"] == f'"{script}"'
    assert "EnableNetworkIsolation" not in request


def test_without_a_prepacked_script_the_plain_training_script_is_used():
    spec = deepcopy(bundled("pytorch-ic-mobilenet-v2"))
    del spec["training_prepacked_script_key"]
    code = channels(train(spec).request)["code"]
    assert code["DataSource"]["S3DataSource"]["S3Uri"] == (
        f"{PUBLIC}/source-directory-tarballs/pytorch/transfer_learning/ic/v2.3.0/sourcedir.tar.gz")


def test_training_volume_size_applies_only_where_the_instance_takes_an_ebs_volume():
    spec = deepcopy(bundled("tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1"))
    spec["training_volume_size"] = 100
    assert train(spec, "ml.p3.2xlarge").request["ResourceConfig"]["VolumeSizeInGB"] == 100
    assert train(spec, "ml.g5.xlarge").request["ResourceConfig"]["VolumeSizeInGB"] == 30
    assert train(spec, "ml.g4dn.xlarge").request["ResourceConfig"]["VolumeSizeInGB"] == 30


def test_instance_variants_override_hyperparameter_defaults_metrics_and_environment():
    spec = deepcopy(bundled("pytorch-ic-mobilenet-v2"))
    variants = spec["training_instance_type_variants"]["variants"]
    variants["m5"]["properties"] = {
        "hyperparameters": [{"name": "batch_size", "type": "int", "default": 16, "scope": "algorithm"}],
        "metrics": [{"Name": "pytorch-ic:val-accuracy", "Regex": "accuracy=([0-9.]+)"}],
        "environment_variables": {"OMP_NUM_THREADS": 4, "SHARED": "family"},
    }
    variants["ml.m5.xlarge"] = {"properties": {"environment_variables": {"SHARED": "type"}}}
    request = train(spec, "ml.m5.xlarge").request
    assert request["HyperParameters"]["batch_size"] == '"16"'
    given = train(spec, "ml.m5.xlarge", hyperparameters={"batch_size": "8"}).request
    assert given["HyperParameters"]["batch_size"] == '"8"'
    assert request["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "pytorch-ic:val-accuracy", "Regex": "accuracy=([0-9.]+)"}]
    assert request["Environment"] == {"OMP_NUM_THREADS": "4", "SHARED": "type"}
    assert "Environment" not in train(bundled("pytorch-ic-mobilenet-v2")).request


def test_a_variant_training_artifact_key_wins_over_the_spec_one():
    spec = deepcopy(bundled("pytorch-ic-mobilenet-v2"))
    variant = spec["training_instance_type_variants"]["variants"]["m5"]
    variant["properties"] = {"training_artifact_key": "m5/train.tar.gz"}
    assert channels(train(spec, "ml.m5.xlarge").request)["model"]["DataSource"]["S3DataSource"]["S3Uri"] == (
        f"{PUBLIC}/m5/train.tar.gz")


def test_regions_without_sagemaker_debugger_get_no_hook_and_the_profiler_off():
    spec = bundled("pytorch-ic-mobilenet-v2")
    request = train(spec, region="eu-central-2").request
    assert "DebugHookConfig" not in request
    assert request["ProfilerConfig"] == {"DisableProfiler": True}
    assert request["AlgorithmSpecification"]["TrainingImage"].startswith("380420809688.dkr.ecr.eu-central-2")


def test_uncompressed_output_is_asked_for_when_the_spec_says_so():
    request = train(llama(), accept_eula=True).request
    assert request["OutputDataConfig"] == {"S3OutputPath": OUTPUT, "CompressionType": "NONE"}


# -- gated models -----------------------------------------------------------------------------------


def test_a_gated_model_needs_its_license_accepted():
    with pytest.raises(SpecError, match="is gated: accept its end-user license agreement") as error:
        train(llama())
    assert "fmhMetadata/eula/llama3_1Eula.txt" in str(error.value)


def test_an_older_gated_spec_reads_its_weights_from_the_variable_its_variant_names():
    # Its variants carry gated_model_key_env_var_value, so the SDK sends no model channel
    # (JumpStartModelSpecs.use_training_model_artifact) and SageMakerGatedModelS3Uri instead.
    spec = llama()
    result = train(spec, "ml.g5.48xlarge", accept_eula=True)
    request = result.request
    script = (f"{PUBLIC}/source-directory-tarballs/training/meta-textgeneration/prepack/"
              "inference-meta-textgeneration/v1.2.0/sourcedir.tar.gz")
    assert request["InputDataConfig"] == [s3_channel("training", TRAIN), s3_channel("code", script)]
    assert request["Environment"] == {
        "SageMakerGatedModelS3Uri": f"{PRIVATE}/meta-training/g5/v1.0.0/train-meta-textgeneration-llama-3-1-70b.tar.gz",
        "accept_eula": "true",
    }
    assert request["ResourceConfig"]["VolumeSizeInGB"] == 30  # training_volume_size 256 does not apply to g5
    assert request["AlgorithmSpecification"]["TrainingImage"] == (
        f"{ECR}/huggingface-pytorch-training:2.0.0-transformers4.28.1-gpu-py310-cu118-ubuntu20.04")
    assert [m["Name"] for m in request["AlgorithmSpecification"]["MetricDefinitions"]] == [
        "huggingface-textgeneration:eval-loss", "huggingface-textgeneration:eval-ppl",
        "huggingface-textgeneration:train-loss"]
    assert request["HyperParameters"]["epoch"] == '"5"'
    assert result.sources["eula"].value.endswith("/fmhMetadata/eula/llama3_1Eula.txt")
    p4d = train(spec, "ml.p4d.24xlarge", accept_eula=True).request["Environment"]["SageMakerGatedModelS3Uri"]
    assert p4d == f"{PRIVATE}/meta-training/p4d/v1.0.0/train-meta-textgeneration-llama-3-1-70b.tar.gz"


def test_an_older_gated_spec_without_an_artifact_for_the_instance_type_is_refused():
    with pytest.raises(SpecError, match="none for ml.p3.2xlarge: choose one of ml.g5.48xlarge, ml.p4d.24xlarge"):
        train(llama(), "ml.p3.2xlarge", accept_eula=True)


def test_a_gated_model_with_a_model_channel_carries_the_acceptance_on_it():
    spec = deepcopy(bundled("pytorch-ic-mobilenet-v2"))
    spec["gated_bucket"] = True
    model = channels(train(spec, accept_eula=True).request)["model"]
    assert model["DataSource"]["S3DataSource"] == {
        "S3DataType": "S3Prefix",
        "S3Uri": f"{PRIVATE}/pytorch-training/v2.0.0/train-pytorch-ic-mobilenet-v2.tar.gz",
        "S3DataDistributionType": "FullyReplicated",
        "ModelAccessConfig": {"AcceptEula": True},
    }


def test_accepting_a_license_changes_nothing_for_an_open_model():
    spec = bundled("pytorch-ic-mobilenet-v2")
    assert train(spec, accept_eula=True).request == train(spec).request


# -- specs that cannot be trained -------------------------------------------------------------------


def test_a_spec_missing_its_training_artifact_says_which_field():
    spec = deepcopy(bundled("pytorch-ic-mobilenet-v2"))
    del spec["training_artifact_key"]
    with pytest.raises(SpecError, match=r"\(training_artifact_key\)"):
        train(spec)
    with pytest.raises(SpecError, match=r"\(training_artifact_key\)"):
        training_checks(spec, "us-east-1")


def test_every_bundled_fine_tunable_spec_without_training_data_says_what_is_missing():
    missing = [json.loads(path.read_text()) for path in sorted(BUNDLED.glob("*/specs_v*.json"))]
    missing = [spec for spec in missing if spec.get("training_supported") and not spec.get("training_artifact_key")]
    assert len(missing) == 291
    for spec in missing:
        with pytest.raises(SpecError, match=r"training_artifact_key|deprecated|vulnerab"):
            train(spec, spec.get("default_training_instance_type") or "ml.m5.xlarge", accept_eula=True)


def test_a_spec_missing_its_training_script_says_which_field():
    spec = deepcopy(bundled("pytorch-ic-mobilenet-v2"))
    del spec["training_script_key"], spec["training_prepacked_script_key"]
    with pytest.raises(SpecError, match=r"\(training_script_key\)"):
        train(spec)


@pytest.mark.parametrize("change, message", [
    ({"training_supported": False}, "training_supported is false"),
    ({"deprecated": True, "deprecated_message": "Use version 4 instead."}, "Use version 4 instead."),
    ({"deprecated": True}, "Version 3.0.25 of pytorch-ic-mobilenet-v2 is deprecated"),
    ({"training_vulnerable": True, "training_vulnerabilities": ["pillow==9.0.0"]}, r"known vulnerabilities \(pillow"),
    ({"training_model_package_artifact_uris": {"us-east-1": "s3://mp/artifact.tar.gz"}}, "AWS Marketplace package"),
    ({"estimator_kwargs": {"max_run": 60, "instance_groups": []}}, r"instance_groups \(estimator_kwargs\)"),
])
def test_specs_the_sdk_would_refuse_or_this_dashboard_cannot_run_are_refused(change, message):
    spec = {**bundled("pytorch-ic-mobilenet-v2"), **change}
    with pytest.raises(SpecError, match=message):
        train(spec)


def test_a_spec_naming_only_its_training_framework_says_so():
    spec = deepcopy(bundled("pytorch-ic-mobilenet-v2"))
    del spec["training_instance_type_variants"]
    with pytest.raises(SpecError, match=r"only by framework \(pytorch 1.10.0 py38, training_ecr_specs\)"):
        train(spec)


def test_a_region_or_instance_family_without_a_training_image_is_refused():
    spec = bundled("pytorch-ic-mobilenet-v2")
    with pytest.raises(SpecError, match="no training image for mars-east-1"):
        train(spec, region="mars-east-1")
    with pytest.raises(SpecError, match=r"no training image for ml.x9.large \(nor for the x9 family\)"):
        train(spec, "ml.x9.large")
    with pytest.raises(SpecError, match="not a SageMaker instance type"):
        train(spec, "large")


@pytest.mark.parametrize("arguments, message", [
    ({"job_name": "jsui_ft_1"}, "not a training job name"),
    ({"job_name": "j" * 64}, "not a training job name"),
    ({"instance_count": 0}, "at least one instance"),
    ({"training_uri": "/data/train"}, "training data location must be an S3 URI"),
    ({"output_uri": "https://example.com/out"}, "output location must be an S3 URI"),
    ({"subnets": ["subnet-1"]}, "both subnets and security groups"),
])
def test_contradictory_or_malformed_arguments_are_a_programming_error(arguments, message):
    with pytest.raises(ValueError, match=message):
        train(bundled("pytorch-ic-mobilenet-v2"), **arguments)


def test_the_sdk_job_name_starts_with_the_spec_resource_name_base():
    assert job_name_base(bundled("pytorch-ic-mobilenet-v2")) == "pt-ic-mobilenet-v2"
    assert job_name_base({"model_id": "x"}) == "sagemaker-jumpstart"


# -- the pre-launch check ---------------------------------------------------------------------------


def test_the_pre_launch_check_lists_artifact_script_and_default_dataset():
    assert training_checks(bundled("pytorch-ic-mobilenet-v2"), "eu-west-1") == [
        Check("training artifact", "jumpstart-cache-prod-eu-west-1",
              "pytorch-training/v2.0.0/train-pytorch-ic-mobilenet-v2.tar.gz"),
        Check("training script", "jumpstart-cache-prod-eu-west-1",
              "source-directory-tarballs/pytorch/transfer_learning/ic/prepack/v1.1.0/sourcedir.tar.gz"),
        Check("default training dataset", "jumpstart-cache-prod-eu-west-1", "training-datasets/tf_flowers/"),
    ]
    assert default_dataset_uri(bundled("pytorch-ic-mobilenet-v2"), "eu-west-1") == (
        "s3://jumpstart-cache-prod-eu-west-1/training-datasets/tf_flowers/")


def test_a_gated_model_is_checked_in_the_private_bucket_for_the_instance_type():
    checks = training_checks(llama(), "us-east-1")
    assert checks[0] == ("training artifact", "jumpstart-private-cache-prod-us-east-1",
                         "meta-training/g5/v1.0.0/train-meta-textgeneration-llama-3-1-70b.tar.gz")
    assert checks[1].bucket == "jumpstart-cache-prod-us-east-1"
    assert checks[2] == ("default training dataset", "jumpstart-cache-prod-us-east-1", "training-datasets/sec_amazon/")
    assert training_checks(llama(), "us-east-1", "ml.p4d.24xlarge")[0].key.startswith("meta-training/p4d/")


def test_a_spec_without_a_default_dataset_has_no_dataset_check_and_no_uri():
    spec = deepcopy(bundled("pytorch-ic-mobilenet-v2"))
    del spec["default_training_dataset_key"]
    assert [check.what for check in training_checks(spec, "us-east-1")] == ["training artifact", "training script"]
    assert default_dataset_uri(spec, "us-east-1") is None
    assert default_dataset_uri({"default_training_dataset_uri": "s3://hub/data/"}, "us-east-1") == "s3://hub/data/"


# -- deploying the fine-tuned model -----------------------------------------------------------------


def test_a_fine_tuned_mobilenet_deploys_its_trained_tarball_as_the_sdk_does():
    # estimator.deploy(instance_type="ml.m5.large") after the fit above: the spec has a prepacked
    # inference artifact, so the trained model.tar.gz (written by the prepacked training script) goes
    # as it is, with no script and no repack.
    result = deploy(bundled("pytorch-ic-mobilenet-v2"), tags=[("team", "vision")])
    tags = [
        {"Key": "sagemaker-sdk:jumpstart-model-id", "Value": "pytorch-ic-mobilenet-v2"},
        {"Key": "sagemaker-sdk:jumpstart-model-version", "Value": "3.0.25"},
        {"Key": "team", "Value": "vision"},
    ]
    assert isinstance(result, FineTunedDeployRequest) and result.repack is None
    assert result.model == {
        "ModelName": "jsui-ft-1-model",
        "ExecutionRoleArn": ROLE,
        "PrimaryContainer": {
            "Image": f"{ECR}/pytorch-inference:1.10.0-cpu-py38",
            "Environment": {
                "ENDPOINT_SERVER_TIMEOUT": "3600",
                "MODEL_CACHE_ROOT": "/opt/ml/model",
                "SAGEMAKER_ENV": "1",
                "SAGEMAKER_MODEL_SERVER_TIMEOUT": "3600",
                "SAGEMAKER_MODEL_SERVER_WORKERS": "1",
                "SAGEMAKER_PROGRAM": "inference.py",
            },
            "ModelDataUrl": f"{OUTPUT}jsui-ft-1/output/model.tar.gz",
        },
        "EnableNetworkIsolation": True,
        "Tags": tags,
    }
    assert result.endpoint_config == {
        "EndpointConfigName": "jsui-ft-1-config",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "jsui-ft-1-model", "InitialInstanceCount": 1,
                                "InstanceType": "ml.m5.large", "InitialVariantWeight": 1}],
        "Tags": tags,
    }
    assert result.endpoint == {"EndpointName": "jsui-ft-1-endpoint", "EndpointConfigName": "jsui-ft-1-config",
                               "Tags": tags}
    assert result.sources["script"] is None
    assert_accepted_by_sagemaker("CreateModel", result.model)
    assert_accepted_by_sagemaker("CreateEndpointConfig", result.endpoint_config)
    assert_accepted_by_sagemaker("CreateEndpoint", result.endpoint)


def test_a_fine_tuned_deploy_carries_vpc_and_kms_where_sagemaker_reads_them():
    result = deploy(bundled("pytorch-ic-mobilenet-v2"), subnets=["subnet-1"], security_groups=["sg-1"], kms_key_id=KMS)
    assert result.model["VpcConfig"] == {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    assert result.endpoint_config["KmsKeyId"] == KMS
    with pytest.raises(SpecError, match="local NVMe"):
        deploy(bundled("pytorch-ic-mobilenet-v2"), "ml.g5.xlarge", kms_key_id=KMS)


def test_a_fine_tuned_model_without_prepacked_inference_code_is_repacked_with_the_script_first():
    # Model._upload_code(repack=True): the trained tarball and hosting_script_key become one tarball
    # at <model name>/model.tar.gz, and the container runs the code from /opt/ml/model/code.
    spec = deepcopy(bundled("pytorch-ic-mobilenet-v2"))
    del spec["hosting_prepacked_artifact_key"]
    spec["hosting_use_script_uri"] = True
    result = deploy(spec, kms_key_id=KMS)
    destination = "s3://jsui-output/jsui-ft-1-model/model.tar.gz"
    assert result.repack == Repack(
        model_uri=f"{OUTPUT}jsui-ft-1/output/model.tar.gz",
        script_uri=f"{PUBLIC}/source-directory-tarballs/pytorch/inference/ic/v2.0.0/sourcedir.tar.gz",
        entry_point="inference.py", destination_uri=destination, kms_key_id=KMS,
    )
    container = result.model["PrimaryContainer"]
    assert container["ModelDataUrl"] == destination
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code"
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert container["Environment"]["SAGEMAKER_CONTAINER_LOG_LEVEL"] == "20"
    assert container["Environment"]["SAGEMAKER_REGION"] == "us-east-1"
    assert result.model["EnableNetworkIsolation"] is True  # the code is inside the artifact now
    assert_accepted_by_sagemaker("CreateModel", result.model)


def test_an_uncompressed_fine_tuned_model_deploys_as_a_prefix_with_its_inference_config():
    spec = llama()
    result = deploy(spec, "ml.g5.48xlarge", model_data_uri=f"{OUTPUT}jsui-ft-1/output/model")
    container = result.model["PrimaryContainer"]
    assert container["ModelDataSource"] == {"S3DataSource": {
        "S3Uri": f"{OUTPUT}jsui-ft-1/output/model/", "S3DataType": "S3Prefix", "CompressionType": "None"}}
    assert "ModelDataUrl" not in container and "ModelAccessConfig" not in json.dumps(container)
    assert result.sources["config"].value == "lmi"
    assert {"Key": "sagemaker-sdk:jumpstart-inference-config-name", "Value": "lmi"} in result.model["Tags"]
    assert_accepted_by_sagemaker("CreateModel", result.model)
    assert_accepted_by_sagemaker("CreateEndpointConfig", result.endpoint_config)


def test_an_uncompressed_model_whose_code_lives_apart_cannot_run_isolated():
    spec = deepcopy(bundled("pytorch-ic-mobilenet-v2"))
    del spec["hosting_prepacked_artifact_key"]
    spec["hosting_use_script_uri"] = True
    with pytest.raises(SpecError, match="network isolation"):
        deploy(spec, model_data_uri=f"{OUTPUT}jsui-ft-1/output/model/")
    spec["inference_enable_network_isolation"] = False
    env = deploy(spec, model_data_uri=f"{OUTPUT}jsui-ft-1/output/model/").model["PrimaryContainer"]["Environment"]
    assert env["SAGEMAKER_SUBMIT_DIRECTORY"] == (
        f"{PUBLIC}/source-directory-tarballs/pytorch/inference/ic/v2.0.0/sourcedir.tar.gz")


def test_a_deprecated_spec_is_not_deployed_after_fine_tuning_either():
    with pytest.raises(SpecError, match="deprecated"):
        deploy({**bundled("pytorch-ic-mobilenet-v2"), "deprecated": True})


def test_botocore_would_refuse_a_request_missing_a_required_field():
    request = train(bundled("pytorch-ic-mobilenet-v2")).request
    del request["RoleArn"]
    with pytest.raises(ParamValidationError):
        assert_accepted_by_sagemaker("CreateTrainingJob", request)
