"""Solutions launched from their template: one stack however often Launch is pressed or its task
runs, followed through its events to completion or rollback (with the reason), its endpoint in
the Endpoints list, deleted with all it made; the resources pane, Clean up, and the endpoint
time-to-live."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aws import local
from catalog.models import Solution
from catalog.sync import BUNDLED_DIR, sync_from_dir
from jobs import deployments, solutions, tasks
from jobs.models import CostPolicy, Deployment, SolutionLaunch

pytestmark = pytest.mark.django_db

L = SolutionLaunch.Status
D = Deployment.Status
DEFECTS = "visual-product-defect-detection"
ROLE = "arn:aws:iam::123456789012:role/SolutionRole"


@pytest.fixture
def catalog(db):
    sync_from_dir(BUNDLED_DIR)


@pytest.fixture
def cfn(aws, settings):
    settings.AWS_REGION = "us-east-1"
    settings.SAGEMAKER_ROLE_ARN = ROLE
    local.configure(stack_seconds=0, endpoint_seconds=0)
    return aws.client("cloudformation")


@pytest.fixture
def sent(monkeypatch):
    """Every task handed to the broker, as (task name, id); none is run."""
    messages = []
    for task in (tasks.launch_solution, tasks.delete_solution, tasks.delete_deployment):
        monkeypatch.setattr(task, "delay", lambda pk, _name=task.name.rsplit(".", 1)[1]: messages.append((_name, pk)))
    return messages


def press_launch(client, capture, slug=DEFECTS, token=None):
    with capture(execute=True):
        return client.post(f"/solutions/{slug}/launch/", {"request_token": str(token or uuid.uuid4())})


def launched(client, capture, slug=DEFECTS):
    response = press_launch(client, capture, slug)
    assert response.status_code == 302, response.content.decode()[:1000]
    launch = SolutionLaunch.objects.latest("pk")
    solutions.launch(launch)
    launch.refresh_from_db()
    return launch


def follow_until(launch, *statuses, polls=40):
    for _ in range(polls):
        solutions.poll()
        launch.refresh_from_db()
        if launch.status in statuses:
            return launch
    raise AssertionError(f"still {launch.status} ({launch.stack_status})")


def with_instance_type(slug, instance_type):
    """The solution's template with another default machine type (staff's edit)."""
    solution = Solution.objects.get(slug=slug)
    template = json.loads(solution.template)
    template["Parameters"]["InstanceType"]["Default"] = instance_type
    template["Parameters"]["InstanceType"]["AllowedValues"].append(instance_type)
    template["Mappings"]["InstanceTypes"][instance_type] = {"Hardware": "cpu"}  # the image it runs
    Solution.objects.filter(pk=solution.pk).update(template=json.dumps(template), template_by_staff=True)


def test_the_bundled_templates_come_with_the_sync_and_an_edited_one_stays(catalog, client, staff):
    launchable = set(Solution.objects.exclude(template="").values_list("slug", flat=True))
    assert launchable == {DEFECTS, "document-understanding", "churn-prediction-with-text"}

    client.force_login(staff)
    solution = Solution.objects.get(slug=DEFECTS)
    url = f"/admin/catalog/solution/{solution.pk}/change/"
    fields = {"slug": solution.slug, "name": solution.name, "category": solution.category,
              "description": solution.description, "github_url": solution.github_url,
              "availability": solution.availability, "source_url": solution.source_url}
    response = client.post(url, {**fields, "template": "Resources: {Bucket: {Type: AWS::S3::Bucket}}"})
    assert "is not JSON" in response.content.decode()  # re-rendered with the fix named
    edited = json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}})
    assert client.post(url, {**fields, "template": edited}).status_code == 302
    solution.refresh_from_db()
    assert solution.template_by_staff

    sync_from_dir(BUNDLED_DIR)
    assert Solution.objects.get(slug=DEFECTS).template == edited


def test_a_solution_without_a_template_links_to_its_source_and_cannot_be_launched(catalog, client_in, cfn, sent):
    html = client_in.get("/solutions/demand-forecasting/").content.decode()
    assert "launch-button" not in html and "Open on GitHub" in html
    assert client_in.post("/solutions/demand-forecasting/launch/", {"request_token": str(uuid.uuid4())}).status_code == 404
    assert sent == [] and cfn.list_stacks()["StackSummaries"] == []


def test_a_launch_is_followed_to_complete_its_endpoint_listed_then_deleted_with_all_it_made(
        catalog, client_in, cfn, sent, django_capture_on_commit_callbacks):
    html = client_in.get(f"/solutions/{DEFECTS}/").content.decode()
    assert 'id="launch-button"' in html and "AWS::SageMaker::Endpoint" in html

    launch = launched(client_in, django_capture_on_commit_callbacks)
    assert sent == [("launch_solution", launch.pk)]
    assert launch.status == L.CREATING and launch.stack_id.startswith("arn:aws:cloudformation:")
    sent_request = cfn.describe_stacks(StackName=launch.stack_id)["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in sent_request["Parameters"]}["ExecutionRoleArn"] == ROLE

    follow_until(launch, L.COMPLETE)
    assert launch.stack_status == "CREATE_COMPLETE" and launch.outputs["EndpointName"]
    assert {r["type"] for r in launch.resources} >= {"AWS::SageMaker::Endpoint", "AWS::S3::Bucket"}
    assert launch.stack_events.filter(status="CREATE_COMPLETE", resource_type="AWS::SageMaker::Endpoint").exists()
    endpoint = launch.deployments.get()
    assert (endpoint.endpoint_name, endpoint.status) == (launch.outputs["EndpointName"], D.IN_SERVICE)
    assert endpoint.instance_type == "ml.m5.large" and endpoint.model.model_id == "pytorch-ic-mobilenet-v2"
    assert endpoint.endpoint_name in client_in.get("/endpoints/").content.decode()
    assert not endpoint.can_delete  # it goes with its stack

    page = client_in.get(launch.get_absolute_url()).content.decode()
    assert "Delete solution resources" in page and endpoint.endpoint_name in page

    with django_capture_on_commit_callbacks(execute=True):
        assert client_in.post(f"/solution-launches/{launch.pk}/delete/").status_code == 302
    assert sent[-1] == ("delete_solution", launch.pk)
    launch.refresh_from_db()
    solutions.delete(launch)
    follow_until(launch, L.DELETED)
    endpoint.refresh_from_db()
    assert endpoint.status == D.DELETED
    sm = local_sagemaker(cfn)
    assert sm.list_endpoints()["Endpoints"] == [] and sm.list_models()["Models"] == []
    assert cfn.describe_stacks(StackName=launch.stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"


def local_sagemaker(cfn):
    import aws

    return aws.client("sagemaker")


def test_a_stack_that_fails_rolls_back_and_shows_its_reason(catalog, client_in, cfn, sent, django_capture_on_commit_callbacks):
    failing = sorted(local.failing_instance_types())[0]
    with_instance_type(DEFECTS, failing)
    launch = launched(client_in, django_capture_on_commit_callbacks)
    follow_until(launch, L.FAILED)
    assert launch.stack_status == "ROLLBACK_COMPLETE"
    assert list(launch.stack_events.filter(resource_type="AWS::CloudFormation::Stack").values_list("status", flat=True)) == [
        "CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    assert "Endpoint (AWS::SageMaker::Endpoint)" in launch.failure_reason
    assert "took back" in launch.failure_reason
    assert not launch.deployments.exists()
    page = client_in.get(launch.get_absolute_url()).content.decode()
    assert 'id="failure-reason"' in page and "AWS::SageMaker::Endpoint" in page
    assert local_sagemaker(cfn).list_endpoints()["Endpoints"] == []  # rolled back
    assert launch.can_delete  # a rolled-back stack is still there until deleted


def test_a_refused_create_fails_with_aws_reason_and_makes_nothing(catalog, client_in, cfn, sent, django_capture_on_commit_callbacks):
    solution = Solution.objects.get(slug=DEFECTS)
    template = json.loads(solution.template)
    template["Parameters"]["ExecutionRoleArn"]["AllowedPattern"] = "arn:aws:iam::[0-9]{12}:role/only-this"
    Solution.objects.filter(pk=solution.pk).update(template=json.dumps(template))
    launch = launched(client_in, django_capture_on_commit_callbacks)
    assert launch.status == L.FAILED
    assert "ExecutionRoleArn" in launch.failure_reason
    assert cfn.list_stacks()["StackSummaries"] == []


def test_launch_without_a_role_says_so_and_makes_nothing(catalog, client_in, cfn, sent, settings, django_capture_on_commit_callbacks):
    settings.SAGEMAKER_ROLE_ARN = ""
    response = press_launch(client_in, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    page = client_in.get(response["Location"]).content.decode()
    assert "SAGEMAKER_ROLE_ARN" in page
    assert not SolutionLaunch.objects.exists() and sent == []


def test_launching_twice_by_accident_makes_one_stack(catalog, client_in, cfn, sent, django_capture_on_commit_callbacks):
    token = uuid.uuid4()
    first = press_launch(client_in, django_capture_on_commit_callbacks, token=token)
    second = press_launch(client_in, django_capture_on_commit_callbacks, token=token)
    assert first["Location"] == second["Location"]
    launch = SolutionLaunch.objects.get()
    assert sent == [("launch_solution", launch.pk)]

    # The task delivered twice, and a create whose answer was lost sent again: one stack.
    solutions.launch(launch)
    SolutionLaunch.objects.filter(pk=launch.pk).update(status=L.QUEUED, pending="launch")
    launch.refresh_from_db()
    solutions.launch(launch)
    launch.refresh_from_db()
    assert launch.status == L.CREATING
    assert [s["StackName"] for s in cfn.list_stacks()["StackSummaries"]] == [launch.stack_name]


def in_service_for(user, hours, name, **fields):
    from catalog.models import Model

    return Deployment.objects.create(
        user=user, model=Model.objects.get(model_id="pytorch-ic-mobilenet-v2"), model_version="1", endpoint_name=name,
        instance_type="ml.m5.large", status=D.IN_SERVICE, in_service_at=timezone.now() - timedelta(hours=hours), **fields)


def test_the_time_to_live_deletes_only_endpoints_past_it_and_only_after_the_warning(
        catalog, user, django_user_model, sent, django_capture_on_commit_callbacks):
    other = django_user_model.objects.create_user("olga", password="pw-olga-12345")
    old = in_service_for(user, 30, "old-one")
    others_old = in_service_for(other, 50, "olgas-old-one")
    young = in_service_for(user, 2, "young-one")
    assert deployments.enforce_ttl() == (0, 0)  # no rule: nothing happens

    CostPolicy.objects.create(endpoint_ttl_hours=24, warning_hours=6)
    with django_capture_on_commit_callbacks(execute=True):
        assert deployments.enforce_ttl() == (2, 0)  # flagged, not deleted
        assert deployments.enforce_ttl() == (0, 0)  # flagged once
    assert sent == []
    old.refresh_from_db()
    assert old.status == D.IN_SERVICE and old.ttl_warned_at
    assert "it will be deleted after" in old.events.latest("pk").message

    later = timezone.now() + timedelta(hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert deployments.enforce_ttl(now=later) == (0, 0)  # the warning is not over
    with django_capture_on_commit_callbacks(execute=True):
        assert deployments.enforce_ttl(now=timezone.now() + timedelta(hours=6, minutes=1)) == (0, 2)
    for deployment in (old, others_old, young):
        deployment.refresh_from_db()
    assert (old.status, others_old.status, young.status) == (D.DELETING, D.DELETING, D.IN_SERVICE)
    assert "the endpoint time-to-live (24 h, then 6 h of warning)" in old.events.latest("pk").message
    assert sorted(sent) == sorted([("delete_deployment", old.pk), ("delete_deployment", others_old.pk)])


def test_the_time_to_live_leaves_a_solutions_endpoint_to_its_stack(catalog, user, sent):
    launch = SolutionLaunch.objects.create(user=user, solution=Solution.objects.get(slug=DEFECTS), status=L.COMPLETE)
    in_service_for(user, 100, "stack-endpoint", solution_launch=launch)
    CostPolicy.objects.create(endpoint_ttl_hours=1, warning_hours=0)
    assert deployments.enforce_ttl() == (0, 0)


def test_the_pane_is_one_request_of_few_queries_and_no_aws_call(catalog, client_in, user, monkeypatch):
    import aws

    monkeypatch.setattr(aws, "client", lambda *a, **k: pytest.fail("the pane called AWS"))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            html = client_in.get("/resources/", HTTP_HX_REQUEST="true").content.decode()
        return len(captured), html

    few, html = queries()
    assert "None running." in html and "hx-trigger" not in html  # nothing moves: no polling
    solution = Solution.objects.get(slug=DEFECTS)
    for i in range(30):
        SolutionLaunch.objects.create(user=user, solution=solution, status=L.CREATING)
        in_service_for(user, 1, f"endpoint-{i}")
    many, html = queries()
    assert many == few
    assert 'class="moving"' in html and "every 5s" in html
    assert html.count("endpoint-") == 8  # the newest few; Clean up lists them all


def test_clean_up_lists_everything_billable_and_deletes_only_what_is_ticked_and_yours(
        catalog, client_in, user, django_user_model, sent, django_capture_on_commit_callbacks):
    other = django_user_model.objects.create_user("olga", password="pw-olga-12345")
    mine = in_service_for(user, 3, "mine-to-delete")
    kept = in_service_for(user, 3, "mine-to-keep")
    theirs = in_service_for(other, 3, "not-mine")
    html = client_in.get("/cleanup/").content.decode()
    assert "mine-to-delete" in html and "1 × ml.m5.large" in html and "not-mine" not in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client_in.post("/cleanup/", {"resource": [f"endpoint:{mine.pk}", f"endpoint:{theirs.pk}"]})
    assert response.status_code == 302 and response["Location"].endswith("asked=1")
    for deployment in (mine, kept, theirs):
        deployment.refresh_from_db()
    assert (mine.status, kept.status, theirs.status) == (D.DELETING, D.IN_SERVICE, D.IN_SERVICE)
    assert sent == [("delete_deployment", mine.pk)]
    assert "(Clean up)" in mine.events.latest("pk").message


def test_staff_delete_a_users_solution_resources_from_the_admin_after_confirming(
        catalog, client, staff, user, sent, django_capture_on_commit_callbacks):
    launch = SolutionLaunch.objects.create(user=user, solution=Solution.objects.get(slug=DEFECTS), status=L.COMPLETE)
    client.force_login(staff)
    chosen = {"action": "delete_resources", "_selected_action": [launch.pk]}
    page = client.post("/admin/jobs/solutionlaunch/", chosen).content.decode()
    assert "Delete these solutions&#x27; resources?" in page and launch.stack_name in page
    launch.refresh_from_db()
    assert launch.status == L.COMPLETE and sent == []  # nothing before the confirmation
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/jobs/solutionlaunch/", {**chosen, "confirmed": "yes"})
    launch.refresh_from_db()
    assert launch.status == L.DELETING and sent == [("delete_solution", launch.pk)]
    assert "(admin)" in launch.events.latest("pk").message


def test_a_bucket_left_with_data_fails_the_deletion_with_the_fix_and_a_second_delete_ends_it(
        catalog, client_in, cfn, sent, django_capture_on_commit_callbacks):
    import aws

    launch = follow_until(launched(client_in, django_capture_on_commit_callbacks), L.COMPLETE)
    s3 = aws.client("s3")
    bucket = launch.outputs["BucketName"]
    s3.put_object(Bucket=bucket, Key="images/part-1.jpg", Body=b"jpeg")

    def delete():
        with django_capture_on_commit_callbacks(execute=True):
            client_in.post(f"/solution-launches/{launch.pk}/delete/")
        launch.refresh_from_db()
        solutions.delete(launch)

    delete()
    follow_until(launch, L.FAILED)
    assert launch.stack_status == "DELETE_FAILED"
    assert "DataBucket (AWS::S3::Bucket)" in launch.failure_reason and "not empty" in launch.failure_reason
    assert "emptied first" in launch.failure_reason
    assert local_sagemaker(cfn).list_endpoints()["Endpoints"] == []  # the rest is gone

    s3.delete_object(Bucket=bucket, Key="images/part-1.jpg")
    delete()
    follow_until(launch, L.DELETED)
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize("token", ["", "not-a-uuid"])
def test_a_missing_or_spoiled_launch_token_says_so_and_launches_nothing(catalog, client_in, cfn, sent, token,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_in.post(f"/solutions/{DEFECTS}/launch/", {"request_token": token})
    assert response.status_code == 302 and response["Location"] == f"/solutions/{DEFECTS}/"
    assert "launch token was missing or damaged" in client_in.get(response["Location"]).content.decode()
    assert not SolutionLaunch.objects.exists() and sent == []


def test_a_queued_launch_is_not_taken_for_lost_before_a_worker_had_its_time(catalog, client_in, cfn, sent, settings,
                                                                             django_capture_on_commit_callbacks):
    press_launch(client_in, django_capture_on_commit_callbacks)
    assert not SolutionLaunch.objects.lost_steps(timezone.now()).exists()
    later = timezone.now() + timedelta(seconds=settings.RESUME_AFTER_SECONDS + 1)
    assert SolutionLaunch.objects.lost_steps(later).count() == 1
