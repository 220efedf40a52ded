"""What can be deployed and fine-tuned here, worked out at sync from the specs in this region and
staff's restrictions, and shown wherever models are listed: marks, a filter, search order, and a
model page that says why not instead of opening an empty pane."""

import copy
import json
from pathlib import Path

import pytest

from catalog import fitness
from catalog.models import Model
from catalog.sync import sync_from_dir
from jobs.models import InstanceType

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "jumpstart"
MOBILENET = "pytorch-ic-mobilenet-v2"
BERT = "huggingface-spc-bert-base-cased"


def spec(model_id):
    manifest = json.loads((FIXTURES / "models_manifest.json").read_text())
    entry = next(e for e in manifest if e["model_id"] == model_id)
    return json.loads((FIXTURES / entry["spec_key"]).read_text())


def bucket_with(tmp_path, specs):
    """A folder laid out like JumpStart's bucket holding these (model id, version, spec) triples."""
    manifest = []
    for model_id, version, body in specs:
        key = f"community_models/{model_id}/specs_v{version}.json"
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_text(json.dumps({**body, "model_id": model_id, "version": version}))
        manifest.append({"model_id": model_id, "version": version, "spec_key": key, "min_version": "2.0.0"})
    (tmp_path / "models_manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "proprietary-sdk-manifest.json").write_text("[]")
    return tmp_path


def deploy_only(full):
    """A newer version with no artifact: JumpStart's data for it lacks what a deploy needs."""
    trimmed = copy.deepcopy(full)
    for field in ("hosting_artifact_key", "hosting_prepacked_artifact_key", "training_artifact_key"):
        trimmed.pop(field, None)
    return trimmed


def test_fitness_finds_the_types_a_spec_deploys_and_trains_on_and_says_why_not():
    types, problem = fitness.deploy_types(spec(MOBILENET), "us-east-1")
    assert "ml.m5.large" in types and problem is None
    trained, _ = fitness.training_types(spec(MOBILENET), "us-east-1")
    assert trained == ["ml.m5.xlarge", "ml.c5.2xlarge", "ml.m4.xlarge"]
    none, problem = fitness.deploy_types(deploy_only(spec(MOBILENET)), "us-east-1")
    assert none == [] and "artifact" in problem


def test_when_the_newest_version_lacks_data_deploy_and_fine_tune_use_the_newest_that_has_it(tmp_path, settings):
    settings.AWS_REGION = "us-east-1"
    full = spec(MOBILENET)
    sync_from_dir(bucket_with(tmp_path, [(MOBILENET, "3.0.25", full), (MOBILENET, "4.0.0", deploy_only(full))]))
    model = Model.objects.get(model_id=MOBILENET)
    assert model.version == "4.0.0"  # the catalog shows the newest
    assert (model.deploy_version, model.training_version) == ("3.0.25", "3.0.25")
    assert model.deployable and model.trainable
    assert model.deploy_spec["hosting_artifact_key"] == full["hosting_artifact_key"]


def test_a_model_that_cannot_be_deployed_is_marked_and_its_page_says_why(client_in, tmp_path, settings):
    settings.AWS_REGION = "us-east-1"
    sync_from_dir(bucket_with(tmp_path, [(MOBILENET, "3.0.25", spec(MOBILENET)),
                                         ("pytorch-ic-no-artifact", "1.0.0", deploy_only(spec(MOBILENET)))]))
    cards = client_in.get("/models/").content.decode()
    assert cards.count('class="chip good deployable"') == 1
    page = client_in.get("/models/pytorch-ic-no-artifact/").content.decode()
    assert 'id="why-not-deployable"' in page and "artifact" in page
    assert 'hx-get="/models/pytorch-ic-no-artifact/deploy/"' not in page  # no empty pane to open
    assert 'hx-get="/models/pytorch-ic-mobilenet-v2/deploy/"' in client_in.get(f"/models/{MOBILENET}/").content.decode()


def test_the_deployable_filter_and_search_order_put_what_deploys_first(client_in, tmp_path, settings):
    settings.AWS_REGION = "us-east-1"
    # Two equally good matches for "mobilenet"; only one can be deployed.
    sync_from_dir(bucket_with(tmp_path, [("pytorch-ic-mobilenet-aa", "1.0.0", deploy_only(spec(MOBILENET))),
                                         ("pytorch-ic-mobilenet-zz", "1.0.0", spec(MOBILENET))]))
    found = client_in.get("/models/", {"q": "mobilenet"}).context["page"].object_list
    assert [m.model_id for m in found] == ["pytorch-ic-mobilenet-zz", "pytorch-ic-mobilenet-aa"]
    deployable = client_in.get("/models/", {"deployable": "on"}).context["page"].object_list
    assert [m.model_id for m in deployable] == ["pytorch-ic-mobilenet-zz"]
    trainable = client_in.get("/models/", {"trainable": "on"}).context["page"].object_list
    assert [m.model_id for m in trainable] == ["pytorch-ic-mobilenet-zz"]


def test_restricting_every_type_a_model_deploys_on_makes_it_undeployable_until_lifted(client_in, tmp_path, settings):
    settings.AWS_REGION = "us-east-1"
    sync_from_dir(bucket_with(tmp_path, [(MOBILENET, "3.0.25", spec(MOBILENET))]))
    model = Model.objects.get(model_id=MOBILENET)
    rows = [InstanceType.objects.create(name=t, allowed=False) for t in model.deploy_types]
    model.refresh_from_db()
    assert not model.deployable and model.trainable  # training types are restricted apart
    assert "restricted by your admins" in client_in.get(f"/models/{MOBILENET}/").content.decode()
    rows[0].delete()
    model.refresh_from_db()
    assert model.deployable


def test_a_sync_in_another_region_works_it_out_again(tmp_path, settings):
    settings.AWS_REGION = "us-east-1"
    folder = bucket_with(tmp_path, [(MOBILENET, "3.0.25", spec(MOBILENET))])
    sync_from_dir(folder)
    assert Model.objects.get().fitness_region == "us-east-1"
    settings.AWS_REGION = "mars-north-1"  # a region the spec has no image for
    sync_from_dir(folder)
    model = Model.objects.get()
    assert (model.fitness_region, model.deployable) == ("mars-north-1", False)
    assert "mars-north-1" in model.deploy_problem
