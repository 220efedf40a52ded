"""The catalog: JumpStart models (kept in step with JumpStart's bucket by catalog.sync), the
algorithms, example notebooks and solutions bundled with the project, and staff-added links."""

import json
import re
import secrets

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connections, models, router, transaction
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.db.models.functions import Length, StrIndex
from django.db.models.lookups import Exact, GreaterThan
from django.db.models.signals import m2m_changed, post_migrate
from django.urls import reverse
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property

from . import search, signals

_WEB_URL = re.compile(r"https?://\S", re.IGNORECASE)


def is_web_url(value):
    """True for an http:// or https:// address: the only kind of link a page puts in an href
    (javascript:, data: and the like would run or show something of the link's choosing)."""
    return isinstance(value, str) and _WEB_URL.match(value) is not None


@deconstructible
class WebURLValidator(URLValidator):
    def __init__(self):
        super().__init__(schemes=["http", "https"])

    def __call__(self, value):
        if not is_web_url(value):
            raise ValidationError(
                "Enter a web address that starts with http:// or https:// (other kinds of link are not allowed).",
                code="invalid_scheme",
            )
        super().__call__(value)


class WebURLFormField(forms.URLField):
    default_validators = [WebURLValidator()]


class WebURLField(models.URLField):
    """A URL that is an http(s) address, in the database and in the admin's forms."""

    default_validators = [WebURLValidator()]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": WebURLFormField, **kwargs})


class Modality(models.TextChoices):
    TEXT = "text", "Text"
    VISION = "vision", "Vision"
    TABULAR = "tabular", "Tabular"
    AUDIO = "audio", "Audio"
    MULTIMODAL = "multimodal", "Multimodal"
    TIME_SERIES = "time-series", "Time series"


def search_terms(q):
    """The words of a query, lower-cased; at most eight, so a pasted paragraph stays cheap."""
    return q.lower().split()[:8]


def words(*parts):
    """Space-delimited lower-case words (with a space at each end), so ' bert ' matches a word."""
    text = " ".join(p for p in parts if p).lower()
    for sep in "-_/,.:()":
        text = text.replace(sep, " ")
    return f" {' '.join(text.split())} "


def hyperparameter_rows(hyperparameters):
    """Hyperparameters as a person reads them: the valid values spelled out in one string."""
    rows = []
    for h in hyperparameters:
        low_open, high_open = "exclusive_min" in h, "exclusive_max" in h
        low = h.get("exclusive_min") if low_open else h.get("min")
        high = h.get("exclusive_max") if high_open else h.get("max")
        if h.get("options"):
            valid = "one of " + ", ".join(str(o) for o in h["options"])
        elif low is not None and high is not None and not (low_open or high_open):
            valid = f"{low} to {high}"
        else:
            bounds = []
            if low is not None:
                bounds.append(f"{'more than' if low_open else 'at least'} {low}")
            if high is not None:
                bounds.append(f"{'less than' if high_open else 'at most'} {high}")
            valid = ", ".join(bounds) or h.get("valid_values_text") or ""
        rows.append({**h, "valid": valid})
    return rows


class CatalogVersion(models.Model):
    """One row whose token changes with every change to the catalog, in the same transaction:
    cached catalog pages are keyed by it, so no web process ever serves one a sync or a staff
    edit has made stale. A random token rather than a counter, so a database restored or emptied
    never meets pages cached for another catalog under the same number."""

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)

    @classmethod
    def current(cls, using="default"):
        # Read on every catalog page, so in plain SQL: building the ORM's query would cost more
        # than running it.
        with connections[using].cursor() as cursor:
            cursor.execute(f"SELECT token FROM {cls._meta.db_table} WHERE id = 1")
            row = cursor.fetchone()
        return row[0] if row else cls.bump(using)

    @classmethod
    def bump(cls, using="default"):
        token = secrets.token_hex(8)
        if not cls.objects.using(using).filter(pk=1).update(token=token):
            cls.objects.using(using).bulk_create([cls(pk=1, token=token)], ignore_conflicts=True)
        return token


def catalog_changed(using="default", action="post_", **kwargs):
    if action.startswith("post_"):  # m2m_changed sends pre_ and post_ of each change
        CatalogVersion.bump(using)


class Curated(models.Model):
    """What staff decide about any catalog entry. Every write to an entry changes the catalog's
    version in its own transaction (see CatalogVersion)."""

    featured = models.BooleanField(default=False, help_text="Shown first on the home page.")
    hidden = models.BooleanField(default=False, help_text="Left out of browsing and search.")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            super().save(*args, **kwargs)
            CatalogVersion.bump(using)

    def delete(self, using=None, keep_parents=False):
        using = using or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            deleted = super().delete(using=using, keep_parents=keep_parents)
            CatalogVersion.bump(using)
        return deleted


class EntryQuerySet(models.QuerySet):
    # Writes that bypass save() and delete() (admin actions, bulk_update, the sync) change the
    # version too; bulk_update writes through update().
    def update(self, **kwargs):
        with transaction.atomic(using=self.db):
            rows = super().update(**kwargs)
            if rows:
                CatalogVersion.bump(self.db)
        return rows

    def delete(self):
        with transaction.atomic(using=self.db):
            deleted = super().delete()
            if deleted[0]:
                CatalogVersion.bump(self.db)
        return deleted

    delete.alters_data = delete.queryset_only = True  # as QuerySet.delete: no Model.objects.delete()

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            if objs:
                CatalogVersion.bump(self.db)
        return created

    def visible(self):
        return self.filter(hidden=False)

    def matching(self, q, fields):
        """Entries where every word of q appears in one of fields (case-insensitive)."""
        qs = self
        for term in search_terms(q):
            match = Q()
            for field in fields:
                match |= Q(**{f"{field}__icontains": term})
            qs = qs.filter(match)
        return qs


# A model browsing and the home page show: listed, not hidden, not deprecated.
BROWSABLE = Q(available=True, hidden=False, deprecated=False, deprecated_by_staff=False)


class ModelQuerySet(EntryQuerySet):
    def visible(self):
        return self.filter(hidden=False, available=True)

    def not_deprecated(self):
        return self.filter(deprecated=False, deprecated_by_staff=False)

    def for_listing(self):
        """Only the columns a card needs: the spec documents stay in the database."""
        return self.only(
            "model_id", "version", "display_name", "description", "task", "task_label", "framework",
            "modality", "provider", "fine_tunable", "gated", "deprecated", "deprecated_by_staff",
            "proprietary", "featured", "default_inference_instance_type", "deployable", "trainable",
        )

    def deployable(self):
        return self.filter(deployable=True)

    def refresh_fitness(self, *, restricted_for_endpoints=(), restricted_for_training=()):
        """Mark which models can be deployed and fine-tuned here now: a model is deployable when
        one of the machine types its spec resolves for this region is not restricted by staff
        (likewise trainable). Called after a sync and when staff change a restriction. Returns
        how many rows changed (bulk_update changes the catalog's version when any did)."""
        changed = []
        for row in self.only("pk", "deploy_types", "training_types", "deployable", "trainable"):
            deployable = bool(set(row.deploy_types) - set(restricted_for_endpoints))
            trainable = bool(set(row.training_types) - set(restricted_for_training))
            if (deployable, trainable) != (row.deployable, row.trainable):
                row.deployable, row.trainable = deployable, trainable
                changed.append(row)
        self.model.objects.bulk_update(changed, ["deployable", "trainable"], batch_size=500)
        return len(changed)

    def best_first(self):
        """Featured first, then models with a model card, then by id."""
        return self.order_by(*BEST_FIRST)

    def best_match(self):
        """After search(): by rank; among equals one that can be deployed here first, then the
        plainer (shorter) id."""
        return self.order_by("-rank", "-deployable", "-featured", "no_card", Length("model_id"), "model_id")

    def matches(self, q):
        """Models matching every word of q in their id, name, keywords, description, task or
        source, part of a word included, found through the database's own index (see search.py)."""
        return search.matching(self, search_terms(q))

    def search(self, q):
        """Models matching every word of q, with their rank for best_match()."""
        return self.matches(q).ranked(q)

    def ranked(self, q):
        """Each model's rank for q, best first: an exact id or name, then a whole word of the id,
        name or keywords, then part of one, then a word of the description."""
        terms = search_terms(q)
        if not terms:
            return self.annotate(rank=Value(0, output_field=IntegerField()))
        phrase = " ".join(terms)

        def found(column, text):  # INSTR/STRPOS: a good deal cheaper than LIKE over every match
            return GreaterThan(StrIndex(column, Value(text)), 0)

        rank = Case(
            When(model_id=phrase, then=Value(1000)),
            When(Exact(StrIndex("search_name", Value(f" {phrase} ")), 1), then=Value(900)),
            default=Value(0),
            output_field=IntegerField(),
        )
        for term in terms:
            rank += Case(
                When(found("search_name", f" {term} "), then=Value(100)),
                When(found("search_name", f" {term}"), then=Value(60)),
                When(found("search_name", term), then=Value(30)),
                When(found("search_text", f" {term} "), then=Value(5)),
                default=Value(1),
                output_field=IntegerField(),
            )
        return self.annotate(rank=rank)

    def facet_rows(self):
        """How many models there are of each task, framework and source together: one GROUP BY
        from which every facet and the total are summed (see views._facets)."""
        return self.order_by().values("task", "task_label", "framework", "provider").annotate(n=Count("pk"))


BEST_FIRST = ("-featured", "no_card", "model_id")
# What refresh_search() works out from a model's other fields.
SEARCH_COLUMNS = ("search_name", "search_text", "no_card")


class Algorithm(Curated):
    """A SageMaker built-in algorithm that JumpStart models belong to (its docs' hyperparameters)."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    hyperparameters = models.JSONField(default=list, blank=True)
    algorithm_page = WebURLField(max_length=500, blank=True)
    hyperparameters_page = WebURLField(max_length=500, blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:algorithm-detail", args=[self.slug])


class Model(Curated):
    """A JumpStart model: manifest and spec facts (written by the sync), plus staff curation."""

    model_id = models.CharField(max_length=200, unique=True)
    version = models.CharField(max_length=40, blank=True)
    spec_key = models.CharField(max_length=500, blank=True)
    min_sdk_version = models.CharField(max_length=40, blank=True)
    # Curated: the sync fills these only while they are blank, so staff edits survive it.
    display_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)

    framework = models.CharField(max_length=60, blank=True, db_index=True)
    task = models.CharField(max_length=60, blank=True, db_index=True)
    task_label = models.CharField(max_length=120, blank=True)
    modality = models.CharField(max_length=20, choices=Modality.choices, blank=True, db_index=True)
    provider = models.CharField(max_length=100, blank=True, db_index=True)
    model_url = WebURLField(max_length=500, blank=True)
    license = models.CharField(max_length=200, blank=True)
    search_keywords = models.JSONField(default=list, blank=True)

    proprietary = models.BooleanField(default=False)
    fine_tunable = models.BooleanField(null=True, help_text="Unknown when JumpStart does not say.")
    gated = models.BooleanField(default=False, help_text="Needs its license (EULA) accepted to deploy.")
    deprecated = models.BooleanField(default=False, help_text="JumpStart marks it deprecated.")
    deprecated_message = models.TextField(blank=True)
    deprecated_by_staff = models.BooleanField(default=False, help_text="Staff mark it deprecated.")
    available = models.BooleanField(default=True, help_text="Listed in JumpStart's latest manifest.")

    default_inference_instance_type = models.CharField(max_length=60, blank=True)
    supported_inference_instance_types = models.JSONField(default=list, blank=True)
    default_training_instance_type = models.CharField(max_length=60, blank=True)
    supported_training_instance_types = models.JSONField(default=list, blank=True)
    hyperparameters = models.JSONField(default=list, blank=True)
    algorithm = models.ForeignKey(
        Algorithm, null=True, blank=True, on_delete=models.SET_NULL, related_name="models"
    )
    spec = models.JSONField(default=dict, blank=True, help_text="The spec file as JumpStart serves it.")
    # What can be done with it here (in AWS_REGION), from its specs: the newest version that
    # deploys and the newest that fine-tunes (often the same), the machine types each resolves
    # for, and why not when none does. The flags also count staff's restrictions.
    deploy_version = models.CharField(max_length=40, blank=True)
    deploy_types = models.JSONField(default=list, blank=True)
    deploy_problem = models.TextField(blank=True)
    deployable = models.BooleanField(default=False, db_index=True)
    training_version = models.CharField(max_length=40, blank=True)
    training_types = models.JSONField(default=list, blank=True)
    training_problem = models.TextField(blank=True)
    trainable = models.BooleanField(default=False, db_index=True, help_text="Can be fine-tuned here.")
    other_specs = models.JSONField(default=dict, blank=True, help_text="Older versions' specs that deploy or fine-tune.")
    fitness_region = models.CharField(max_length=30, blank=True, help_text="The region the fitness was worked out for.")

    search_name = models.TextField(blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)
    # No display name: such cards come after named ones. A column, kept with the search columns,
    # so the browse index below holds the whole "best first" order.
    no_card = models.BooleanField(default=True, editable=False)
    synced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ModelQuerySet.as_manager()

    class Meta:
        ordering = ["-featured", "model_id"]
        # Each home category's first models, best first, and its count, read from an index whatever
        # the catalog's size (views._model_previews): by modality, and the proprietary ones apart.
        indexes = [
            models.Index(fields=["modality", "-featured", "no_card", "model_id"], name="catalog_model_browse",
                         condition=Q(BROWSABLE, proprietary=False)),
            models.Index(fields=["-featured", "no_card", "model_id"], name="catalog_model_browse_prop",
                         condition=Q(BROWSABLE, proprietary=True)),
        ]

    def __str__(self):
        return self.model_id

    def get_absolute_url(self):
        return reverse("catalog:model-detail", args=[self.model_id])

    def save(self, *args, **kwargs):
        self.refresh_search()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], *SEARCH_COLUMNS}
        super().save(*args, **kwargs)

    def refresh_search(self):
        self.search_name = words(self.model_id, self.display_name, *self.search_keywords)
        self.search_text = words(self.description, self.task_label, self.provider)
        self.no_card = not self.display_name
        # The whole id too, so a pasted id with its hyphens still matches.
        self.search_name = f" {self.model_id.lower()}{self.search_name}"

    @property
    def name(self):
        return self.display_name or self.model_id

    @property
    def is_deprecated(self):
        return self.deprecated or self.deprecated_by_staff

    @property
    def algorithm_hyperparameters(self):
        return self.hyperparameters or (self.algorithm.hyperparameters if self.algorithm else [])

    @property
    def user_hyperparameters(self):
        """The hyperparameters a person sets (scope 'algorithm'), not the container's own."""
        return [h for h in self.algorithm_hyperparameters if h.get("scope", "algorithm") == "algorithm"]

    @property
    def predictor_specs(self):
        return self.spec.get("predictor_specs") or {}

    def spec_of(self, version):
        return self.spec if version in ("", self.version) else self.other_specs.get(version, self.spec)

    @property
    def deploy_spec(self):
        """The spec a deploy uses: the newest version that deploys here."""
        return self.spec_of(self.deploy_version)

    @property
    def training_spec(self):
        """The spec a fine-tune uses: the newest version that fine-tunes here."""
        return self.spec_of(self.training_version)

    @property
    def inference_instances(self):
        """The default and supported inference machine types of the version a deploy uses."""
        return self._instances(self.deploy_version, "inference")

    @property
    def training_instances(self):
        """The default and supported training machine types of the version a fine-tune uses."""
        return self._instances(self.training_version, "training")

    def _instances(self, version, kind):
        default, supported = f"default_{kind}_instance_type", f"supported_{kind}_instance_types"
        source = vars(self) if version in ("", self.version) else self.spec_of(version)
        return {"default": source.get(default) or "", "types": source.get(supported) or []}


class Notebook(Curated):
    """An example notebook from aws/amazon-sagemaker-examples that uses JumpStart."""

    path = models.CharField(max_length=400, unique=True)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    url = WebURLField(max_length=600)
    tasks = models.JSONField(default=list, blank=True)
    task_labels = models.JSONField(default=list, blank=True)
    model_ids = models.JSONField(default=list, blank=True, help_text="Models the notebook names.")
    models = models.ManyToManyField(Model, blank=True, related_name="notebooks")

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-featured", "title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("catalog:notebook-detail", args=[self.pk])


# CloudFormation's own limit on a template sent in the request (TemplateBody).
TEMPLATE_BODY_LIMIT = 51_200


def validate_stack_template(text):
    """A template Launch can send: JSON (what CloudFormation reads as it is, and what the product
    reads to find the endpoints it made), with Resources, within CloudFormation's size limit."""
    if not text:
        return
    if len(text.encode()) > TEMPLATE_BODY_LIMIT:
        raise ValidationError(f"The template is {len(text.encode()):,} bytes; CloudFormation takes at most "
                              f"{TEMPLATE_BODY_LIMIT:,} in a request. Shorten it.")
    try:
        template = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"The template is not JSON ({exc}). Paste it as JSON; YAML is not read here.") from exc
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict) or not template["Resources"]:
        raise ValidationError("The template has no Resources: CloudFormation needs at least one resource to make.")


class Solution(Curated):
    """A JumpStart solution: an end-to-end template that ties SageMaker to other services."""

    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=120, blank=True)
    description = models.TextField(blank=True)
    github_url = WebURLField(max_length=500, blank=True)
    availability = models.CharField(max_length=200, blank=True)
    source_url = WebURLField(max_length=500, blank=True)
    template = models.TextField(
        blank=True, validators=[validate_stack_template],
        help_text="The CloudFormation template (JSON) Launch creates a stack from; empty: the solution "
                  "links to its source instead. A Parameter named ExecutionRoleArn gets the installation's "
                  "SageMaker role; Metadata.JumpStartUI.ModelId names the catalog model its endpoints serve.")
    template_by_staff = models.BooleanField(
        default=False, help_text="Staff attached or edited the template: syncs leave it as it is.")

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-featured", "name"]

    @property
    def launchable(self):
        return bool(self.template)

    @cached_property
    def stack_template(self):
        """The template as a dict ({} when there is none)."""
        return json.loads(self.template) if self.template else {}

    @property
    def served_model_id(self):
        """The catalog model the stack's endpoints serve (Metadata.JumpStartUI.ModelId), or None."""
        return ((self.stack_template.get("Metadata") or {}).get("JumpStartUI") or {}).get("ModelId")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:solution-detail", args=[self.slug])


class Link(Curated):
    """A blog post or video tutorial that staff add to the catalog."""

    class Kind(models.TextChoices):
        BLOG = "blog", "Blog"
        VIDEO = "video", "Video tutorial"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=300)
    url = WebURLField(max_length=600)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-featured", "-created_at"]

    def __str__(self):
        return self.title


class SyncRun(models.Model):
    """One run of the catalog sync: what it read and what it changed."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=500)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    unavailable = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"sync from {self.source} ({self.status})"


# What changes the catalog outside the writes above: a notebook's models linked or unlinked, and
# a sync (whose link table writes pass no queryset of ours).
m2m_changed.connect(catalog_changed, sender=Notebook.models.through, dispatch_uid="catalog-version-notebook-models")
signals.synced.connect(catalog_changed, dispatch_uid="catalog-version-after-sync")


def _repair_search_index(app_config, using="default", **kwargs):
    if app_config.label == "catalog":
        search.repair(connections[using])


post_migrate.connect(_repair_search_index, dispatch_uid="catalog-search-index-repair")
