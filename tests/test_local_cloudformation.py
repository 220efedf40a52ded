"""The local CloudFormation (aws.local.cloudformation) acts as CloudFormation does where the
product can tell: stacks take time, write AWS's events, really make and unmake their SageMaker
resources, wait for their endpoint, fail, roll back and refuse in AWS's words."""

import json
import time
import urllib.request

import boto3
import moto  # before SESSION: moto reaches only the boto3 sessions made after its import
import pytest
from botocore.exceptions import ClientError

import aws as aws_boundary
from aws import local

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
SESSION = boto3.session.Session(region_name="us-east-1")
ROLLBACK_REASON = "The following resource(s) failed to create: [Endpoint]. Rollback requested by user."


def solution_template(**extra_resources):
    """What a solution's template declares: a bucket, and a model served by an endpoint."""
    return json.dumps({
        "Parameters": {"InstanceType": {"Type": "String", "Default": "ml.m5.large"},
                       "RoleArn": {"Type": "String", "Default": ROLE}},
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Model": {"Type": "AWS::SageMaker::Model", "Properties": {
                "ModelName": {"Fn::Sub": "${AWS::StackName}-model"}, "ExecutionRoleArn": {"Ref": "RoleArn"},
                "PrimaryContainer": {"Image": "image-uri"},
                "Tags": [{"Key": "sagemaker-sdk:jumpstart-model-id", "Value": "pytorch-ic-mobilenet-v2"}]}},
            "Config": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {
                "EndpointConfigName": {"Fn::Sub": "${AWS::StackName}-config"},
                "ProductionVariants": [{"VariantName": "AllTraffic", "InitialInstanceCount": 1,
                                        "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
                                        "InstanceType": {"Ref": "InstanceType"}}]}},
            "Endpoint": {"Type": "AWS::SageMaker::Endpoint", "Properties": {
                "EndpointName": {"Fn::Sub": "${AWS::StackName}-endpoint"},
                "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]}}},
            **extra_resources,
        },
        "Outputs": {"EndpointName": {"Value": {"Fn::GetAtt": ["Endpoint", "EndpointName"]}},
                    "BucketName": {"Value": {"Ref": "Bucket"}}},
    })


@pytest.fixture
def cf(aws):
    """The local CloudFormation in-process; stacks and endpoints take their steps on the next read."""
    local.configure(stack_seconds=0, endpoint_seconds=0)
    yield SESSION.client("cloudformation")
    local.reset()


@pytest.fixture
def sm(cf):
    return SESSION.client("sagemaker")


def create(cf, name="shop", instance_type="ml.m5.large", **request):
    return cf.create_stack(StackName=name, TemplateBody=request.pop("TemplateBody", solution_template()),
                           Parameters=[{"ParameterKey": "InstanceType", "ParameterValue": instance_type}],
                           **request)["StackId"]


def stack(cf, name="shop"):
    return cf.describe_stacks(StackName=name)["Stacks"][0]


def events(cf, name="shop"):
    """(logical id, status, reason) of every event, oldest first."""
    answer = cf.describe_stack_events(StackName=name)["StackEvents"]
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in reversed(answer)]


def resources(cf, name="shop"):
    return {r["LogicalResourceId"]: r["ResourceStatus"]
            for r in cf.list_stack_resources(StackName=name)["StackResourceSummaries"]}


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def made(name):
    """What the stack's resources left in the local SageMaker and S3."""
    sm, s3 = SESSION.client("sagemaker"), SESSION.client("s3")
    return {
        "models": [m["ModelName"] for m in sm.list_models()["Models"]],
        "configs": [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]],
        "endpoints": [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]],
        "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(name)],
    }


# --- Creating ----------------------------------------------------------------------------------------


def test_a_stack_makes_its_resources_one_by_one_in_dependency_order(cf):
    local.configure(stack_seconds=3600)  # a resource takes 15 minutes: the first one stays in progress
    create(cf)

    assert stack(cf)["StackStatus"] == "CREATE_IN_PROGRESS"
    assert stack(cf)["StackStatusReason"] == "User Initiated"
    assert events(cf) == [
        ("shop", "CREATE_IN_PROGRESS", "User Initiated"),
        ("Bucket", "CREATE_IN_PROGRESS", None),
        ("Bucket", "CREATE_IN_PROGRESS", "Resource creation Initiated"),
    ]
    assert resources(cf) == {"Bucket": "CREATE_IN_PROGRESS"}
    assert made("shop")["models"] == []

    local.configure(stack_seconds=0)
    assert [e[:2] for e in events(cf)][3:] == [
        ("Bucket", "CREATE_COMPLETE"),
        ("Model", "CREATE_IN_PROGRESS"), ("Model", "CREATE_IN_PROGRESS"), ("Model", "CREATE_COMPLETE"),
        ("Config", "CREATE_IN_PROGRESS"), ("Config", "CREATE_IN_PROGRESS"), ("Config", "CREATE_COMPLETE"),
        ("Endpoint", "CREATE_IN_PROGRESS"), ("Endpoint", "CREATE_IN_PROGRESS"), ("Endpoint", "CREATE_COMPLETE"),
        ("shop", "CREATE_COMPLETE"),
    ]


def test_a_stack_is_complete_only_once_its_endpoint_is_in_service(cf, sm):
    local.configure(endpoint_seconds=3600)
    create(cf)

    assert stack(cf)["StackStatus"] == "CREATE_IN_PROGRESS"
    assert "Outputs" not in stack(cf)  # none before the stack is complete
    assert resources(cf) == {"Bucket": "CREATE_COMPLETE", "Model": "CREATE_COMPLETE",
                             "Config": "CREATE_COMPLETE", "Endpoint": "CREATE_IN_PROGRESS"}
    # The stack's endpoint is a real one of the local SageMaker, listed as any endpoint is.
    assert sm.describe_endpoint(EndpointName="shop-endpoint")["EndpointStatus"] == "Creating"
    assert [(e["EndpointName"], e["EndpointStatus"]) for e in sm.list_endpoints()["Endpoints"]] == [
        ("shop-endpoint", "Creating")]

    local.configure(endpoint_seconds=0)
    assert sm.describe_endpoint(EndpointName="shop-endpoint")["EndpointStatus"] == "InService"
    answer = stack(cf)
    assert answer["StackStatus"] == "CREATE_COMPLETE"
    assert "StackStatusReason" not in answer
    outputs = {o["OutputKey"]: o["OutputValue"] for o in answer["Outputs"]}
    assert outputs["EndpointName"] == "shop-endpoint"
    assert outputs["BucketName"] in made("shop")["buckets"]
    assert made("shop") == {"models": ["shop-model"], "configs": ["shop-config"],
                            "endpoints": ["shop-endpoint"], "buckets": [outputs["BucketName"]]}


def test_events_carry_physical_ids_and_the_token_of_the_request(cf, sm):
    create(cf, ClientRequestToken="launch-7")
    stack(cf)

    answer = cf.describe_stack_events(StackName="shop")["StackEvents"]
    endpoint = [e for e in answer if e["LogicalResourceId"] == "Endpoint"]
    assert [e["PhysicalResourceId"] for e in reversed(endpoint)] == [
        "", *[sm.describe_endpoint(EndpointName="shop-endpoint")["EndpointArn"]] * 2]
    assert {e["ClientRequestToken"] for e in answer} == {"launch-7"}
    assert all(e["Timestamp"] >= f["Timestamp"] for e, f in zip(answer, answer[1:]))  # newest first


def test_the_stacks_tags_and_cloudformations_own_are_on_the_resources_it_made(cf, sm):
    stack_id = create(cf, Tags=[{"Key": "jumpstart-ui:solution", "Value": "job-7"}])
    stack(cf)

    arn = sm.describe_endpoint(EndpointName="shop-endpoint")["EndpointArn"]
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}
    assert tags == {"jumpstart-ui:solution": "job-7", "aws:cloudformation:stack-name": "shop",
                    "aws:cloudformation:stack-id": stack_id, "aws:cloudformation:logical-id": "Endpoint"}
    model = sm.describe_model(ModelName="shop-model")["ModelArn"]
    assert {t["Key"] for t in sm.list_tags(ResourceArn=model)["Tags"]} >= {
        "sagemaker-sdk:jumpstart-model-id", "jumpstart-ui:solution"}


def test_steps_are_stamped_when_they_were_due_however_late_the_read(cf):
    local.configure(stack_seconds=0.4)  # four resources: 0.1 s each
    create(cf)
    time.sleep(0.6)

    answer = list(reversed(cf.describe_stack_events(StackName="shop")["StackEvents"]))
    assert answer[-1]["ResourceStatus"] == "CREATE_COMPLETE"
    completed = [e["Timestamp"] for e in answer if e["ResourceStatus"] == "CREATE_COMPLETE"]
    gaps = [(b - a).total_seconds() for a, b in zip(completed, completed[1:])]
    assert gaps[:2] == [pytest.approx(0.1, abs=0.005)] * 2, gaps  # the bucket, the model, the config
    # The endpoint was made by the late read, and is complete when the local SageMaker saw it
    # InService: no sooner than its share of the time.
    assert gaps[2] >= 0.1 and gaps[3] == 0


# --- Failing and rolling back ------------------------------------------------------------------------


def test_an_endpoint_that_fails_rolls_the_stack_back_with_the_endpoints_failure_reason(cf, sm):
    local.configure(failing_instance_types={"ml.m5.xlarge"})
    create(cf, instance_type="ml.m5.xlarge")

    answer = stack(cf)
    assert answer["StackStatus"] == "ROLLBACK_COMPLETE"
    failure = ("The primary container for production variant AllTraffic did not pass the ping health check. "
               "Please check CloudWatch logs for this endpoint.")
    assert events(cf)[11:] == [
        ("Endpoint", "CREATE_IN_PROGRESS", "Resource creation Initiated"),
        ("Endpoint", "CREATE_FAILED", failure),
        ("shop", "ROLLBACK_IN_PROGRESS", ROLLBACK_REASON),
        ("Endpoint", "DELETE_IN_PROGRESS", None), ("Endpoint", "DELETE_COMPLETE", None),
        ("Config", "DELETE_IN_PROGRESS", None), ("Config", "DELETE_COMPLETE", None),
        ("Model", "DELETE_IN_PROGRESS", None), ("Model", "DELETE_COMPLETE", None),
        ("Bucket", "DELETE_IN_PROGRESS", None), ("Bucket", "DELETE_COMPLETE", None),
        ("shop", "ROLLBACK_COMPLETE", None),
    ]
    assert made("shop") == {"models": [], "configs": [], "endpoints": [], "buckets": []}
    assert "Outputs" not in answer
    # A rolled-back stack keeps its name until it is deleted.
    assert error_of(create, cf=cf)[0] == "AlreadyExistsException"


def test_a_stack_waits_for_its_failed_endpoint_to_be_deleted_during_rollback(cf, sm):
    local.configure(failing_instance_types={"ml.m5.xlarge"}, endpoint_seconds=3600)
    create(cf, instance_type="ml.m5.xlarge")
    assert stack(cf)["StackStatus"] == "CREATE_IN_PROGRESS"

    local.configure(endpoint_seconds=0)
    sm.describe_endpoint(EndpointName="shop-endpoint")  # Failed now
    local.configure(endpoint_seconds=3600)
    assert stack(cf)["StackStatus"] == "ROLLBACK_IN_PROGRESS"
    assert sm.describe_endpoint(EndpointName="shop-endpoint")["EndpointStatus"] == "Deleting"
    assert resources(cf)["Endpoint"] == "DELETE_IN_PROGRESS"
    assert resources(cf)["Model"] == "CREATE_COMPLETE"

    local.configure(endpoint_seconds=0)
    assert stack(cf)["StackStatus"] == "ROLLBACK_COMPLETE"


def test_an_instance_type_without_quota_fails_the_endpoint_at_creation(cf, sm):
    local.configure(no_quota_instance_types={"ml.m5.xlarge"})
    create(cf, instance_type="ml.m5.xlarge")

    assert stack(cf)["StackStatus"] == "ROLLBACK_COMPLETE"
    endpoint = [e for e in events(cf) if e[0] == "Endpoint"]
    assert [e[1] for e in endpoint] == ["CREATE_IN_PROGRESS", "CREATE_FAILED", "DELETE_COMPLETE"]
    reason = endpoint[1][2]
    assert reason.startswith("The account-level service limit 'ml.m5.xlarge for endpoint usage' is 0 Instances")
    assert "(Service: AmazonSageMaker; Status Code: 400; Error Code: ResourceLimitExceeded; Request ID: " in reason
    assert ("shop", "ROLLBACK_IN_PROGRESS", ROLLBACK_REASON) in events(cf)
    assert made("shop")["endpoints"] == [] and made("shop")["models"] == []


def test_a_resource_type_the_local_aws_cannot_make_fails_instead_of_being_skipped(cf):
    template = solution_template(Group={"Type": "AWS::SageMaker::ModelPackageGroup",
                                        "Properties": {"ModelPackageGroupName": "g"}})
    create(cf, TemplateBody=template)

    assert stack(cf)["StackStatus"] == "ROLLBACK_COMPLETE"
    assert ("Group", "CREATE_FAILED",
            "Resource type AWS::SageMaker::ModelPackageGroup is not supported by the local AWS") in events(cf)
    assert ("shop", "ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed to create: [Group]. Rollback requested by user.") in events(cf)
    assert made("shop")["endpoints"] == []


def test_disable_rollback_leaves_the_failed_stack_and_what_it_made(cf):
    local.configure(no_quota_instance_types={"ml.m5.xlarge"})
    create(cf, instance_type="ml.m5.xlarge", DisableRollback=True)

    answer = stack(cf)
    assert (answer["StackStatus"], answer["StackStatusReason"]) == (
        "CREATE_FAILED", "The following resource(s) failed to create: [Endpoint]. ")
    assert made("shop")["models"] == ["shop-model"]
    cf.delete_stack(StackName="shop")
    cf.list_stacks()  # a read: the deletion takes its steps
    assert made("shop")["models"] == []


# --- Deleting ------------------------------------------------------------------------------------------


def test_deleting_a_stack_deletes_everything_it_made_and_then_it_is_found_by_id_only(cf, sm):
    stack_id = create(cf)
    assert stack(cf)["StackStatus"] == "CREATE_COMPLETE"
    local.configure(endpoint_seconds=3600)
    cf.delete_stack(StackName="shop")

    answer = stack(cf)
    assert (answer["StackStatus"], answer["StackStatusReason"]) == ("DELETE_IN_PROGRESS", "User Initiated")
    assert answer["DeletionTime"] >= answer["CreationTime"]
    assert sm.describe_endpoint(EndpointName="shop-endpoint")["EndpointStatus"] == "Deleting"
    assert resources(cf)["Endpoint"] == "DELETE_IN_PROGRESS"
    assert resources(cf)["Model"] == "CREATE_COMPLETE"  # deleted after what uses it

    local.configure(endpoint_seconds=0)
    assert error_of(cf.describe_stacks, StackName="shop") == (
        "ValidationError", "Stack with id shop does not exist")
    assert cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert [e[:2] for e in events(cf, stack_id)][-10:] == [
        ("shop", "DELETE_IN_PROGRESS"),
        ("Endpoint", "DELETE_IN_PROGRESS"), ("Endpoint", "DELETE_COMPLETE"),
        ("Config", "DELETE_IN_PROGRESS"), ("Config", "DELETE_COMPLETE"),
        ("Model", "DELETE_IN_PROGRESS"), ("Model", "DELETE_COMPLETE"),
        ("Bucket", "DELETE_IN_PROGRESS"), ("Bucket", "DELETE_COMPLETE"),
        ("shop", "DELETE_COMPLETE"),
    ]
    assert made("shop") == {"models": [], "configs": [], "endpoints": [], "buckets": []}
    assert set(resources(cf, stack_id).values()) == {"DELETE_COMPLETE"}
    # The name is free again; deleting what is not there says nothing, as on AWS.
    cf.delete_stack(StackName="shop")
    assert create(cf) != stack_id


def test_a_bucket_with_objects_in_it_fails_the_deletion_until_it_is_emptied(cf):
    create(cf)
    bucket = {o["OutputKey"]: o["OutputValue"] for o in stack(cf)["Outputs"]}["BucketName"]
    s3 = SESSION.client("s3")
    s3.put_object(Bucket=bucket, Key="images/1.jpg", Body=b"jpeg")
    cf.delete_stack(StackName="shop")

    answer = stack(cf)
    assert (answer["StackStatus"], answer["StackStatusReason"]) == (
        "DELETE_FAILED", "The following resource(s) failed to delete: [Bucket]. ")
    assert ("Bucket", "DELETE_FAILED") in [e[:2] for e in events(cf)]
    assert "The bucket you tried to delete is not empty (Service: Amazon S3; Status Code: 409; " \
           "Error Code: BucketNotEmpty" in resources_reasons(cf)["Bucket"]
    assert made("shop")["endpoints"] == [] and made("shop")["buckets"] == [bucket]

    s3.delete_object(Bucket=bucket, Key="images/1.jpg")
    cf.delete_stack(StackName="shop")  # tried again
    assert error_of(cf.describe_stacks, StackName="shop")[0] == "ValidationError"
    assert made("shop")["buckets"] == []


def resources_reasons(cf, name="shop"):
    return {r["LogicalResourceId"]: r.get("ResourceStatusReason")
            for r in cf.list_stack_resources(StackName=name)["StackResourceSummaries"]}


def test_a_resource_whose_deletion_policy_is_retain_is_left_when_the_stack_goes(cf):
    template = json.loads(solution_template())
    template["Resources"]["Bucket"]["DeletionPolicy"] = "Retain"
    create(cf, TemplateBody=json.dumps(template))
    bucket = {o["OutputKey"]: o["OutputValue"] for o in stack(cf)["Outputs"]}["BucketName"]
    cf.delete_stack(StackName="shop")
    cf.list_stacks()

    assert made("shop") == {"models": [], "configs": [], "endpoints": [], "buckets": [bucket]}
    stack_id = cf.list_stacks()["StackSummaries"][0]["StackId"]
    assert ("Bucket", "DELETE_SKIPPED", None) in events(cf, stack_id)
    assert events(cf, stack_id)[-1] == ("shop", "DELETE_COMPLETE", None)


def test_deleting_a_stack_while_it_is_being_created_deletes_what_it_made(cf, sm):
    local.configure(endpoint_seconds=3600)
    create(cf)
    assert resources(cf)["Endpoint"] == "CREATE_IN_PROGRESS"
    cf.delete_stack(StackName="shop")
    local.configure(endpoint_seconds=0)

    stack_id = cf.list_stacks()["StackSummaries"][0]["StackId"]
    assert cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert made("shop") == {"models": [], "configs": [], "endpoints": [], "buckets": []}


# --- Refusals ------------------------------------------------------------------------------------------


def test_a_taken_stack_name_is_refused_unless_the_retry_carries_the_same_token(cf):
    stack_id = create(cf, ClientRequestToken="launch-1")

    assert create(cf, ClientRequestToken="launch-1") == stack_id  # the same request, retried
    assert error_of(create, cf=cf, ClientRequestToken="launch-2") == (
        "AlreadyExistsException", "Stack [shop] already exists")
    assert error_of(create, cf=cf) == ("AlreadyExistsException", "Stack [shop] already exists")
    assert len(cf.list_stacks()["StackSummaries"]) == 1


@pytest.mark.parametrize("request_, code, message", [
    ({"StackName": "has_underscore"}, "ValidationError",
     "Value 'has_underscore' at 'stackName' failed to satisfy constraint"),
    ({"StackName": "a" * 129}, "ValidationError", "at 'stackName' failed to satisfy constraint"),
    ({"ClientRequestToken": "7f0c3a52-uuid"}, "ValidationError",
     "Value '7f0c3a52-uuid' at 'clientRequestToken' failed to satisfy constraint"),
    ({"TemplateBody": "{not json"}, "ValidationError", "Template format error"),
    ({"TemplateBody": json.dumps({"Resources": {}})}, "ValidationError",
     "Template format error: At least one Resources member must be defined."),
    ({"TemplateBody": json.dumps({"Description": "x" * 52_000, "Resources": {"B": {"Type": "AWS::S3::Bucket"}}})},
     "ValidationError",
     "at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to 51200"),
    ({"Parameters": [{"ParameterKey": "Colour", "ParameterValue": "red"}]}, "ValidationError",
     "Parameters: [Colour] do not exist in the template"),
    ({"TemplateBody": json.dumps({"Parameters": {"Role": {"Type": "String"}},
                                  "Resources": {"B": {"Type": "AWS::S3::Bucket"}}})},
     "ValidationError", "Parameters: [Role] must have values"),
    ({"TemplateBody": json.dumps({"Parameters": {"Size": {"Type": "String", "Default": "s", "AllowedValues": ["m"]}},
                                  "Resources": {"B": {"Type": "AWS::S3::Bucket"}}})},
     "ValidationError", "Parameter 'Size' must be one of AllowedValues"),
    ({"TemplateBody": json.dumps({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {}}}}})}, "InsufficientCapabilitiesException",
     "Requires capabilities : [CAPABILITY_IAM]"),
    ({"TemplateBody": json.dumps({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": "r", "AssumeRolePolicyDocument": {}}}}}), "Capabilities": ["CAPABILITY_IAM"]},
     "InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_NAMED_IAM]"),
    ({"TemplateBody": json.dumps({"Resources": {
        "A": {"Type": "AWS::S3::Bucket", "DependsOn": "B"}, "B": {"Type": "AWS::S3::Bucket", "DependsOn": "A"}}})},
     "ValidationError", "Circular dependency between resources: [A, B]"),
])
def test_what_aws_refuses_at_create_stack_is_refused_in_its_words(cf, request_, code, message):
    request = {"StackName": "shop", "TemplateBody": solution_template(), **request_}
    got_code, got_message = error_of(cf.create_stack, **request)

    assert got_code == code
    assert message in got_message
    assert cf.list_stacks()["StackSummaries"] == []


def test_a_stack_in_progress_cannot_be_updated(cf):
    local.configure(stack_seconds=3600)
    create(cf)
    assert error_of(cf.update_stack, StackName="shop", TemplateBody=solution_template()) == (
        "ValidationError", f"Stack:{stack(cf)['StackId']} is in CREATE_IN_PROGRESS state and can not be updated.")


# --- Listing -------------------------------------------------------------------------------------------


def test_list_stacks_filters_by_status_and_pages_newest_first(cf):
    template = json.dumps({"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}})
    for n in range(130):
        cf.create_stack(StackName=f"s-{n:03}", TemplateBody=template)
    cf.delete_stack(StackName="s-000")

    first = cf.list_stacks(StackStatusFilter=["CREATE_IN_PROGRESS", "CREATE_COMPLETE"])
    second = cf.list_stacks(StackStatusFilter=["CREATE_IN_PROGRESS", "CREATE_COMPLETE"],
                            NextToken=first["NextToken"])
    names = [s["StackName"] for s in first["StackSummaries"] + second["StackSummaries"]]
    assert len(first["StackSummaries"]) == 100 and "NextToken" not in second
    assert names == [f"s-{n:03}" for n in range(129, 0, -1)]
    assert {s["StackStatus"] for s in first["StackSummaries"]} == {"CREATE_COMPLETE"}  # the list read moved them
    [deleted] = cf.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert deleted["StackName"] == "s-000" and "DeletionTime" in deleted
    assert "LastUpdatedTime" not in deleted  # never updated, as AWS leaves it


# --- The patches and settings --------------------------------------------------------------------------


def test_install_replaces_cloudformations_responses_with_the_installed_moto():
    from moto.cloudformation import parsing
    from moto.cloudformation.responses import CloudFormationResponse

    local.install()
    ours = local.cloudformation.patches()
    assert {(getattr(cls, "__name__", ""), name) for cls, name, _ in ours} >= {
        ("CloudFormationResponse", "create_stack"), ("CloudFormationResponse", "delete_stack"),
        ("CloudFormationResponse", "describe_stacks"), ("CloudFormationResponse", "list_stacks"),
        ("CloudFormationResponse", "describe_stack_events"), ("CloudFormationResponse", "list_stack_resources"),
        ("moto.cloudformation.parsing", "resource_name_property_from_type")}
    names = [name for _, name, _ in local._patches()]
    assert len(set(names)) == len(names)  # moto's own methods are kept by name
    for cls, name, replacement in ours:
        assert getattr(cls, name) is replacement
        assert local._stock[name].__module__.startswith("moto.")
    assert CloudFormationResponse.create_stack is ours[0][2]
    assert parsing.resource_name_property_from_type("AWS::SageMaker::Endpoint") == "EndpointName"
    assert parsing.resource_name_property_from_type("AWS::S3::Bucket") == "BucketName"  # moto's own
    assert moto.__version__ == local.MOTO_VERSION


def test_stack_seconds_comes_from_jsui_local_stack_seconds_and_defaults_to_three():
    assert local.DEFAULT_SETTINGS["stack_seconds"] == 3
    try:
        local.configure_from_env({"JSUI_LOCAL_STACK_SECONDS": "0.5"})
        assert local._settings["stack_seconds"] == 0.5
        assert "endpoints take 3 s; stacks take 0.5 s; " in local.describe_settings()
        with pytest.raises(local.BadSetting, match="JSUI_LOCAL_STACK_SECONDS"):
            local.configure_from_env({"JSUI_LOCAL_STACK_SECONDS": "-1"})
    finally:
        local.reset()
    assert local._settings["stack_seconds"] == 3


# --- Over HTTP, as the demo runs it ----------------------------------------------------------------------


@pytest.fixture
def endpoint(monkeypatch):
    server = local.start_server(port=0)
    monkeypatch.setenv("AWS_ENDPOINT_URL", local.endpoint_url(server))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    aws_boundary.reset_clients()
    yield local.endpoint_url(server)
    local.reset()
    urllib.request.urlopen(urllib.request.Request(f"{local.endpoint_url(server)}/moto-api/reset", method="POST"))
    server.stop()
    aws_boundary.reset_clients()


def test_a_stack_launches_fails_over_and_is_deleted_over_http(endpoint):
    """The lifecycle stands on moto's private CloudFormation and SageMaker internals: this fails
    loudly, in server mode, when an upgrade moves them."""
    local.configure(stack_seconds=0.2, endpoint_seconds=0.2, failing_instance_types={"ml.c5.xlarge"})
    cf, sm = SESSION.client("cloudformation"), SESSION.client("sagemaker")
    stack_id = create(cf, ClientRequestToken="launch-1")
    assert create(cf, ClientRequestToken="launch-1") == stack_id
    create(cf, "broken", instance_type="ml.c5.xlarge")

    statuses = set()
    for _ in range(100):
        statuses.add(stack(cf)["StackStatus"])
        if stack(cf)["StackStatus"] == "CREATE_COMPLETE" and stack(cf, "broken")["StackStatus"] == "ROLLBACK_COMPLETE":
            break
        time.sleep(0.05)
    assert statuses >= {"CREATE_IN_PROGRESS", "CREATE_COMPLETE"}
    assert stack(cf, "broken")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert sm.describe_endpoint(EndpointName="shop-endpoint")["EndpointStatus"] == "InService"
    assert [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]] == ["shop-endpoint"]

    cf.delete_stack(StackName=stack_id)
    for _ in range(100):
        if cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE":
            break
        time.sleep(0.05)
    assert cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert sm.list_endpoints()["Endpoints"] == [] and sm.list_models()["Models"] == []
