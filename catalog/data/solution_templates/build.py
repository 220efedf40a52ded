"""Maintainer script: write the solution templates here from the bundled JumpStart specs, each
Model's image and model data as aws.jumpstart.deploy_request resolves them (SOURCES.md says why).

Run from the project root: python catalog/data/solution_templates/build.py   (the app never imports it)
"""

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent
ROOT = OUT.parents[2]
CACHE = ROOT / "catalog" / "data" / "jumpstart-cache"
# Any role: deploy_request needs one, and the template takes the real one as a parameter.
ROLE = "arn:aws:iam::123456789012:role/placeholder"
PLACEHOLDER = "PLACEHOLDER"

# slug (catalog/data/solutions.json) -> the bundled model that serves it, and what its bucket holds.
SOLUTIONS = {
    "visual-product-defect-detection": {
        "model_id": "pytorch-ic-mobilenet-v2",
        "bucket": "the product images to inspect (and, to fine-tune the classifier on defects, "
                  "labelled examples)",
    },
    "document-understanding": {
        "model_id": "huggingface-summarization-distilbart-cnn-6-6",
        "bucket": "the documents to summarize and their summaries",
    },
    "churn-prediction-with-text": {
        "model_id": "huggingface-tc-bert-base-cased",
        "bucket": "the customer records, with the text of their messages, to score for churn",
    },
}
# Names the template gives its SageMaker resources: the stack's name and these, so a stack name
# of up to 54 characters keeps every name within SageMaker's 63.
SUFFIXES = {"Model": "-model", "EndpointConfig": "-config", "Endpoint": "-endpoint"}
MAX_STACK_NAME = 63 - max(map(len, SUFFIXES.values()))

sys.path.insert(0, str(ROOT))  # for aws.jumpstart, when run as a script


def latest_spec(model_id):
    """The newest bundled spec of the model: (version, spec key, spec)."""
    from packaging.version import Version

    manifest = json.loads((CACHE / "models_manifest.json").read_text())
    entries = [e for e in manifest if e["model_id"] == model_id and (CACHE / e["spec_key"]).exists()]
    entry = max(entries, key=lambda e: Version(e["version"]))
    return entry["version"], entry["spec_key"], json.loads((CACHE / entry["spec_key"]).read_text())


def resolve(spec, region, instance_type):
    """deploy_request's requests for the model in `region` on `instance_type`."""
    from aws.jumpstart import deploy_request

    return deploy_request(spec, region=region, model_name=PLACEHOLDER, endpoint_config_name=PLACEHOLDER,
                          endpoint_name=PLACEHOLDER, instance_type=instance_type, role_arn=ROLE)


def build(slug, model_id, bucket):
    from aws.jumpstart import hardware, jumpstart_bucket

    version, spec_key, spec = latest_spec(model_id)
    default = spec["default_inference_instance_type"]
    types = spec["supported_inference_instance_types"]
    regions = sorted(spec["hosting_instance_type_variants"]["regional_aliases"])
    solution = next(s for s in json.loads((ROOT / "catalog" / "data" / "solutions.json").read_text())
                    if s["slug"] == slug)

    # Only the image differs between regions and instance types (checked here): it is mapped, the
    # rest is written once, with the regional bucket through Fn::Sub.
    images, constant = {}, None
    for region in regions:
        for instance_type in types:
            request = resolve(spec, region, instance_type)
            container = dict(request.model["PrimaryContainer"])
            images.setdefault(region, {})[hardware(instance_type)] = container.pop("Image")
            variant = {k: v for k, v in request.endpoint_config["ProductionVariants"][0].items()
                       if k not in ("ModelName", "InstanceType")}
            same = json.dumps([container, request.model["EnableNetworkIsolation"], request.model["Tags"], variant],
                              sort_keys=True).replace(jumpstart_bucket(region), jumpstart_bucket("${AWS::Region}"))
            if constant not in (None, same):
                raise SystemExit(f"{model_id}: {region} {instance_type} differs beyond its image")
            constant = same
    container, isolation, tags, variant = json.loads(constant)
    source = container.get("ModelDataSource", {}).get("S3DataSource")
    if source:
        source["S3Uri"] = {"Fn::Sub": source["S3Uri"]}
    else:
        container["ModelDataUrl"] = {"Fn::Sub": container["ModelDataUrl"]}
    image = {"Fn::FindInMap": ["Images", {"Ref": "AWS::Region"},
                               {"Fn::FindInMap": ["InstanceTypes", {"Ref": "InstanceType"}, "Hardware"]}]}

    def named(logical_id):
        return {"Fn::Sub": "${AWS::StackName}" + SUFFIXES[logical_id]}

    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (f"JumpStart UI solution {solution['name']}: {model_id} {version} on a SageMaker "
                        f"real-time endpoint, and an S3 bucket for {bucket}. Stack names of up to "
                        f"{MAX_STACK_NAME} characters."),
        "Metadata": {"JumpStartUI": {"Solution": slug, "ModelId": model_id, "ModelVersion": version,
                                     "SpecKey": spec_key}},
        "Parameters": {
            "ExecutionRoleArn": {
                "Type": "String",
                "Description": "The IAM role SageMaker assumes to read the model from JumpStart's bucket "
                               "and to pull its container image.",
                "AllowedPattern": r"arn:aws[a-z-]*:iam::[0-9]{12}:role/\S+",
                "ConstraintDescription": "an IAM role ARN, arn:aws:iam::<account>:role/<name>",
            },
            "InstanceType": {
                "Type": "String",
                "Default": default,
                "AllowedValues": types,
                "Description": f"The machine type of the endpoint; {model_id} supports these.",
            },
        },
        "Mappings": {
            "InstanceTypes": {t: {"Hardware": hardware(t)} for t in types},
            "Images": images,
        },
        "Resources": {
            "DataBucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True},
                },
            },
            "Model": {
                "Type": "AWS::SageMaker::Model",
                "Properties": {
                    "ModelName": named("Model"),
                    "ExecutionRoleArn": {"Ref": "ExecutionRoleArn"},
                    "PrimaryContainer": {"Image": image, **container},
                    "EnableNetworkIsolation": isolation,
                    "Tags": tags,
                },
            },
            "EndpointConfig": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "EndpointConfigName": named("EndpointConfig"),
                    "ProductionVariants": [{**variant, "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]},
                                            "InstanceType": {"Ref": "InstanceType"}}],
                    "Tags": tags,
                },
            },
            "Endpoint": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {
                    "EndpointName": named("Endpoint"),
                    "EndpointConfigName": {"Fn::GetAtt": ["EndpointConfig", "EndpointConfigName"]},
                    "Tags": tags,
                },
            },
        },
        "Outputs": {
            "EndpointName": {"Description": f"The SageMaker endpoint serving {model_id}",
                             "Value": {"Fn::GetAtt": ["Endpoint", "EndpointName"]}},
            "BucketName": {"Description": f"The S3 bucket for {bucket}", "Value": {"Ref": "DataBucket"}},
        },
    }


def main():
    for slug, solution in SOLUTIONS.items():
        template = build(slug, solution["model_id"], solution["bucket"])
        path = OUT / f"{slug}.json"
        path.write_text(json.dumps(template, indent=2) + "\n")
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
