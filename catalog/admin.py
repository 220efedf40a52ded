"""Staff curate the catalog here: feature, hide, rename, deprecate, add links, run a sync."""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.shortcuts import redirect
from django.urls import path, reverse

from .models import Algorithm, Link, Model, Notebook, Solution, SyncRun


def _flag_action(field, value, description):
    def action(modeladmin, request, queryset):
        changed = queryset.update(**{field: value})
        modeladmin.message_user(request, f"{changed} entr{'y' if changed == 1 else 'ies'} updated.")

    action.__name__ = f"set_{field}_{value}".lower()
    return admin.action(description=description)(action)


CURATION_ACTIONS = [
    _flag_action("featured", True, "Feature on the home page"),
    _flag_action("featured", False, "Stop featuring"),
    _flag_action("hidden", True, "Hide from browsing and search"),
    _flag_action("hidden", False, "Show again"),
]


class CuratedAdmin(admin.ModelAdmin):
    actions = CURATION_ACTIONS
    list_filter = ["featured", "hidden"]


@admin.register(Model)
class ModelAdmin(CuratedAdmin):
    list_display = ["model_id", "display_name", "modality", "task_label", "provider", "fine_tunable",
                    "featured", "hidden", "is_deprecated", "available"]
    list_filter = ["modality", "featured", "hidden", "deprecated", "deprecated_by_staff", "available",
                   "fine_tunable", "gated", "proprietary", "framework"]
    search_fields = ["model_id", "display_name"]
    actions = [
        *CURATION_ACTIONS,
        _flag_action("deprecated_by_staff", True, "Mark deprecated"),
        _flag_action("deprecated_by_staff", False, "Clear the staff deprecation mark"),
    ]
    fieldsets = [
        ("Curation", {"fields": ["display_name", "description", "featured", "hidden", "deprecated_by_staff"]}),
        ("From JumpStart", {"fields": [
            "model_id", "version", "spec_key", "min_sdk_version", "framework", "task", "task_label", "modality",
            "provider", "model_url", "license", "proprietary", "fine_tunable", "gated", "deprecated",
            "deprecated_message", "available", "default_inference_instance_type",
            "supported_inference_instance_types", "default_training_instance_type",
            "supported_training_instance_types", "algorithm", "synced_at",
        ]}),
        ("Spec", {"classes": ["collapse"], "fields": ["hyperparameters", "spec"]}),
    ]
    readonly_fields = fieldsets[1][1]["fields"] + fieldsets[2][1]["fields"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("spec", "hyperparameters", "search_name", "search_text")

    @admin.display(boolean=True, description="Deprecated")
    def is_deprecated(self, obj):
        return obj.is_deprecated

    def has_add_permission(self, request):
        return False  # models come from JumpStart's catalog, through the sync


@admin.register(Notebook)
class NotebookAdmin(CuratedAdmin):
    list_display = ["title", "path", "featured", "hidden"]
    search_fields = ["title", "path"]
    filter_horizontal = ["models"]


@admin.register(Solution)
class SolutionAdmin(CuratedAdmin):
    list_display = ["name", "category", "launchable", "template_by_staff", "featured", "hidden"]
    list_filter = [*CuratedAdmin.list_filter, "template_by_staff"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 12, "class": "vLargeTextField mono"})}}

    @admin.display(boolean=True, description="Launchable")
    def launchable(self, obj):
        return obj.launchable

    def save_model(self, request, obj, form, change):
        # A template staff attached or edited is theirs: the sync no longer replaces it (untick
        # "template by staff" to have the bundled one back at the next sync).
        if "template" in form.changed_data:
            obj.template_by_staff = True
        super().save_model(request, obj, form, change)


@admin.register(Algorithm)
class AlgorithmAdmin(CuratedAdmin):
    list_display = ["name", "slug", "featured", "hidden"]


@admin.register(Link)
class LinkAdmin(CuratedAdmin):
    list_display = ["title", "kind", "url", "featured", "hidden", "created_at"]
    list_filter = ["kind", "featured", "hidden"]
    search_fields = ["title", "url"]


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "source", "status", "created", "updated", "unchanged", "unavailable", "skipped"]
    list_filter = ["status"]
    change_list_template = "admin/catalog/syncrun/change_list.html"

    def get_urls(self):
        sync = self.admin_site.admin_view(self.start_sync)
        return [path("start/", sync, name="catalog_syncrun_start"), *super().get_urls()]

    def start_sync(self, request):
        from .tasks import sync_catalog

        if request.method == "POST":
            transaction.on_commit(partial(sync_catalog.delay))
            self.message_user(request, "Catalog sync queued: refresh this page to follow it.", messages.SUCCESS)
        return redirect(reverse("admin:catalog_syncrun_changelist"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
