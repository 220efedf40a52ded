"""Named deployment configurations: the best-ranked one by default, the one a person picks by its
benchmark numbers otherwise, and the extra model data a config needs (gpt-oss's speculative
decoding heads) sent as the SageMaker SDK sends it; what cannot be sent is said before launch."""

import copy
import json
import uuid
from pathlib import Path

import pytest

from aws import jumpstart
from catalog.models import Model
from jobs import deployments
from jobs.models import Deployment

from .test_deploy import catalog, form_data, sm  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
BUNDLE = Path(__file__).resolve().parent.parent / "catalog" / "data" / "jumpstart-cache" / "community_models"
GPT_OSS = "openai-reasoning-gpt-oss-20b"
LLAMA = "meta-textgeneration-llama-3-1-70b"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def bundled_spec(model_id):
    """The newest bundled version's spec."""
    from catalog.sync import version_key

    paths = (BUNDLE / model_id).glob("specs_v*.json")
    newest = max(paths, key=lambda p: version_key(p.stem.removeprefix("specs_v")))
    return json.loads(newest.read_text())


def request(spec, instance_type, config_name=None, **kwargs):
    return jumpstart.deploy_request(spec, region="us-east-1", model_name="m", endpoint_config_name="c",
                                    endpoint_name="e", instance_type=instance_type, role_arn=ROLE,
                                    config_name=config_name, **kwargs)


def test_the_best_ranked_config_is_the_default_and_another_can_be_chosen():
    spec = bundled_spec(GPT_OSS)
    assert jumpstart.inference_config_names(spec) == ["lmi-optimized", "lmi"]
    assert request(spec, "ml.g7e.2xlarge").sources["config"].value == "lmi-optimized"
    chosen = request(spec, "ml.g7e.2xlarge", "lmi")
    assert chosen.sources["config"].value == "lmi"
    assert "AdditionalModelDataSources" not in chosen.model["PrimaryContainer"]
    tags = {t["Key"]: t["Value"] for t in chosen.model["Tags"]}
    assert tags["sagemaker-sdk:jumpstart-inference-config-name"] == "lmi"


def test_speculative_decoding_heads_go_as_additional_model_data_as_the_sdk_sends_them():
    spec = bundled_spec(GPT_OSS)
    container = request(spec, "ml.g7e.2xlarge").model["PrimaryContainer"]
    assert container["AdditionalModelDataSources"] == [{
        "ChannelName": "eagle",
        "S3DataSource": {"CompressionType": "None", "S3DataType": "S3Prefix",
                         "S3Uri": "s3://jumpstart-cache-prod-us-east-1/lmi-eagle-heads/models/gpt-oss-20b-p-eagle/"},
    }]


def test_extra_model_data_from_a_bucket_we_do_not_know_is_refused_with_a_reason():
    spec = copy.deepcopy(bundled_spec(GPT_OSS))
    component = spec["inference_config_components"]["lmi-optimized"]
    component["hosting_additional_data_sources"]["speculative_decoding"][0]["provider"] = {"name": "Neo"}
    with pytest.raises(jumpstart.SpecError, match="choose the other configuration"):
        request(spec, "ml.g7e.2xlarge", "lmi-optimized")
    assert request(spec, "ml.g7e.2xlarge", "lmi").sources["config"].value == "lmi"


def test_a_config_that_does_not_run_on_the_machine_says_which_do():
    spec = copy.deepcopy(bundled_spec(GPT_OSS))
    spec["inference_config_components"]["lmi"]["supported_inference_instance_types"] = ["ml.g5.12xlarge"]
    with pytest.raises(jumpstart.SpecError, match="does not run on ml.g7e.2xlarge: choose one of ml.g5.12xlarge"):
        request(spec, "ml.g7e.2xlarge", "lmi")


def test_benchmarks_are_grouped_by_config_machine_and_concurrency():
    shown = jumpstart.benchmarks(bundled_spec(LLAMA))
    assert [c["name"] for c in shown] == ["lmi", "lmi-optimized"]
    rows = shown[0]["types"]["ml.p4d.24xlarge"]
    assert [r["concurrency"] for r in rows] == sorted((r["concurrency"] for r in rows), key=float)
    assert rows[0]["latency"][1] == "sec" and rows[0]["throughput"][1] == "tokens/sec"


def test_the_pane_shows_the_configurations_numbers_and_machines(client_in, catalog):
    html = client_in.get(f"/models/{LLAMA}/deploy/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="deploy-configs"' in html and "lmi-optimized" in html and "tokens/sec" in html
    assert 'data-fill="#id_instance_type" data-value="ml.g5.48xlarge"' in html
    assert 'value="lmi" id="id_config_lmi" checked' in html  # Llama's best-ranked config, chosen


def test_a_deploy_with_the_chosen_config_sends_it_and_its_extra_data(client_in, catalog, sm, django_capture_on_commit_callbacks, monkeypatch):
    from jobs import tasks

    monkeypatch.setattr(tasks.launch_deployment, "delay", lambda pk: None)
    model = Model.objects.get(model_id=GPT_OSS)
    assert model.deployable
    with django_capture_on_commit_callbacks(execute=True):
        response = client_in.post(f"/models/{GPT_OSS}/deploy/", form_data(
            endpoint_name="gpt-oss-fast", instance_type="ml.g7e.2xlarge", config_name="lmi-optimized",
            request_token=str(uuid.uuid4())))
    assert response.status_code == 302, response.content.decode()[:2000]
    deployment = Deployment.objects.get()
    assert deployment.config_name == "lmi-optimized"
    deployments.launch(deployment)
    container = sm.describe_model(ModelName=deployment.model_name)["PrimaryContainer"]
    assert container["AdditionalModelDataSources"][0]["ChannelName"] == "eagle"
