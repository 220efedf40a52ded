"""Maintainer script: turn the gathered JumpStart research data into the catalog files bundled here.

Run: python catalog/data/build_bundle.py /path/to/shared/catalog   (the app never imports it)
"""

import json
import re
import shutil
import sys
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parent
CACHE = OUT / "jumpstart-cache"

# Spec name -> catalog name, for the facts a rendered spec carries unchanged (FORMAT.md §1.3).
SPEC_FIELDS = {
    "model_id": "model_id",
    "version": "version",
    "min_sdk_version": "min_sdk_version",
    "url": "model_url",
    "deprecated": "deprecated",
    "training_supported": "fine_tunable",
    "incremental_training_supported": "incremental_training_supported",
    "default_inference_instance_type": "default_inference_instance_type",
    "supported_inference_instance_types": "supported_inference_instance_types",
    "predictor_specs": "predictor_specs",
    "deploy_kwargs": "deploy_kwargs",
    "inference_volume_size": "inference_volume_size",
    "default_training_instance_type": "default_training_instance_type",
    "supported_training_instance_types": "supported_training_instance_types",
    "hyperparameters": "hyperparameters",
    "metrics": "training_metrics",
    "estimator_kwargs": "estimator_kwargs",
    "fit_kwargs": "fit_kwargs",
    "training_volume_size": "training_volume_size",
    "default_training_dataset_key": "default_training_dataset_key",
}
CARD_FIELDS = {
    "display_name": "display_name",
    "description": "description",
    "task_label": "task_label",
    "problem_type": "problem_type",
    "modality": "modality",
    "source_hub": "source_hub",
    "proprietary": "proprietary",
    "gated": "gated",
    "algorithm": "algorithm_hyperparameters_ref",
    "notebooks": "notebooks",
}
NOTEBOOK_FIELDS = {
    "path": "path", "title": "title", "description": "description", "url": "url_pinned",
    "tasks": "tasks", "task_labels": "task_labels", "model_ids": "model_ids",
}
SOLUTION_FIELDS = {
    "name": "name", "category": "category", "description": "description",
    "github_url": "github_url", "availability": "availability", "source_url": "source",
}
EXPECTED = {"manifest entries": 1092, "specs": 1092, "cards": 1092,
            "algorithms": 7, "notebooks": 83, "solutions": 26}


def present(mapping):
    return {k: v for k, v in mapping.items() if v is not None}


def pick(record, fields):
    return present({name: record.get(source) for name, source in fields.items()})


def env_type(value):
    # bool before int: in Python a bool is an int.
    if isinstance(value, bool):
        return "bool"
    return {int: "int", float: "float"}.get(type(value), "text")


def render_spec(model):
    spec = pick(model, SPEC_FIELDS)
    if model["inference_environment"]:
        spec["inference_environment_variables"] = [
            {"name": name, "type": env_type(value), "default": value}
            for name, value in model["inference_environment"].items()
        ]
    if model["inference_image_uri_aliases_us_east_1"]:
        aliases = model["inference_image_uri_aliases_us_east_1"]
        spec["hosting_instance_type_variants"] = {"regional_aliases": {"us-east-1": aliases}}
    # inference_configs_names is the researchers' summary of inference_configs, not a spec field.
    extra = {k: v for k, v in (model["spec_extra_fields"] or {}).items() if k != "inference_configs_names"}
    assert not extra.keys() & spec.keys(), model["model_id"]
    return {**spec, **present(extra)}


def spec_key(model, version):
    # Marketplace models have their own manifest and prefix in the real bucket.
    if model["proprietary"]:
        return f"proprietary-models/{model['model_id']}/proprietary_specs_{version}.json"
    return f"community_models/{model['model_id']}/specs_v{version}.json"


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path, data, indent=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    separators = (",", ":") if indent is None else (",", ": ")
    path.write_text(json.dumps(data, indent=indent, sort_keys=True, separators=separators,
                               ensure_ascii=False) + "\n", encoding="utf-8")


def build_cache(models, real_specs_dir):
    """models_manifest.json and one spec per model; the real spec files are copied byte for byte."""
    shutil.rmtree(CACHE, ignore_errors=True)
    real = {}
    for path in sorted((real_specs_dir / "community_models").glob("*/specs_v*.json")):
        spec = load(path)
        real[spec["model_id"]] = (spec, path)
    manifests = {"models_manifest.json": [], "proprietary-sdk-manifest.json": []}
    for model in models:
        model_id = model["model_id"]
        if model_id in real:
            spec, path = real[model_id]
            key = spec_key(model, spec["version"])
            (CACHE / key).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, CACHE / key)
        else:
            spec = render_spec(model)
            key = spec_key(model, spec["version"])
            write_json(CACHE / key, spec)
        entry = {"model_id": model_id, "version": spec["version"], "spec_key": key,
                 "min_version": spec.get("min_sdk_version")}
        entry.update(search_keywords=model["search_keywords"], deprecated=model["deprecated"])
        manifests["proprietary-sdk-manifest.json" if model["proprietary"] else "models_manifest.json"].append(present(entry))
    for name, manifest in manifests.items():
        write_json(CACHE / name, manifest, indent=1)
    return [entry for manifest in manifests.values() for entry in manifest]


def build_tasks(catalog):
    modalities = defaultdict(set)
    for model in catalog["models"]:
        if model["task"] and model["modality"]:
            modalities[model["task"]].add(model["modality"])
    tasks = {}
    for code, label in catalog["task_labels"].items():
        found = modalities.get(code, set())
        tasks[code] = {"label": label, **({"modality": found.pop()} if len(found) == 1 else {})}
    return tasks


def build_algorithms(catalog):
    return [
        {
            "slug": slug,
            "name": algo["algorithm"],
            "hyperparameters": [present(h) for h in algo["hyperparameters"]],
            "algorithm_page": algo["algorithm_page"],
            "hyperparameters_page": algo["hyperparameters_page"],
        }
        for slug, algo in catalog["algorithm_hyperparameters"].items()
    ]


def build_notebooks(notebooks):
    unique = [nb for nb in notebooks["notebooks"] if not nb.get("duplicate_of")]
    return [pick(nb, NOTEBOOK_FIELDS) for nb in unique]


def slugify(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def build_solutions(solutions):
    built, seen = [], set()
    for solution in solutions["solutions"]:
        slug = slugify(solution["name"])
        # The docs list one solution under two categories; the second copy keeps its category.
        if slug in seen:
            slug = slugify(f"{solution['name']} {solution['category']}")
        seen.add(slug)
        built.append({"slug": slug, **pick(solution, SOLUTION_FIELDS)})
    return built


def main(shared):
    catalog = load(shared / "jumpstart_catalog.json")
    models = sorted(catalog["models"], key=lambda m: m["model_id"])
    manifest = build_cache(models, shared / "specs")
    cards = {m["model_id"]: pick(m, CARD_FIELDS) for m in models}
    write_json(OUT / "cards.json", cards, indent=1)
    write_json(OUT / "tasks.json", build_tasks(catalog), indent=1)
    algorithms = build_algorithms(catalog)
    write_json(OUT / "algorithms.json", algorithms, indent=1)
    notebooks = build_notebooks(load(shared / "jumpstart_notebooks.json"))
    write_json(OUT / "notebooks.json", notebooks, indent=1)
    solutions = build_solutions(load(shared / "jumpstart_solutions.json"))
    write_json(OUT / "solutions.json", solutions, indent=1)

    specs = [*CACHE.glob("community_models/*/specs_v*.json"), *CACHE.glob("proprietary-models/*/*.json")]
    counts = {"manifest entries": len(manifest), "specs": len(specs), "cards": len(cards),
              "algorithms": len(algorithms), "notebooks": len(notebooks),
              "solutions": len(solutions)}
    assert counts == EXPECTED, counts
    assert len({s["slug"] for s in solutions}) == len(solutions)
    size = sum(p.stat().st_size for p in OUT.rglob("*.json"))
    print(", ".join(f"{n} {what}" for what, n in counts.items()), f"; {size / 1e6:.2f} MB of JSON")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
