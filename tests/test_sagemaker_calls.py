"""The SageMaker calls the jobs make (aws/sagemaker.py), against moto in-process, with botocore
hooks and Stubber where stock moto does not answer as SageMaker does."""

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from aws import jumpstart, sagemaker
from aws.errors import AwsError, explain

SPEC = Path(__file__).resolve().parent / "fixtures" / "jumpstart" / "community_models" / "pytorch-ic-mobilenet-v2" / "specs_v3.0.25.json"
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
OURS = ("jumpstart-ui:deployment", "7f0c3a52-0000-4000-8000-000000000001")
QUOTA_MESSAGE = (
    "The account-level service limit 'ml.g5.12xlarge for endpoint usage' is 0 Instances, with current "
    "utilization of 0 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to "
    "request an increase for this quota. If AWS Service Quotas is not available, contact AWS support "
    "to request an increase for this quota."
)


@pytest.fixture
def deploy():
    """Real requests, resolved from the mobilenet spec."""
    return jumpstart.deploy_request(
        json.loads(SPEC.read_text()), region="us-east-1", model_name="jsui-m-1",
        endpoint_config_name="jsui-c-1", endpoint_name="jsui-e-1", instance_type="ml.m5.large", role_arn=ROLE,
        tags=[OURS],
    )


def create_all(deploy):
    return [sagemaker.create(kind, getattr(deploy, kind), owner_tag=OURS) for kind in ("model", "endpoint_config", "endpoint")]


class _Raw(io.BytesIO):
    """An HTTP body as botocore reads it: streamed, or read in pieces for a streaming payload."""

    def stream(self, **_):
        yield self.read()


def aws_answer(status, code, message):
    """An HTTP answer as SageMaker (awsJson1_1) sends an error."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return AWSResponse("https://api.sagemaker.us-east-1.amazonaws.com/", status,
                       {"Content-Type": "application/x-amz-json-1.1", "x-amzn-query-error": f"{code};Sender"},
                       _Raw(body))


def endpoint_answer(body, content_type):
    """An InvokeEndpoint answer: the model's body, its content type in the header."""
    return AWSResponse("https://runtime.sagemaker.us-east-1.amazonaws.com/", 200,
                       {"Content-Type": content_type, "x-Amzn-Invoked-Production-Variant": "AllTraffic"},
                       _Raw(body))


def answer_first(client, operation, answers):
    """Answer each send of `operation` with the next of `answers` in moto's place (None: let moto
    answer). Returns the list of sends seen."""
    sends = []

    def hook(request, **_):
        sends.append(operation)
        answer = answers.pop(0) if answers else None
        if answer is not None:
            # botocore runs every before-send handler and keeps the first answer: move the request
            # out of moto's reach so that the answered send leaves nothing behind in moto.
            request.url = "https://answered-by-the-test.invalid/"
        return answer

    client.meta.events.register_first(f"before-send.{client.meta.service_model.endpoint_prefix}.{operation}", hook)
    return sends


# -- create / describe / delete ---------------------------------------------------------------------


def test_create_makes_model_config_and_endpoint(aws, deploy):
    assert create_all(deploy) == [True, True, True]

    state = sagemaker.describe_endpoint("jsui-e-1")
    assert state.name == "jsui-e-1"
    assert state.status in ("Creating", "InService")
    assert state.failure_reason == ""
    assert state.last_modified.tzinfo is not None and state.last_modified.utcoffset() == timedelta(0)
    model = aws.client("sagemaker").describe_model(ModelName="jsui-m-1")
    assert model["PrimaryContainer"]["Image"].endswith("pytorch-inference:1.10.0-cpu-py38")


def test_a_retried_create_finds_what_it_made(aws, deploy):
    """SageMaker refuses a taken name with a ValidationException (stock moto accepts it, so the second
    answer here is SageMaker's own wording)."""
    sm = aws.client("sagemaker")
    taken = aws_answer(400, "ValidationException",
                       'Cannot create already existing endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/jsui-e-1".')
    sends = answer_first(sm, "CreateEndpoint", [None, taken])
    create_all(deploy)

    assert sagemaker.create("endpoint", deploy.endpoint, owner_tag=OURS) is False
    assert sends == ["CreateEndpoint", "CreateEndpoint"]


def test_a_taken_name_without_our_tag_is_never_adopted(aws, deploy):
    create_all(deploy)
    someone_elses = ("jumpstart-ui:deployment", "another-row")
    with pytest.raises(AwsError) as raised:
        sagemaker.create("model", deploy.model, owner_tag=someone_elses)
    assert raised.value.code == "NameTaken" and not raised.value.transient
    assert "was not made by this deployment" in raised.value.reason

    # A name that differs only in case is taken too, and is never ours: it is not that exact name.
    shouting = {**deploy.endpoint, "EndpointName": "JSUI-E-1"}
    with pytest.raises(AwsError) as raised:
        sagemaker.create("endpoint", shouting, owner_tag=OURS)
    assert raised.value.code == "NameTaken"
    assert [e["EndpointName"] for e in aws.client("sagemaker").list_endpoints()["Endpoints"]] == ["jsui-e-1"]


def test_other_validation_errors_on_create_are_permanent(aws, deploy):
    answer_first(aws.client("sagemaker"), "CreateModel", [aws_answer(
        400, "ValidationException", f"Could not assume role {ROLE}. Please ensure that the role exists and "
        "allows principal 'sagemaker.amazonaws.com' to assume the role.")])

    with pytest.raises(AwsError) as raised:
        sagemaker.create("model", deploy.model, owner_tag=OURS)
    assert raised.value.transient is False
    assert "trust policy allows the service principal sagemaker.amazonaws.com" in explain(raised.value)


def test_describing_a_missing_endpoint_gives_none(aws):
    assert sagemaker.describe_endpoint("jsui-never-made") is None
    assert sagemaker.endpoint_name_taken("jsui-never-made") is False


def test_delete_says_whether_there_was_something_to_delete(aws, deploy):
    create_all(deploy)
    assert sagemaker.endpoint_name_taken("jsui-e-1") is True
    assert sagemaker.endpoint_name_taken("JSUI-E-1") is True  # SageMaker ignores case in names

    assert [sagemaker.delete(kind, name) for kind, name in
            (("endpoint", "jsui-e-1"), ("endpoint_config", "jsui-c-1"), ("model", "jsui-m-1"))] == [True, True, True]
    # (An endpoint takes minutes to go; deleting it again meanwhile is no error on SageMaker.)
    assert [sagemaker.delete(kind, name) for kind, name in
            (("endpoint_config", "jsui-c-1"), ("model", "jsui-m-1"), ("endpoint", "jsui-never-made"))] == [False, False, False]


# -- changed endpoints ------------------------------------------------------------------------------

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


def summary(name, minutes, status="InService"):
    return {"EndpointName": name, "EndpointArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}",
            "CreationTime": T0, "LastModifiedTime": T0 + timedelta(minutes=minutes), "EndpointStatus": status}


def test_changed_endpoints_reads_every_page_of_what_changed_since_the_mark(aws):
    sm = aws.client("sagemaker")
    since = T0 + timedelta(minutes=10)
    asked = {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 100,
             "LastModifiedTimeAfter": since - timedelta(seconds=1)}
    with Stubber(sm) as stub:
        stub.add_response("list_endpoints", {"Endpoints": [summary("a", 12), summary("b", 30, "Creating")],
                                             "NextToken": "page-2"}, asked)
        stub.add_response("list_endpoints", {"Endpoints": [summary("c", 10, "Failed")]},
                          {**asked, "NextToken": "page-2"})
        states, new_since = sagemaker.changed_endpoints(since)
        stub.assert_no_pending_responses()

    assert [(s.name, s.status) for s in states] == [("a", "InService"), ("b", "Creating"), ("c", "Failed")]
    assert new_since == T0 + timedelta(minutes=30)  # the newest AWS reported, not our clock


def test_changed_endpoints_without_a_mark_reads_all(aws):
    sm = aws.client("sagemaker")
    with Stubber(sm) as stub:
        stub.add_response("list_endpoints", {"Endpoints": [summary("a", 5), summary("b", 1)]},
                          {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 100})
        states, new_since = sagemaker.changed_endpoints(None)
    assert [s.name for s in states] == ["a", "b"] and new_since == T0 + timedelta(minutes=5)


def test_nothing_changed_keeps_the_callers_mark(aws):
    with Stubber(aws.client("sagemaker")) as stub:
        stub.add_response("list_endpoints", {"Endpoints": []})
        assert sagemaker.changed_endpoints(T0) == ([], None)


def test_changed_endpoints_lists_endpoints_made_in_moto(aws, deploy):
    create_all(deploy)
    states, new_since = sagemaker.changed_endpoints(None)
    assert [s.name for s in states] == ["jsui-e-1"]
    assert new_since == states[0].last_modified

    later, _ = sagemaker.changed_endpoints(new_since + timedelta(hours=1))
    assert later == []


# -- throttling and quotas --------------------------------------------------------------------------


def test_throttling_once_is_absorbed_by_the_standard_retry(aws, deploy, settings):
    settings.AWS_MAX_ATTEMPTS = 2  # every send counts: the first try and one retry
    sends = answer_first(aws.client("sagemaker"), "CreateModel",
                         [aws_answer(400, "ThrottlingException", "Rate exceeded")])

    assert sagemaker.create("model", deploy.model, owner_tag=OURS) is True  # the retry went through to moto
    assert sends == ["CreateModel", "CreateModel"]


def test_throttling_that_outlasts_the_retries_is_a_transient_error(aws, deploy, settings):
    settings.AWS_MAX_ATTEMPTS = 2
    sends = answer_first(aws.client("sagemaker"), "CreateModel",
                         [aws_answer(400, "ThrottlingException", "Rate exceeded") for _ in range(5)])

    with pytest.raises(AwsError) as raised:
        sagemaker.create("model", deploy.model, owner_tag=OURS)
    assert raised.value.code == "ThrottlingException" and raised.value.transient is True
    assert len(sends) == 2  # AWS_MAX_ATTEMPTS sends in all; then Celery's retry takes over
    assert "Wait a minute" in explain(raised.value)


def test_a_server_error_is_transient(aws, settings):
    settings.AWS_MAX_ATTEMPTS = 1
    answer_first(aws.client("sagemaker"), "DescribeEndpoint", [aws_answer(500, "InternalServerException", "oops")])
    with pytest.raises(AwsError) as raised:
        sagemaker.describe_endpoint("jsui-e-1")
    assert raised.value.transient is True


def test_no_quota_is_permanent_and_names_the_instance_type(aws, deploy):
    sends = answer_first(aws.client("sagemaker"), "CreateEndpoint",
                         [aws_answer(400, "ResourceLimitExceeded", QUOTA_MESSAGE)])
    sagemaker.create("model", deploy.model, owner_tag=OURS)
    sagemaker.create("endpoint_config", deploy.endpoint_config, owner_tag=OURS)

    with pytest.raises(AwsError) as raised:
        sagemaker.create("endpoint", deploy.endpoint, owner_tag=OURS)
    error = raised.value
    assert error.code == "ResourceLimitExceeded" and error.transient is False
    assert sends == ["CreateEndpoint"]  # not retried
    assert "ml.g5.12xlarge" in error.advice
    assert explain(error) == (
        "AWS refused to start the machines. Your AWS account's quota for ml.g5.12xlarge instances is used up "
        "in this region. Request an increase in Service Quotas, or choose another machine type.")


# -- invoking ---------------------------------------------------------------------------------------


@pytest.fixture
def runtime(aws, monkeypatch):
    """The sagemaker-runtime client invoke() builds, kept so that a test can answer in the model's place."""
    client = sagemaker._runtime_client()
    monkeypatch.setattr(sagemaker, "_runtime_client", lambda: client)
    return client


def test_invoke_sends_the_body_and_returns_the_answer_and_its_content_type(runtime):
    sent = []  # registered before the answer, to see the request as it would go to AWS
    runtime.meta.events.register_first("before-send.runtime.sagemaker.InvokeEndpoint",
                                       lambda request, **_: sent.append((request.url, request.headers, request.body)))
    answer_first(runtime, "InvokeEndpoint", [endpoint_answer(b'{"predicted_label": "tabby cat"}', "application/json")])
    image, content_type = jumpstart.example_payload(json.loads(SPEC.read_text()), "ic")

    assert sagemaker.invoke("jsui-e-1", image, content_type, "application/json") == (
        "application/json", b'{"predicted_label": "tabby cat"}')
    (url, headers, body), = sent
    assert url == "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/jsui-e-1/invocations"
    assert headers["Content-Type"] == b"application/x-image" and headers["Accept"] == b"application/json"
    assert body == image


def test_invoke_reads_at_most_a_megabyte(runtime):
    answer_first(runtime, "InvokeEndpoint", [endpoint_answer(b"x" * (sagemaker.INVOKE_MAX_BYTES + 10), "text/plain")])

    with pytest.raises(AwsError) as raised:
        sagemaker.invoke("jsui-e-1", b"hello", "application/x-text", "application/json")
    assert raised.value.code == "ResponseTooLarge" and raised.value.transient is False


def test_invoke_is_tried_once(runtime):
    sends = answer_first(runtime, "InvokeEndpoint", [aws_answer(503, "ServiceUnavailable", "busy")] * 3)
    with pytest.raises(AwsError) as raised:
        sagemaker.invoke("jsui-e-1", b"hello", "application/x-text", "application/json")
    assert raised.value.transient is True and len(sends) == 1


def test_a_model_error_is_explained(runtime):
    answer_first(runtime, "InvokeEndpoint", [aws_answer(
        424, "ModelError", "Received client error (400) from primary with message \"unsupported content\"")])

    with pytest.raises(AwsError) as raised:
        sagemaker.invoke("jsui-e-1", b"hello", "application/x-text", "application/json")
    assert raised.value.code == "ModelError"
    assert "CloudWatch" in explain(raised.value)


# -- execution roles --------------------------------------------------------------------------------


def trust(*services, action="sts:AssumeRole", effect="Allow"):
    principal = {"Service": services[0] if len(services) == 1 else list(services)}
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": effect, "Principal": principal, "Action": action}]})


def test_execution_roles_are_the_roles_sagemaker_may_assume(aws, monkeypatch):
    iam = aws.client("iam")
    roles = {
        "SageMakerExecution": trust("sagemaker.amazonaws.com"),
        "SharedMl": trust("ec2.amazonaws.com", "sagemaker.amazonaws.com", action=["sts:AssumeRole", "sts:TagSession"]),
        "LambdaOnly": trust("lambda.amazonaws.com"),
        "DeniedSageMaker": trust("sagemaker.amazonaws.com", effect="Deny"),
        "SageMakerPassOnly": trust("sagemaker.amazonaws.com", action="sts:TagSession"),
    }
    for name, document in roles.items():
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)
    monkeypatch.setattr(sagemaker, "ROLES_PAGE_SIZE", 2)  # three pages

    found = sagemaker.execution_roles()
    assert sorted(found) == ["arn:aws:iam::123456789012:role/SageMakerExecution",
                             "arn:aws:iam::123456789012:role/SharedMl"]
    assert len(sagemaker.execution_roles(limit=1)) == 1


def test_execution_roles_reads_a_bounded_number_of_pages(aws, monkeypatch):
    iam = aws.client("iam")
    for number in range(7):
        iam.create_role(RoleName=f"Other{number}", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))
    sends = answer_first(iam, "ListRoles", [])
    monkeypatch.setattr(sagemaker, "ROLES_PAGE_SIZE", 2)
    monkeypatch.setattr(sagemaker, "ROLES_MAX_PAGES", 2)

    assert sagemaker.execution_roles() == []
    assert sends == ["ListRoles", "ListRoles"]  # 4 of the 7 roles read, then it stops


# -- errors in our words ----------------------------------------------------------------------------


def test_pass_role_denial_names_the_role_and_the_permission():
    error = AwsError("AccessDeniedException", f"User: arn:aws:sts::123456789012:assumed-role/jsui/worker is not "
                     f"authorized to perform: iam:PassRole on resource: {ROLE}")
    assert ROLE in error.advice and "iam:PassRole" in explain(error)


def test_access_denial_names_the_action():
    error = AwsError("AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/jsui/worker is not "
                     "authorized to perform: sagemaker:CreateEndpoint on resource: arn:aws:sagemaker:us-east-1:123456789012:endpoint/x")
    assert "sagemaker:CreateEndpoint" in explain(error)


def test_a_plain_validation_error_is_awss_message():
    error = AwsError("ValidationException", "Value 'ml.x9.large' at 'instanceType' failed to satisfy constraint.")
    assert explain(error) == "AWS rejected the request: Value 'ml.x9.large' at 'instanceType' failed to satisfy constraint."


def test_an_unknown_error_still_reads_as_a_sentence():
    assert explain(AwsError("SomethingNew", "it broke")) == "SomethingNew: it broke."
    assert "try again in a minute" in explain(AwsError("ServiceUnavailable", "busy", transient=True))
