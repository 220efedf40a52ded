"""The deploy form: where bad input stops, before anything is created on AWS."""

import re
import uuid
from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from aws import AwsError, datasets, jumpstart, limits, s3, sagemaker, training
from catalog.models import hyperparameter_rows

from . import data_checks, deployments, machines, solutions
from . import training as training_flow
from .models import DataCheck, Deployment, InstanceType, SolutionLaunch, TrainingJob, due

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


NAME_RULE = ("Use only letters, digits and hyphens, start with a letter or digit, and keep it to 63 "
             "characters.")


def _unique_name(value, *, shape, what, ours, field, in_account, taken_here, taken_there):
    """A SageMaker resource name: AWS's pattern and length, then not taken, without regard to
    case, by one of our rows nor in the account (a bounded AWS call)."""
    name = value.strip()
    if not _check_length(name, shape, what).matches(name):
        raise forms.ValidationError(NAME_RULE)
    if ours.filter(**{f"{field}__iexact": name}).exists():
        raise forms.ValidationError(taken_here)
    try:
        taken = in_account(name)
    except AwsError as exc:
        raise forms.ValidationError(f"Could not check the name with SageMaker: {exc.reason}")
    if taken:
        raise forms.ValidationError(taken_there)
    return name


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
    config_name = forms.ChoiceField(label="Deployment configuration", widget=forms.RadioSelect, required=False)
    accept_eula = forms.BooleanField(required=False, label="I have read and accept the model's license (EULA)")
    request_token = forms.UUIDField(widget=forms.HiddenInput)

    field_order = ["endpoint_name", "instance_type", "instance_count", "config_name", "role_arn", "subnets",
                   "security_groups", "kms_key_id", "accept_eula", "request_token"]

    def __init__(self, *args, model, training_job=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        self.training_job = training_job
        self.request = None
        disallowed = InstanceType.disallowed()
        # The types the deploy's spec resolves for this region (a fine-tuned model's: its spec's own).
        types = model.deploy_types if not training_job else _types(model.deploy_spec, "inference")
        self.allowed_types = [t for t in types if t not in disallowed]
        self.machines = machines.facts(self.allowed_types)
        self.fields["instance_type"].choices = [(t, self.machines[t].label) for t in self.allowed_types]
        # Named configurations (Studio's cost, throughput and latency choices), with their numbers.
        self.configs = [] if training_job else jumpstart.benchmarks(model.deploy_spec)
        for config in self.configs:
            config["machines"] = [
                {"type": t, "facts": self.machines.get(t) or machines.facts([t])[t], "rows": rows,
                 "allowed": t in self.allowed_types}
                for t, rows in config["types"].items()]
        if self.configs:
            self.fields["config_name"].choices = [(c["name"], c["name"]) for c in self.configs]
        else:
            del self.fields["config_name"]
        self.fields["kms_key_id"].help_text = "Optional: encrypts the endpoint's storage volume."
        if not model.gated or training_job:  # the license was accepted for the training job
            del self.fields["accept_eula"]

    @classmethod
    def initial_for(cls, model, training_job=None):
        disallowed = InstanceType.disallowed()
        default = model.deploy_spec.get("default_inference_instance_type")
        configs = [] if training_job else jumpstart.inference_config_names(model.deploy_spec)
        return {
            "endpoint_name": suggested_endpoint_name(model, training_job),
            "config_name": configs[0] if configs else None,
            "instance_type": default if default and default not in disallowed else None,
            "instance_count": 1,
            "role_arn": settings.SAGEMAKER_ROLE_ARN,
            "request_token": uuid.uuid4(),
        }

    def with_new_token(self):
        """The same input with a fresh one-time token, checked again, saying why (a bad token)."""
        data = self.data.copy()
        data["request_token"] = str(uuid.uuid4())
        form = type(self)(data, model=self.model, training_job=self.training_job)
        form.is_valid()
        form.add_error(None, TOKEN_LOST)
        return form

    def clean_endpoint_name(self):
        # SageMaker compares endpoint names without case: so do we.
        return _unique_name(
            self.cleaned_data["endpoint_name"], shape="EndpointName", what="An endpoint name",
            ours=Deployment.objects.live(), field="endpoint_name", in_account=sagemaker.endpoint_name_taken,
            taken_here="A deployment already uses this endpoint name: choose another.",
            taken_there="An endpoint with this name already exists in your account (SageMaker ignores case "
                        "in names): choose another.")

    def clean(self):
        data = super().clean()
        if "accept_eula" in self.fields and not data.get("accept_eula"):
            self.add_error("accept_eula", "This model is gated: accept its license (EULA) to deploy it.")
        if not self.errors:
            # Build the request now: a spec that cannot be deployed stops here, not in a worker,
            # and the deployment keeps what it will send.
            try:
                self.request = deployments.recorded_request(self.job(user=None))
            except jumpstart.SpecError as exc:
                raise forms.ValidationError(f"This model cannot be deployed on {data['instance_type']}: {exc}")
        return data

    def job(self, user):
        """The (unsaved) deployment this valid form describes, owing its launch."""
        data = self.cleaned_data
        accepted = bool(data.get("accept_eula"))
        return Deployment(
            user=user, model=self.model, model_version=self.model.deploy_version or self.model.version,
            endpoint_name=data["endpoint_name"], instance_type=data["instance_type"],
            instance_count=data["instance_count"], role_arn=data["role_arn"], subnets=data["subnets"],
            security_groups=data["security_groups"], kms_key_id=data["kms_key_id"],
            eula_accepted_by=user if accepted else None, eula_accepted_at=timezone.now() if accepted else None,
            request_token=data["request_token"], request=self.request or {}, training_job=self.training_job,
            config_name=data.get("config_name") or "",
            pending="launch", pending_due=due(timezone.now()),
        )


def deploy_problem(model, training_job=None):
    """Why this model cannot be deployed here at all (its spec lacks an image or artifact), or None."""
    if not training_job:
        return None if model.deploy_types else (model.deploy_problem or "Its spec does not deploy here.")
    instance_type = next(iter(_types(model.deploy_spec, "inference")), "")
    if not instance_type:
        return "JumpStart's data lists no machine type for it."
    probe = Deployment(model=model, endpoint_name="probe", instance_type=instance_type, training_job=training_job,
                       role_arn="arn:aws:iam::000000000000:role/probe", eula_accepted_at=timezone.now())
    try:
        deployments.build_request(probe)
    except jumpstart.SpecError as exc:
        return str(exc)
    return None


def _types(spec, scope):
    """A spec's machine types for "inference" or "training", its default first."""
    default = spec.get(f"default_{scope}_instance_type")
    listed = spec.get(f"supported_{scope}_instance_types") or []
    return [t for t in dict.fromkeys([default, *listed]) if t]


def suggested_endpoint_name(model, training_job=None):
    """JumpStart's style: the model id (or the fine-tuned model's name) and a timestamp, trimmed to
    SageMaker's 63 characters."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    named = training_job.job_name if training_job else model.model_id
    base = re.sub(r"[^a-zA-Z0-9-]+", "-", named).strip("-")[: 63 - len(stamp) - 1].rstrip("-")
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
        spec, task = deployment.model.spec_of(deployment.model_version), deployment.model.task
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


# -- fine-tuning ----------------------------------------------------------------------------------

MAX_TRAINING_INSTANCES = 10
MAX_RUNTIME = 28 * 24 * 3600  # SageMaker's longest training job
MAX_KEEP_ALIVE = 3600
DATA_CHECK_FRESH = timedelta(minutes=10)  # a passed check this recent is not run again at launch
INLINE_CHECK = datasets.Limits(max_seconds=5)  # at launch, in the request: tighter than in Celery
# The seed's guidance, as help text (JumpStart's "Hyperparameters").
GUIDANCE = {
    "epochs": "One epoch is one pass through the whole dataset; more epochs train longer, until the "
              "error stops dropping.",
    "learning_rate": "How far the weights move each step: 0.1 is large and can overshoot, 0.01 small and "
                     "slow to converge; text models such as BERT do best far lower (5e-5).",
    "batch_size": "Records sent to the GPUs per step; on a machine with several GPUs the batch is split "
                  "between them.",
}
BATCH_PER_GPU = {"vision": 32, "text": 64}  # the seed's starting points


def key_hyperparameter(name):
    """"epochs", "learning_rate" or "batch_size" when the spec's name is one of those (spelled as
    specs spell them: adam-learning-rate, batch-size, num_epochs), else None."""
    plain = name.lower().replace("-", "_")
    for key in ("epochs", "learning_rate", "batch_size"):
        if key in plain or (key == "epochs" and plain in ("epoch", "num_epochs", "n_epochs")):
            return key
    return None


class FineTuneForm(SecurityForm):
    """Everything a fine-tuning job takes, checked before anything is made on AWS: the data (its
    format for the model's task, its bucket and region), the machine, hyperparameters as the SDK
    validates them, the output name, spot and warm-pool settings, security."""

    data_source = forms.ChoiceField(choices=[("default", "JumpStart's default dataset"),
                                             ("own", "My own data in S3")], widget=forms.RadioSelect, initial="default")
    training_uri = forms.CharField(required=False, label="Training data",
                                   help_text="An S3 folder such as s3://my-bucket/my-data/ (Find S3 bucket to browse).")
    validation_uri = forms.CharField(required=False, label="Validation data",
                                     help_text="Optional: a folder of the same format for the validation channel.")
    instance_type = forms.ChoiceField(label="Training instance")
    instance_count = forms.IntegerField(label="Instance count", min_value=1, max_value=MAX_TRAINING_INSTANCES, initial=1)
    job_name = forms.CharField(label="Model name", help_text="Names the training job and its output folder: "
                               "letters, digits and hyphens, at most 63.")
    output_uri = forms.CharField(label="Output location", help_text="The S3 folder the model is written under.")
    max_run_seconds = forms.IntegerField(label="Max runtime (seconds)", min_value=1, max_value=MAX_RUNTIME)
    use_spot = forms.BooleanField(required=False, label="Managed spot training",
                                  help_text="Up to 90 % cheaper; the job may wait for capacity and be interrupted.")
    max_wait_seconds = forms.IntegerField(required=False, label="Max wait (seconds)", min_value=1,
                                          max_value=2 * MAX_RUNTIME,
                                          help_text="With spot: how long to wait for capacity and training together; more than the max runtime.")
    checkpoint_uri = forms.CharField(required=False, label="Checkpoint location",
                                     help_text="With spot: an S3 folder where an interrupted job resumes from.")
    keep_alive_seconds = forms.IntegerField(label="Warm pool keep-alive (seconds)", min_value=0,
                                            max_value=MAX_KEEP_ALIVE, initial=0,
                                            help_text="Keep the instances for a next job (0 to 3600 s); billed while kept.")
    accept_eula = forms.BooleanField(required=False, label="I have read and accept the model's license (EULA)")
    request_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, model, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.model, self.user = model, user
        self.request = None
        self.report = None
        spec = model.training_spec
        disallowed = InstanceType.disallowed(training=True)
        self.allowed_types = [t for t in model.training_types if t not in disallowed]
        self.machines = machines.facts(self.allowed_types)
        self.fields["instance_type"].choices = [(t, self.machines[t].label) for t in self.allowed_types]
        self.fields["kms_key_id"].help_text = "Optional: encrypts the training volume and the output."
        self.default_dataset = training_default(model)
        if not self.default_dataset:
            self.fields["data_source"].choices = [("own", "My own data in S3")]
            self.fields["data_source"].initial = "own"
        self.hyperparameter_names = []
        specs = sorted(training.hyperparameter_specs(spec),
                       key=lambda h: ["epochs", "learning_rate", "batch_size", None].index(key_hyperparameter(h["name"])))
        for h in specs:
            field_name = f"hp_{h['name']}"
            key = key_hyperparameter(h["name"])
            help_text = GUIDANCE.get(key, "") + (" " if key else "") + _valid_values(h)
            if h.get("options"):
                field = forms.ChoiceField(choices=[(str(o), str(o)) for o in h["options"]], label=h["name"])
            else:
                field = forms.CharField(label=h["name"])
            field.help_text = help_text.strip()
            field.initial = str(h.get("default", ""))
            field.hyperparameter = h
            field.key = key
            self.fields[field_name] = field
            self.hyperparameter_names.append(field_name)
        if not model.gated:
            del self.fields["accept_eula"]

    @classmethod
    def initial_for(cls, model):
        disallowed = InstanceType.disallowed(training=True)
        default = model.training_spec.get("default_training_instance_type")
        max_run = (model.training_spec.get("estimator_kwargs") or {}).get("max_run")
        return {
            "data_source": "default",
            "instance_type": default if default and default not in disallowed else None,
            "instance_count": 1,
            "job_name": suggested_job_name(model),
            "output_uri": f"s3://{settings.OUTPUT_BUCKET}/" if settings.OUTPUT_BUCKET else "",
            "max_run_seconds": min(int(max_run), MAX_RUNTIME) if max_run else 24 * 3600,
            "keep_alive_seconds": 0,
            "role_arn": settings.SAGEMAKER_ROLE_ARN,
            "request_token": uuid.uuid4(),
        }

    # Helpers for the template.
    @property
    def key_hyperparameter_fields(self):
        """Epochs, learning rate and batch size, first, with the guidance."""
        return [self[name] for name in self.hyperparameter_names if self.fields[name].key]

    @property
    def other_hyperparameter_fields(self):
        return [self[name] for name in self.hyperparameter_names if not self.fields[name].key]

    def chosen_machine(self):
        chosen = self["instance_type"].value() or self.initial.get("instance_type") or next(iter(self.allowed_types), "")
        return self.machines.get(chosen)

    def batch_hint(self):
        """The seed's batch-size guidance for the chosen machine: per-GPU start × its GPUs."""
        fact = self.chosen_machine()
        base = BATCH_PER_GPU.get(self.model.modality)
        if not (fact and base):
            return ""
        total, gpus = machines.batch_hint(base, fact)
        if not fact.gpus:
            return f"Start with about {base} on a machine without GPUs, then adjust to its memory."
        return (f"Start with {base} per GPU: {fact.name} has {gpus} GPU{'s' if gpus != 1 else ''}, "
                f"so try a batch size of {total}.")

    def output_preview(self):
        name = (self["job_name"].value() or "").strip() or "<model-name>"
        output = (self["output_uri"].value() or "s3://<bucket>/").strip()
        return f"{output.rstrip('/')}/{name}/output/model.tar.gz"

    def machine_warnings(self):
        fact = self.chosen_machine()
        if not fact:
            return []
        try:
            image = training.training_image(self.model.training_spec, settings.AWS_REGION, fact.name)
        except jumpstart.SpecError as exc:
            return [str(exc)]
        return machines.warnings(fact, image)

    def with_new_token(self):
        data = self.data.copy()
        data["request_token"] = str(uuid.uuid4())
        form = type(self)(data, model=self.model, user=self.user)
        form.is_valid()
        form.add_error(None, TOKEN_LOST)
        return form

    # Cleaning.
    def clean_training_uri(self):
        return data_uris(self.data, self.default_dataset, validation=False)[0]

    def clean_validation_uri(self):
        return _s3_folder(self.cleaned_data["validation_uri"])

    def clean_output_uri(self):
        return _s3_folder(self.cleaned_data["output_uri"], required=True)

    def clean_checkpoint_uri(self):
        return _s3_folder(self.cleaned_data["checkpoint_uri"])

    def clean_job_name(self):
        return _unique_name(
            self.cleaned_data["job_name"], shape="TrainingJobName", what="A model name",
            ours=TrainingJob.objects.all(), field="job_name", in_account=sagemaker.training_job_name_taken,
            taken_here="A training job of this name exists already: SageMaker never frees a training job's "
                       "name, so choose another.",
            taken_there="Your account has a training job of this name already (SageMaker ignores case and "
                        "never frees the name): choose another.")

    def clean(self):
        data = super().clean()
        values = {self.fields[name].hyperparameter["name"]: data.get(name) for name in self.hyperparameter_names}
        cleaned, errors = training.validate_hyperparameters(self.model.training_spec, values)
        for hp_name, message in errors.items():
            self.add_error(f"hp_{hp_name}" if f"hp_{hp_name}" in self.fields else None, message)
        self.hyperparameters = cleaned
        if data.get("use_spot"):
            if not data.get("max_wait_seconds"):
                self.add_error("max_wait_seconds", "Managed spot training needs a max wait: more than the max runtime.")
            elif data.get("max_run_seconds") and data["max_wait_seconds"] <= data["max_run_seconds"]:
                self.add_error("max_wait_seconds", f"The max wait must be more than the max runtime "
                               f"({data['max_run_seconds']} s): it counts the wait for spot capacity and the training.")
        if self.model.gated and not data.get("accept_eula"):
            self.add_error("accept_eula", "This model is gated: accept its license (EULA) to fine-tune it.")
        if self.errors:
            return data
        try:
            self.request = training_flow.build_request(self.job(user=None))
        except (jumpstart.SpecError, ValueError) as exc:
            raise forms.ValidationError(f"This model cannot be fine-tuned on {data['instance_type']}: {exc}")
        self.report = self._check_data(data)
        if self.report and not self.report["ok"]:
            self.add_error("training_uri", "The data check found problems: fix them, then launch again.")
        return data

    def _check_data(self, data):
        """The data check's report for these inputs: a passed one from the last minutes, else run
        now, bounded (keys, bytes, seconds), for training and validation data alike."""
        uris = (data["training_uri"], data.get("validation_uri") or "")
        recent = DataCheck.objects.filter(
            user=self.user, model=self.model, training_uri=uris[0], validation_uri=uris[1],
            status=DataCheck.Status.PASSED, created_at__gte=timezone.now() - DATA_CHECK_FRESH).first()
        if recent:
            return recent.report
        return data_checks.run(self.model, *uris, limits=INLINE_CHECK)

    def job(self, user):
        """The (unsaved) training job this valid form describes, owing its launch."""
        data = self.cleaned_data
        accepted = bool(data.get("accept_eula"))
        return TrainingJob(
            user=user, model=self.model, model_version=self.model.training_version, job_name=data["job_name"],
            instance_type=data["instance_type"], instance_count=data["instance_count"],
            training_uri=data["training_uri"], validation_uri=data.get("validation_uri") or "",
            output_uri=data["output_uri"], hyperparameters=self.hyperparameters,
            max_run_seconds=data["max_run_seconds"], use_spot=bool(data.get("use_spot")),
            max_wait_seconds=data.get("max_wait_seconds") if data.get("use_spot") else None,
            checkpoint_uri=data.get("checkpoint_uri") or "", keep_alive_seconds=data["keep_alive_seconds"],
            role_arn=data["role_arn"], subnets=data["subnets"], security_groups=data["security_groups"],
            kms_key_id=data["kms_key_id"], eula_accepted_by=user if accepted else None,
            eula_accepted_at=timezone.now() if accepted else None, request_token=data["request_token"],
            request=self.request or {}, data_check=self.report or {},
            pending="launch", pending_due=due(timezone.now()),
        )


def training_default(model):
    """JumpStart's default dataset for the model in this region, or None."""
    return training.default_dataset_uri(model.training_spec, settings.AWS_REGION)


def data_uris(data, default_dataset, validation=True):
    """(training, validation) S3 folders from the form's input: the default dataset when chosen."""
    if data.get("data_source") == "default" and default_dataset:
        training_uri = default_dataset
    else:
        training_uri = _s3_folder(data.get("training_uri"), required=True)
    return training_uri, _s3_folder(data.get("validation_uri")) if validation else ""


def _s3_folder(text, required=False):
    text = (text or "").strip()
    if not text:
        if required:
            raise forms.ValidationError("Enter an S3 location such as s3://my-bucket/my-data/.")
        return ""
    try:
        uri = s3.parse_s3_uri(text)
    except ValueError as exc:
        raise forms.ValidationError(str(exc))
    prefix = uri.prefix.strip("/")
    return f"s3://{uri.bucket}/{prefix}/" if prefix else f"s3://{uri.bucket}/"


def _valid_values(h):
    row = hyperparameter_rows([h])[0]
    return f"{h.get('type', 'text')}; {row['valid']}; default {h.get('default')}." if row["valid"] else \
        f"{h.get('type', 'text')}; default {h.get('default')}."


def suggested_job_name(model):
    """The model id and a timestamp, trimmed to SageMaker's 63 characters."""
    return suggested_endpoint_name(model)


class LaunchForm(forms.Form):
    """A solution's Launch: no options, as in JumpStart, only the page's one-time token (a double
    click is one launch). The template goes with the installation's role and its default machine."""

    request_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, solution, **kwargs):
        super().__init__(*args, **kwargs)
        self.solution = solution

    def job(self, user):
        """The (unsaved) launch, owing its stack's creation, with the request it will send."""
        launch = SolutionLaunch(
            user=user, solution=self.solution, request_token=self.cleaned_data["request_token"],
            role_arn=solutions.default_role(), instance_type=solutions.instance_type_of(self.solution),
            pending="launch", pending_due=due(timezone.now()))
        launch.request = solutions.build_request(launch)
        return launch

    def with_new_token(self):
        return self  # the page is old or spoiled: the view says so; Launch again makes one
