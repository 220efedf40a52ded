"""Staff manage every deployment and the machine types users may pick, as their permissions allow."""

from functools import partial

from django.contrib import admin
from django.contrib.admin import helpers
from django.db import transaction
from django.template.response import TemplateResponse

from . import deployments
from .models import Deployment, DeploymentEvent, InstanceType
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
        deletable = [d for d in queryset.select_related("model", "user") if d.can_delete]
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request), "title": "Delete these endpoints?",
                "opts": self.model._meta, "deletable": deletable,
                "others": [d for d in queryset.select_related("model", "user") if not d.can_delete],
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/jobs/deployment/delete_endpoints.html", context)
        started = sum(deployments.request_deletion(d, request.user, via=" (admin)") for d in deletable)
        self.message_user(request, f"Deleting {started} endpoint(s) in SageMaker; the list shows them "
                          f"go to Deleted. {len(queryset) - started} were not running.")

    @admin.action(description="Refresh status from SageMaker", permissions=["refresh"])
    def refresh_status(self, request, queryset):
        pks = list(queryset.exclude(status__in=[S.QUEUED, S.DELETED]).values_list("pk", flat=True))
        for pk in pks:
            transaction.on_commit(partial(refresh_deployment.delay, pk), robust=True)
        self.message_user(request, f"Asked SageMaker about {len(pks)} deployment(s) in the background: "
                          "reload in a few seconds to see their status.")


@admin.register(InstanceType)
class InstanceTypeAdmin(admin.ModelAdmin):
    """A machine type without a row here is allowed: add one with "allowed" off to restrict it."""

    list_display = ["name", "allowed", "note"]
    list_editable = ["allowed", "note"]
    list_filter = ["allowed"]
    search_fields = ["name"]
