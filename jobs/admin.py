"""Staff manage every deployment and training job and the machine types users may pick, as their
permissions allow."""

from functools import partial

from django.contrib import admin
from django.contrib.admin import helpers
from django.db import transaction
from django.template.response import TemplateResponse

from . import deployments, training
from .models import Deployment, DeploymentEvent, InstanceType, TrainingJob, TrainingJobEvent
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
        rows = list(queryset.select_related("model", "user"))
        deletable = [d for d in rows if d.can_delete]
        if request.POST.get("confirmed") != "yes":
            return confirm(self, request, "delete_endpoints", title="Delete these endpoints?", done="deleted",
                           intro="These endpoints, with their endpoint configurations and models, will be deleted "
                                 "in SageMaker. Their owners can no longer call them; billing stops once they are gone.",
                           chosen=[_described(d) for d in deletable],
                           others=[_described(d) for d in rows if not d.can_delete],
                           button=f"Yes, delete {len(deletable)} endpoint(s)")
        started = sum(deployments.request_deletion(d, request.user, via=" (admin)") for d in deletable)
        self.message_user(request, f"Deleting {started} endpoint(s) in SageMaker; the list shows them "
                          f"go to Deleted. {len(rows) - started} were not running.")

    @admin.action(description="Refresh status from SageMaker", permissions=["refresh"])
    def refresh_status(self, request, queryset):
        pks = list(queryset.exclude(status__in=[S.QUEUED, S.DELETED]).values_list("pk", flat=True))
        for pk in pks:
            transaction.on_commit(partial(refresh_deployment.delay, pk), robust=True)
        self.message_user(request, f"Asked SageMaker about {len(pks)} deployment(s) in the background: "
                          "reload in a few seconds to see their status.")


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
        rows = list(queryset.select_related("model", "user"))
        running = [job for job in rows if job.can_stop]
        if request.POST.get("confirmed") != "yes":
            return confirm(self, request, "stop_jobs", title="Stop these training jobs?", done="stopped",
                           intro="SageMaker stops these jobs; what they trained so far is not kept as a model.",
                           chosen=[_described(j) for j in running],
                           others=[_described(j) for j in rows if not j.can_stop],
                           button=f"Yes, stop {len(running)} training job(s)")
        stopped = sum(training.request_stop(job, request.user, via=" (admin)") for job in running)
        self.message_user(request, f"Stopping {stopped} training job(s); the list shows them go to Stopped.")


@admin.register(InstanceType)
class InstanceTypeAdmin(admin.ModelAdmin):
    """A machine type without a row here is allowed: add one with an "allowed" box off to restrict
    it for endpoints or for training. The machine facts come from EC2 (refreshed in Celery)."""

    list_display = ["name", "allowed", "allowed_for_training", "gpus", "gpu_name", "vcpus", "memory_mib", "offered", "note"]
    list_editable = ["allowed", "allowed_for_training", "note"]
    list_filter = ["allowed", "allowed_for_training", "offered"]
    search_fields = ["name"]
    readonly_fields = ["vcpus", "memory_mib", "gpus", "gpu_name", "offered", "facts_at"]
