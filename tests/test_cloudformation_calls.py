"""The CloudFormation calls that launch and delete solutions (aws/cloudformation.py), against the
local CloudFormation in-process, and the solution templates they launch
(catalog/data/solution_templates/), checked against the project's own deploy requests."""

import io
import json
from datetime import timezone
from pathlib import Path

import boto3
import moto  # noqa: F401 (before SESSION: moto reaches only the boto3 sessions made after its import)
import pytest
from botocore.awsrequest import AWSResponse

from aws import cloudformation, jumpstart, local
from aws.errors import AwsError

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "catalog" / "data" / "solution_templates"
CACHE = ROOT / "catalog" / "data" / "jumpstart-cache"
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
OURS = ("jumpstart-ui:solution", "job-7")
SESSION = boto3.session.Session(region_name="us-east-1")
SMALL = json.dumps({"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}})
ENDPOINT = json.dumps({
    "Parameters": {"InstanceType": {"Type": "String", "Default": "ml.m5.large"}},
    "Resources": {
        "Model": {"Type": "AWS::SageMaker::Model", "Properties": {
            "ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": "image-uri"},
            "ModelName": {"Fn::Sub": "${AWS::StackName}-model"}}},
        "Config": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {
            "EndpointConfigName": {"Fn::Sub": "${AWS::StackName}-config"},
            "ProductionVariants": [{"VariantName": "AllTraffic", "InitialInstanceCount": 1,
                                    "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
                                    "InstanceType": {"Ref": "InstanceType"}}]}},
        "Endpoint": {"Type": "AWS::SageMaker::Endpoint", "Properties": {
            "EndpointName": {"Fn::Sub": "${AWS::StackName}-endpoint"},
            "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]}}},
    },
    "Outputs": {"EndpointName": {"Value": {"Fn::GetAtt": ["Endpoint", "EndpointName"]}}},
})


@pytest.fixture
def cfn(aws):
    """The local CloudFormation; stacks and endpoints take their steps on the next read."""
    local.configure(stack_seconds=0, endpoint_seconds=0)
    yield cloudformation
    local.reset()


def launch(name="sol-7", template=ENDPOINT, token="launch-7", owner=OURS, **request):
    return cloudformation.create_stack(name, template, client_request_token=token, owner_tag=owner, **request)


def aws_answer(status, code, message):
    """An HTTP answer as CloudFormation (the query protocol) sends an error."""
    body = (f'<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error>'
            f"<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>r-1</RequestId></ErrorResponse>").encode()
    return AWSResponse("https://cloudformation.us-east-1.amazonaws.com/", status, {"Content-Type": "text/xml"},
                       _Raw(body))


class _Raw(io.BytesIO):
    def stream(self, **_):
        yield self.read()


def answer_first(client, operation, answers):
    """Answer each send of `operation` with the next of `answers` in moto's place; the sends seen."""
    sends = []

    def hook(request, **_):
        sends.append(operation)
        answer = answers.pop(0) if answers else None
        if answer is not None:
            request.url = "https://answered-by-the-test.invalid/"
        return answer

    client.meta.events.register_first(f"before-send.cloudformation.{operation}", hook)
    return sends


# --- create_stack --------------------------------------------------------------------------------------


def test_create_stack_returns_the_id_and_a_retry_with_the_same_token_returns_it_again(cfn):
    stack_id = launch(parameters={"InstanceType": "ml.m5.xlarge"}, tags={"team": "vision"})

    assert stack_id.startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/sol-7/")
    assert launch(parameters={"InstanceType": "ml.m5.xlarge"}, tags={"team": "vision"}) == stack_id
    state = cfn.describe_stack("sol-7")
    assert state.tags == {"team": "vision", "jumpstart-ui:solution": "job-7"}  # our owner tag added
    sm = SESSION.client("sagemaker")
    assert sm.describe_endpoint_config(EndpointConfigName="sol-7-config")["ProductionVariants"][0][
        "InstanceType"] == "ml.m5.xlarge"


def test_a_stack_of_that_name_is_adopted_only_when_it_carries_our_owner_tag(cfn):
    stack_id = launch()

    assert launch(token="launch-7-again") == stack_id  # ours: a retry whose token changed
    with pytest.raises(AwsError) as raised:
        launch(token="another-job", owner=("jumpstart-ui:solution", "job-8"))
    assert raised.value.code == "NameTaken" and raised.value.transient is False
    assert raised.value.reason == ("A CloudFormation stack named sol-7 already exists in this account and "
                                   "region and was not made by this launch.")


def test_a_stack_of_ours_still_being_deleted_is_a_transient_refusal(cfn):
    launch()
    assert cfn.describe_stack("sol-7").status == "CREATE_COMPLETE"
    local.configure(endpoint_seconds=3600)  # its endpoint takes an hour to go
    assert cfn.delete_stack("sol-7") is True
    assert cfn.describe_stack("sol-7").status == "DELETE_IN_PROGRESS"

    with pytest.raises(AwsError) as raised:
        launch(token="launch-7-again")
    assert raised.value.code == "StackBeingDeleted" and raised.value.transient is True


def test_a_template_aws_refuses_is_a_permanent_error_in_its_words(cfn):
    with pytest.raises(AwsError) as raised:
        launch(parameters={"Colour": "red"})
    assert (raised.value.code, raised.value.reason) == (
        "ValidationError", "Parameters: [Colour] do not exist in the template")
    assert raised.value.transient is False


# --- describe_stack, stack_events, stack_resources ----------------------------------------------------


def test_describe_stack_follows_a_launch_to_its_outputs(cfn):
    local.configure(endpoint_seconds=3600)
    stack_id = launch()

    state = cfn.describe_stack("sol-7")
    assert (state.name, state.id, state.status, state.status_reason) == (
        "sol-7", stack_id, "CREATE_IN_PROGRESS", "User Initiated")
    assert state.in_progress and not state.deleted
    assert state.outputs == {} and state.deleted_at is None
    assert state.created.tzinfo is timezone.utc and state.last_updated == state.created

    local.configure(endpoint_seconds=0)
    state = cfn.describe_stack(stack_id)
    assert (state.status, state.status_reason, state.in_progress) == ("CREATE_COMPLETE", "", False)
    assert state.outputs == {"EndpointName": "sol-7-endpoint"}


def test_a_missing_stack_is_none_and_a_deleted_one_is_found_by_its_id_only(cfn):
    assert cfn.describe_stack("nothing-here") is None
    assert cfn.stack_events("nothing-here") is None
    assert cfn.stack_resources("nothing-here") is None

    stack_id = launch()
    cfn.describe_stack(stack_id)
    assert cfn.delete_stack(stack_id) is True
    assert cfn.describe_stack("sol-7") is None
    state = cfn.describe_stack(stack_id)
    assert state.status == "DELETE_COMPLETE" and state.deleted
    assert state.deleted_at is not None and state.last_updated == state.deleted_at
    assert {r.status for r in cfn.stack_resources(stack_id)} == {"DELETE_COMPLETE"}


def test_stack_events_are_the_new_ones_oldest_first(cfn):
    local.configure(endpoint_seconds=3600)
    launch()
    first = cfn.stack_events("sol-7")

    assert [(e.logical_id, e.status, e.reason) for e in first] == [
        ("sol-7", "CREATE_IN_PROGRESS", "User Initiated"),
        ("Model", "CREATE_IN_PROGRESS", ""), ("Model", "CREATE_IN_PROGRESS", "Resource creation Initiated"),
        ("Model", "CREATE_COMPLETE", ""),
        ("Config", "CREATE_IN_PROGRESS", ""), ("Config", "CREATE_IN_PROGRESS", "Resource creation Initiated"),
        ("Config", "CREATE_COMPLETE", ""),
        ("Endpoint", "CREATE_IN_PROGRESS", ""), ("Endpoint", "CREATE_IN_PROGRESS", "Resource creation Initiated"),
    ]
    assert first[-1].resource_type == "AWS::SageMaker::Endpoint"
    assert first[-1].physical_id == "arn:aws:sagemaker:us-east-1:123456789012:endpoint/sol-7-endpoint"
    assert first[1].physical_id == "" and first[0].timestamp.tzinfo is timezone.utc

    assert cfn.stack_events("sol-7", since_event_id=first[-1].id) == []
    local.configure(endpoint_seconds=0)
    assert [(e.logical_id, e.status) for e in cfn.stack_events("sol-7", since_event_id=first[-1].id)] == [
        ("Endpoint", "CREATE_COMPLETE"), ("sol-7", "CREATE_COMPLETE")]


def test_stack_events_reads_pages_until_the_last_event_seen_and_no_further(cfn, monkeypatch):
    launch(template=json.dumps({"Resources": {f"H{n}": {"Type": "AWS::CloudFormation::WaitConditionHandle"}
                                              for n in range(60)}}))
    cfn.describe_stack("sol-7")
    sends = answer_first(cfn.client("cloudformation"), "DescribeStackEvents", [])
    everything = cfn.stack_events("sol-7")

    assert len(everything) == 1 + 60 * 3 + 1 and len(sends) == 2  # 100 a page, newest first
    assert [e.status for e in (everything[0], everything[-1])] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    sends.clear()
    assert [e.id for e in cfn.stack_events("sol-7", since_event_id=everything[-5].id)] == [
        e.id for e in everything[-4:]]
    assert len(sends) == 1
    newest = cfn.stack_events("sol-7", limit=10)
    assert [e.id for e in newest] == [e.id for e in everything[-10:]]


def test_stack_resources_are_what_the_stack_has_begun_to_make(cfn):
    local.configure(endpoint_seconds=3600)
    launch()

    resources = {r.logical_id: r for r in cfn.stack_resources("sol-7")}
    assert {lid: r.status for lid, r in resources.items()} == {
        "Model": "CREATE_COMPLETE", "Config": "CREATE_COMPLETE", "Endpoint": "CREATE_IN_PROGRESS"}
    assert resources["Endpoint"].resource_type == "AWS::SageMaker::Endpoint"
    assert resources["Endpoint"].physical_id.endswith(":endpoint/sol-7-endpoint")
    assert resources["Model"].last_updated.tzinfo is timezone.utc


def test_a_failed_launch_reads_as_its_events_say(cfn):
    local.configure(no_quota_instance_types={"ml.m5.xlarge"})
    launch(parameters={"InstanceType": "ml.m5.xlarge"})

    state = cfn.describe_stack("sol-7")
    assert state.status == "ROLLBACK_COMPLETE" and not state.in_progress
    [failed] = [e for e in cfn.stack_events("sol-7") if e.status == "CREATE_FAILED"]
    assert failed.logical_id == "Endpoint" and "ResourceLimitExceeded" in failed.reason
    assert [e.reason for e in cfn.stack_events("sol-7") if e.status == "ROLLBACK_IN_PROGRESS"] == [
        "The following resource(s) failed to create: [Endpoint]. Rollback requested by user."]


# --- delete_stack --------------------------------------------------------------------------------------


def test_delete_stack_is_false_when_the_stack_is_gone_already(cfn):
    assert cfn.delete_stack("never-made") is False

    stack_id = launch()
    cfn.describe_stack(stack_id)
    local.configure(endpoint_seconds=3600)
    sends = answer_first(cfn.client("cloudformation"), "DeleteStack", [])
    assert cfn.delete_stack(stack_id, client_request_token="delete-7") is True
    assert cfn.delete_stack(stack_id) is True  # under way: not asked again
    assert len(sends) == 1
    assert [e.status for e in cfn.stack_events(stack_id)][-2:] == ["DELETE_IN_PROGRESS", "DELETE_IN_PROGRESS"]

    local.configure(endpoint_seconds=0)
    assert cfn.describe_stack(stack_id).deleted
    assert cfn.delete_stack(stack_id) is False
    assert cfn.delete_stack("sol-7") is False
    assert SESSION.client("sagemaker").list_endpoints()["Endpoints"] == []


# --- AWS's refusals, mapped ----------------------------------------------------------------------------


def test_throttling_that_outlasts_the_retries_is_a_transient_error(cfn, settings):
    settings.AWS_MAX_ATTEMPTS = 2
    sends = answer_first(cfn.client("cloudformation"), "DescribeStacks",
                         [aws_answer(400, "Throttling", "Rate exceeded") for _ in range(5)])

    with pytest.raises(AwsError) as raised:
        cfn.describe_stack("sol-7")
    assert (raised.value.code, raised.value.transient) == ("Throttling", True)
    assert len(sends) == 2


@pytest.mark.parametrize("call", [
    lambda: cloudformation.stack_events("sol-7"),
    lambda: cloudformation.delete_stack("sol-7"),
])
def test_a_server_error_is_transient(cfn, settings, call):
    settings.AWS_MAX_ATTEMPTS = 1
    client = cfn.client("cloudformation")
    for operation in ("ListStacks", "DescribeStackEvents", "DescribeStacks"):
        answer_first(client, operation, [aws_answer(500, "InternalFailure", "oops")])
    with pytest.raises(AwsError) as raised:
        call()
    assert raised.value.transient is True


# --- The solution templates ----------------------------------------------------------------------------

TEMPLATE_FILES = sorted(TEMPLATES.glob("*.json"))


def spec_of(template):
    return json.loads((CACHE / template["Metadata"]["JumpStartUI"]["SpecKey"]).read_text())


def test_there_are_three_templates_each_for_a_bundled_solution_and_named_in_sources():
    solutions = {s["slug"] for s in json.loads((ROOT / "catalog" / "data" / "solutions.json").read_text())}
    sources = (TEMPLATES / "SOURCES.md").read_text()
    assert len(TEMPLATE_FILES) == 3
    for path in TEMPLATE_FILES:
        assert path.stem in solutions
        assert f"`{path.name}`" in sources
        assert json.loads(path.read_text())["Metadata"]["JumpStartUI"]["ModelId"] in sources


def test_the_templates_are_what_build_writes_from_the_bundled_specs():
    import importlib.util

    spec = importlib.util.spec_from_file_location("solution_templates_build", TEMPLATES / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for slug, solution in build.SOLUTIONS.items():
        written = json.loads((TEMPLATES / f"{slug}.json").read_text())
        assert written == build.build(slug, solution["model_id"], solution["bucket"]), slug


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.stem)
def test_a_template_is_json_of_types_the_local_aws_makes_and_fits_cloudformations_limit(path):
    from aws.local.cloudformation import _supported

    body = path.read_text()
    template = json.loads(body)
    assert len(body.encode()) <= 51_200
    assert {r["Type"] for r in template["Resources"].values()} == {
        "AWS::S3::Bucket", "AWS::SageMaker::Model", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Endpoint"}
    local.install()
    assert all(_supported(r["Type"]) for r in template["Resources"].values())
    assert set(template["Parameters"]) == {"ExecutionRoleArn", "InstanceType"}
    assert template["Parameters"]["InstanceType"]["Default"] == spec_of(template)["default_inference_instance_type"]
    assert set(template["Outputs"]) == {"EndpointName", "BucketName"}


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.stem)
def test_a_template_launches_and_deletes_cleanly_with_the_model_deploy_request_resolves(cfn, path):
    body = path.read_text()
    template = json.loads(body)
    spec = spec_of(template)
    sm, s3 = SESSION.client("sagemaker"), SESSION.client("s3")
    local.configure(failing_instance_types=set())  # by default ml.g4dn.xlarge endpoints fail

    for n, instance_type in enumerate(template["Parameters"]["InstanceType"]["AllowedValues"]):
        name = f"sol-{n}"
        stack_id = cloudformation.create_stack(
            name, body, parameters={"ExecutionRoleArn": ROLE, "InstanceType": instance_type},
            client_request_token=f"launch-{n}", owner_tag=OURS)
        state = cloudformation.describe_stack(stack_id)
        assert state.status == "CREATE_COMPLETE", cloudformation.stack_events(stack_id)
        assert state.outputs["EndpointName"] == f"{name}-endpoint"
        assert s3.head_bucket(Bucket=state.outputs["BucketName"])

        expected = jumpstart.deploy_request(
            spec, region="us-east-1", model_name=f"{name}-model", endpoint_config_name=f"{name}-config",
            endpoint_name=f"{name}-endpoint", instance_type=instance_type, role_arn=ROLE)
        model = sm.describe_model(ModelName=f"{name}-model")
        assert model["PrimaryContainer"] == expected.model["PrimaryContainer"]  # image, data, environment
        assert model["ExecutionRoleArn"] == ROLE
        tags = sm.list_tags(ResourceArn=model["ModelArn"])["Tags"]
        assert all(tag in tags for tag in expected.model["Tags"])
        config = sm.describe_endpoint_config(EndpointConfigName=f"{name}-config")
        variant = {k: v for k, v in config["ProductionVariants"][0].items() if k in expected.endpoint_config[
            "ProductionVariants"][0]}
        assert variant == expected.endpoint_config["ProductionVariants"][0]
        assert sm.describe_endpoint(EndpointName=f"{name}-endpoint")["EndpointStatus"] == "InService"

        assert cloudformation.delete_stack(stack_id) is True
        assert cloudformation.describe_stack(stack_id).deleted
    assert template["Resources"]["Model"]["Properties"]["EnableNetworkIsolation"] == expected.model[
        "EnableNetworkIsolation"]
    assert sm.list_models()["Models"] == [] and sm.list_endpoints()["Endpoints"] == []
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert not [b for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("sol-")]


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-2"])
def test_a_template_works_in_another_region_with_that_regions_image_and_bucket(cfn, region, settings):
    path = TEMPLATES / "churn-prediction-with-text.json"
    template = json.loads(path.read_text())
    settings.AWS_REGION = region
    cloudformation.create_stack("sol-1", path.read_text(), parameters={"ExecutionRoleArn": ROLE},
                                client_request_token="launch-1", owner_tag=OURS)
    assert cloudformation.describe_stack("sol-1").status == "CREATE_COMPLETE"

    expected = jumpstart.deploy_request(
        spec_of(template), region=region, model_name="m", endpoint_config_name="c", endpoint_name="e",
        instance_type=template["Parameters"]["InstanceType"]["Default"], role_arn=ROLE)
    model = boto3.client("sagemaker", region_name=region).describe_model(ModelName="sol-1-model")
    assert model["PrimaryContainer"] == expected.model["PrimaryContainer"]
    assert f"jumpstart-cache-prod-{region}" in json.dumps(model["PrimaryContainer"])
