"""Fine-tuning: the form stops bad data, bad settings and untrainable specs before any training
job exists; a launch makes one job however often it runs; the poll follows it to its output with
few calls; logs and metrics are read only while somebody watches; stop, failure and deploy."""

import uuid
from pathlib import Path

import pytest

from aws import local
from aws.local.datasets import DEMO_DATA_BUCKET, DEMO_DATA_EU_BUCKET, remove_stand_in, seed_demo_data, seed_stand_ins
from jobs import tasks, training
from jobs.models import DataCheck, InstanceType, TrainingJob

from .test_deploy import catalog  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
T = TrainingJob.Status
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "jumpstart"
JUMPSTART = "jumpstart-cache-prod-us-east-1"
OUTPUT = "jumpstart-ui-demo-output"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BERT = "huggingface-spc-bert-base-cased"
MOBILENET = "pytorch-ic-mobilenet-v2"


@pytest.fixture
def s3_data(aws, settings):
    """JumpStart's bucket with stand-ins for the bundled specs' artifacts, the demo's data bucket
    with a valid and a broken dataset of each kind, and an output bucket."""
    settings.AWS_REGION = "us-east-1"
    settings.OUTPUT_BUCKET = OUTPUT
    s3 = aws.client("s3")
    for bucket in (JUMPSTART, OUTPUT):
        local.create_bucket(s3, bucket)
    seed_stand_ins(s3, JUMPSTART, FIXTURES)
    seed_demo_data(s3)
    local.configure(training_seconds=0)
    return s3


@pytest.fixture
def sm(aws):
    return aws.client("sagemaker")


@pytest.fixture
def sent(monkeypatch):
    messages = []
    for task in (tasks.launch_training_job, tasks.stop_training_job, tasks.check_dataset):
        monkeypatch.setattr(task, "delay", lambda pk, _n=task.name.rsplit(".", 1)[1]: messages.append((_n, pk)))
    return messages


def form_data(model_id=MOBILENET, **overrides):
    data = {"data_source": "own", "training_uri": f"s3://{DEMO_DATA_BUCKET}/image-classification/valid/",
            "validation_uri": "", "instance_type": "ml.m5.xlarge", "instance_count": 1,
            "job_name": f"ft-{uuid.uuid4().hex[:10]}", "output_uri": f"s3://{OUTPUT}/", "max_run_seconds": 3600,
            "keep_alive_seconds": 0, "role_arn": ROLE, "subnets": "", "security_groups": "", "kms_key_id": "",
            "request_token": str(uuid.uuid4())}
    if model_id == MOBILENET:
        data.update({"hp_epochs": "3", "hp_learning_rate": "0.001", "hp_batch_size": "4",
                     "hp_train_only_top_layer": "True", "hp_reinitialize_top_layer": "Auto"})
    else:
        data.update({"training_uri": f"s3://{DEMO_DATA_BUCKET}/sentence-pair/valid/", "instance_type": "ml.p3.2xlarge",
                     "hp_epochs": "2", "hp_adam-learning-rate": "2e-05", "hp_batch-size": "8",
                     "hp_reinitialize-top-layer": "Auto", "hp_train-only-top-layer": "False"})
    return {**data, **overrides}


def post(client, model_id=MOBILENET, **overrides):
    return client.post(f"/models/{model_id}/fine-tune/", form_data(model_id, **overrides))


def no_training_job(sm):
    return sm.list_training_jobs()["TrainingJobSummaries"] == [] and not TrainingJob.objects.exists()


def launched(client, capture, model_id=MOBILENET, **overrides):
    with capture(execute=True):
        response = post(client, model_id, **overrides)
    assert response.status_code == 302, response.content.decode()[:3000]
    job = TrainingJob.objects.latest("pk")
    tasks.launch_training_job(job.pk)
    job.refresh_from_db()
    return job


def poll_until(job, status, polls=12):
    for _ in range(polls):
        training.poll()
        job.refresh_from_db()
        if job.status == status:
            break
    return job


# -- the pane --------------------------------------------------------------------------------------


def test_the_pane_offers_the_training_types_with_gpus_minus_restricted_and_the_key_hyperparameters_first(client_in, catalog, s3_data):
    InstanceType.objects.create(name="ml.p3.16xlarge", allowed_for_training=False)
    response = client_in.get(f"/models/{BERT}/fine-tune/", HTTP_HX_REQUEST="true")
    form = response.context["form"]
    labels = dict(form.fields["instance_type"].choices)
    assert "ml.p3.16xlarge" not in labels
    assert "4 GPUs" in labels["ml.p3.8xlarge"] and "1 GPU" in labels["ml.p3.2xlarge"]
    assert [f.name for f in form.key_hyperparameter_fields] == ["hp_epochs", "hp_adam-learning-rate", "hp_batch-size"]
    html = response.content.decode()
    assert "s3://jumpstart-cache-prod-us-east-1/training-datasets/QNLI/" in html
    assert "try a batch size of 64" in html  # text: 64 per GPU × 1 GPU on the default p3.2xlarge


def test_the_batch_size_hint_follows_the_chosen_machines_gpus(client_in, catalog, s3_data):
    html = client_in.post(f"/models/{BERT}/fine-tune/hints/", {**form_data(BERT), "instance_type": "ml.p3.8xlarge"}).content.decode()
    assert "4 GPUs, so try a batch size of 256" in html
    assert f"s3://{OUTPUT}/{form_data(BERT, job_name='my-bert')['job_name']}/output/model.tar.gz" not in html  # the name given
    html = client_in.post(f"/models/{BERT}/fine-tune/hints/", {**form_data(BERT), "job_name": "my-bert"}).content.decode()
    assert f"s3://{OUTPUT}/my-bert/output/model.tar.gz" in html


def test_a_machine_the_image_cannot_run_on_is_warned_about_before_launch(client_in, catalog, s3_data):
    html = client_in.post(f"/models/{MOBILENET}/fine-tune/hints/", {**form_data(), "instance_type": "ml.m5.xlarge"}).content.decode()
    assert "machine-warning" not in html  # mobilenet's CPU types take its CPU image
    from catalog.models import Model

    bert = Model.objects.get(model_id=BERT)
    bert.supported_training_instance_types = [*bert.supported_training_instance_types, "ml.m5.xlarge"]
    bert.training_types = [*bert.training_types, "ml.m5.xlarge"]  # as if the spec claimed it
    bert.save()
    html = client_in.post(f"/models/{BERT}/fine-tune/hints/", {**form_data(BERT), "instance_type": "ml.m5.xlarge"}).content.decode()
    assert "machine-warning" in html and "no training image for ml.m5.xlarge" in html


def test_machine_warnings_name_retired_types_mismatched_images_and_cuda_too_new_for_the_gpus():
    from jobs.machines import Facts, warnings

    cpu = Facts("ml.m5.xlarge", 0, "", 4, 16384, True)
    k80 = Facts("ml.p2.xlarge", 1, "K80", 4, 62464, False)
    gpu_image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1.0-gpu-py310-cu121-ubuntu20.04"
    assert "built for GPUs and ml.m5.xlarge has none" in " ".join(warnings(cpu, gpu_image))
    said = " ".join(warnings(k80, gpu_image))
    assert "does not list p2.xlarge" in said and "CUDA 12" in said and "K80" in said
    assert warnings(Facts("ml.g5.xlarge", 1, "A10G", 4, 16384, True), gpu_image) == []


# -- bad input makes no training job -------------------------------------------------------------------


@pytest.mark.parametrize("uri, error", [
    ("my-bucket/data/", "is not an S3 URI"),
    ("s3://no-such-bucket-anywhere/data/", "does not exist"),
    (f"s3://{DEMO_DATA_EU_BUCKET}/text-classification/valid/", "eu-west-1"),
])
def test_a_bad_location_makes_no_training_job(client_in, catalog, s3_data, sm, sent, uri, error):
    response = post(client_in, training_uri=uri)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert no_training_job(sm) and sent == []


@pytest.mark.parametrize("model_id, prefix, named", [
    (MOBILENET, "image-classification/broken-one-class/", "at least two"),
    (MOBILENET, "image-classification/broken-no-folders/", "img-001.jpg"),
    (MOBILENET, "image-classification/broken-not-images/", "birds"),
    (BERT, "sentence-pair/broken-columns/", "line 5"),
])
def test_each_broken_dataset_kind_is_named_and_makes_no_training_job(client_in, catalog, s3_data, sm, sent, model_id, prefix, named):
    response = post(client_in, model_id, training_uri=f"s3://{DEMO_DATA_BUCKET}/{prefix}")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="data-problems"' in html
    assert named in html
    assert no_training_job(sm) and sent == []


@pytest.mark.parametrize("prefix, named", [
    ("text-classification/broken-header/", "line 1"),
    ("text-classification/broken-label/", "line 7"),
    ("text-classification/broken-empty-text/", "line 4"),
    ("text-classification/broken-no-csv/", "data.csv"),
])
def test_each_broken_text_classification_dataset_is_named(s3_data, prefix, named):
    from catalog.models import Model
    from jobs import data_checks

    model = Model(model_id="tensorflow-tc-bert-en-uncased-l-12-h-768-a-12-2", task="tc", spec={})
    report = data_checks.run(model, f"s3://{DEMO_DATA_BUCKET}/{prefix}")
    assert not report["ok"]
    problems = " ".join(f"{p['where']} {p['what']}" for part in report["parts"] for p in part["problems"])
    assert named in problems


@pytest.mark.parametrize("overrides, field, error", [
    ({"hp_epochs": "0"}, "hp_epochs", "from 1 to 1000"),
    ({"hp_learning_rate": "fast"}, "hp_learning_rate", "number"),
    ({"use_spot": "on", "max_run_seconds": 3600, "max_wait_seconds": 3000}, "max_wait_seconds", "more than the max runtime"),
    ({"job_name": "bad_name!"}, "job_name", "letters, digits and hyphens"),
    ({"job_name": "x" * 64}, "job_name", "at most 63 characters"),
    ({"keep_alive_seconds": 4000}, "keep_alive_seconds", "less than or equal to 3600"),
])
def test_bad_settings_are_named_in_the_form_and_make_no_training_job(client_in, catalog, s3_data, sm, sent, overrides, field, error):
    response = post(client_in, **overrides)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert error in errors, response.context["form"].errors
    assert no_training_job(sm) and sent == []


def test_a_training_type_staff_restrict_in_the_admin_makes_no_training_job(client, staff, client_in, catalog, s3_data, sm, sent):
    client.force_login(staff)
    response = client.post("/admin/jobs/instancetype/add/", {"name": "ml.m5.xlarge", "allowed": "on", "note": "costly"})
    assert response.status_code == 302
    restricted = InstanceType.objects.get(name="ml.m5.xlarge")
    assert restricted.allowed and not restricted.allowed_for_training  # endpoints keep it
    response = post(client_in)
    assert "Select a valid choice" in response.content.decode()
    assert no_training_job(sm) and sent == []


def test_a_missing_jumpstart_artifact_is_named_and_makes_no_training_job(client_in, catalog, s3_data, sm, sent):
    from catalog.models import Model

    key = Model.objects.get(model_id=MOBILENET).spec["training_artifact_key"]
    remove_stand_in(s3_data, JUMPSTART, key)
    html = post(client_in).content.decode()
    assert key in html and "training artifact" in html
    assert no_training_job(sm) and sent == []


def test_a_name_taken_in_the_account_makes_no_training_job(client_in, catalog, s3_data, sm, sent, django_capture_on_commit_callbacks):
    job = launched(client_in, django_capture_on_commit_callbacks, job_name="taken-name")
    TrainingJob.objects.filter(pk=job.pk).delete()  # forgotten here, still in SageMaker
    response = post(client_in, job_name="TAKEN-NAME")
    assert "never frees the name" in response.content.decode()
    assert len(sm.list_training_jobs()["TrainingJobSummaries"]) == 1


# -- launch, follow, stop, fail --------------------------------------------------------------------------


def test_a_launch_run_twice_makes_one_training_job(client_in, catalog, s3_data, sm, sent, django_capture_on_commit_callbacks):
    job = launched(client_in, django_capture_on_commit_callbacks)
    assert sent == [("launch_training_job", job.pk)]
    TrainingJob.objects.filter(pk=job.pk).update(status=T.QUEUED, pending="launch")  # a redelivery
    tasks.launch_training_job(job.pk)
    job.refresh_from_db()
    assert job.status == T.IN_PROGRESS
    assert [j["TrainingJobName"] for j in sm.list_training_jobs()["TrainingJobSummaries"]] == [job.job_name]


def test_a_double_submit_lands_on_one_training_job(client_in, catalog, s3_data, sm, sent):
    data = form_data()
    first = client_in.post(f"/models/{MOBILENET}/fine-tune/", data)
    second = client_in.post(f"/models/{MOBILENET}/fine-tune/", data)
    job = TrainingJob.objects.get()
    assert first["Location"] == second["Location"] == job.get_absolute_url()


def test_a_job_is_followed_to_its_training_output(client_in, catalog, s3_data, sm, sent, django_capture_on_commit_callbacks):
    job = poll_until(launched(client_in, django_capture_on_commit_callbacks, use_spot="on", max_wait_seconds=7200),
                     T.COMPLETED)
    assert job.status == T.COMPLETED
    assert [t["status"] for t in job.transitions][:2] == ["Starting", "Downloading"]
    assert job.model_artifact == f"s3://{OUTPUT}/{job.job_name}/output/model.tar.gz"
    assert s3_data.head_object(Bucket=OUTPUT, Key=f"{job.job_name}/output/model.tar.gz")["ContentLength"] > 0
    assert job.billable_seconds < job.training_seconds and job.spot_saving > 0
    html = client_in.get(job.get_absolute_url()).content.decode()
    for shown in ("Training output", job.arn, job.model_artifact, "Spot saving", "Deploy this model"):
        assert shown in html


def test_logs_and_metrics_are_read_only_while_somebody_watches(client_in, catalog, s3_data, sm, sent, django_capture_on_commit_callbacks):
    job = poll_until(launched(client_in, django_capture_on_commit_callbacks), T.COMPLETED)
    assert training.watch() == 0 and not job.log_lines.exists()  # nobody has the page open
    client_in.get(job.get_absolute_url())  # somebody looks
    assert training.watch() == 1
    job.refresh_from_db()
    assert job.log_lines.exists() and job.metrics.exists()
    assert job.epochs == 3 and job.progress == 1.0
    html = client_in.get(job.get_absolute_url()).content.decode()
    assert 'id="log-tail"' in html and "<svg" in html and "pytorch-ic:val-accuracy" in html
    training.watch()  # nothing new: the ended job's logs are complete and are not read again
    job.refresh_from_db()
    assert job.logs_complete and training.watch() == 0


def test_a_running_job_is_stopped_from_its_page(client_in, catalog, s3_data, sm, sent, django_capture_on_commit_callbacks):
    local.configure(training_seconds=60)
    job = launched(client_in, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client_in.post(f"/training-jobs/{job.pk}/stop/")
    job.refresh_from_db()
    assert (job.status, sent[-1]) == (T.STOPPING, ("stop_training_job", job.pk))
    tasks.stop_training_job(job.pk)
    local.configure(training_seconds=0)
    assert poll_until(job, T.STOPPED).status == T.STOPPED


def test_a_failed_job_shows_sagemakers_reason_and_its_last_log_lines(client_in, catalog, s3_data, sm, sent, django_capture_on_commit_callbacks):
    job = launched(client_in, django_capture_on_commit_callbacks, BERT,
                   training_uri=f"s3://{DEMO_DATA_BUCKET}/sentence-pair/fails-in-training/")
    job = poll_until(job, T.FAILED)
    assert job.status == T.FAILED and "AlgorithmError" in job.failure_reason
    training.watch()  # a failed job is read once for its last lines, watched or not
    html = client_in.get(job.get_absolute_url()).content.decode()
    assert "The training script stopped with an error" in html and "AlgorithmError" in html
    assert "ValueError" in html and 'id="log-tail"' in html


def test_the_fine_tuned_model_deploys_with_its_trained_artifact(client_in, catalog, s3_data, sm, sent, django_capture_on_commit_callbacks, monkeypatch):
    from jobs import deployments
    from jobs.models import Deployment

    monkeypatch.setattr(tasks.launch_deployment, "delay", lambda pk: None)
    job = poll_until(launched(client_in, django_capture_on_commit_callbacks), T.COMPLETED)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_in.post(f"/training-jobs/{job.pk}/deploy/", {
            "endpoint_name": "fine-tuned-flowers", "instance_type": "ml.m5.large", "instance_count": 1,
            "role_arn": ROLE, "subnets": "", "security_groups": "", "kms_key_id": "", "request_token": str(uuid.uuid4())})
    assert response.status_code == 302, response.content.decode()[:2000]
    deployment = Deployment.objects.get()
    assert deployment.training_job == job
    deployments.launch(deployment)
    container = sm.describe_model(ModelName=deployment.model_name)["PrimaryContainer"]
    assert container["ModelDataUrl"] == job.model_artifact


def test_the_training_jobs_list_shows_mine_with_status_and_cost_hint(client_in, client, catalog, s3_data, sm, sent, django_capture_on_commit_callbacks, django_user_model):
    job = poll_until(launched(client_in, django_capture_on_commit_callbacks), T.COMPLETED)
    html = client_in.get("/training-jobs/").content.decode()
    assert job.job_name in html and "Completed" in html and "ml.m5.xlarge" in html
    other = django_user_model.objects.create_user("mallory", password="pw-mallory-1")
    client.force_login(other)
    assert job.job_name not in client.get("/training-jobs/").content.decode()
    assert client.get(job.get_absolute_url()).status_code == 404


def test_a_data_check_runs_in_a_worker_and_reports_progress(client_in, catalog, s3_data, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        html = client_in.post(f"/models/{MOBILENET}/fine-tune/check/", form_data()).content.decode()
    data_check = DataCheck.objects.get()
    assert sent == [("check_dataset", data_check.pk)] and 'hx-trigger="every 1s"' in html
    tasks.check_dataset(data_check.pk)
    html = client_in.get(f"/data-checks/{data_check.pk}/").content.decode()
    assert 'id="data-ok"' in html and "every 1s" not in html
    # A check that passed a moment ago is not run again at launch: its report goes with the job.
    assert post(client_in).status_code == 302
    assert TrainingJob.objects.get().data_check == DataCheck.objects.get().report


def test_the_bucket_browser_pages_through_buckets_and_folders(client_in, catalog, s3_data):
    html = client_in.get("/s3/").content.decode()
    assert DEMO_DATA_BUCKET in html
    html = client_in.get("/s3/", {"bucket": DEMO_DATA_BUCKET}).content.decode()
    assert "image-classification/" in html
    html = client_in.get("/s3/", {"bucket": DEMO_DATA_BUCKET, "prefix": "image-classification/valid/"}).content.decode()
    assert "cats/" in html and f"s3://{DEMO_DATA_BUCKET}/image-classification/valid/" in html


def test_staff_stop_a_running_job_from_the_admin_after_confirming(client, staff, client_in, catalog, s3_data, sm, sent, django_capture_on_commit_callbacks):
    local.configure(training_seconds=60)
    job = launched(client_in, django_capture_on_commit_callbacks)
    client.force_login(staff)
    asked = client.post("/admin/jobs/trainingjob/", {"action": "stop_jobs", "_selected_action": [job.pk]})
    assert 'id="confirm-items"' in asked.content.decode() and job.job_name in asked.content.decode()
    job.refresh_from_db()
    assert job.status == T.IN_PROGRESS
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/jobs/trainingjob/", {"action": "stop_jobs", "_selected_action": [job.pk], "confirmed": "yes"})
    job.refresh_from_db()
    assert (job.status, sent[-1]) == (T.STOPPING, ("stop_training_job", job.pk))
    assert job.job_name in client.get("/admin/jobs/trainingjob/").content.decode()
