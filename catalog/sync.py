"""The catalog sync: Model rows from JumpStart's manifest and spec files (its regional bucket, or a
folder laid out like it), plus the bundled cards, algorithms, notebooks and solutions."""

import json
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aws import AwsError, s3

from . import fitness, signals

from .models import SEARCH_COLUMNS, Algorithm, Model, Notebook, Solution, SyncRun, WebURLField, is_web_url

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
BUNDLED_DIR = DATA_DIR / "jumpstart-cache"
TEMPLATES_DIR = DATA_DIR / "solution_templates"
MANIFEST_KEY = "models_manifest.json"
# Marketplace models are listed apart, as in the real bucket; a source without this file has none.
PROPRIETARY_MANIFEST_KEY = "proprietary-sdk-manifest.json"
# Enough to overlap S3 latency without tripping its request-rate limits.
FETCH_THREADS = 8
# How many versions back a sync looks for one that deploys or fine-tunes, when the newest does not.
OLDER_VERSIONS = 3

ENTRY_FIELDS = ("model_id", "version", "spec_key")
MAX_LENGTHS = {f.attname: f.max_length for f in Model._meta.concrete_fields if f.max_length}


class Unreadable(Exception):
    """A document that is missing, out of reach, or not JSON; the message says where and why."""


class SyncFailed(Exception):
    """The manifest cannot be trusted, so the catalog stays as it was."""


class _Source:
    """Where the manifest and specs come from: load(key) reads one, where(key) names it."""

    def read(self, key):
        """The JSON document at key; raises Unreadable."""
        try:
            return self.load(key)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
            raise Unreadable(f"{self.where(key)} is not JSON") from exc


class BucketSource(_Source):
    def __init__(self, bucket=None, region=None):
        self.region = region or settings.AWS_REGION
        self.bucket = bucket or (
            f"jumpstart-cache-prod-{region}" if region else settings.JUMPSTART_BUCKET
        )
        self.name = f"s3://{self.bucket}"

    def where(self, key):
        return f"s3://{self.bucket}/{key}"

    def load(self, key):
        try:
            return s3.read_json(self.bucket, key, region=self.region)
        except AwsError as exc:
            raise Unreadable(f"{self.where(key)}: {exc}") from exc


class DirSource(_Source):
    def __init__(self, path):
        self.root = Path(path).resolve()
        self.name = str(self.root)

    def where(self, key):
        return str(self.root / key)

    def load(self, key):
        # A spec_key is data from the manifest: it must not climb out of the folder (a symlink
        # inside it is the maintainer's choice, so the check is on the path's text).
        path = Path(os.path.normpath(self.root / key))
        if not path.is_relative_to(self.root):
            raise Unreadable(f"{key} points outside {self.root}")
        try:
            return json.loads(path.read_bytes())
        except OSError as exc:
            raise Unreadable(f"{self.where(key)}: {exc.strerror or exc}") from exc


def sync_from_bucket(bucket=None, region=None):
    """Sync from JumpStart's bucket (settings.JUMPSTART_BUCKET, or the one of region)."""
    return run(BucketSource(bucket, region))


def sync_from_dir(path):
    """Sync from a folder laid out like the bucket, such as BUNDLED_DIR."""
    return run(DirSource(path))


def run(source):
    """Sync once and return the SyncRun; a bad manifest fails the run and changes nothing."""
    record = SyncRun.objects.create(source=source.name[:500])
    try:
        _Sync(source, record).apply()
        record.status = SyncRun.Status.SUCCEEDED
        signals.synced.send(sender=run, record=record)
    except SyncFailed as exc:
        record.status, record.error = SyncRun.Status.FAILED, str(exc)
    except BaseException as exc:
        # Recorded so the run is not left "running", then raised for the traceback.
        record.status, record.error = SyncRun.Status.FAILED, f"{type(exc).__name__}: {exc}"
        raise
    finally:
        record.finished_at = timezone.now()
        record.save()
    return record


def summary(run):
    if run.status == SyncRun.Status.FAILED:
        return f"Catalog sync from {run.source} failed: {run.error}"
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
    return (
        f"Catalog synced from {run.source} in {seconds:.1f}s: {run.created} created, "
        f"{run.updated} updated, {run.unchanged} unchanged, {run.unavailable} now unavailable, "
        f"{run.skipped} skipped"
    )


def version_key(version):
    """Numbers compare as numbers ("2.10.0" > "2.9.1"); the text breaks ties."""
    return [int(n) for n in re.findall(r"\d+", version)], version


def bundled(name):
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


class _Sync:
    def __init__(self, source, record):
        self.source = source
        self.record = record
        self.now = timezone.now()
        self.older = {}  # model id -> its other versions' entries, newest first

    def warn(self, message):
        self.record.warnings.append(message)
        self.record.skipped += 1
        log.warning("%s", message)

    def web_url(self, value, entry, field):
        """value if it is an http(s) address; otherwise '' after a warning naming the entry (a
        javascript: or data: link must never reach a page)."""
        if not value or is_web_url(value):
            return value
        message = f"dropped {entry}'s {field} {value[:80]!r}: only http:// and https:// links are kept"
        self.record.warnings.append(message)
        log.warning("%s", message)
        return ""

    def bundled_records(self, model, key, name):
        """A bundled file's records for model, with only http(s) links left in its URL fields."""
        records = bundled(name)
        fields = [f.name for f in model._meta.fields if isinstance(f, WebURLField)]
        for record in records:
            entry = f"{model._meta.verbose_name} {record.get(key)}"
            for field in fields:
                if field in record:
                    record[field] = self.web_url(record[field], entry, field)
        return records

    def apply(self):
        try:
            manifest = self.source.read(MANIFEST_KEY)
        except Unreadable as exc:
            raise SyncFailed(f"cannot read the manifest: {exc}") from exc
        if not isinstance(manifest, list):
            raise SyncFailed(f"{self.source.where(MANIFEST_KEY)} is not a JSON list")
        latest, listed = self.latest_entries(manifest, MANIFEST_KEY)
        if not latest:
            raise SyncFailed(f"{self.source.where(MANIFEST_KEY)} has no usable entry")
        rows = {row.model_id: row for row in Model.objects.all()}
        self.proprietary_ids = self.add_proprietary(latest, listed, rows)
        specs = self.fetch_specs(
            [entry for model_id, entry in latest.items() if needs_spec(rows.get(model_id), entry)]
        )
        fitness = self.work_out_fitness(latest, rows, specs)
        with transaction.atomic():
            # Read the rows again, locked, now that the slow part is done: a staff edit made while
            # the specs were fetched is kept, never written over with what was read before it.
            rows = {row.model_id: row for row in Model.objects.select_for_update()}
            algorithm_ids = upsert(Algorithm, "slug", self.bundled_records(Algorithm, "slug", "algorithms.json"))
            self.upsert_models(latest, listed, rows, specs, algorithm_ids, fitness)
            notebooks = self.bundled_records(Notebook, "path", "notebooks.json")
            notebook_ids = upsert(Notebook, "path", notebooks)
            upsert(Solution, "slug", self.bundled_records(Solution, "slug", "solutions.json"))
            attach_templates()
            link_notebooks(notebooks, notebook_ids)

    def add_proprietary(self, latest, listed, rows):
        """Add the Marketplace manifest's models and return their ids. When that manifest cannot be
        read, the proprietary models we have stay as they are rather than turn unavailable."""
        try:
            manifest = self.source.read(PROPRIETARY_MANIFEST_KEY)
            if not isinstance(manifest, list):
                raise Unreadable(f"{self.source.where(PROPRIETARY_MANIFEST_KEY)} is not a JSON list")
        except Unreadable as exc:
            self.record.warnings.append(f"proprietary models left as they were: {exc}")
            log.warning("proprietary models left as they were: %s", exc)
            kept = {model_id for model_id, row in rows.items() if row.proprietary}
            listed.update(kept)
            return kept
        proprietary, names = self.latest_entries(manifest, PROPRIETARY_MANIFEST_KEY)
        latest.update(proprietary)
        listed.update(names)
        return names

    def latest_entries(self, manifest, key):
        """The highest usable version of each model, and every model id the manifest names (a
        model with only broken entries is still listed, so it is not marked unavailable). The
        other usable versions, newest first, are kept in self.older."""
        latest, listed = {}, set()
        everything = {}
        for index, entry in enumerate(manifest):
            model_id = entry.get("model_id") if isinstance(entry, dict) else None
            if isinstance(model_id, str):
                listed.add(model_id)
            problem = entry_problem(entry)
            if problem:
                name = model_id or "no model_id"
                self.warn(f"skipped {key} entry #{index} ({name}): {problem}")
                continue
            everything.setdefault(model_id, []).append(entry)
        for model_id, entries in everything.items():
            entries.sort(key=lambda e: version_key(e["version"]), reverse=True)
            latest[model_id] = entries[0]
            self.older.setdefault(model_id, [e for e in entries[1:] if e["version"] != entries[0]["version"]])
        return latest, listed

    def fetch_specs(self, entries):
        """Specs by model id, fetched in parallel (boto3 clients are thread-safe); None where the
        spec is unusable, after a warning naming it."""
        with ThreadPoolExecutor(FETCH_THREADS) as pool:
            results = list(pool.map(self.fetch_spec, entries))
        specs = {}
        for entry, (spec, problem) in zip(entries, results):
            if problem:
                self.warn(f"skipped {entry['model_id']} {entry['version']}: {problem}")
            specs[entry["model_id"]] = spec
        return specs

    def fetch_spec(self, entry):
        try:
            spec = self.source.read(entry["spec_key"])
        except Unreadable as exc:
            return None, f"spec {exc}"
        if not isinstance(spec, dict):
            return None, f"spec {self.source.where(entry['spec_key'])} is not a JSON object"
        if spec.get("model_id") != entry["model_id"]:
            return None, f"spec {entry['spec_key']} is for model_id {spec.get('model_id')!r}"
        return spec, None

    def work_out_fitness(self, latest, rows, specs):
        """For each model whose spec is new here (or was worked out for another region): the
        newest version that deploys and the newest that fine-tunes, and the machine types each
        does it on. An older version is fetched only while the newest falls short, at most
        OLDER_VERSIONS back: JumpStart keeps the data of some models only in older specs."""
        region = settings.AWS_REGION
        fit, trains, short = {}, {}, {}
        for model_id, entry in latest.items():
            row = rows.get(model_id)
            spec = specs[model_id] if model_id in specs else (row.spec if row else None)
            if spec is None or (model_id not in specs and row.fitness_region == region):
                continue
            fit[model_id] = {"other_specs": {}, "fitness_region": region}
            # JumpStart may keep a model's training data only in an older spec: look there too.
            trains[model_id] = bool(spec.get("training_supported") or self.older.get(model_id))
            self.fit_version(fit[model_id], spec, entry["version"], region, trains[model_id])
            if falls_short(fit[model_id], trains[model_id]):
                short[model_id] = list(self.older.get(model_id, []))[:OLDER_VERSIONS]
        while short := {model_id: entries for model_id, entries in short.items() if entries}:
            for model_id, spec in self.fetch_specs([entries.pop(0) for entries in short.values()]).items():
                if spec is not None and self.fit_version(fit[model_id], spec, spec.get("version") or "", region,
                                                         trains[model_id]):
                    fit[model_id]["other_specs"][spec.get("version") or ""] = spec
                if not falls_short(fit[model_id], trains[model_id]):
                    short.pop(model_id)
        return fit

    @staticmethod
    def fit_version(this, spec, version, region, trains):
        """Fill in what `this` still lacks from this version's spec; True when it gave something."""
        gave = False
        for kind, probe in (("deploy", fitness.deploy_types), ("training", fitness.training_types)):
            if this.get(f"{kind}_version") or (kind == "training" and not trains):
                continue
            types, problem = probe(spec, region)
            if types:
                this.update({f"{kind}_version": version, f"{kind}_types": types, f"{kind}_problem": ""})
                gave = True
            else:
                this.setdefault(f"{kind}_problem", problem or "")
        this.setdefault("deploy_version", "")
        this.setdefault("deploy_types", [])
        this.setdefault("training_version", "")
        this.setdefault("training_types", [])
        this.setdefault("training_problem", "JumpStart does not offer fine-tuning for this model.")
        this["deployable"], this["trainable"] = bool(this["deploy_types"]), bool(this["training_types"])
        return gave

    def upsert_models(self, latest, listed, rows, specs, algorithm_ids, fit):
        record = self.record
        cards, tasks = bundled("cards.json"), bundled("tasks.json")
        new, changed = [], []
        # bulk_update writes one CASE per column and row, which is slow for wide rows: only the
        # columns that changed somewhere are written.
        columns = {"updated_at"}
        for model_id, entry in latest.items():
            row = rows.get(model_id)
            # Not fetched means unchanged: the stored spec still holds.
            spec = specs[model_id] if model_id in specs else row.spec
            if spec is None:
                continue
            card = cards.get(model_id, {})
            proprietary = model_id in self.proprietary_ids
            values = model_fields(entry, spec, card, tasks, algorithm_ids, proprietary)
            values["model_url"] = self.web_url(values["model_url"], model_id, "url")
            values.update(fit.get(model_id, {}))
            # Curated text: filled from the card only while blank, so staff edits survive.
            for field in ("display_name", "description"):
                values[field] = clip(field, (row and getattr(row, field)) or card.get(field, ""))
            if row is None:
                new.append(Model(model_id=model_id, **values, synced_at=self.now))
                continue
            changes = {field: v for field, v in values.items() if getattr(row, field) != v}
            if changes:
                for field, value in changes.items():
                    setattr(row, field, value)
                row.synced_at = self.now
                columns.update(changes, ["synced_at"])
                changed.append(row)
                record.updated += 1
            else:
                record.unchanged += 1
        if not new and not changed and not record.unchanged:
            raise SyncFailed(f"no entry of {self.source.where(MANIFEST_KEY)} could be synced")
        for row in rows.values():
            if row.model_id not in listed and row.available:
                row.available = False
                columns.add("available")
                changed.append(row)
                record.unavailable += 1
        for row in new + changed:
            searched = [getattr(row, column) for column in SEARCH_COLUMNS]
            row.refresh_search()
            if [getattr(row, column) for column in SEARCH_COLUMNS] != searched:
                columns.update(SEARCH_COLUMNS)
            row.updated_at = self.now
        Model.objects.bulk_create(new, batch_size=500)
        Model.objects.bulk_update(changed, sorted(columns), batch_size=500)
        record.created = len(new)


def falls_short(this, trains):
    """Does a model still lack a version to deploy, or (where JumpStart fine-tunes it) to fine-tune?"""
    return not this["deploy_version"] or (trains and not this["training_version"])


def needs_spec(row, entry):
    if row is None or not row.spec:
        return True
    return (row.version, row.spec_key) != (entry["version"], entry["spec_key"])


def entry_problem(entry):
    if not isinstance(entry, dict):
        return "not a JSON object"
    for field in ENTRY_FIELDS:
        value = entry.get(field)
        if not isinstance(value, str) or not value.strip():
            return f"no {field}"
        if len(value) > MAX_LENGTHS[field]:
            return f"{field} is longer than {MAX_LENGTHS[field]} characters"
    return None


def model_fields(entry, spec, card, tasks, algorithm_ids, proprietary):
    """A Model row's synced values from its manifest entry, spec and bundled card."""
    model_id = entry["model_id"]
    # The SDK's rule (notebook_utils.extract_framework_task_model); Marketplace ids don't follow it.
    parts = [] if proprietary else model_id.split("-")
    task = parts[1] if len(parts) > 1 else ""
    source_hub = card.get("source_hub")
    values = {
        "version": entry["version"],
        "spec_key": entry["spec_key"],
        "min_sdk_version": text(spec.get("min_sdk_version")) or text(entry.get("min_version")),
        "framework": parts[0] if parts else "",
        "task": task,
        "task_label": card.get("task_label") or tasks.get(task, {}).get("label", ""),
        "modality": card.get("modality") or tasks.get(task, {}).get("modality", ""),
        # "Source" is the SDK table's placeholder for "no hub".
        "provider": text(spec.get("provider")) if source_hub in (None, "Source") else source_hub,
        "model_url": text(spec.get("url")),
        "license": text(spec.get("license")),
        "search_keywords": items(entry.get("search_keywords")),
        "proprietary": proprietary,
        "fine_tunable": flag(spec.get("training_supported")),
        "gated": (
            bool(spec.get("hosting_eula_key"))
            or spec.get("gated_bucket") is True
            or card.get("gated") is True
        ),
        "deprecated": spec.get("deprecated") is True or entry.get("deprecated") is True,
        "deprecated_message": (
            text(spec.get("deprecated_message")) or text(spec.get("deprecate_warn_message"))
        ),
        "default_inference_instance_type": text(spec.get("default_inference_instance_type")),
        "supported_inference_instance_types": items(spec.get("supported_inference_instance_types")),
        "default_training_instance_type": text(spec.get("default_training_instance_type")),
        "supported_training_instance_types": items(spec.get("supported_training_instance_types")),
        "hyperparameters": items(spec.get("hyperparameters")),
        "algorithm_id": algorithm_ids.get(card.get("algorithm")),
        "spec": spec,
        "available": True,
    }
    return {field: clip(field, value) for field, value in values.items()}


def text(value):
    return value if isinstance(value, str) else ""


def items(value):
    return value if isinstance(value, list) else []


def flag(value):
    return value if isinstance(value, bool) else None


def clip(field, value):
    """Fit a text value into its column: PostgreSQL refuses an over-long one, failing the run."""
    limit = MAX_LENGTHS.get(field)
    return value[:limit] if limit and isinstance(value, str) else value


def upsert(model, key, records):
    """Create or update rows by key from bundled records, and return {key: pk}. Records hold no
    staff flags (featured, hidden), so those stay as staff set them."""
    fields = sorted({field for record in records for field in record} - {key})
    defaults = {field: model._meta.get_field(field).get_default() for field in fields}
    rows = {getattr(row, key): row for row in model.objects.all()}
    new, changed = [], []
    for record in records:
        values = {**defaults, **record}
        row = rows.get(record[key])
        if row is None:
            new.append(model(**values))
        elif any(getattr(row, field) != values[field] for field in fields):
            for field in fields:
                setattr(row, field, values[field])
            changed.append(row)
    model.objects.bulk_create(new)
    model.objects.bulk_update(changed, fields)
    return dict(model.objects.values_list(key, "pk"))


def attach_templates():
    """The bundled CloudFormation templates (data/solution_templates/<slug>.json) on their
    solutions, unless staff attached or edited one; a solution with no bundled template keeps
    none."""
    bundled_templates = {path.stem: path.read_text(encoding="utf-8") for path in TEMPLATES_DIR.glob("*.json")}
    for solution in Solution.objects.filter(template_by_staff=False).only("pk", "slug", "template"):
        wanted = bundled_templates.get(solution.slug, "")
        if solution.template != wanted:
            Solution.objects.filter(pk=solution.pk).update(template=wanted)


def link_notebooks(notebooks, notebook_ids):
    """Link each bundled notebook to the models it names that are in the catalog."""
    through = Notebook.models.through
    model_ids = dict(Model.objects.values_list("model_id", "pk"))
    wanted = {
        (notebook_ids[nb["path"]], model_ids[model_id])
        for nb in notebooks
        for model_id in nb.get("model_ids", [])
        if model_id in model_ids
    }
    # Only bundled notebooks' links: staff may link notebooks they added by hand.
    bundled_ids = [notebook_ids[nb["path"]] for nb in notebooks]
    links = through.objects.filter(notebook_id__in=bundled_ids)
    have = {(n, m): pk for pk, n, m in links.values_list("pk", "notebook_id", "model_id")}
    through.objects.bulk_create(
        [through(notebook_id=n, model_id=m) for n, m in wanted - have.keys()]
    )
    stale = [pk for link, pk in have.items() if link not in wanted]
    if stale:
        through.objects.filter(pk__in=stale).delete()
