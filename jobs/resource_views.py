"""Solutions launched and deleted, the resources pane every page shows, and Clean up: what a user
has running on AWS, kept in sight. Pages read the database; launching and deleting happen in
Celery."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog.models import Solution

from . import deployments, solutions, training
from .models import CostPolicy, Deployment, SolutionLaunch, TrainingJob
from .tasks import hand_over
from .views import _go, _same_submission, render_live

L = SolutionLaunch.Status
D = Deployment.Status
T = TrainingJob.Status
PANE_POLL_SECONDS = 5
PANE_ITEMS = 8


def _get_launch_for_user(request, pk, action="view"):
    launch = get_object_or_404(SolutionLaunch.objects.visible_to(request.user).select_related("solution", "user"), pk=pk)
    if not launch.may(request.user, action):
        raise PermissionDenied(f"You may see this solution's resources but not {action} them.")
    return launch


@require_POST
def solution_launch(request, slug):
    """Launch has no options, as in JumpStart: the solution's template with the default role."""
    solution = get_object_or_404(Solution.objects.visible().exclude(template=""), slug=slug)
    if (existing := _same_submission(request, SolutionLaunch)) is not None:
        return _go(request, existing)
    if not solutions.default_role():
        messages.error(request, "Launch needs the IAM role SageMaker runs the solution's model with: an admin "
                                "sets SAGEMAKER_ROLE_ARN. Nothing was created.")
        return redirect(solution)
    try:
        token = uuid.UUID(request.POST.get("request_token", ""))
    except ValueError:
        token = uuid.uuid4()  # an old page: this click launches once, a second one again
    try:
        with transaction.atomic():
            launch = SolutionLaunch(user=request.user, solution=solution, request_token=token,
                                    role_arn=solutions.default_role(), instance_type=solutions.instance_type_of(solution))
            launch.request = solutions.build_request(launch)
            launch.pending = "launch"
            launch.pending_due = timezone.now()
            launch.save()
            launch.events.create(status=L.QUEUED, message="Queued for launch.")
            hand_over(launch, "launch")
    except IntegrityError:
        # A double click raced this one past the check above: the answer to both is its launch.
        if (existing := _same_submission(request, SolutionLaunch)) is None:
            raise
        return _go(request, existing)
    return _go(request, launch)


def solution_launch_detail(request, pk):
    launch = _get_launch_for_user(request, pk)
    context = {"launch": launch, "events": launch.events.all(), "stack_events": launch.stack_events.all(),
               "endpoints": launch.deployments.all(), "poll_seconds": 2, "may_delete": launch.may(request.user, "delete")}
    return render_live(request, "jobs/solutionlaunch_detail.html", "launch-live", context)


@require_POST
def solution_launch_delete(request, pk):
    launch = _get_launch_for_user(request, pk, "delete")
    solutions.request_deletion(launch, request.user)
    return _go(request, launch)


def resources_pane(request):
    """The left pane: a user's launched solutions, endpoints and training jobs with their status,
    from three small queries and no AWS call; it polls itself while something moves."""
    user = request.user
    # Only the columns the pane shows: a job's row carries its whole request, a solution its template.
    launches = list(SolutionLaunch.objects.filter(user=user).live().select_related("solution").only(
        "pk", "status", "created_at", "solution__name")[:PANE_ITEMS])
    endpoints = list(Deployment.objects.filter(user=user).live().only(
        "pk", "status", "created_at", "endpoint_name", "in_service_at")[:PANE_ITEMS])
    jobs = list(TrainingJob.objects.filter(user=user, status__in=[T.QUEUED, *TrainingJob.IN_FLIGHT]).only(
        "pk", "status", "created_at", "job_name")[:PANE_ITEMS])
    moving = any(item.in_flight for item in [*launches, *endpoints, *jobs])
    policy = CostPolicy.current()
    for endpoint in endpoints:
        endpoint.past_ttl = policy.past_ttl(endpoint)
    context = {"launches": launches, "endpoints": endpoints, "jobs": jobs, "moving": moving,
               "poll_seconds": PANE_POLL_SECONDS}
    return render(request, "jobs/resources.html#resources-pane", context)


def cleanup(request):
    """Every billable resource of the user, before anything is deleted; deletes what is ticked."""
    user = request.user
    if request.method == "POST":
        chosen = set(request.POST.getlist("resource"))
        asked = 0
        for deployment in Deployment.objects.filter(user=user, pk__in=_ids(chosen, "endpoint"),
                                                    solution_launch__isnull=True):
            asked += deployments.request_deletion(deployment, user, via=" (Clean up)")
        for launch in SolutionLaunch.objects.filter(user=user, pk__in=_ids(chosen, "solution")):
            asked += solutions.request_deletion(launch, user, via=" (Clean up)")
        for job in TrainingJob.objects.filter(user=user, pk__in=_ids(chosen, "training")):
            asked += training.request_stop(job, user, via=" (Clean up)")
        return redirect(f"{request.path}?asked={asked}")
    endpoints = list(Deployment.objects.filter(user=user).exclude(status=D.DELETED).select_related("model", "solution_launch"))
    policy = CostPolicy.current()
    for endpoint in endpoints:
        endpoint.past_ttl = policy.past_ttl(endpoint)
    context = {
        "endpoints": endpoints,
        "launches": SolutionLaunch.objects.filter(user=user).live().select_related("solution"),
        "jobs": TrainingJob.objects.filter(user=user, status__in=[T.QUEUED, *TrainingJob.IN_FLIGHT]).select_related("model"),
        "asked": request.GET.get("asked"), "policy": policy,
    }
    context["moving"] = any(item.in_flight for item in [*endpoints, *context["launches"], *context["jobs"]])
    return render_live(request, "jobs/cleanup.html", "cleanup-list", context)


def _ids(chosen, kind):
    return [int(value.split(":", 1)[1]) for value in chosen if value.startswith(f"{kind}:") and value.split(":", 1)[1].isdigit()]
