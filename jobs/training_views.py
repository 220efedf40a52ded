"""Fine-tune a model, follow its training job, stop it, deploy what it made. Pages read the
database; launching and stopping happen in Celery. The interactive AWS calls here are bounded:
the name check and the data check (when none passed in the last minutes) at launch, and one page
of an S3 listing per click in the bucket browser."""

from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from aws import AwsError, s3
from catalog.models import Model

from . import charts, training
from .forms import FineTuneForm, data_uris, training_default
from .models import DataCheck, TrainingJob
from .tasks import check_dataset
from .views import _go, _role_suggestions, render_live, submit

T = TrainingJob.Status
BROWSE_PAGE = 50


def _fine_tunable(model_id):
    return get_object_or_404(Model.objects.visible().filter(trainable=True), model_id=model_id)


def _get_job_for_user(request, pk, action="view"):
    job = get_object_or_404(TrainingJob.objects.visible_to(request.user).select_related("model", "user"), pk=pk)
    if not job.may(request.user, action):
        raise PermissionDenied(f"You may see this training job but not {action} it.")
    return job


def train(request, model_id):
    model = _fine_tunable(model_id)
    if request.method == "POST":
        form = FineTuneForm(request.POST, model=model, user=request.user)
        submitted = submit(request, form, TrainingJob, name_field="job_name",
                           queued="Queued for launch: the data check passed.",
                           taken="A training job of this name exists already: choose another.")
        if not isinstance(submitted, FineTuneForm):
            return submitted
        form = submitted
    else:
        form = FineTuneForm(initial=FineTuneForm.initial_for(model), model=model, user=request.user)
    context = {"model": model, "form": form, "roles": _role_suggestions()}
    template = "jobs/train.html#fine-tune-pane" if request.htmx else "jobs/train.html"
    return render(request, template, context)


def train_hints(request, model_id):
    """The parts of the pane that follow the inputs: the batch-size hint for the chosen machine,
    its warnings, and the output path. Reads the database only."""
    model = _fine_tunable(model_id)
    # POSTed with the pane's inputs (so the form's token stays out of URLs); nothing is saved.
    form = FineTuneForm(request.POST or request.GET, model=model, user=request.user)
    return render(request, "jobs/train.html#train-hints", {"model": model, "form": form})


@require_POST
def data_check_start(request, model_id):
    """Check the chosen data in Celery; the pane follows its progress."""
    model = _fine_tunable(model_id)
    try:
        training_uri, validation_uri = data_uris(request.POST, training_default(model))
    except ValidationError as exc:
        return render(request, "jobs/train.html#data-check", {"error": " ".join(exc.messages)})
    with transaction.atomic():
        data_check = DataCheck.objects.create(user=request.user, model=model, training_uri=training_uri,
                                              validation_uri=validation_uri, step="queued")
        transaction.on_commit(partial(check_dataset.delay, data_check.pk), robust=True)
    return render(request, "jobs/train.html#data-check", {"check": data_check, "report": data_check.report})


def data_check_detail(request, pk):
    data_check = get_object_or_404(DataCheck, pk=pk, user=request.user)
    return render(request, "jobs/train.html#data-check", {"check": data_check, "report": data_check.report})


def s3_browse(request):
    """One page of the buckets the credentials can see, or of a folder: its subfolders and files."""
    bucket, prefix = request.GET.get("bucket", ""), request.GET.get("prefix", "")
    target = request.GET.get("target", "id_training_uri")
    context = {"bucket": bucket, "prefix": prefix, "target": target}
    try:
        if not bucket:
            context["buckets"] = s3.list_buckets(limit=BROWSE_PAGE * 4)
        else:
            context["folder"] = s3.list_folder(bucket, prefix, token=request.GET.get("token") or None,
                                               page_size=BROWSE_PAGE)
    except AwsError as exc:
        context["error"] = exc.reason
    if prefix:
        parent = prefix.rstrip("/").rpartition("/")[0]
        context["parent"] = f"{parent}/" if parent else ""
    return render(request, "jobs/train.html#s3-browser", context)


def training_list(request):
    jobs = TrainingJob.objects.visible_to(request.user).select_related("model", "user")
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    return render(request, "jobs/trainingjob_list.html",
                  {"page": page, "sees_all": request.user.has_perm("jobs.view_trainingjob")})


def training_detail(request, pk):
    job = _get_job_for_user(request, pk)
    if job.in_flight or not job.logs_complete:
        # Somebody watches: the log reader (beat) reads this job's logs for the next minute.
        TrainingJob.objects.filter(pk=job.pk).update(watched_at=timezone.now())
    context = {
        "job": job, "events": job.events.all(), "poll_seconds": 2,
        "steps": training.step_durations(job), "chart": charts.metric_chart(job.metrics.all()),
        "log_lines": list(job.log_lines.order_by("-at", "-pk")[:200])[::-1],
        "may_stop": job.may(request.user, "change"), "sees_owner": job.user_id != request.user.pk,
    }
    return render_live(request, "jobs/trainingjob_detail.html", "training-live", context)


@require_POST
def training_stop(request, pk):
    job = _get_job_for_user(request, pk, "change")
    training.request_stop(job, request.user)
    return _go(request, job)
