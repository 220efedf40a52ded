"""Deploy a model, follow its endpoint, test it and delete it. Pages read the database; creating and
deleting happen in Celery tasks. The only AWS calls here are interactive and bounded: the endpoint
name check and role suggestions in the form, and a test request to an endpoint."""

import json

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from aws import AwsError, jumpstart, sagemaker
from aws.errors import explain
from catalog.models import Model

from . import deployments
from .forms import DeployForm, InvokeForm, deploy_problem
from .models import Deployment, TrainingJob
from .tasks import hand_over

S = Deployment.Status
ROLES_CACHE_SECONDS = 300


def _get_deployment_for_user(request, pk, action="view"):
    """Another user's deployment does not exist, as far as this user can tell, unless their
    permissions let them see it; acting on it ("change", "delete") takes that permission too."""
    deployment = get_object_or_404(Deployment.objects.visible_to(request.user).select_related("model", "user"), pk=pk)
    if not deployment.may(request.user, action):
        raise PermissionDenied(f"You may see this endpoint but not {action} it.")
    return deployment


def render_live(request, template, part, context):
    """A job page, or only its live part for htmx's poll (a history restore gets the page)."""
    if request.htmx and not request.htmx.history_restore_request:
        template = f"{template}#{part}"
    return render(request, template, context)


def _go(request, deployment):
    url = deployment.get_absolute_url()
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


def _role_suggestions():
    """The account's SageMaker roles, listed at most every few minutes per process."""
    try:
        return cache.get_or_set("jobs:execution-roles", sagemaker.execution_roles, ROLES_CACHE_SECONDS)
    except AwsError:
        return []  # suggestions only: the field still takes a typed ARN


def deploy(request, model_id):
    return _deploy(request, get_object_or_404(Model.objects.visible(), model_id=model_id))


def deploy_fine_tuned(request, pk):
    """Deploy what a completed training job made: the model's inference image and script, the
    trained model.tar.gz."""
    job = get_object_or_404(TrainingJob.objects.visible_to(request.user).select_related("model"),
                            pk=pk, status=TrainingJob.Status.COMPLETED)
    return _deploy(request, job.model, training_job=job)


def _deploy(request, model, training_job=None):
    if request.method == "POST":
        form = DeployForm(request.POST, model=model, training_job=training_job)
        submitted = submit(request, form, Deployment, name_field="endpoint_name", queued="Queued for launch.",
                           taken="A deployment already uses this endpoint name: choose another.")
        if not isinstance(submitted, DeployForm):
            return submitted
        form = submitted
    else:
        form = DeployForm(initial=DeployForm.initial_for(model, training_job), model=model, training_job=training_job)
    problem = deploy_problem(model, training_job)
    context = {"model": model, "form": form, "problem": problem, "roles": [] if problem else _role_suggestions(),
               "eula_url": jumpstart.eula_url(model.deploy_spec, settings.AWS_REGION), "training_job": training_job,
               "action": reverse("jobs:training-deploy", args=[training_job.pk]) if training_job
               else reverse("jobs:deploy", args=[model.model_id])}
    template = "jobs/deploy.html#deploy-pane" if request.htmx else "jobs/deploy.html"
    return render(request, template, context)


def submit(request, form, job_model, *, name_field, taken, queued):
    """Launch what a job form describes, once: the job's page (a double click lands on the job
    the first click made), or the form to show again with what is wrong."""
    if (existing := _same_submission(request, job_model)) is not None:
        return _go(request, existing)
    if form.is_valid():
        try:
            with transaction.atomic():
                job = form.job(request.user)
                job.save()
                job.events.create(status=job.Status.QUEUED, message=queued)
                hand_over(job, "launch")
            return _go(request, job)
        except IntegrityError:
            form.add_error(name_field, taken)
    # A double click raced this request while it was checked: its name is now "taken" by the job
    # the first click made. The answer to both clicks is that job.
    if (existing := _same_submission(request, job_model)) is not None:
        return _go(request, existing)
    if form.has_error("request_token"):
        form = form.with_new_token()
    return form


def _same_submission(request, model=Deployment):
    """The job this form's one-time token already made (a double click), or None."""
    token = request.POST.get("request_token", "")
    try:
        return model.objects.filter(user=request.user, request_token=token).first()
    except ValidationError:  # not a UUID: the form says so
        return None


def endpoint_list(request):
    deployments = Deployment.objects.visible_to(request.user).select_related("model", "user")
    sees_all = request.user.has_perm("jobs.view_deployment")
    show_deleted = request.GET.get("deleted") == "on"
    if not show_deleted:
        deployments = deployments.live()
    page = Paginator(deployments, 25).get_page(request.GET.get("page"))
    return render(request, "jobs/endpoint_list.html", {"page": page, "show_deleted": show_deleted, "sees_all": sees_all})


def endpoint_detail(request, pk):
    deployment = _get_deployment_for_user(request, pk)
    context = {"deployment": deployment, "events": deployment.events.all(), "poll_seconds": 2,
               "invoke_form": InvokeForm(deployment=deployment), **_powers(request, deployment)}
    return render_live(request, "jobs/endpoint_detail.html", "endpoint-status", context)


def _powers(request, deployment):
    return {"may_invoke": deployment.may(request.user, "change"), "may_delete": deployment.may(request.user, "delete"),
            "sees_owner": deployment.user_id != request.user.pk or request.user.has_perm("jobs.view_deployment")}


@require_POST
def endpoint_invoke(request, pk):
    deployment = _get_deployment_for_user(request, pk, "change")
    form = InvokeForm(request.POST, request.FILES, deployment=deployment)
    result = None
    if deployment.status != S.IN_SERVICE:
        form.add_error(None, "The endpoint is not InService: wait until it is, then try again.")
    elif form.is_valid():
        accept = jumpstart.content_types(deployment.model.spec_of(deployment.model_version))[1] or "application/json"
        try:
            content_type, body = sagemaker.invoke(deployment.endpoint_name, form.body(), form.content_type, accept)
            result = {"content_type": content_type, "text": _readable(body)}
        except AwsError as exc:
            form.add_error(None, f"SageMaker did not answer: {explain(exc)}")
    context = {"deployment": deployment, "invoke_form": form, "result": result, **_powers(request, deployment)}
    return render(request, "jobs/endpoint_detail.html#invoke-panel", context)


def _readable(body):
    """The answer as a person reads it: JSON indented, anything else as text."""
    text = body.decode("utf-8", "replace")
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


@require_POST
def endpoint_delete(request, pk):
    deployment = _get_deployment_for_user(request, pk, "delete")
    deployments.request_deletion(deployment, request.user)
    return _go(request, deployment)
