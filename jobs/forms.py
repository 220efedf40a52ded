"""The deploy form: where bad input stops, before anything is created on AWS."""

import re
import uuid

from django import forms
from django.conf import settings
from django.utils import timezone

from aws import AwsError, jumpstart, sagemaker

from . import deployments

from .models import Deployment, InstanceType

ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
KMS_KEY = re.compile(
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/-]+|alias/[\w/-]+|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$"
)
MAX_INSTANCES = 10


def _split_ids(value, pattern, what):
    ids = [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]
    bad = [i for i in ids if not pattern.match(i)]
    if bad:
        raise forms.ValidationError(f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not {what}.")
    return ids


class DeployForm(forms.Form):
    endpoint_name = forms.CharField(
        max_length=63, help_text="Letters, digits and hyphens; starts with a letter or digit; at most 63."
    )
    instance_type = forms.ChoiceField(label="Machine type")
    instance_count = forms.IntegerField(label="Instance count", min_value=1, max_value=MAX_INSTANCES, initial=1)
    role_arn = forms.CharField(label="IAM execution role", max_length=2048,
                               help_text="A role SageMaker can assume, e.g. arn:aws:iam::123456789012:role/SageMakerRole.")
    subnets = forms.CharField(required=False, label="VPC subnets", help_text="Optional: subnet IDs, comma-separated.")
    security_groups = forms.CharField(required=False, label="Security groups",
                                      help_text="Needed with subnets: security group IDs, comma-separated.")
    kms_key_id = forms.CharField(required=False, label="KMS key", max_length=2048,
                                 help_text="Optional: encrypts the endpoint's storage volume.")
    accept_eula = forms.BooleanField(required=False, label="I have read and accept the model's license (EULA)")
    request_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, model, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        disallowed = InstanceType.disallowed()
        types = [t for t in model.supported_inference_instance_types or [model.default_inference_instance_type] if t]
        self.allowed_types = [t for t in types if t not in disallowed]
        self.fields["instance_type"].choices = [(t, t) for t in self.allowed_types]
        if not model.gated:
            del self.fields["accept_eula"]

    @classmethod
    def initial_for(cls, model):
        disallowed = InstanceType.disallowed()
        default = model.default_inference_instance_type
        return {
            "endpoint_name": suggested_endpoint_name(model),
            "instance_type": default if default and default not in disallowed else None,
            "instance_count": 1,
            "role_arn": settings.SAGEMAKER_ROLE_ARN,
            "request_token": uuid.uuid4(),
        }

    def clean_endpoint_name(self):
        name = self.cleaned_data["endpoint_name"].strip()
        if not ENDPOINT_NAME.match(name):
            raise forms.ValidationError(
                "Use only letters, digits and hyphens, start with a letter or digit, and keep it to 63 characters."
            )
        if Deployment.objects.live().filter(endpoint_name=name).exists():
            raise forms.ValidationError("A deployment already uses this endpoint name: choose another.")
        try:
            exists = sagemaker.endpoint_exists(name)
        except AwsError as exc:
            raise forms.ValidationError(f"Could not check the name with SageMaker: {exc.reason}")
        if exists:
            raise forms.ValidationError("An endpoint with this name already exists in your account: choose another.")
        return name

    def clean_role_arn(self):
        arn = self.cleaned_data["role_arn"].strip()
        if not ROLE_ARN.match(arn):
            raise forms.ValidationError("Enter a role ARN such as arn:aws:iam::123456789012:role/SageMakerRole.")
        return arn

    def clean_subnets(self):
        return _split_ids(self.cleaned_data["subnets"], SUBNET, "a subnet ID (subnet-0123abcd…)")

    def clean_security_groups(self):
        return _split_ids(self.cleaned_data["security_groups"], SECURITY_GROUP, "a security group ID (sg-0123abcd…)")

    def clean_kms_key_id(self):
        key = self.cleaned_data["kms_key_id"].strip()
        if key and not KMS_KEY.match(key):
            raise forms.ValidationError("Enter a KMS key ID, key ARN, alias (alias/name) or alias ARN.")
        return key

    def clean(self):
        data = super().clean()
        if bool(data.get("subnets")) != bool(data.get("security_groups")):
            self.add_error("security_groups" if data.get("subnets") else "subnets",
                           "A VPC needs both subnets and security groups (or leave both empty).")
        if self.model.gated and not data.get("accept_eula"):
            self.add_error("accept_eula", "This model is gated: accept its license (EULA) to deploy it.")
        if not self.errors:
            # Build the request now: a spec that cannot be deployed stops here, not in a worker.
            try:
                deployments.build_request(self.deployment(user=None))
            except jumpstart.SpecError as exc:
                raise forms.ValidationError(f"This model cannot be deployed on {data['instance_type']}: {exc}")
        return data

    def deployment(self, user):
        """The (unsaved) deployment this valid form describes."""
        data = self.cleaned_data
        accepted = bool(data.get("accept_eula"))
        return Deployment(
            user=user, model=self.model, model_version=self.model.version,
            endpoint_name=data["endpoint_name"], instance_type=data["instance_type"],
            instance_count=data["instance_count"], role_arn=data["role_arn"], subnets=data["subnets"],
            security_groups=data["security_groups"], kms_key_id=data["kms_key_id"],
            eula_accepted_by=user if accepted else None, eula_accepted_at=timezone.now() if accepted else None,
            request_token=data["request_token"],
        )


def deploy_problem(model):
    """Why this model cannot be deployed here at all (its spec lacks an image or artifact), or None."""
    instance_type = model.default_inference_instance_type or next(iter(model.supported_inference_instance_types), "")
    if not instance_type:
        return "JumpStart's data lists no machine type for it."
    probe = Deployment(model=model, endpoint_name="probe", instance_type=instance_type,
                       role_arn="arn:aws:iam::000000000000:role/probe", eula_accepted_at=timezone.now())
    try:
        deployments.build_request(probe)
    except jumpstart.SpecError as exc:
        return str(exc)
    return None


def suggested_endpoint_name(model):
    """JumpStart's style: the model id and a timestamp, trimmed to SageMaker's 63 characters."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    base = re.sub(r"[^a-zA-Z0-9-]+", "-", model.model_id).strip("-")[: 63 - len(stamp) - 1].rstrip("-")
    return f"{base}-{stamp}"


# SageMaker's real-time payload limit is 6 MB.
MAX_PAYLOAD = 5 * 1024 * 1024


class InvokeForm(forms.Form):
    """A test request: typed text for text models, an uploaded file for image models, or else the
    model's example request."""

    payload = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}), max_length=100_000,
                              label="Request body")
    file = forms.FileField(required=False, label="Image", help_text="Without a file, a small generated test image is sent.")

    def __init__(self, *args, deployment, **kwargs):
        spec, task = deployment.model.spec, deployment.model.task
        self.example, example_type = jumpstart.example_payload(spec, task)
        self.content_type = jumpstart.content_types(spec)[0] or example_type
        self.is_text = _is_text(self.content_type)
        if self.is_text:
            kwargs.setdefault("initial", {"payload": self.example.decode()})
        super().__init__(*args, **kwargs)
        del self.fields["file" if self.is_text else "payload"]

    @property
    def input(self):
        return self["payload" if self.is_text else "file"]

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and upload.size > MAX_PAYLOAD:
            raise forms.ValidationError("SageMaker takes at most 5 MB in one request: send a smaller file.")
        return upload

    def body(self):
        """The bytes to send."""
        if self.cleaned_data.get("file"):
            return self.cleaned_data["file"].read()
        if self.cleaned_data.get("payload"):
            return self.cleaned_data["payload"].encode()
        return self.example


def _is_text(content_type):
    return content_type.startswith(("text/", "application/json", "application/list-text", "application/x-text"))
