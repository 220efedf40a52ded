"""Staff manage every deployment and training job and the machine types users may pick, as their
permissions allow."""

from functools import partial

from django.contrib import admin
from django.contrib.admin import helpers
from django.db import transaction
from django.template.response import TemplateResponse

from . import deployments, solutions, training
from .models import (
    CostPolicy, Deployment, DeploymentEvent, InstanceType, SolutionLaunch, SolutionLaunchEvent, TrainingJob,
    TrainingJobEvent,
)
from .tasks import refresh_deployment

S = Deployment.Status


class EventInline(admin.TabularInline):
    model = DeploymentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "status", "message"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    """Every deployment, for those with the permission to view them. Deleting an endpoint (delete
    permission) asks for confirmation first; both actions only hand work to Celery: no AWS call
    is made while the admin waits."""

    list_display = ["endpoint_name", "model", "user", "instance_type", "instance_count", "status", "created_at"]
    list_filter = ["status", "instance_type"]
    search_fields = ["endpoint_name", "model__model_id", "user__username"]
    list_select_related = ["model", "user"]
    inlines = [EventInline]
    actions = ["delete_endpoints", "refresh_status"]
    readonly_fields = [f.name for f in Deployment._meta.fields]

    def has_add_permission(self, request):
        return False  # deployments start from a model page

    def has_delete_permission(self, request, obj=None):
        return False  # the "Delete endpoints" action removes them from AWS first

    def has_delete_endpoint_permission(self, request):
        return request.user.has_perm("jobs.delete_deployment")

    def has_refresh_permission(self, request):
        return request.user.has_perm("jobs.change_deployment")

    @admin.action(description="Delete endpoints (and their configs and models) in SageMaker…",
                  permissions=["delete_endpoint"])
    def delete_endpoints(self, request, queryset):
        return ask_then_do(
            self, request, queryset.select_related("model", "user"), "delete_endpoints",
            can=lambda d: d.can_delete, do=lambda d: deployments.request_deletion(d, request.user, via=" (admin)"),
            title="Delete these endpoints?", done="deleted", button="Yes, delete {} endpoint(s)",
            intro="These endpoints, with their endpoint configurations and models, will be deleted "
                  "in SageMaker. Their owners can no longer call them; billing stops once they are gone.",
            told=lambda started, rows: f"Deleting {started} endpoint(s) in SageMaker; the list shows them "
                                       f"go to Deleted. {rows - started} were not running.")

    @admin.action(description="Refresh status from SageMaker", permissions=["refresh"])
    def refresh_status(self, request, queryset):
        pks = list(queryset.exclude(status__in=[S.QUEUED, S.DELETED]).values_list("pk", flat=True))
        for pk in pks:
            transaction.on_commit(partial(refresh_deployment.delay, pk), robust=True)
        self.message_user(request, f"Asked SageMaker about {len(pks)} deployment(s) in the background: "
                          "reload in a few seconds to see their status.")


def ask_then_do(model_admin, request, queryset, action, *, can, do, title, intro, done, button, told):
    """An action that changes AWS: first a page showing what it will do to which rows (those
    `can` accepts; the others are listed apart) and asking; once confirmed, `do` on each, and a
    message from `told(how many it started, how many rows were chosen)`."""
    rows = list(queryset)
    chosen = [row for row in rows if can(row)]
    if request.POST.get("confirmed") != "yes":
        return confirm(model_admin, request, action, title=title, intro=intro, done=done, button=button.format(len(chosen)),
                       chosen=[_described(row) for row in chosen],
                       others=[_described(row) for row in rows if not can(row)])
    started = sum(do(row) for row in chosen)
    model_admin.message_user(request, told(started, len(rows)))
    return None


def confirm(model_admin, request, action, *, title, intro, done, chosen, others, button):
    """The page that shows what an action will do to which rows, and asks before it does it."""
    context = {
        **model_admin.admin_site.each_context(request), "title": title, "intro": intro, "done": done,
        "opts": model_admin.model._meta, "chosen": chosen, "others": others, "button": button, "action": action,
        "changelist": f"admin:{model_admin.model._meta.app_label}_{model_admin.model._meta.model_name}_changelist",
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/jobs/confirm_action.html", context)


def _described(job):
    if isinstance(job, SolutionLaunch):
        return f"{job.solution.name} · stack {job.stack_name} · {job.get_status_display()} · owner {job.user.get_username()}"
    if isinstance(job, Deployment):
        return (f"{job.endpoint_name} · {job.model.name} · {job.instance_count} × {job.instance_type} · "
                f"{job.get_status_display()} · owner {job.user.get_username()}")
    return (f"{job.job_name} · {job.model.name} · {job.instance_count} × {job.instance_type} · "
            f"{job.get_status_display()} · owner {job.user.get_username()}")


class TrainingEventInline(EventInline):
    model = TrainingJobEvent


@admin.register(TrainingJob)
class TrainingJobAdmin(admin.ModelAdmin):
    """Every training job, for those with the permission to view them; stopping one (change
    permission) asks first and hands the StopTrainingJob call to Celery."""

    list_display = ["job_name", "model", "user", "instance_type", "instance_count", "use_spot", "status",
                    "secondary_status", "created_at"]
    list_filter = ["status", "instance_type", "use_spot"]
    search_fields = ["job_name", "model__model_id", "user__username"]
    list_select_related = ["model", "user"]
    inlines = [TrainingEventInline]
    actions = ["stop_jobs"]
    readonly_fields = [f.name for f in TrainingJob._meta.fields]

    def has_add_permission(self, request):
        return False  # training jobs start from a model page

    def has_delete_permission(self, request, obj=None):
        return False  # SageMaker keeps every training job: so do we

    def has_stop_permission(self, request):
        return request.user.has_perm("jobs.change_trainingjob")

    @admin.action(description="Stop training jobs in SageMaker…", permissions=["stop"])
    def stop_jobs(self, request, queryset):
        return ask_then_do(
            self, request, queryset.select_related("model", "user"), "stop_jobs",
            can=lambda job: job.can_stop, do=lambda job: training.request_stop(job, request.user, via=" (admin)"),
            title="Stop these training jobs?", done="stopped", button="Yes, stop {} training job(s)",
            intro="SageMaker stops these jobs; what they trained so far is not kept as a model.",
            told=lambda started, rows: f"Stopping {started} training job(s); the list shows them go to Stopped.")


class LaunchEventInline(EventInline):
    model = SolutionLaunchEvent


@admin.register(SolutionLaunch)
class SolutionLaunchAdmin(admin.ModelAdmin):
    """Every solution launch; deleting one's resources (delete permission) asks first and hands
    the stack's deletion to Celery."""

    list_display = ["stack_name", "solution", "user", "status", "stack_status", "created_at"]
    list_filter = ["status"]
    search_fields = ["solution__name", "user__username", "stack_id"]
    list_select_related = ["solution", "user"]
    inlines = [LaunchEventInline]
    actions = ["delete_resources"]
    readonly_fields = [f.name for f in SolutionLaunch._meta.fields]

    def has_add_permission(self, request):
        return False  # solutions launch from their page

    def has_delete_permission(self, request, obj=None):
        return False  # "Delete solution resources" deletes the stack first

    def has_delete_resources_permission(self, request):
        return request.user.has_perm("jobs.delete_solutionlaunch")

    @admin.action(description="Delete solution resources (the stack and all it made)…", permissions=["delete_resources"])
    def delete_resources(self, request, queryset):
        return ask_then_do(
            self, request, queryset.select_related("solution", "user"), "delete_resources",
            can=lambda launch: launch.can_delete,
            do=lambda launch: solutions.request_deletion(launch, request.user, via=" (admin)"),
            title="Delete these solutions' resources?", done="deleted", button="Yes, delete {} solution(s)' resources",
            intro="Each stack is deleted with everything it made, endpoints included.",
            told=lambda started, rows: f"Deleting {started} stack(s); the list shows them go to Deleted.")


@admin.register(CostPolicy)
class CostPolicyAdmin(admin.ModelAdmin):
    """The endpoint time-to-live: one row, for every user's endpoints."""

    list_display = ["__str__", "endpoint_ttl_hours", "warning_hours", "updated_at"]

    def has_add_permission(self, request):
        return not CostPolicy.objects.exists()


@admin.register(InstanceType)
class InstanceTypeAdmin(admin.ModelAdmin):
    """A machine type without a row here is allowed: add one with an "allowed" box off to restrict
    it for endpoints or for training. The machine facts come from EC2 (refreshed in Celery)."""

    list_display = ["name", "allowed", "allowed_for_training", "gpus", "gpu_name", "vcpus", "memory_mib", "offered", "note"]
    list_editable = ["allowed", "allowed_for_training", "note"]
    list_filter = ["allowed", "allowed_for_training", "offered"]
    search_fields = ["name"]
    readonly_fields = ["vcpus", "memory_mib", "gpus", "gpu_name", "offered", "facts_at"]
