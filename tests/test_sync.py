"""The catalog sync from JumpStart's bucket (moto), from a folder laid out like it, and from the
bundled catalog."""

import copy
import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from catalog import sync, tasks
from catalog.models import Algorithm, Model, Notebook, Solution, SyncRun

FIXTURES = Path(__file__).parent / "fixtures" / "jumpstart"
BUCKET = "jumpstart-cache-prod-us-east-1"
MANIFEST = "models_manifest.json"
PROPRIETARY = "proprietary-sdk-manifest.json"
MOBILENET = "pytorch-ic-mobilenet-v2"
BERT = "huggingface-spc-bert-base-cased"
BIT = "tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1"
# Not a JumpStart model: an id the tests use for entries that must not reach the catalog.
STRANGER = "pytorch-ic-test-only-model"

pytestmark = pytest.mark.django_db


def load(path):
    return json.loads(path.read_text())


def fixture_manifest():
    return load(FIXTURES / MANIFEST)


def fixture_spec(model_id):
    entry = next(e for e in fixture_manifest() if e["model_id"] == model_id)
    return load(FIXTURES / entry["spec_key"])


def spec_copy(real_id, **changes):
    """A real spec with a few fields changed, and its manifest entry."""
    spec = {**copy.deepcopy(fixture_spec(real_id)), **changes}
    key = f"community_models/{spec['model_id']}/specs_v{spec['version']}.json"
    entry = {"model_id": spec["model_id"], "version": spec["version"], "spec_key": key,
             "min_version": spec["min_sdk_version"]}
    return spec, entry


def put(s3, key, document, bucket=BUCKET):
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body)


def upload_fixtures(s3, bucket=BUCKET):
    for path in FIXTURES.rglob("*.json"):
        put(s3, path.relative_to(FIXTURES).as_posix(), path.read_bytes(), bucket)


def catalog():
    return list(Model.objects.order_by("model_id").values())


@pytest.fixture
def s3(aws, settings):
    """JumpStart's us-east-1 bucket in moto with the fixture manifest and the three real specs."""
    settings.AWS_REGION = "us-east-1"
    settings.JUMPSTART_BUCKET = BUCKET
    client = aws.client("s3")
    client.create_bucket(Bucket=BUCKET)
    upload_fixtures(client)
    return client


@pytest.fixture
def s3_reads(s3):
    """The keys of every S3 GetObject the sync makes (the same cached client serves it)."""
    keys = []
    s3.meta.events.register(
        "before-parameter-build.s3.GetObject", lambda params, **kwargs: keys.append(params["Key"])
    )
    return keys


def test_a_sync_creates_the_three_models_from_their_real_specs(s3):
    run = sync.sync_from_bucket()

    assert (run.status, run.created, run.skipped, run.warnings) == ("succeeded", 3, 0, [])
    assert Model.objects.count() == 3
    mobilenet = Model.objects.get(model_id=MOBILENET)
    assert mobilenet.version == "3.0.25"
    assert mobilenet.default_inference_instance_type == "ml.m5.large"
    assert mobilenet.supported_inference_instance_types == [
        "ml.m5.large", "ml.m5.xlarge", "ml.c5.xlarge", "ml.c5.2xlarge", "ml.m4.xlarge"
    ]
    assert mobilenet.default_training_instance_type == "ml.m5.xlarge"
    assert mobilenet.supported_training_instance_types == [
        "ml.m5.xlarge", "ml.c5.2xlarge", "ml.m4.xlarge"
    ]
    assert mobilenet.fine_tunable is True
    epochs = next(h for h in mobilenet.hyperparameters if h["name"] == "epochs")
    assert epochs == {"name": "epochs", "type": "int", "default": 5, "min": 1, "max": 1000,
                      "scope": "algorithm"}
    assert (mobilenet.framework, mobilenet.task, mobilenet.task_label) == (
        "pytorch", "ic", "Image Classification")
    assert (mobilenet.modality, mobilenet.provider) == ("vision", "Pytorch Hub")
    assert mobilenet.model_url == "https://pytorch.org/hub/pytorch_vision_mobilenet_v2/"
    assert mobilenet.spec == fixture_spec(MOBILENET)
    assert mobilenet.available and not mobilenet.gated and not mobilenet.deprecated

    bert = Model.objects.get(model_id=BERT)
    assert bert.version == "2.0.3"
    assert bert.default_training_instance_type == "ml.p3.2xlarge"
    assert [h["name"] for h in bert.hyperparameters][:2] == ["epochs", "adam-learning-rate"]
    assert bert.task_label == "Sentence Pair Classification"

    bit = Model.objects.get(model_id=BIT)
    assert bit.display_name == "BiT-M R101x1"
    assert bit.algorithm.slug == "image-classification-tensorflow"
    assert bit.fine_tunable is True
    assert Model.objects.search("bit-m r101x1").get() == bit


def test_a_second_sync_changes_nothing_and_reads_only_the_manifest(s3, s3_reads):
    sync.sync_from_bucket()
    before = catalog()
    s3_reads.clear()

    run = sync.sync_from_bucket()

    assert s3_reads == [MANIFEST, PROPRIETARY]
    assert (run.status, run.created, run.updated, run.unchanged) == ("succeeded", 0, 0, 3)
    assert catalog() == before
    assert (Algorithm.objects.count(), Notebook.objects.count()) == (7, 83)


def _missing_spec_key(s3):
    _, entry = spec_copy(MOBILENET, model_id=STRANGER)
    del entry["spec_key"]
    return entry


def _spec_not_in_bucket(s3):
    return spec_copy(MOBILENET, model_id=STRANGER)[1]


def _spec_not_json(s3):
    _, entry = spec_copy(MOBILENET, model_id=STRANGER)
    put(s3, entry["spec_key"], b"<Error>not a spec</Error>")
    return entry


def _spec_for_another_model(s3):
    spec, entry = spec_copy(MOBILENET, model_id=STRANGER)
    put(s3, entry["spec_key"], {**spec, "model_id": BERT})
    return entry


@pytest.mark.parametrize(
    "bad_entry, named",
    [
        (_missing_spec_key, f"({STRANGER}): no spec_key"),
        (_spec_not_in_bucket, f"{STRANGER} 3.0.25: spec s3://{BUCKET}/community_models/{STRANGER}"),
        (_spec_not_json, "is not JSON"),
        (_spec_for_another_model, f"is for model_id '{BERT}'"),
        (lambda s3: STRANGER, "models_manifest.json entry #3 (no model_id): not a JSON object"),
    ],
    ids=["no spec_key", "spec missing", "spec not JSON", "spec of another model", "not a dict"],
)
def test_a_malformed_entry_is_skipped_with_a_warning_naming_it(s3, bad_entry, named, caplog):
    put(s3, MANIFEST, [*fixture_manifest(), bad_entry(s3)])

    run = sync.sync_from_bucket()

    assert run.status == "succeeded"
    assert sorted(Model.objects.values_list("model_id", flat=True)) == [BERT, MOBILENET, BIT]
    assert run.created == 3 and run.skipped == 1
    [warning] = run.warnings
    assert named in warning
    assert warning in caplog.text


def _delete_manifest(s3):
    s3.delete_object(Bucket=BUCKET, Key=MANIFEST)


@pytest.mark.parametrize(
    "break_manifest, reason",
    [
        (_delete_manifest, "NoSuchKey"),
        (lambda s3: put(s3, MANIFEST, b'[{"model_id": '), "is not JSON"),
        (lambda s3: put(s3, MANIFEST, {"models": fixture_manifest()}), "is not a JSON list"),
        (lambda s3: put(s3, MANIFEST, []), "has no usable entry"),
        (lambda s3: put(s3, MANIFEST, [{"model_id": BERT}, "x"]), "has no usable entry"),
    ],
    ids=["missing", "not JSON", "not a list", "empty list", "no usable entry"],
)
def test_a_bad_manifest_fails_and_leaves_the_catalog_untouched(s3, break_manifest, reason):
    sync.sync_from_bucket()
    Model.objects.filter(model_id=MOBILENET).update(featured=True)
    before = catalog()
    break_manifest(s3)

    run = sync.sync_from_bucket()

    assert run.status == "failed"
    assert reason in run.error
    assert catalog() == before
    assert SyncRun.objects.first() == run


def test_every_spec_unreadable_fails_the_sync_instead_of_emptying_it(s3):
    put(s3, MANIFEST, [spec_copy(MOBILENET, model_id=STRANGER)[1]])

    run = sync.sync_from_bucket()

    assert run.status == "failed" and "could be synced" in run.error
    assert run.skipped == 1 and STRANGER in run.warnings[0]
    assert not Model.objects.exists() and not Algorithm.objects.exists()


def test_a_bucket_that_does_not_exist_fails_and_leaves_the_catalog_untouched(s3):
    sync.sync_from_bucket()
    before = catalog()

    run = sync.sync_from_bucket(bucket="jumpstart-cache-prod-nowhere")

    assert (run.status, run.source) == ("failed", "s3://jumpstart-cache-prod-nowhere")
    assert "NoSuchBucket" in run.error
    assert catalog() == before


def test_a_model_dropped_from_the_manifest_becomes_unavailable_and_returns_when_relisted(s3):
    sync.sync_from_bucket()
    put(s3, MANIFEST, [e for e in fixture_manifest() if e["model_id"] != BERT])

    dropped = sync.sync_from_bucket()

    assert (dropped.unavailable, dropped.unchanged) == (1, 2)
    assert Model.objects.count() == 3
    assert not Model.objects.get(model_id=BERT).available
    assert BERT not in Model.objects.visible().values_list("model_id", flat=True)

    upload_fixtures(s3)
    back = sync.sync_from_bucket()

    assert (back.updated, back.unavailable) == (1, 0)
    assert Model.objects.get(model_id=BERT).available
    assert Model.objects.visible().count() == 3


def test_a_staff_edit_made_while_a_sync_fetches_specs_is_not_written_over(s3, monkeypatch):
    sync.sync_from_bucket()
    card_text = Model.objects.get(model_id=BIT).description
    # BiT has a new version, so the sync writes its row; another model's description is blank
    # again, so it writes the description column too.
    newer, entry = spec_copy(BIT, version="4.0.7")
    put(s3, entry["spec_key"], newer)
    put(s3, MANIFEST, [*fixture_manifest(), entry])
    Model.objects.filter(model_id=MOBILENET).update(description="")
    fetch_specs = sync._Sync.fetch_specs

    def staff_edit_meanwhile(self, entries):
        found = fetch_specs(self, entries)
        bit = Model.objects.get(model_id=BIT)
        bit.description = "Described by staff while the sync ran."
        bit.save()  # as the admin saves it
        return found

    monkeypatch.setattr(sync._Sync, "fetch_specs", staff_edit_meanwhile)
    sync.sync_from_bucket()
    bit = Model.objects.get(model_id=BIT)
    assert bit.version == "4.0.7"
    assert bit.description == "Described by staff while the sync ran." != card_text
    assert Model.objects.search("described by staff").get() == bit
    assert Model.objects.get(model_id=MOBILENET).description  # the card's text, back


def test_staff_edits_survive_a_resync_that_updates_the_model(s3, s3_reads):
    sync.sync_from_bucket()
    bit = Model.objects.get(model_id=BIT)
    bit.display_name, bit.description = "BiT for flowers", "Our pick for the flowers demo."
    bit.featured = bit.hidden = True
    bit.save()
    Notebook.objects.update(featured=True, hidden=True)
    Algorithm.objects.update(featured=True)
    newer, entry = spec_copy(BIT, version="4.0.7", default_inference_instance_type="ml.g5.xlarge")
    put(s3, entry["spec_key"], newer)
    put(s3, MANIFEST, [*fixture_manifest(), {**entry, "search_keywords": ["Big Transfer"]}])
    s3_reads.clear()

    run = sync.sync_from_bucket()

    assert s3_reads == [MANIFEST, PROPRIETARY, entry["spec_key"]]
    assert (run.updated, run.unchanged) == (1, 2)
    bit.refresh_from_db()
    assert (bit.version, bit.default_inference_instance_type) == ("4.0.7", "ml.g5.xlarge")
    assert bit.display_name == "BiT for flowers"
    assert bit.description == "Our pick for the flowers demo."
    assert bit.featured and bit.hidden
    assert Model.objects.search("flowers demo").get() == bit
    assert Model.objects.search("big transfer").get() == bit
    assert not Notebook.objects.filter(featured=False).exists()
    assert not Notebook.objects.filter(hidden=False).exists()
    assert not Algorithm.objects.filter(featured=False).exists()


def test_the_highest_version_wins_comparing_numbers(s3, s3_reads):
    entries = []
    for version in ("2.9.1", "2.10.0", "2.2.0"):
        spec, entry = spec_copy(MOBILENET, version=version)
        put(s3, entry["spec_key"], spec)
        entries.append(entry)
    put(s3, MANIFEST, entries)

    run = sync.sync_from_bucket()

    mobilenet = Model.objects.get()
    assert (run.created, mobilenet.version) == (1, "2.10.0")
    assert mobilenet.spec_key == "community_models/pytorch-ic-mobilenet-v2/specs_v2.10.0.json"
    assert s3_reads == [MANIFEST, PROPRIETARY, mobilenet.spec_key]


def test_eula_and_deprecation_in_a_spec_reach_the_model(s3):
    spec, entry = spec_copy(
        MOBILENET, hosting_eula_key="fmhMetadata/eula/llamaEula.txt", deprecated=True,
        deprecated_message="Use a newer model.",
    )
    put(s3, entry["spec_key"], spec)
    put(s3, MANIFEST, [entry])

    sync.sync_from_bucket()

    mobilenet = Model.objects.get()
    assert mobilenet.gated and mobilenet.deprecated
    assert mobilenet.deprecated_message == "Use a newer model."
    assert not Model.objects.not_deprecated().exists()


def test_a_model_without_a_card_takes_label_and_modality_from_its_task_code(s3):
    spec, entry = spec_copy(BERT, model_id="huggingface-tc-test-only-model")
    put(s3, entry["spec_key"], spec)
    put(s3, MANIFEST, [entry])

    sync.sync_from_bucket()

    model = Model.objects.get()
    assert (model.framework, model.task) == ("huggingface", "tc")
    assert (model.task_label, model.modality) == ("Text Classification", "text")
    assert (model.display_name, model.provider, model.algorithm) == ("", "", None)


def test_the_region_option_reads_that_regions_bucket(aws, settings):
    settings.JUMPSTART_BUCKET = BUCKET
    client = aws.client("s3", "eu-west-2")
    client.create_bucket(
        Bucket="jumpstart-cache-prod-eu-west-2",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-2"},
    )
    upload_fixtures(client, "jumpstart-cache-prod-eu-west-2")
    out = StringIO()

    call_command("sync_catalog", region="eu-west-2", stdout=out)

    assert "s3://jumpstart-cache-prod-eu-west-2" in out.getvalue()
    assert Model.objects.count() == 3


def test_from_dir_syncs_a_folder_laid_out_like_the_bucket():
    out = StringIO()

    call_command("sync_catalog", from_dir=str(FIXTURES), stdout=out)

    assert "3 created" in out.getvalue()
    assert Model.objects.get(model_id=MOBILENET).spec == fixture_spec(MOBILENET)
    assert SyncRun.objects.get().source == str(FIXTURES.resolve())


def test_a_spec_key_cannot_reach_outside_the_folder(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    spec, entry = spec_copy(MOBILENET)
    (tmp_path / "outside.json").write_text(json.dumps(spec))
    manifest = [fixture_manifest()[0], {**entry, "spec_key": "../outside.json"}]
    (folder / MANIFEST).write_text(json.dumps(manifest))
    (folder / "community_models").symlink_to(FIXTURES / "community_models")

    run = sync.sync_from_dir(folder)

    assert list(Model.objects.values_list("model_id", flat=True)) == [BERT]
    assert any("points outside" in warning for warning in run.warnings)


def test_the_bundled_catalog_syncs_every_model_notebook_solution_and_algorithm():
    out = StringIO()

    call_command("sync_catalog", "--bundled", stdout=out)

    run = SyncRun.objects.get()
    assert (run.status, run.created, run.skipped, run.warnings) == ("succeeded", 1092, 0, [])
    assert "1092 created" in out.getvalue()
    assert Model.objects.visible().count() == 1092
    assert Notebook.objects.count() == 83
    assert (Solution.objects.count(), Algorithm.objects.count()) == (26, 7)
    intro = Notebook.objects.get(
        path="introduction_to_amazon_algorithms/jumpstart_image_classification/"
        "Amazon_JumpStart_Image_Classification.ipynb"
    )
    assert MOBILENET in intro.models.values_list("model_id", flat=True)
    notebooks = Notebook.objects.all()
    linked = sum(Model.objects.filter(model_id__in=nb.model_ids).count() for nb in notebooks)
    assert Notebook.models.through.objects.count() == linked > 100
    bert = Model.objects.get(model_id=BERT)
    # Its newest version deploys only; the real spec, unchanged, is the version it fine-tunes from.
    assert (bert.version, bert.training_version) == ("3.0.11", "2.0.3")
    assert bert.training_spec == fixture_spec(BERT)
    assert Model.objects.get(model_id=MOBILENET).spec == fixture_spec(MOBILENET)
    assert Model.objects.filter(algorithm__slug="lightgbm").exists()
    assert Model.objects.get(model_id="meta-textgeneration-llama-2-7b").gated
    assert Model.objects.filter(gated=True).count() == 62
    proprietary = Model.objects.filter(proprietary=True).first()
    assert (proprietary.framework, proprietary.task) == ("", "")

    again = sync.sync_from_dir(sync.BUNDLED_DIR)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 1092)


def test_the_command_exits_non_zero_on_a_bad_manifest(tmp_path):
    (tmp_path / MANIFEST).write_text('{"not": "a list"}')

    with pytest.raises(CommandError, match="is not a JSON list"):
        call_command("sync_catalog", from_dir=str(tmp_path))

    assert SyncRun.objects.get().status == "failed"


def test_the_scheduled_sync_does_nothing_while_another_sync_is_running(s3):
    other = SyncRun.objects.create(source=f"s3://{BUCKET}")

    assert tasks.sync_catalog() is None
    assert SyncRun.objects.count() == 1 and not Model.objects.exists()

    # A run left "running" by a worker that died an hour ago no longer blocks the schedule.
    SyncRun.objects.filter(pk=other.pk).update(started_at=timezone.now() - timedelta(hours=2))
    run = SyncRun.objects.get(pk=tasks.sync_catalog())

    assert run.status == "succeeded" and Model.objects.count() == 3


def test_marketplace_models_come_from_their_own_manifest_as_proprietary(s3):
    spec, entry = spec_copy(MOBILENET, model_id="ai21-contextual-answers", version="2.2.001")
    key = "proprietary-models/ai21-contextual-answers/proprietary_specs_2.2.001.json"
    put(s3, key, spec)
    put(s3, PROPRIETARY, [{**entry, "spec_key": key}])

    sync.sync_from_bucket()

    marketplace = Model.objects.get(model_id="ai21-contextual-answers")
    assert marketplace.proprietary and (marketplace.framework, marketplace.task) == ("", "")
    assert not Model.objects.get(model_id=MOBILENET).proprietary


def test_an_unreadable_marketplace_manifest_leaves_proprietary_models_available(s3):
    spec, entry = spec_copy(MOBILENET, model_id="ai21-contextual-answers", version="2.2.001")
    put(s3, entry["spec_key"], spec)
    put(s3, PROPRIETARY, [entry])
    sync.sync_from_bucket()
    s3.delete_object(Bucket=BUCKET, Key=PROPRIETARY)

    run = sync.sync_from_bucket()

    assert run.status == "succeeded"
    assert Model.objects.get(model_id="ai21-contextual-answers").available
    assert any("proprietary models left as they were" in w for w in run.warnings)
