"""Solutions launched and deleted, the resources pane every page shows, and Clean up: what a user
has running on AWS, kept in sight. Pages read the database; launching and deleting happen in
Celery."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.models import Solution

from . import deployments, solutions, training
from .forms import LaunchForm
from .models import CostPolicy, Deployment, SolutionLaunch, TrainingJob
from .views import _go, render_live, submit

PANE_POLL_SECONDS = 5
PANE_ITEMS = 8


def _get_launch_for_user(request, pk, action="view"):
    launch = get_object_or_404(SolutionLaunch.objects.visible_to(request.user).select_related("solution", "user"), pk=pk)
    if not launch.may(request.user, action):
        raise PermissionDenied(f"You may see this solution's resources but not {action} them.")
    return launch


@require_POST
def solution_launch(request, slug):
    """Launch the solution's template once per page (its token): the launch's page."""
    solution = get_object_or_404(Solution.objects.visible().exclude(template=""), slug=slug)
    if not solutions.default_role():
        messages.error(request, "Launch needs the IAM role SageMaker runs the solution's model with: an admin "
                                "sets SAGEMAKER_ROLE_ARN. Nothing was created.")
        return redirect(solution)
    submitted = submit(request, LaunchForm(request.POST, solution=solution), SolutionLaunch, name_field=None,
                       taken="This launch was already made.", queued="Queued for launch.")
    if isinstance(submitted, LaunchForm):
        messages.error(request, "This page's one-time launch token was missing or damaged, so nothing was "
                                "launched: press Launch again.")
        return redirect(solution)
    return submitted


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
    """The left pane: a user's newest launched solutions, endpoints and training jobs with their
    status, one small query each and no AWS call; it polls itself while something moves."""
    user = request.user
    # Only the columns the pane shows: a job's row carries its whole request, a solution its template.
    launches = list(SolutionLaunch.objects.filter(user=user).live().select_related("solution").only(
        "pk", "status", "created_at", "solution__name")[:PANE_ITEMS])
    endpoints = list(Deployment.objects.filter(user=user).live().only(
        "pk", "status", "created_at", "endpoint_name", "in_service_at")[:PANE_ITEMS])
    jobs = list(TrainingJob.objects.filter(user=user).billing().only(
        "pk", "status", "created_at", "job_name")[:PANE_ITEMS])
    moving = any(item.in_flight for item in [*launches, *endpoints, *jobs])
    _flag_past_ttl(endpoints)
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
    endpoints = list(Deployment.objects.filter(user=user).live().defer("request"))
    launches = list(SolutionLaunch.objects.filter(user=user).live().select_related("solution").defer(
        "request", "solution__template"))
    jobs = list(TrainingJob.objects.filter(user=user).billing().defer("request"))
    context = {
        "endpoints": endpoints, "launches": launches, "jobs": jobs, "policy": _flag_past_ttl(endpoints),
        "asked": request.GET.get("asked"), "moving": any(item.in_flight for item in [*endpoints, *launches, *jobs]),
    }
    return render_live(request, "jobs/cleanup.html", "cleanup-list", context)


def _flag_past_ttl(endpoints):
    """Mark the endpoints past staff's time-to-live (past_ttl); returns the policy."""
    policy = CostPolicy.current()
    for endpoint in endpoints:
        endpoint.past_ttl = policy.past_ttl(endpoint)
    return policy


def _ids(chosen, kind):
    return [int(value.split(":", 1)[1]) for value in chosen if value.startswith(f"{kind}:") and value.split(":", 1)[1].isdigit()]
