"""The bundled catalog (catalog/data/): every spec that claims to deploy or fine-tune resolves through
the request builders, the manifests list every version the bundle holds, and no display name says a
different model than its id."""

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

from aws.jumpstart import DeployRequest, deploy_request
from aws.training import training_request
from catalog.sync import BUNDLED_DIR, MANIFEST_KEY, PROPRIETARY_MANIFEST_KEY, entry_problem

DATA = BUNDLED_DIR.parent
REGION = "us-east-1"  # the demo's
ROLE = "arn:aws:iam::123456789012:role/r"
ECR = f".dkr.ecr.{REGION}.amazonaws.com/"
BUCKETS = (f"s3://jumpstart-cache-prod-{REGION}/", f"s3://jumpstart-private-cache-prod-{REGION}/")
# What the bundle holds (catalog/data/SOURCES.md says where each comes from).
DEPLOYABLE = 501  # specs with an artifact key and us-east-1 images
DEPLOY_REQUESTS = 2688  # their default and supported inference types, each resolved
TRAINABLE = 7  # specs with training data
# The specs whose chosen inference config loads extra model data (speculative-decoding heads): without
# it in the request, the container would fail to start.
LOADS_EXTRA_MODEL_DATA = {("openai-reasoning-gpt-oss-20b", "3.38.0")}
# deploy_specs/SOURCES.md §2: the real spec files, unchanged.
REAL_SHA256 = {
    "community_models/meta-textgeneration-llama-3-1-70b/specs_v2.16.2.json":
        "fa3cd198db44c8a26928f8bf9d2d7bf1ca422e0fcdc2c7da31dcfecdbdc2690e",
    "community_models/openai-reasoning-gpt-oss-20b/specs_v3.38.0.json":
        "6f680df7d46dcb7ab6fae589e1de3dc6156399e879d3c82d300e5e5b976ba350",
}


def entries():
    for name in (MANIFEST_KEY, PROPRIETARY_MANIFEST_KEY):
        yield from json.loads((BUNDLED_DIR / name).read_text())


def spec_of(entry):
    return json.loads((BUNDLED_DIR / entry["spec_key"]).read_text())


SPECS = [(entry, spec_of(entry)) for entry in entries()]


def _parts(spec):
    """The spec and its named inference configs, which may carry the hosting fields instead."""
    return [spec, *(spec.get("inference_config_components") or {}).values()]


def claims_to_deploy(spec):
    parts = _parts(spec)
    has_artifact = any(p.get("hosting_artifact_key") or p.get("hosting_prepacked_artifact_key") for p in parts)
    has_images = any(((p.get("hosting_instance_type_variants") or {}).get("regional_aliases") or {}).get(REGION)
                     for p in parts)
    return has_artifact and has_images


def inference_types(spec):
    names = []
    for part in _parts(spec):
        names += [part.get("default_inference_instance_type"), *(part.get("supported_inference_instance_types") or [])]
    return [name for name in dict.fromkeys(names) if name]


def has_training_data(spec):
    return bool(spec.get("training_supported") and spec.get("training_artifact_key")
                and (spec.get("training_script_key") or spec.get("training_prepacked_script_key")))


DEPLOY_SPECS = [(entry, spec) for entry, spec in SPECS if claims_to_deploy(spec)]
DEPLOY_CASES = [
    pytest.param(spec, instance_type, id=f"{entry['model_id']}-{entry['version']}-{instance_type}")
    for entry, spec in DEPLOY_SPECS
    for instance_type in inference_types(spec)
]
TRAINING_SPECS = [
    pytest.param(spec, id=f"{entry['model_id']}-{entry['version']}") for entry, spec in SPECS if has_training_data(spec)
]


def deploy(spec, instance_type):
    return deploy_request(spec, region=REGION, model_name="m", endpoint_config_name="c", endpoint_name="e",
                          instance_type=instance_type, role_arn=ROLE, accept_eula=True)


def model_data_uri(container):
    source = container.get("ModelDataSource")
    return source["S3DataSource"]["S3Uri"] if source else container["ModelDataUrl"]


def _build_script():
    spec = importlib.util.spec_from_file_location("build_bundle", DATA / "build_bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- deploying ----------------------------------------------------------------------------------------


def test_the_bundle_holds_501_specs_that_deploy_in_us_east_1_on_2688_machine_types():
    assert len(DEPLOY_SPECS) == DEPLOYABLE
    assert len(DEPLOY_CASES) == DEPLOY_REQUESTS


@pytest.mark.parametrize("spec, instance_type", DEPLOY_CASES)
def test_every_spec_that_claims_to_deploy_resolves_on_its_default_and_every_supported_type(spec, instance_type):
    deploy_request_ = deploy(spec, instance_type)

    assert isinstance(deploy_request_, DeployRequest)
    container = deploy_request_.model["PrimaryContainer"]
    assert ECR in container["Image"]
    assert model_data_uri(container).startswith(BUCKETS)
    assert deploy_request_.endpoint_config["ProductionVariants"][0]["InstanceType"] == instance_type
    if spec.get("gated_bucket") or spec.get("hosting_eula_key"):
        assert container["ModelDataSource"]["S3DataSource"]["ModelAccessConfig"] == {"AcceptEula": True}


@pytest.mark.parametrize("spec, instance_type", [
    case for case in DEPLOY_CASES if (case.values[0]["model_id"], case.values[0]["version"]) in LOADS_EXTRA_MODEL_DATA
])
def test_a_config_that_loads_extra_model_data_sends_it_with_the_model(spec, instance_type):
    deploy_request_ = deploy(spec, instance_type)
    config = deploy_request_.sources["config"].value
    extra = spec["inference_config_components"][config]["hosting_additional_data_sources"]
    wanted = {source["channel_name"]: source["s3_data_source"]["s3_uri"] for sources in extra.values() for source in sources}

    sent = deploy_request_.model["PrimaryContainer"].get("AdditionalModelDataSources") or []
    sent = {source["ChannelName"]: source["S3DataSource"]["S3Uri"] for source in sent}
    assert sent.keys() == wanted.keys()
    for channel, key in wanted.items():
        assert sent[channel].startswith(BUCKETS) and sent[channel].endswith(key)


def test_the_specs_that_load_extra_model_data_are_the_ones_whose_chosen_config_names_it():
    needing = set()
    for entry, spec in DEPLOY_SPECS:
        for instance_type in inference_types(spec):
            config = deploy(spec, instance_type).sources["config"]
            component = (spec.get("inference_config_components") or {}).get(config.value) if config else None
            if (component or {}).get("hosting_additional_data_sources") or (
                    not config and spec.get("hosting_additional_data_sources")):
                needing.add((entry["model_id"], entry["version"]))
    assert needing == LOADS_EXTRA_MODEL_DATA


# -- fine-tuning -------------------------------------------------------------------------------------


def test_the_bundle_holds_7_specs_with_training_data():
    assert len(TRAINING_SPECS) == TRAINABLE


@pytest.mark.parametrize("spec", TRAINING_SPECS)
def test_every_spec_with_training_data_resolves_on_its_default_training_type(spec):
    instance_type = spec["default_training_instance_type"]
    request = training_request(spec, region=REGION, job_name="j", instance_type=instance_type, role_arn=ROLE,
                               hyperparameters={}, training_uri="s3://bucket/train/",
                               output_uri="s3://bucket/output/", accept_eula=True).request

    assert ECR in request["AlgorithmSpecification"]["TrainingImage"]
    assert request["ResourceConfig"]["InstanceType"] == instance_type
    assert request["OutputDataConfig"]["S3OutputPath"] == "s3://bucket/output/"
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in request["InputDataConfig"]}
    assert channels["training"] == "s3://bucket/train/"
    # The pretrained weights come from JumpStart's bucket: a channel, or (older gated specs) a variable.
    weights = channels.get("model") or request.get("Environment", {}).get("SageMakerGatedModelS3Uri")
    assert weights.startswith(BUCKETS)


# -- the manifests -----------------------------------------------------------------------------------


def test_the_manifests_list_every_spec_file_once_with_the_model_and_version_it_holds():
    listed = [entry["spec_key"] for entry, _ in SPECS]
    on_disk = [str(p.relative_to(BUNDLED_DIR)) for p in BUNDLED_DIR.rglob("*.json")
               if p.name not in (MANIFEST_KEY, PROPRIETARY_MANIFEST_KEY)]

    assert sorted(listed) == sorted(on_disk)
    assert len({(entry["model_id"], entry["version"]) for entry, _ in SPECS}) == len(SPECS)
    for entry, spec in SPECS:
        assert (spec["model_id"], spec["version"]) == (entry["model_id"], entry["version"]), entry["spec_key"]
        assert entry_problem(entry) is None, entry


def test_every_model_with_a_card_is_in_the_manifests():
    cards = json.loads((DATA / "cards.json").read_text())
    assert {entry["model_id"] for entry, _ in SPECS} == cards.keys()


def test_a_model_keeps_the_version_it_deploys_from_and_the_older_one_it_fine_tunes_from():
    bert = {entry["version"]: spec for entry, spec in SPECS if entry["model_id"] == "huggingface-spc-bert-base-cased"}
    assert sorted(bert) == ["2.0.3", "3.0.11"]

    assert claims_to_deploy(bert["3.0.11"]) and not has_training_data(bert["3.0.11"])
    assert not any(name.startswith("training_") for name in bert["3.0.11"])  # deploy data only
    assert has_training_data(bert["2.0.3"])


def test_the_real_spec_files_are_bundled_unchanged_at_the_keys_their_manifest_names():
    manifest = {entry["spec_key"]: entry for entry in entries()}
    for key, digest in REAL_SHA256.items():
        assert hashlib.sha256((BUNDLED_DIR / key).read_bytes()).hexdigest() == digest
        assert manifest[key]["provider"]  # the real manifest's entry, as JumpStart lists it
    fixtures = Path(__file__).parent / "fixtures" / "jumpstart"
    for path in (fixtures / "community_models").glob("*/*.json"):
        assert (BUNDLED_DIR / path.relative_to(fixtures)).read_bytes() == path.read_bytes()


# -- display names -----------------------------------------------------------------------------------


def test_no_display_name_contradicts_its_model_id():
    contradicts = _build_script().name_contradicts_id
    cards = json.loads((DATA / "cards.json").read_text())
    named = {model_id: card["display_name"] for model_id, card in cards.items() if card.get("display_name")}

    assert len(named) == 110
    assert {model_id: contradicts(name, model_id) for model_id, name in named.items()
            if contradicts(name, model_id)} == {}
    assert cards["tensorflow-ic-imagenet-mobilenet-v1-050-160-classification-4"]["display_name"] != "MobileNet V1 1.00 160"


def test_the_name_check_catches_a_number_size_or_casing_the_id_does_not_have():
    contradicts = _build_script().name_contradicts_id
    assert contradicts("MobileNet V1 1.00 160", "tensorflow-ic-imagenet-mobilenet-v1-050-160-classification-4")
    assert contradicts("MobileNet V1 0.50 160", "tensorflow-ic-imagenet-mobilenet-v1-050-160-classification-4") is None
    assert contradicts("BiT-M R50x3 ImageNet-21k", "tensorflow-ic-bit-m-r50x3-imagenet21k-classification-1") is None
    assert contradicts("ELECTRA Base", "tensorflow-tc-electra-small-1")
    assert contradicts("BERT Base Cased", "tensorflow-tc-bert-en-uncased-L-12-H-768-A-12-2")
    assert contradicts("BERT Large Uncased", "tensorflow-tc-bert-en-uncased-L-24-H-1024-A-16-2") is None
