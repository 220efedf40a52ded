"""Staff manage every deployment and the machine types users may pick."""

from functools import partial

from django.contrib import admin
from django.db import transaction

from . import deployments
from .models import Deployment, DeploymentEvent, InstanceType
from .tasks import delete_deployment

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

    @admin.action(description="Delete endpoints (and their configs and models) in SageMaker")
    def delete_endpoints(self, request, queryset):
        started = 0
        for deployment in queryset:
            with transaction.atomic():
                if deployment.move(S.DELETING, allowed_from=[S.IN_SERVICE, S.FAILED, S.UPDATING],
                                   message=f"Deletion requested by {request.user.get_username()} (admin)."):
                    transaction.on_commit(partial(delete_deployment.delay, deployment.pk))
                    started += 1
        self.message_user(request, f"Deleting {started} endpoint(s); the others were not running.")

    @admin.action(description="Refresh status from SageMaker now")
    def refresh_status(self, request, queryset):
        moved = sum(deployments.refresh(d) for d in queryset)
        self.message_user(request, f"{moved} deployment(s) changed status.")


@admin.register(InstanceType)
class InstanceTypeAdmin(admin.ModelAdmin):
    """A machine type without a row here is allowed: add one with "allowed" off to restrict it."""

    list_display = ["name", "allowed", "note"]
    list_editable = ["allowed", "note"]
    list_filter = ["allowed"]
    search_fields = ["name"]
