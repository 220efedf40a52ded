"""What keeps a deployment safe when things go wrong or someone tries their luck: a lost launch or
delete is sent again, a name SageMaker considers taken is refused and never adopted, AWS's own
limits stop bad input in the form, the admin asks before deleting and never waits on AWS, and
other users' endpoints follow Django's permissions, not the staff flag."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from django.utils.html import escape

from aws import local
from jobs import tasks
from jobs.forms import TOKEN_LOST
from jobs.models import Deployment

from .test_deploy import (  # noqa: F401 (fixtures)
    MOBILENET, ROLE, catalog, deploy, form_data, launched, nothing_on_aws, offer, poll_until, post_deploy, sm,
)

pytestmark = pytest.mark.django_db
S = Deployment.Status


@pytest.fixture
def sent(monkeypatch):
    """Every task the code hands to the broker, as (task name, job id); none is run."""
    messages = []
    for task in (tasks.launch_deployment, tasks.delete_deployment, tasks.refresh_deployment):
        monkeypatch.setattr(task, "delay", lambda pk, _name=task.name.rsplit(".", 1)[1]: messages.append((_name, pk)))
    return messages


def a_minute_later(settings):
    return timezone.now() + timedelta(seconds=settings.RESUME_AFTER_SECONDS + 1)


# -- 1. a lost step is sent again ---------------------------------------------------------------------


def test_a_launch_whose_message_was_lost_is_sent_again_after_the_resume_delay(client_in, catalog, sm, sent, settings, django_capture_on_commit_callbacks):
    deployment = deploy(client_in, django_capture_on_commit_callbacks)
    assert sent == [("launch_deployment", deployment.pk)] and deployment.pending == "launch"
    sent.clear()  # the message is lost: no worker ever runs it

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.resume_lost_steps() == 0  # not late yet
    assert sent == []

    with django_capture_on_commit_callbacks(execute=True):
        Deployment.objects.filter(pk=deployment.pk).update(pending_due=timezone.now() - timedelta(seconds=1))
        assert tasks.resume_lost_steps() == 1
        assert tasks.resume_lost_steps() == 0  # a second beat right after sends nothing more
    assert sent == [("launch_deployment", deployment.pk)]
    deployment.refresh_from_db()
    assert "sent it again" in deployment.events.last().message

    # The resent launch, and the first one arriving late after all: one set of resources.
    tasks.launch_deployment(deployment.pk)
    tasks.launch_deployment(deployment.pk)
    deployment.refresh_from_db()
    assert (deployment.status, deployment.pending) == (S.CREATING, "")
    assert len(sm.list_endpoints()["Endpoints"]) == len(sm.list_models()["Models"]) == 1
    assert len(sm.list_endpoint_configs()["EndpointConfigs"]) == 1


def test_a_launch_cut_off_after_sagemaker_made_the_model_adopts_it_when_sent_again(client_in, catalog, sm, sent, django_capture_on_commit_callbacks):
    deployment = deploy(client_in, django_capture_on_commit_callbacks)
    # The worker died right after CreateModel went through.
    sm.create_model(**deployment.request["model"])
    tasks.launch_deployment(deployment.pk)
    deployment.refresh_from_db()
    assert deployment.status == S.CREATING
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == [deployment.model_name]


def test_a_delete_whose_message_was_lost_is_sent_again(client_in, catalog, sm, sent, django_capture_on_commit_callbacks):
    deployment = poll_until(launched(client_in, django_capture_on_commit_callbacks), S.IN_SERVICE)
    with django_capture_on_commit_callbacks(execute=True):
        client_in.post(f"/endpoints/{deployment.pk}/delete/")
    sent.clear()
    deployment.refresh_from_db()
    assert (deployment.status, deployment.pending) == (S.DELETING, "delete")
    poll_until(deployment, S.IN_SERVICE, polls=2)  # nobody sent the delete: SageMaker still serves it
    assert deployment.status == S.DELETING

    Deployment.objects.filter(pk=deployment.pk).update(pending_due=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.resume_lost_steps()
    assert sent == [("delete_deployment", deployment.pk)]
    tasks.delete_deployment(deployment.pk)
    assert poll_until(deployment, S.DELETED).status == S.DELETED and nothing_on_aws(sm)


def test_a_retry_waiting_for_its_countdown_is_not_taken_for_lost(client_in, catalog, sm, sent, settings, django_capture_on_commit_callbacks):
    deployment = deploy(client_in, django_capture_on_commit_callbacks)
    deployment.postpone("launch", 60)
    deployment.refresh_from_db()
    assert deployment.pending_due > a_minute_later(settings)
    assert not Deployment.objects.lost_steps(a_minute_later(settings)).exists()


# -- 3. names as SageMaker compares them; nothing adopted without our tag --------------------------------


def test_an_endpoint_name_differing_only_in_case_from_a_live_deployment_is_refused(client_in, catalog, sm, sent, django_capture_on_commit_callbacks):
    deploy(client_in, django_capture_on_commit_callbacks, endpoint_name="alice-mobilenet")
    sent.clear()
    response = post_deploy(client_in, endpoint_name="ALICE-MOBILENET")
    assert "already uses this endpoint name" in response.content.decode()
    assert Deployment.objects.count() == 1 and sent == []


def test_an_endpoint_in_the_account_in_another_case_is_refused_before_anything_is_made(client_in, catalog, sm, sent):
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "an-image"})
    sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName="alice-mobilenet", EndpointConfigName="c")
    response = post_deploy(client_in, endpoint_name="ALICE-MOBILENET")
    assert "already exists in your account" in response.content.decode()
    assert Deployment.objects.count() == 0 and sent == []


def test_an_endpoint_someone_else_made_meanwhile_is_not_adopted_and_ours_is_taken_back(client_in, catalog, sm, sent, django_capture_on_commit_callbacks):
    deployment = deploy(client_in, django_capture_on_commit_callbacks, endpoint_name="alice-mobilenet")
    # Between the form's check and the launch, somebody else takes the name (in another case).
    sm.create_model(ModelName="theirs", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "an-image"})
    sm.create_endpoint_config(EndpointConfigName="theirs", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "theirs", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName="Alice-Mobilenet", EndpointConfigName="theirs")

    tasks.launch_deployment(deployment.pk)
    deployment.refresh_from_db()
    assert deployment.status == S.FAILED
    assert "was not made by this deployment" in deployment.failure_reason
    assert "deleted again" in deployment.failure_reason
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == ["theirs"]
    assert [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]] == ["Alice-Mobilenet"]
    # Deleting our failed deployment never touches their endpoint.
    with django_capture_on_commit_callbacks(execute=True):
        client_in.post(f"/endpoints/{deployment.pk}/delete/")
    tasks.delete_deployment(deployment.pk)
    assert [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]] == ["Alice-Mobilenet"]


def test_a_quota_refusal_deletes_the_model_and_config_it_made_and_says_so(client_in, catalog, sm, sent, django_capture_on_commit_callbacks):
    quota_type = sorted(local.no_quota_instance_types())[0]
    offer(quota_type)
    deployment = launched(client_in, django_capture_on_commit_callbacks, instance_type=quota_type)
    assert deployment.status == S.FAILED
    assert "The endpoint config and model it had made were deleted again." in deployment.failure_reason
    assert nothing_on_aws(sm)


# -- 4. AWS's own limits in the form ---------------------------------------------------------------


@pytest.mark.parametrize("field, value, error", [
    ("security_groups", ",".join(f"sg-0123abcd{i:04x}" for i in range(6)), "at most 5 security groups here; you gave 6"),
    ("subnets", ",".join(f"subnet-0123abcd{i:04x}" for i in range(17)), "at most 16 subnets here; you gave 17"),
    ("subnets", ",".join(f"subnet-0123abcd{i:04x}" for i in range(6000)), "at most 16 subnets here; you gave 6000"),
    ("endpoint_name", "a" * 70, "at most 63 characters; this one has 70"),
    ("role_arn", "arn:aws:iam::123456789012:role/" + "r" * 2100, "at most 2048 characters"),
    ("kms_key_id", "alias/" + "k" * 2100, "at most 2048 characters"),
])
def test_what_sagemaker_would_refuse_is_refused_in_the_form_and_nothing_is_made(client_in, catalog, sm, sent, field, value, error):
    vpc = {"subnets": "subnet-0123abcd", "security_groups": "sg-0123abcd"}
    response = post_deploy(client_in, **{**vpc, field: value})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert Deployment.objects.count() == 0 and sent == [] and nothing_on_aws(sm)


def test_the_endpoint_name_input_does_not_cut_a_pasted_name(client_in, catalog, sm):
    html = client_in.get(f"/models/{MOBILENET}/deploy/", HTTP_HX_REQUEST="true").content.decode()
    field = html[html.index('name="endpoint_name"') - 200:html.index('name="endpoint_name"') + 200]
    assert "maxlength" not in field


# -- 8, 9. double submits and spoiled tokens -------------------------------------------------------------


def test_a_second_click_checked_while_the_first_commits_lands_on_the_first_deployment(client_in, catalog, sm, sent, monkeypatch, django_capture_on_commit_callbacks):
    """The interleaving that made a double click answer "name already used": the second request
    finds no deployment for its token, then the first commits, then the second validates."""
    from jobs.forms import DeployForm

    data = form_data(endpoint_name="mobilenet-twice")
    real_is_valid = DeployForm.is_valid
    first = {}

    def first_click_commits_meanwhile(form):
        if not first:
            with django_capture_on_commit_callbacks(execute=True):
                first["response"] = _post_unpatched(client_in, data, monkeypatch, real_is_valid)
        return real_is_valid(form)

    monkeypatch.setattr(DeployForm, "is_valid", first_click_commits_meanwhile)
    second = client_in.post(f"/models/{MOBILENET}/deploy/", data)
    deployment = Deployment.objects.get()
    assert first["response"]["Location"] == second["Location"] == deployment.get_absolute_url()


def _post_unpatched(client, data, monkeypatch, is_valid):
    from jobs.forms import DeployForm

    patched = DeployForm.is_valid
    monkeypatch.setattr(DeployForm, "is_valid", is_valid)
    try:
        return client.post(f"/models/{MOBILENET}/deploy/", data)
    finally:
        monkeypatch.setattr(DeployForm, "is_valid", patched)


@pytest.mark.django_db(transaction=True)
def test_fifty_rounds_of_concurrent_double_clicks_each_land_on_one_deployment(live_server, catalog, aws, monkeypatch, django_user_model):
    """Two clicks at once with the same token, 50 times over HTTP: every answer is the
    deployment the first click made, never a form error."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    monkeypatch.setattr(tasks.launch_deployment, "delay", lambda pk: None)
    django_user_model.objects.create_user("ada", password="pw-ada-123")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    login = opener.open(f"{live_server.url}/login/").read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
    try:
        opener.open(f"{live_server.url}/login/", urllib.parse.urlencode(
            {"csrfmiddlewaretoken": csrf, "username": "ada", "password": "pw-ada-123"}).encode())
    except urllib.error.HTTPError as signed_in:
        assert signed_in.code == 302
    csrf = next(c.value for c in jar if c.name == "csrftoken")

    def click(data, answers):
        request = urllib.request.Request(f"{live_server.url}/models/{MOBILENET}/deploy/",
                                         urllib.parse.urlencode(data).encode(), headers={"X-CSRFToken": csrf})
        try:
            answers.append(opener.open(request, timeout=30).status)
        except urllib.error.HTTPError as redirect:
            answers.append(redirect.headers.get("Location") or redirect.code)

    for round_ in range(50):
        data = form_data(endpoint_name=f"double-{round_}", request_token=str(uuid.uuid4()))
        answers = []
        clicks = [threading.Thread(target=click, args=(data, answers)) for _ in range(2)]
        for t in clicks:
            t.start()
        for t in clicks:
            t.join()
        deployment = Deployment.objects.get(endpoint_name=f"double-{round_}")
        assert answers == [deployment.get_absolute_url()] * 2, (round_, answers)


class _NoRedirect(__import__("urllib.request").request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.parametrize("token", ["", "not-a-uuid"])
def test_a_missing_or_spoiled_form_token_says_so_and_gives_a_new_one(client_in, catalog, sm, sent, token):
    response = post_deploy(client_in, request_token=token)
    assert response.status_code == 200
    form = response.context["form"]
    assert TOKEN_LOST in form.non_field_errors()
    assert escape(TOKEN_LOST) in response.content.decode()
    assert uuid.UUID(form["request_token"].value())  # a fresh one: the next submit goes through
    assert Deployment.objects.count() == 0 and sent == [] and nothing_on_aws(sm)


# -- 5, 6. the admin asks first and never waits on AWS ------------------------------------------------


def test_admin_refresh_hands_the_aws_call_to_a_worker(client, staff, client_in, catalog, sm, sent, monkeypatch, django_capture_on_commit_callbacks):
    deployment = launched(client_in, django_capture_on_commit_callbacks)
    client.force_login(staff)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # AWS unreachable from the request
    import aws

    aws.reset_clients()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/jobs/deployment/", {"action": "refresh_status", "_selected_action": [deployment.pk]}, follow=True)
    assert response.status_code == 200 and "in the background" in response.content.decode()
    assert sent[-1] == ("refresh_deployment", deployment.pk)

    monkeypatch.delenv("AWS_ENDPOINT_URL")
    aws.reset_clients()
    tasks.refresh_deployment(deployment.pk)  # the worker
    deployment.refresh_from_db()
    assert deployment.status == S.IN_SERVICE


def test_admin_delete_shows_what_it_will_delete_and_deletes_only_when_confirmed(client, staff, client_in, catalog, sm, sent, django_capture_on_commit_callbacks):
    deployment = poll_until(launched(client_in, django_capture_on_commit_callbacks), S.IN_SERVICE)
    client.force_login(staff)
    ask = client.post("/admin/jobs/deployment/", {"action": "delete_endpoints", "_selected_action": [deployment.pk]})
    html = ask.content.decode()
    assert ask.status_code == 200 and 'id="confirm-items"' in html and "mobilenet-test" in html
    deployment.refresh_from_db()
    assert deployment.status == S.IN_SERVICE and sent[-1][0] != "delete_deployment"

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/jobs/deployment/", {"action": "delete_endpoints", "_selected_action": [deployment.pk],
                                                "confirmed": "yes"})
    deployment.refresh_from_db()
    assert (deployment.status, sent[-1]) == (S.DELETING, ("delete_deployment", deployment.pk))


# -- 7. permissions, not the staff flag ---------------------------------------------------------------


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="jobs", codename__in=codenames))
    return type(user).objects.get(pk=user.pk)  # permissions are cached per instance


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="pw-bob-12345", is_staff=True)


def test_staff_without_permissions_cannot_see_or_delete_anothers_endpoint(client, bob, client_in, catalog, sm, sent, django_capture_on_commit_callbacks):
    deployment = poll_until(launched(client_in, django_capture_on_commit_callbacks), S.IN_SERVICE)
    client.force_login(bob)
    assert client.get(f"/endpoints/{deployment.pk}/").status_code == 404
    assert client.post(f"/endpoints/{deployment.pk}/delete/").status_code == 404
    assert "mobilenet-test" not in client.get("/endpoints/").content.decode()
    assert client.get("/admin/jobs/deployment/").status_code == 403
    deployment.refresh_from_db()
    assert deployment.status == S.IN_SERVICE


def test_view_permission_shows_anothers_endpoint_but_deleting_it_takes_the_delete_permission(client, bob, client_in, catalog, sm, sent, django_capture_on_commit_callbacks):
    deployment = poll_until(launched(client_in, django_capture_on_commit_callbacks), S.IN_SERVICE)
    client.force_login(grant(bob, "view_deployment"))
    page = client.get(f"/endpoints/{deployment.pk}/").content.decode()
    assert "owner ada" in page and "confirm-delete" not in page
    assert "mobilenet-test" in client.get("/endpoints/").content.decode()
    assert client.post(f"/endpoints/{deployment.pk}/delete/").status_code == 403
    assert client.post(f"/endpoints/{deployment.pk}/invoke/", {}).status_code == 403
    admin = client.post("/admin/jobs/deployment/", {"action": "delete_endpoints", "_selected_action": [deployment.pk],
                                                    "confirmed": "yes"}, follow=True)
    assert admin.status_code == 200 and "delete_endpoints" not in admin.content.decode()  # not offered
    deployment.refresh_from_db()
    assert deployment.status == S.IN_SERVICE

    client.force_login(grant(bob, "view_deployment", "delete_deployment"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/endpoints/{deployment.pk}/delete/")
    deployment.refresh_from_db()
    assert deployment.status == S.DELETING


# -- 13. the endpoint page ------------------------------------------------------------------------------


def test_the_resolved_request_shows_as_soon_as_the_deployment_is_submitted(client_in, catalog, sm, sent, django_capture_on_commit_callbacks):
    deployment = deploy(client_in, django_capture_on_commit_callbacks)
    assert deployment.status == S.QUEUED
    html = client_in.get(deployment.get_absolute_url()).content.decode()
    assert "Resolved from the spec" in html and "pytorch-inference" in html


def test_a_failed_endpoints_test_panel_says_it_failed_not_to_wait(client_in, catalog, sm, sent, django_capture_on_commit_callbacks):
    failing = sorted(local.failing_instance_types())[0]
    offer(failing)
    deployment = poll_until(launched(client_in, django_capture_on_commit_callbacks, instance_type=failing), S.FAILED)
    html = client_in.get(deployment.get_absolute_url()).content.decode()
    assert "This endpoint failed, so it cannot answer requests" in html
    assert "Available once the endpoint is InService" not in html


def test_a_test_response_is_shown_indented(client_in, catalog, sm, sent, django_capture_on_commit_callbacks):
    deployment = poll_until(launched(client_in, django_capture_on_commit_callbacks), S.IN_SERVICE)
    html = client_in.post(f"/endpoints/{deployment.pk}/invoke/", {}).content.decode()
    assert '{\n  &quot;probabilities&quot;: [' in html
