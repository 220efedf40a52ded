"""The local SageMaker (aws.local.install()) acts as SageMaker does where the product can tell:
endpoints take time and can fail, names and instance types are checked, list_endpoints filters
before it pages, and invoked endpoints answer like their JumpStart containers."""

import base64
import json
import time
from datetime import timedelta

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto.moto_api import state_manager

from aws import local

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
ARN = "arn:aws:sagemaker:us-east-1:123456789012"
# One session for every test's clients: it loads botocore's models once (0.2 s a client otherwise).
SESSION = boto3.session.Session(region_name="us-east-1")


@pytest.fixture
def sm(aws):
    """The local SageMaker in-process; an endpoint takes its next step on its next read."""
    local.install()
    local.configure(endpoint_seconds=0)
    yield SESSION.client("sagemaker")
    local.reset()


@pytest.fixture
def runtime(sm):
    return SESSION.client("sagemaker-runtime")


def deploy(sm, name, *, instance_type="ml.g5.2xlarge", model_id="pytorch-ic-mobilenet-v2", count=1):
    """A model tagged as the SageMaker SDK tags JumpStart models, its config and its endpoint."""
    sm.create_model(
        ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "image-uri"},
        Tags=[{"Key": "sagemaker-sdk:jumpstart-model-id", "Value": model_id},
              {"Key": "sagemaker-sdk:jumpstart-model-version", "Value": "*"}],
    )
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": name, "InstanceType": instance_type,
        "InitialInstanceCount": count,
    }])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def status(sm, name):
    return sm.describe_endpoint(EndpointName=name)["EndpointStatus"]


# --- The lifecycle -------------------------------------------------------------------------------

def test_a_new_endpoint_is_creating_then_in_service_and_its_last_modified_time_moves(sm):
    local.configure(endpoint_seconds=3600)
    deploy(sm, "ep")
    creating = sm.describe_endpoint(EndpointName="ep")
    assert creating["EndpointStatus"] == "Creating"
    assert creating["LastModifiedTime"] == creating["CreationTime"]
    assert "FailureReason" not in creating
    assert [e["EndpointStatus"] for e in sm.list_endpoints()["Endpoints"]] == ["Creating"]

    time.sleep(0.01)
    local.configure(endpoint_seconds=0)
    in_service = sm.describe_endpoint(EndpointName="ep")
    assert in_service["EndpointStatus"] == "InService"
    assert in_service["LastModifiedTime"] > creating["LastModifiedTime"]
    assert in_service["CreationTime"] == creating["CreationTime"]


def test_an_endpoint_is_in_service_once_its_seconds_have_passed(sm):
    local.configure(endpoint_seconds=0.5)
    deploy(sm, "ep")
    assert status(sm, "ep") == "Creating"
    time.sleep(0.6)
    assert status(sm, "ep") == "InService"


def test_a_poller_asking_for_changes_since_its_last_look_sees_each_change_once(sm):
    local.configure(endpoint_seconds=3600)
    deploy(sm, "ep")
    first = sm.list_endpoints(SortBy="CreationTime", SortOrder="Descending")["Endpoints"]
    mark = first[0]["LastModifiedTime"]
    assert sm.list_endpoints(LastModifiedTimeAfter=mark)["Endpoints"] == []

    time.sleep(0.01)
    local.configure(endpoint_seconds=0)
    changed = sm.list_endpoints(LastModifiedTimeAfter=mark)["Endpoints"]
    assert [(e["EndpointName"], e["EndpointStatus"]) for e in changed] == [("ep", "InService")]
    assert sm.list_endpoints(LastModifiedTimeAfter=changed[0]["LastModifiedTime"])["Endpoints"] == []


def test_moto_state_manager_can_take_over_the_pace_until_reset(sm):
    state_manager.set_transition(local.ENDPOINT_STATE, {"progression": "manual", "times": 2})
    deploy(sm, "ep")
    assert status(sm, "ep") == "Creating"
    assert status(sm, "ep") == "InService"
    local.reset()
    assert state_manager.get_transition(local.ENDPOINT_STATE) == {"progression": "time", "seconds": 3.0}


def test_an_endpoint_on_a_failing_instance_type_fails_with_sagemakers_reason(sm, runtime):
    failing = sorted(local.failing_instance_types())[0]
    assert failing == "ml.g4dn.xlarge"
    local.configure(endpoint_seconds=3600)
    deploy(sm, "ep", instance_type=failing)
    assert status(sm, "ep") == "Creating"

    local.configure(endpoint_seconds=0)
    failed = sm.describe_endpoint(EndpointName="ep")
    assert failed["EndpointStatus"] == "Failed"
    assert failed["FailureReason"] == (
        "The primary container for production variant AllTraffic did not pass the ping health "
        "check. Please check CloudWatch logs for this endpoint.")
    assert error_of(runtime.invoke_endpoint, EndpointName="ep", Body=b"{}") == (
        "ValidationError", "Endpoint ep of account 123456789012 not found.")


def test_an_instance_type_without_quota_is_refused_at_create_endpoint(sm):
    assert sorted(local.no_quota_instance_types()) == ["ml.p4d.24xlarge"]
    with pytest.raises(sm.exceptions.ResourceLimitExceeded) as caught:
        deploy(sm, "ep", instance_type="ml.p4d.24xlarge", count=2)
    assert caught.value.response["Error"]["Message"] == (
        "The account-level service limit 'ml.p4d.24xlarge for endpoint usage' is 0 Instances, with "
        "current utilization of 0 Instances and a request delta of 2 Instances. Please use AWS "
        "Service Quotas to request an increase for this quota.")
    assert sm.list_endpoints()["Endpoints"] == []


def test_configured_failing_and_no_quota_types_take_effect_at_once(sm):
    local.configure(failing_instance_types={"ml.m5.large"}, no_quota_instance_types={"ml.g5.2xlarge"})
    deploy(sm, "fails", instance_type="ml.m5.large")
    assert status(sm, "fails") == "Failed"
    with pytest.raises(sm.exceptions.ResourceLimitExceeded):
        deploy(sm, "no-quota", instance_type="ml.g5.2xlarge")


def test_delete_shows_deleting_then_the_endpoint_is_gone_and_its_name_free(sm):
    deploy(sm, "ep")
    assert status(sm, "ep") == "InService"
    local.configure(endpoint_seconds=3600)
    before = sm.describe_endpoint(EndpointName="ep")["LastModifiedTime"]
    time.sleep(0.01)
    sm.delete_endpoint(EndpointName="ep")
    sm.delete_endpoint(EndpointName="ep")  # again while Deleting: nothing more happens

    deleting = sm.describe_endpoint(EndpointName="ep")
    assert deleting["EndpointStatus"] == "Deleting" and deleting["LastModifiedTime"] > before
    listed = sm.list_endpoints(StatusEquals="Deleting")["Endpoints"]
    assert [e["EndpointName"] for e in listed] == ["ep"]

    local.configure(endpoint_seconds=0)
    assert sm.list_endpoints()["Endpoints"] == []
    missing = ("ValidationException", f'Could not find endpoint "{ARN}:endpoint/ep".')
    assert error_of(sm.describe_endpoint, EndpointName="ep") == missing
    assert error_of(sm.delete_endpoint, EndpointName="ep") == missing
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="ep")
    assert status(sm, "ep") == "InService"


def test_endpoint_configs_and_models_delete_and_are_then_not_found(sm):
    deploy(sm, "ep")
    sm.delete_endpoint_config(EndpointConfigName="ep")
    sm.delete_model(ModelName="ep")
    assert error_of(sm.describe_endpoint_config, EndpointConfigName="ep") == (
        "ValidationException", f'Could not find endpoint configuration "{ARN}:endpoint-config/ep".')
    assert error_of(sm.delete_endpoint_config, EndpointConfigName="ep")[0] == "ValidationException"
    assert error_of(sm.describe_model, ModelName="ep") == (
        "ValidationException", f'Could not find model "{ARN}:model/ep".')
    assert error_of(sm.delete_model, ModelName="ep")[0] == "ValidationException"
    assert status(sm, "ep") == "InService"  # as on AWS, the endpoint outlives its config and model


# --- Names and instance types ------------------------------------------------------------------

def test_a_taken_name_is_refused_with_awss_words(sm):
    deploy(sm, "ep")
    assert error_of(sm.create_model, ModelName="ep", ExecutionRoleArn=ROLE,
                    PrimaryContainer={"Image": "other"}) == (
        "ValidationException", f'Cannot create already existing model "{ARN}:model/ep".')
    assert error_of(sm.create_endpoint_config, EndpointConfigName="ep", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "ep", "InstanceType": "ml.m5.large"}]) == (
        "ValidationException",
        f'Cannot create already existing endpoint configuration "{ARN}:endpoint-config/ep".')
    assert error_of(sm.create_endpoint, EndpointName="ep", EndpointConfigName="ep") == (
        "ValidationException", f'Cannot create already existing endpoint "{ARN}:endpoint/ep".')


def test_missing_parts_are_named_when_creating(sm):
    assert error_of(sm.create_endpoint_config, EndpointConfigName="c", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "nope", "InstanceType": "ml.m5.large"}]) == (
        "ValidationException", f'Could not find model "{ARN}:model/nope".')
    assert error_of(sm.create_endpoint, EndpointName="ep", EndpointConfigName="nope") == (
        "ValidationException", f'Could not find endpoint configuration "{ARN}:endpoint-config/nope".')


def test_current_instance_types_such_as_g5_are_accepted(sm):
    deploy(sm, "ep", instance_type="ml.g5.2xlarge")
    variants = sm.describe_endpoint_config(EndpointConfigName="ep")["ProductionVariants"]
    assert variants[0]["InstanceType"] == "ml.g5.2xlarge"
    assert status(sm, "ep") == "InService"


def test_every_instance_type_sagemaker_hosts_on_is_well_formed():
    model = botocore.session.get_session().get_service_model("sagemaker")
    known = model.shape_for("ProductionVariantInstanceType").enum
    assert len(known) > 200
    assert [t for t in known if not local.INSTANCE_TYPE.fullmatch(t)] == []


@pytest.mark.parametrize("instance_type", [
    "ml.g5", "g5.2xlarge", "ml.g5.huge", "ml..xlarge", "ML.G5.XLARGE"])
def test_a_malformed_instance_type_is_refused(sm, instance_type):
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "image-uri"})
    code, message = error_of(sm.create_endpoint_config, EndpointConfigName="c", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "m", "InstanceType": instance_type}])
    assert code == "ValidationException"
    assert message.startswith(f"1 validation error detected: Value '{instance_type}' at ")
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []


# --- list_endpoints ------------------------------------------------------------------------------

@pytest.fixture
def many(sm):
    """250 endpoints ep-000 ... ep-249, every fifth on a failing instance type, all settled."""
    sm.create_model(ModelName="m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "image-uri"})
    for config, instance_type in (("ok", "ml.m5.large"), ("bad", "ml.g4dn.xlarge")):
        sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "m", "InstanceType": instance_type}])
    for i in range(250):
        sm.create_endpoint(EndpointName=f"ep-{i:03}", EndpointConfigName="bad" if i % 5 == 0 else "ok")
    return sm


def pages(sm, **kwargs):
    """Each page's endpoint names, following NextToken to the end."""
    result, token = [], None
    while True:
        page = sm.list_endpoints(**kwargs, **({"NextToken": token} if token else {}))
        result.append([e["EndpointName"] for e in page["Endpoints"]])
        token = page.get("NextToken")
        if not token:
            return result


def test_list_endpoints_pages_100_at_a_time_newest_first_by_default(many):
    listed = many.list_endpoints(MaxResults=100)["Endpoints"]
    expected = sorted(listed, key=lambda e: (e["CreationTime"], e["EndpointName"]), reverse=True)
    assert listed == expected

    got = pages(many, MaxResults=100)
    assert [len(p) for p in got] == [100, 100, 50]
    names = [name for page in got for name in page]
    assert sorted(names) == [f"ep-{i:03}" for i in range(250)]
    assert names[0] == "ep-249"


def test_list_endpoints_filters_before_it_pages(many):
    assert [len(p) for p in pages(many, StatusEquals="Failed", MaxResults=20)] == [20, 20, 10]
    assert [len(p) for p in pages(many, StatusEquals="InService", MaxResults=100)] == [100, 100]
    assert [len(p) for p in pages(many, NameContains="EP-1", MaxResults=100)] == [100]
    assert pages(many, NameContains="ep-24", StatusEquals="Failed") == [["ep-245", "ep-240"]]
    assert pages(many, StatusEquals="Creating") == [[]]


def test_list_endpoints_sorts_by_name_and_status_either_way(many):
    ascending = [n for p in pages(many, SortBy="Name", SortOrder="Ascending", MaxResults=100) for n in p]
    assert ascending == [f"ep-{i:03}" for i in range(250)]
    descending = pages(many, SortBy="Name", SortOrder="Descending", MaxResults=3)
    assert descending[0] == ["ep-249", "ep-248", "ep-247"] and len(descending) == 84
    by_status = many.list_endpoints(SortBy="Status", SortOrder="Ascending", MaxResults=100)["Endpoints"]
    assert [e["EndpointStatus"] for e in by_status] == ["Failed"] * 50 + ["InService"] * 50
    assert [e["EndpointName"] for e in by_status[:2]] == ["ep-000", "ep-005"]


def test_list_endpoints_returns_10_unless_asked_for_more(many):
    first = many.list_endpoints()
    assert len(first["Endpoints"]) == 10 and first["NextToken"]


def test_an_endpoint_gone_between_two_pages_makes_none_skip_or_repeat(many):
    first = many.list_endpoints(SortBy="Name", SortOrder="Ascending", MaxResults=100)
    many.delete_endpoint(EndpointName="ep-050")
    many.list_endpoints()  # the read that removes it
    second = many.list_endpoints(SortBy="Name", SortOrder="Ascending", MaxResults=100,
                                 NextToken=first["NextToken"])
    assert [e["EndpointName"] for e in second["Endpoints"]][:2] == ["ep-100", "ep-101"]


def test_list_endpoints_filters_by_creation_and_last_modified_time(sm):
    local.configure(endpoint_seconds=3600)
    deploy(sm, "early")
    time.sleep(0.01)
    middle = sm.describe_endpoint(EndpointName="early")["CreationTime"] + timedelta(milliseconds=5)
    time.sleep(0.01)
    deploy(sm, "late", model_id="huggingface-spc-bert-base-cased")

    def names(**kwargs):
        return [e["EndpointName"] for e in sm.list_endpoints(**kwargs)["Endpoints"]]

    assert names(CreationTimeAfter=middle) == ["late"]
    assert names(CreationTimeBefore=middle) == ["early"]
    assert names(LastModifiedTimeAfter=middle) == ["late"]
    assert names(LastModifiedTimeBefore=middle) == ["early"]


@pytest.mark.parametrize("kwargs, complaint", [
    ({"MaxResults": 101}, "Value '101' at 'maxResults' failed to satisfy constraint: "
                          "Member must have value less than or equal to 100"),
    ({"SortBy": "LastModifiedTime"}, "Value 'LastModifiedTime' at 'sortBy' failed to satisfy constraint: "
                                     "Member must satisfy enum value set: [Name, CreationTime, Status]"),
    ({"StatusEquals": "Running"}, "Value 'Running' at 'statusEquals'"),
    ({"NextToken": "not-a-token"}, 'Invalid pagination token "not-a-token".'),
])
def test_list_endpoints_refuses_what_aws_refuses(sm, kwargs, complaint):
    code, message = error_of(sm.list_endpoints, **kwargs)
    assert code == "ValidationException" and complaint in message


# --- invoke_endpoint -------------------------------------------------------------------------------

def invoke(runtime, name, body, content_type="application/json", accept="application/json"):
    response = runtime.invoke_endpoint(EndpointName=name, Body=body, ContentType=content_type, Accept=accept)
    assert response["ContentType"] == "application/json"
    assert response["InvokedProductionVariant"] == "AllTraffic"
    return json.loads(response["Body"].read())


JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb") + bytes(range(256)) + b"\xff\xd9"


def test_an_image_classifier_answers_probabilities_labels_and_a_predicted_label(sm, runtime):
    deploy(sm, "ic", model_id="pytorch-ic-mobilenet-v2")
    answer = invoke(runtime, "ic", JPEG, "application/x-image", "application/json;verbose")
    assert set(answer) == {"probabilities", "labels", "predicted_label"}
    assert len(answer["probabilities"]) == len(answer["labels"])
    assert sum(answer["probabilities"]) == pytest.approx(1, abs=0.001)
    best = answer["probabilities"].index(max(answer["probabilities"]))
    assert answer["predicted_label"] == answer["labels"][best]
    assert invoke(runtime, "ic", JPEG, "application/x-image") == answer  # the same image, the same answer


def test_a_sentence_pair_classifier_answers_in_the_same_shape(sm, runtime):
    deploy(sm, "spc", model_id="huggingface-spc-bert-base-cased")
    pair = json.dumps(["The cat sat.", "A cat was sitting."])
    answer = invoke(runtime, "spc", pair, "application/list-text")
    assert answer["labels"] == ["LABEL_0", "LABEL_1"] and answer["predicted_label"] in answer["labels"]


def test_a_text_generator_answers_a_list_of_generated_text_that_echoes_the_prompt(sm, runtime):
    deploy(sm, "llm", model_id="meta-textgeneration-llama-3-8b-instruct")
    answer = invoke(runtime, "llm", json.dumps({"inputs": "Name three moons of Jupiter.",
                                                "parameters": {"max_new_tokens": 64}}))
    assert isinstance(answer, list) and len(answer) == 1
    assert "Name three moons of Jupiter." in answer[0]["generated_text"]


def test_text2text_embeddings_and_extractive_qa_answer_in_their_containers_shapes(sm, runtime):
    deploy(sm, "t2t", model_id="huggingface-text2text-flan-t5-base")
    assert "generated_text" in invoke(runtime, "t2t", json.dumps({"text_inputs": "Translate to German: hi"}))

    deploy(sm, "emb", model_id="huggingface-textembedding-all-MiniLM-L6-v2")
    embeddings = invoke(runtime, "emb", json.dumps({"text_inputs": ["one", "two"]}))["embedding"]
    assert len(embeddings) == 2 and len(embeddings[0]) == 384 and embeddings[0] != embeddings[1]

    deploy(sm, "qa", model_id="huggingface-eqa-bert-base-cased")
    context = "Paris is the capital of France. The Seine flows through it."
    question = {"question": "What is the capital of France?", "context": context}
    answer = invoke(runtime, "qa", json.dumps(question))
    assert answer["answer"] == "Paris is the capital of France"
    assert context[answer["start"]:answer["end"]] == answer["answer"] and 0 < answer["score"] < 1


def test_an_object_detector_and_an_image_generator_answer_in_their_containers_shapes(sm, runtime):
    deploy(sm, "od", model_id="mxnet-od-ssd-512-vgg16-atrous-coco")
    boxes = invoke(runtime, "od", JPEG, "application/x-image", "application/json;verbose")
    assert set(boxes) == {"normalized_boxes", "classes", "scores", "labels"}
    for x1, y1, x2, y2 in boxes["normalized_boxes"]:
        assert 0 <= x1 <= x2 <= 1 and 0 <= y1 <= y2 <= 1

    deploy(sm, "sd", model_id="model-txt2img-stabilityai-stable-diffusion-v2-1-base")
    image = invoke(runtime, "sd", b"a lighthouse at dusk", "application/x-text", "application/json;jpeg")
    assert image["prompt"] == "a lighthouse at dusk"
    assert base64.b64decode(image["generated_images"][0]).startswith(b"\x89PNG\r\n\x1a\n")


def test_a_model_without_a_canned_answer_gets_an_echo_of_the_request(sm, runtime):
    deploy(sm, "tab", model_id="lightgbm-regression-model")
    answer = invoke(runtime, "tab", b"1.0,2.0,3.0", "text/csv")
    assert answer["task"] == "regression"
    assert answer["received"] == {"content_type": "text/csv", "bytes": 11, "text": "1.0,2.0,3.0"}


def test_invoking_a_missing_or_unfinished_endpoint_is_endpoint_not_found(sm, runtime):
    assert error_of(runtime.invoke_endpoint, EndpointName="nope", Body=b"{}") == (
        "ValidationError", "Endpoint nope of account 123456789012 not found.")
    local.configure(endpoint_seconds=3600)
    deploy(sm, "slow")
    assert error_of(runtime.invoke_endpoint, EndpointName="slow", Body=b"{}") == (
        "ValidationError", "Endpoint slow of account 123456789012 not found.")


# --- Server mode, as the demo runs it --------------------------------------------------------------

def test_the_local_server_runs_the_same_lifecycle_errors_and_answers_over_http():
    server = local.start_server(0)
    previous = local.configure(endpoint_seconds=3600)
    try:
        options = {"endpoint_url": local.endpoint_url(server), "region_name": "us-east-1",
                   "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        sm = boto3.client("sagemaker", **options)
        runtime = boto3.client("sagemaker-runtime", **options)
        deploy(sm, "served")
        assert status(sm, "served") == "Creating"
        assert error_of(runtime.invoke_endpoint, EndpointName="served", Body=JPEG)[0] == "ValidationError"

        local.configure(endpoint_seconds=0)
        listed = sm.list_endpoints(NameContains="served")["Endpoints"]
        assert [e["EndpointStatus"] for e in listed] == ["InService"]
        answer = invoke(runtime, "served", JPEG, "application/x-image", "application/json;verbose")
        assert answer["predicted_label"] in answer["labels"]
        with pytest.raises(sm.exceptions.ResourceLimitExceeded):
            deploy(sm, "big", instance_type="ml.p4d.24xlarge")

        sm.delete_endpoint(EndpointName="served")
        assert error_of(sm.describe_endpoint, EndpointName="served") == (
            "ValidationException", f'Could not find endpoint "{ARN}:endpoint/served".')
    finally:
        local.configure(**previous)
        server.stop()
