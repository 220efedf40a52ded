"""Deploying a JumpStart model: the form stops bad input before AWS, the tasks create exactly one
endpoint however often they run, the poll follows it, and users only ever see their own."""

import uuid

import pytest

from aws import local
from catalog.models import Model
from catalog.sync import BUNDLED_DIR, sync_from_dir
from jobs import deployments
from jobs.models import Deployment, InstanceType

pytestmark = pytest.mark.django_db

S = Deployment.Status
MOBILENET = "pytorch-ic-mobilenet-v2"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


@pytest.fixture
def catalog(db):
    sync_from_dir(BUNDLED_DIR)


@pytest.fixture
def sm(aws, settings):
    settings.AWS_REGION = "us-east-1"
    return aws.client("sagemaker")


def form_data(**overrides):
    return {"endpoint_name": "mobilenet-test", "instance_type": "ml.m5.large", "instance_count": 1,
            "role_arn": ROLE, "subnets": "", "security_groups": "", "kms_key_id": "",
            "request_token": str(uuid.uuid4()), **overrides}


def post_deploy(client, model_id=MOBILENET, **overrides):
    return client.post(f"/models/{model_id}/deploy/", form_data(**overrides))


def nothing_on_aws(sm):
    return not (sm.list_models()["Models"] or sm.list_endpoint_configs()["EndpointConfigs"]
                or sm.list_endpoints()["Endpoints"])


@pytest.fixture
def queued(monkeypatch):
    """Launch tasks the views enqueue, by deployment id (not run: tests call the task bodies)."""
    from jobs import tasks

    sent = []
    monkeypatch.setattr(tasks.launch_deployment, "delay", sent.append)
    monkeypatch.setattr(tasks.delete_deployment, "delay", sent.append)
    return sent


def deploy(client, django_capture_on_commit_callbacks, **overrides):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_deploy(client, **overrides)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Deployment.objects.latest("pk")


def offer(instance_type):
    """Let MobileNet offer a machine type that the local AWS treats specially."""
    model = Model.objects.get(model_id=MOBILENET)
    model.supported_inference_instance_types = [*model.supported_inference_instance_types, instance_type]
    model.deploy_types = [*model.deploy_types, instance_type]  # MobileNet's spec deploys on any family
    model.save()


def launched(client, capture, **overrides):
    deployment = deploy(client, capture, **overrides)
    deployments.launch(deployment)
    deployment.refresh_from_db()
    return deployment


def poll_until(deployment, status, polls=5):
    for _ in range(polls):
        deployments.poll()
        deployment.refresh_from_db()
        if deployment.status == status:
            break
    return deployment


@pytest.mark.parametrize("name, error", [
    ("-starts-with-hyphen", "start with a letter or digit"),
    ("has_underscore", "letters, digits and hyphens"),
    ("x" * 64, "at most 63"),
    ("", "This field is required"),
])
def test_bad_endpoint_names_are_rejected_and_nothing_is_created_on_aws(client_in, catalog, sm, queued, name, error):
    response = post_deploy(client_in, endpoint_name=name)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert Deployment.objects.count() == 0 and queued == [] and nothing_on_aws(sm)


def test_a_disallowed_machine_type_is_rejected_and_nothing_is_created_on_aws(client_in, catalog, sm, queued):
    InstanceType.objects.create(name="ml.m5.large", allowed=False)
    response = post_deploy(client_in, instance_type="ml.m5.large")
    assert "Select a valid choice" in response.content.decode()
    assert "ml.m5.large" not in [c for c, _ in response.context["form"].fields["instance_type"].choices]
    assert Deployment.objects.count() == 0 and queued == [] and nothing_on_aws(sm)


def test_an_endpoint_name_already_taken_in_the_account_is_rejected(client_in, catalog, sm, queued, django_capture_on_commit_callbacks):
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "an-image"})
    sm.create_endpoint_config(EndpointConfigName="other", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName="mobilenet-test", EndpointConfigName="other")
    response = post_deploy(client_in)
    assert "already exists in your account" in response.content.decode()
    assert Deployment.objects.count() == 0


def test_a_bad_role_or_half_a_vpc_is_named_in_the_form(client_in, catalog, sm, queued):
    html = post_deploy(client_in, role_arn="SageMakerRole", subnets="subnet-0123abcd").content.decode()
    assert "Enter a role ARN such as" in html
    assert "needs both subnets and security groups" in html
    assert nothing_on_aws(sm)


def test_a_gated_model_needs_its_license_accepted_and_records_who_and_when(client_in, user, catalog, sm, queued, django_capture_on_commit_callbacks):
    # The bundled gated models lack artifact keys, so gate a deployable spec the way JumpStart does.
    model = Model.objects.get(model_id=MOBILENET)
    model.spec = {**model.spec, "hosting_eula_key": "fmhMetadata/eula/mobilenetLicense.txt"}
    model.gated = True
    model.save()

    refused = post_deploy(client_in)
    assert "accept its license (EULA)" in refused.content.decode()
    assert Deployment.objects.count() == 0 and nothing_on_aws(sm)

    deployment = deploy(client_in, django_capture_on_commit_callbacks, accept_eula="on")
    assert deployment.eula_accepted_by == user and deployment.eula_accepted_at is not None
    deployments.launch(deployment)
    container = sm.describe_model(ModelName=deployment.model_name)["PrimaryContainer"]
    assert container["ModelDataSource"]["S3DataSource"]["ModelAccessConfig"] == {"AcceptEula": True}


def test_a_valid_deploy_queues_one_launch_after_commit_and_a_double_click_makes_one(client_in, catalog, sm, queued, django_capture_on_commit_callbacks):
    data = form_data()
    with django_capture_on_commit_callbacks(execute=True):
        first = client_in.post(f"/models/{MOBILENET}/deploy/", data)
        second = client_in.post(f"/models/{MOBILENET}/deploy/", data)
    deployment = Deployment.objects.get()
    assert first["Location"] == second["Location"] == deployment.get_absolute_url()
    assert queued == [deployment.pk]
    assert (deployment.status, deployment.instance_type, deployment.role_arn) == (S.QUEUED, "ml.m5.large", ROLE)
    assert nothing_on_aws(sm)  # the worker creates it, not the web request


def test_launch_run_twice_creates_one_endpoint(client_in, catalog, sm, queued, django_capture_on_commit_callbacks):
    deployment = deploy(client_in, django_capture_on_commit_callbacks)
    deployments.launch(deployment)
    # A redelivered message for a row that a crash left queued.
    Deployment.objects.filter(pk=deployment.pk).update(status=S.QUEUED, pending="launch")
    deployment.refresh_from_db()
    deployments.launch(deployment)

    assert [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]] == ["mobilenet-test"]
    assert len(sm.list_models()["Models"]) == 1
    deployment.refresh_from_db()
    assert deployment.status == S.CREATING
    model = sm.describe_model(ModelName=deployment.model_name)
    assert "pytorch" in model["PrimaryContainer"]["Image"]


def test_throttling_is_retried_and_then_the_launch_succeeds(client_in, catalog, sm, queued, django_capture_on_commit_callbacks, settings):
    from botocore.awsrequest import AWSResponse

    from aws import AwsError
    from jobs.tasks import launch_deployment

    deployment = deploy(client_in, django_capture_on_commit_callbacks)
    throttled = {"left": settings.AWS_MAX_ATTEMPTS + 1}

    def throttle(request, **kwargs):
        if b"CreateEndpoint" in (request.headers.get("X-Amz-Target") or b"") and throttled["left"]:
            throttled["left"] -= 1
            body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
            return AWSResponse(request.url, 400, {"x-amzn-errortype": "ThrottlingException"}, _Raw(body))

    sm.meta.events.register("before-send.sagemaker.*", throttle)
    with pytest.raises(AwsError) as raised:  # botocore's own retries ran out: Celery retries the task
        launch_deployment(deployment.pk)
    assert raised.value.transient
    deployment.refresh_from_db()
    assert deployment.status == S.QUEUED

    launch_deployment(deployment.pk)  # the retry
    deployment.refresh_from_db()
    assert deployment.status == S.CREATING
    assert len(sm.list_endpoints()["Endpoints"]) == 1


class _Raw:
    def __init__(self, body):
        self.body = body

    def stream(self, **kwargs):
        yield self.body

    def read(self, *args):
        return self.body


def test_a_quota_error_fails_the_deployment_with_a_readable_reason(client_in, catalog, sm, queued, django_capture_on_commit_callbacks):
    quota_type = sorted(local.no_quota_instance_types())[0]
    offer(quota_type)
    deployment = launched(client_in, django_capture_on_commit_callbacks, instance_type=quota_type)

    assert deployment.status == S.FAILED
    assert quota_type in deployment.failure_reason and "Service Quotas" in deployment.failure_reason
    assert sm.list_endpoints()["Endpoints"] == []
    html = client_in.get(deployment.get_absolute_url()).content.decode()
    assert "Service Quotas" in html


def test_the_poll_follows_creating_to_in_service_and_stops_polling_the_page(client_in, catalog, sm, queued, django_capture_on_commit_callbacks):
    deployment = launched(client_in, django_capture_on_commit_callbacks)
    page = client_in.get(deployment.get_absolute_url()).content.decode()
    assert 'hx-trigger="every' in page

    poll_until(deployment, S.IN_SERVICE)
    assert deployment.status == S.IN_SERVICE and deployment.in_service_at
    page = client_in.get(deployment.get_absolute_url()).content.decode()
    assert 'hx-trigger="every' not in page and "InService" in page


def test_a_failing_endpoint_shows_sagemakers_reason(client_in, catalog, sm, queued, django_capture_on_commit_callbacks):
    failing = sorted(local.failing_instance_types())[0]
    offer(failing)
    deployment = launched(client_in, django_capture_on_commit_callbacks, instance_type=failing)
    poll_until(deployment, S.FAILED)
    assert deployment.status == S.FAILED
    assert "health check" in deployment.failure_reason
    assert deployment.failure_reason in client_in.get(deployment.get_absolute_url()).content.decode()


def test_delete_removes_the_endpoint_its_config_and_its_model(client_in, catalog, sm, queued, django_capture_on_commit_callbacks):
    deployment = poll_until(launched(client_in, django_capture_on_commit_callbacks), S.IN_SERVICE)
    with django_capture_on_commit_callbacks(execute=True):
        client_in.post(f"/endpoints/{deployment.pk}/delete/")
    deployment.refresh_from_db()
    assert deployment.status == S.DELETING
    deployments.delete(deployment)
    poll_until(deployment, S.DELETED)
    assert deployment.status == S.DELETED
    assert nothing_on_aws(sm)


def test_a_poll_before_the_delete_task_runs_does_not_undo_the_deletion(client_in, catalog, sm, queued, django_capture_on_commit_callbacks):
    deployment = poll_until(launched(client_in, django_capture_on_commit_callbacks), S.IN_SERVICE)
    with django_capture_on_commit_callbacks(execute=True):
        client_in.post(f"/endpoints/{deployment.pk}/delete/")
    deployments.refresh(deployment)
    poll_until(deployment, S.IN_SERVICE, polls=2)  # SageMaker still says InService
    assert deployment.status == S.DELETING

    deployments.delete(deployment)  # the task, late
    poll_until(deployment, S.DELETED)
    assert deployment.status == S.DELETED and nothing_on_aws(sm)


def test_test_inference_sends_the_example_and_shows_the_answer(client_in, catalog, sm, queued, django_capture_on_commit_callbacks):
    deployment = poll_until(launched(client_in, django_capture_on_commit_callbacks), S.IN_SERVICE)
    response = client_in.post(f"/endpoints/{deployment.pk}/invoke/", {})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="invoke-result"' in html
    assert "probabilities" in html


def test_a_user_cannot_see_test_or_delete_another_users_endpoint(client, client_in, catalog, sm, queued, django_capture_on_commit_callbacks, django_user_model):
    deployment = deploy(client_in, django_capture_on_commit_callbacks)
    other = django_user_model.objects.create_user("mallory", password="pw-mallory-1")
    client.force_login(other)
    assert client.get(f"/endpoints/{deployment.pk}/").status_code == 404
    assert client.post(f"/endpoints/{deployment.pk}/invoke/", {}).status_code == 404
    assert client.post(f"/endpoints/{deployment.pk}/delete/").status_code == 404
    assert "mobilenet-test" not in client.get("/endpoints/").content.decode()
    deployment.refresh_from_db()
    assert deployment.status == S.QUEUED


def test_staff_see_every_endpoint(client, staff, client_in, catalog, sm, queued, django_capture_on_commit_callbacks):
    deploy(client_in, django_capture_on_commit_callbacks)
    client.force_login(staff)
    assert "mobilenet-test" in client.get("/endpoints/").content.decode()


def test_a_model_whose_spec_cannot_be_deployed_says_why_before_anything_is_tried(client_in, catalog, sm, queued):
    # It lists machine types, but no version of its spec names a model artifact or an image.
    model = Model.objects.get(model_id="meta-textgenerationneuron-llama-2-7b", available=True)
    assert model.default_inference_instance_type
    html = client_in.get(f"/models/{model.model_id}/deploy/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="deploy-problem"' in html and "cannot be deployed from here" in html
    assert 'type="submit" disabled' in html
    response = post_deploy(client_in, model_id=model.model_id, instance_type=model.default_inference_instance_type)
    assert "cannot be deployed" in response.content.decode()
    assert Deployment.objects.count() == 0 and nothing_on_aws(sm)


def test_staff_restrict_a_machine_type_in_the_admin_and_the_form_stops_offering_it(client, staff, client_in, catalog):
    client.force_login(staff)
    response = client.post("/admin/jobs/instancetype/add/", {"name": "ml.m5.xlarge", "note": "too costly"})
    assert response.status_code == 302 and not InstanceType.objects.get().allowed
    choices = client_in.get(f"/models/{MOBILENET}/deploy/").context["form"].fields["instance_type"].choices
    assert "ml.m5.xlarge" not in [c for c, _ in choices] and "ml.m5.large" in [c for c, _ in choices]


def test_the_role_field_suggests_the_accounts_roles_that_trust_sagemaker(client_in, catalog, aws):
    import json

    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam = aws.client("iam")
    iam.create_role(RoleName="SageMakerRole", AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_role(RoleName="LambdaRole", AssumeRolePolicyDocument=json.dumps(
        {**trust, "Statement": [{**trust["Statement"][0], "Principal": {"Service": "lambda.amazonaws.com"}}]}))
    html = client_in.get(f"/models/{MOBILENET}/deploy/", HTTP_HX_REQUEST="true").content.decode()
    assert ":role/SageMakerRole" in html and "LambdaRole" not in html
