"""The deploy form: where bad input stops, before anything is created on AWS."""

import re
import uuid

from django import forms
from django.conf import settings
from django.utils import timezone

from aws import AwsError, jumpstart, limits, sagemaker

from . import deployments
from .models import Deployment, InstanceType, due

# Our own patterns are stricter than AWS's (which take any letters and digits): they name the form
# of a real ID, so a typo is caught here; the lengths and list sizes are AWS's own (aws.limits).
SUBNET = re.compile(r"subnet-[0-9a-f]{8,17}")
SECURITY_GROUP = re.compile(r"sg-[0-9a-f]{8,17}")
KMS_KEY = re.compile(
    r"(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/-]+|alias/[\w/-]+|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})"
)
MAX_INSTANCES = 10
TOKEN_LOST = ("This form's one-time token was missing or damaged (was the page open for very long, or "
              "changed?), so nothing was launched. It has a new one now: check the settings and submit again.")


def _split_ids(value, pattern, what, shape_member):
    """Comma- or line-separated IDs, each of `pattern`, within the list size and item length AWS
    enforces for that request member."""
    ids = [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]
    size, item = limits.limit("sagemaker", *shape_member), limits.item_limit("sagemaker", *shape_member)
    if ids and len(ids) > size.max:
        raise forms.ValidationError(
            f"SageMaker takes at most {size.max} {what}s here; you gave {len(ids)}: remove {len(ids) - size.max}.")
    bad = [i for i in ids if len(i) > item.max or not pattern.fullmatch(i) or not item.matches(i)]
    if bad:
        shown = ", ".join(b if len(b) <= 40 else b[:37] + "..." for b in bad[:5])
        raise forms.ValidationError(f"{shown} {'is' if len(bad) == 1 else 'are'} not {what} IDs "
                                    f"({'subnet-0123abcd' if what == 'subnet' else 'sg-0123abcd'}...).")
    return ids


def _check_length(value, shape, what):
    limit = limits.limit("sagemaker", shape)
    if limit.max and len(value) > limit.max:
        raise forms.ValidationError(f"{what} is at most {limit.max} characters; this one has {len(value)}.")
    return limit


class SecurityForm(forms.Form):
    """The security settings a launch takes, deploy and fine-tune alike: the execution role, an
    optional VPC, a KMS key; AWS's own limits enforced."""

    role_arn = forms.CharField(label="IAM execution role",
                               help_text="A role SageMaker can assume, e.g. arn:aws:iam::123456789012:role/SageMakerRole.")
    subnets = forms.CharField(required=False, label="VPC subnets", help_text="Optional: subnet IDs, comma-separated.")
    security_groups = forms.CharField(required=False, label="Security groups",
                                      help_text="Needed with subnets: security group IDs, comma-separated.")
    kms_key_id = forms.CharField(required=False, label="KMS key", help_text="Optional: encrypts the storage volume.")

    def clean_role_arn(self):
        arn = self.cleaned_data["role_arn"].strip()
        limit = _check_length(arn, "RoleArn", "A role ARN")
        if not limit.matches(arn) or len(arn) < limit.min:
            raise forms.ValidationError("Enter a role ARN such as arn:aws:iam::123456789012:role/SageMakerRole.")
        return arn

    def clean_subnets(self):
        return _split_ids(self.cleaned_data["subnets"], SUBNET, "subnet", ("VpcConfig", "Subnets"))

    def clean_security_groups(self):
        return _split_ids(self.cleaned_data["security_groups"], SECURITY_GROUP, "security group",
                          ("VpcConfig", "SecurityGroupIds"))

    def clean_kms_key_id(self):
        key = self.cleaned_data["kms_key_id"].strip()
        if key:
            limit = _check_length(key, "KmsKeyId", "A KMS key")
            if not (KMS_KEY.fullmatch(key) and limit.matches(key)):
                raise forms.ValidationError("Enter a KMS key ID, key ARN, alias (alias/name) or alias ARN.")
        return key

    def clean(self):
        data = super().clean()
        if bool(data.get("subnets")) != bool(data.get("security_groups")):
            self.add_error("security_groups" if data.get("subnets") else "subnets",
                           "A VPC needs both subnets and security groups (or leave both empty).")
        return data


class DeployForm(SecurityForm):
    # No max_length: the browser would cut a pasted name silently; the error says how long it is.
    endpoint_name = forms.CharField(
        help_text="Letters, digits and hyphens; starts with a letter or digit; at most 63."
    )
    instance_type = forms.ChoiceField(label="Machine type")
    instance_count = forms.IntegerField(label="Instance count", min_value=1, max_value=MAX_INSTANCES, initial=1)
    accept_eula = forms.BooleanField(required=False, label="I have read and accept the model's license (EULA)")
    request_token = forms.UUIDField(widget=forms.HiddenInput)

    field_order = ["endpoint_name", "instance_type", "instance_count", "role_arn", "subnets", "security_groups",
                   "kms_key_id", "accept_eula", "request_token"]

    def __init__(self, *args, model, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        self.request = None
        disallowed = InstanceType.disallowed()
        types = [t for t in model.supported_inference_instance_types or [model.default_inference_instance_type] if t]
        self.allowed_types = [t for t in types if t not in disallowed]
        self.fields["instance_type"].choices = [(t, t) for t in self.allowed_types]
        self.fields["kms_key_id"].help_text = "Optional: encrypts the endpoint's storage volume."
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

    def with_new_token(self):
        """The same input with a fresh one-time token, checked again, saying why (a bad token)."""
        data = self.data.copy()
        data["request_token"] = str(uuid.uuid4())
        form = type(self)(data, model=self.model)
        form.is_valid()
        form.add_error(None, TOKEN_LOST)
        return form

    def clean_endpoint_name(self):
        name = self.cleaned_data["endpoint_name"].strip()
        limit = _check_length(name, "EndpointName", "An endpoint name")
        if not limit.matches(name):
            raise forms.ValidationError(
                "Use only letters, digits and hyphens, start with a letter or digit, and keep it to 63 characters."
            )
        # SageMaker compares endpoint names without case: so do we.
        if Deployment.objects.live().filter(endpoint_name__iexact=name).exists():
            raise forms.ValidationError("A deployment already uses this endpoint name: choose another.")
        try:
            taken = sagemaker.endpoint_name_taken(name)
        except AwsError as exc:
            raise forms.ValidationError(f"Could not check the name with SageMaker: {exc.reason}")
        if taken:
            raise forms.ValidationError("An endpoint with this name already exists in your account "
                                        "(SageMaker ignores case in names): choose another.")
        return name

    def clean(self):
        data = super().clean()
        if self.model.gated and not data.get("accept_eula"):
            self.add_error("accept_eula", "This model is gated: accept its license (EULA) to deploy it.")
        if not self.errors:
            # Build the request now: a spec that cannot be deployed stops here, not in a worker,
            # and the deployment keeps what it will send.
            try:
                self.request = deployments.recorded_request(self.deployment(user=None))
            except jumpstart.SpecError as exc:
                raise forms.ValidationError(f"This model cannot be deployed on {data['instance_type']}: {exc}")
        return data

    def deployment(self, user):
        """The (unsaved) deployment this valid form describes, owing its launch."""
        data = self.cleaned_data
        accepted = bool(data.get("accept_eula"))
        return Deployment(
            user=user, model=self.model, model_version=self.model.version,
            endpoint_name=data["endpoint_name"], instance_type=data["instance_type"],
            instance_count=data["instance_count"], role_arn=data["role_arn"], subnets=data["subnets"],
            security_groups=data["security_groups"], kms_key_id=data["kms_key_id"],
            eula_accepted_by=user if accepted else None, eula_accepted_at=timezone.now() if accepted else None,
            request_token=data["request_token"], request=self.request or {},
            pending="launch", pending_due=due(timezone.now()),
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
