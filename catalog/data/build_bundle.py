"""Maintainer script: turn the gathered JumpStart research data into the catalog files bundled here.

Run: python catalog/data/build_bundle.py /path/to/shared/catalog   (the app never imports it)
"""

import hashlib
import json
import re
import shutil
import sys
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parent

# The catalog's facts about a model, grouped by the version they belong to (FORMAT.md §3): the SDK
# table's row, the inference fields (inference_spec_version), the rest of a full spec
# (full_spec_version) and the training fields (training_spec_version). Spec name -> catalog name.
TABLE_FIELDS = {"min_sdk_version": "min_sdk_version", "url": "model_url"}
INFERENCE_FIELDS = {
    "default_inference_instance_type": "default_inference_instance_type",
    "supported_inference_instance_types": "supported_inference_instance_types",
}
FULL_SPEC_FIELDS = {
    "deprecated": "deprecated",
    "incremental_training_supported": "incremental_training_supported",
    "predictor_specs": "predictor_specs",
    "deploy_kwargs": "deploy_kwargs",
    "inference_volume_size": "inference_volume_size",
}
TRAINING_FIELDS = {
    "default_training_instance_type": "default_training_instance_type",
    "supported_training_instance_types": "supported_training_instance_types",
    "hyperparameters": "hyperparameters",
    "metrics": "training_metrics",
    "estimator_kwargs": "estimator_kwargs",
    "fit_kwargs": "fit_kwargs",
    "training_volume_size": "training_volume_size",
    "default_training_dataset_key": "default_training_dataset_key",
}
INFERENCE_GROUP = {*INFERENCE_FIELDS, "inference_environment_variables", "hosting_instance_type_variants"}
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
# deploy_specs/SOURCES.md §2 records these digests of the real spec files; a copy must match them.
VERBATIM_SHA256 = {
    "meta-textgeneration-llama-3-1-70b.json": "fa3cd198db44c8a26928f8bf9d2d7bf1ca422e0fcdc2c7da31dcfecdbdc2690e",
    "openai-reasoning-gpt-oss-20b.json": "6f680df7d46dcb7ab6fae589e1de3dc6156399e879d3c82d300e5e5b976ba350",
}
# The one value of the SDK's test copies edited after they were copied from published specs
# (deploy_specs/SOURCES.md §3): put back to what the published spec holds.
TEST_EDITS = {("mxnet-semseg-fcn-resnet50-ade", "training_dependencies", 0): ("numpy>=2.0.0", "numpy==1.23.1")}
SIZE_WORDS = {"tiny", "mini", "small", "base", "medium", "large", "xl", "xxl", "huge"}
EXPECTED = {
    "manifest entries": 1219, "models": 1092, "specs": 1219, "models with two or more versions": 112,
    "specs with deploy data": 501, "specs with training data": 7, "cards": 1092,
    "display names replaced": 1, "algorithms": 7, "notebooks": 83, "solutions": 26,
}


def present(mapping):
    return {k: v for k, v in mapping.items() if v is not None}


def pick(record, fields):
    return present({name: record.get(source) for name, source in fields.items()})


def env_type(value):
    # bool before int: in Python a bool is an int.
    if isinstance(value, bool):
        return "bool"
    return {int: "int", float: "float"}.get(type(value), "text")


def version_key(version):
    return [int(n) for n in re.findall(r"\d+", version)], version


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def dump(data, indent=None, sort_keys=True):
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(data, indent=indent, sort_keys=sort_keys, separators=separators, ensure_ascii=False) + "\n"


def write_json(path, data, indent=None, sort_keys=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump(data, indent, sort_keys), encoding="utf-8")


# -- the specs: one per version whose data the sources give ----------------------------------------


class Spec:
    """One spec file of the bundle: `data` is the spec; `raw`, when set, the bytes written unchanged."""

    def __init__(self, data, source, raw=None, entry=None):
        self.data, self.source, self.raw, self.entry = data, source, raw, entry

    @property
    def version(self):
        return self.data["version"]


def real_specs(shared):
    """{model_id: [Spec]}: the real spec files (byte for byte) and the SDK's prototypical test copies."""
    found = defaultdict(list)
    for path in sorted((shared / "specs" / "community_models").glob("*/specs_v*.json")):
        raw = path.read_bytes()
        spec = json.loads(raw)
        found[spec["model_id"]].append(Spec(spec, "real spec file", raw=raw))
    verbatim = shared / "deploy_specs" / "verbatim"
    manifest = load(verbatim / "manifest.json")
    for name, digest in VERBATIM_SHA256.items():
        raw = (verbatim / name).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == digest, f"{name} is not the file SOURCES.md records"
        spec = json.loads(raw)
        [entry] = [e for e in manifest if (e["model_id"], e["version"]) == (spec["model_id"], spec["version"])]
        found[spec["model_id"]].append(Spec(spec, "real spec file", raw=raw, entry=entry))
    # The third real entry is pytorch-ic-mobilenet-v2's, whose spec file is the one in specs/.
    for entry in manifest:
        for spec in found[entry["model_id"]]:
            if spec.version == entry["version"]:
                spec.entry = entry
    for model_id, spec in load(shared / "deploy_specs" / "prototypical_specs.json").items():
        for (edited_id, field, index), (was, published) in TEST_EDITS.items():
            if edited_id == model_id:
                assert spec[field][index] == was, (model_id, field, spec[field][index])
                spec[field][index] = published
        found[model_id].append(Spec(spec, "prototypical"))
    return found


def cdk_specs(shared):
    """{model_id: Spec}: JumpStart's deploy fields from the CDK constructs' data, at their version."""
    return {model_id: Spec(item["spec"], "cdk") for model_id, item in load(shared / "deploy_specs" / "cdk_specs.json").items()}


def catalog_groups(model):
    """[(version or None, fields)]: the catalog's facts of a model by the version they are of. The
    table row's version is the catalog's `version` when that came from the table (or a spec);
    when it came from elsewhere, the sources do not say which version the table listed."""
    provenance = model["provenance"]
    table_version = model["version"] if provenance["version"].startswith(("sdk-doc-table", "spec")) else None
    table = pick(model, TABLE_FIELDS)
    full = {**present({k: v for k, v in (model["spec_extra_fields"] or {}).items()
                       # the researchers' summary of inference_configs, not a spec field
                       if k != "inference_configs_names"}),
            **pick(model, FULL_SPEC_FIELDS)}
    if model["fine_tunable"] is not None:
        if provenance.get("fine_tunable", "").startswith("sdk-doc-table"):
            table["training_supported"] = model["fine_tunable"]
        else:
            full["training_supported"] = model["fine_tunable"]
    inference = pick(model, INFERENCE_FIELDS)
    if model["inference_environment"]:
        inference["inference_environment_variables"] = [
            {"name": name, "type": env_type(value), "default": value}
            for name, value in model["inference_environment"].items()
        ]
    if model["inference_image_uri_aliases_us_east_1"]:
        aliases = model["inference_image_uri_aliases_us_east_1"]
        inference["hosting_instance_type_variants"] = {"regional_aliases": {"us-east-1": aliases}}
    return [
        (table_version, table),
        (model["inference_spec_version"], inference),
        (model["full_spec_version"], full),
        (model["training_spec_version"], pick(model, TRAINING_FIELDS)),
    ]


def model_specs(model, real, cdk, report):
    """The model's specs, one per version: real files first, then the CDK's deploy fields, then the
    catalog's facts, each at the version they are of; data of different versions is never merged."""
    model_id = model["model_id"]
    by_version = {}
    for spec in real.get(model_id, []):
        assert spec.version not in by_version, (model_id, spec.version)
        by_version[spec.version] = spec
    if model_id in cdk:
        spec = cdk[model_id]
        if spec.version in by_version:
            report["cdk versions held by a real spec"].append(f"{model_id} {spec.version}")
        else:
            by_version[spec.version] = spec
    for version, fields in catalog_groups(model):
        if not fields:
            continue
        if version is None:
            report["facts of no known version (left out)"][", ".join(sorted(fields))].append(model_id)
            continue
        held = by_version.get(version)
        if held is None:
            by_version[version] = Spec({"model_id": model_id, "version": version, **fields}, "catalog")
        elif held.source == "catalog":
            assert not held.data.keys() & fields.keys(), (model_id, version)
            held.data.update(fields)
        else:
            # A real spec holds all of its version already; at the CDK's version the catalog's
            # inference fields are the CDK's own, and the catalog has no other facts there.
            assert held.source != "cdk" or fields.keys() <= INFERENCE_GROUP, (model_id, version, fields.keys())
    return [by_version[v] for v in sorted(by_version, key=version_key)]


def spec_key(model, version):
    # Marketplace models have their own manifest and prefix in the real bucket.
    if model["proprietary"]:
        return f"proprietary-models/{model['model_id']}/proprietary_specs_{version}.json"
    return f"community_models/{model['model_id']}/specs_v{version}.json"


def build_cache(models, shared, cache, report):
    """models_manifest.json and proprietary-sdk-manifest.json, one entry and one spec file per
    (model, version); the real spec files are copied byte for byte."""
    shutil.rmtree(cache, ignore_errors=True)
    real, cdk = real_specs(shared), cdk_specs(shared)
    manifests = {"models_manifest.json": [], "proprietary-sdk-manifest.json": []}
    specs = {}
    for model in models:
        for spec in model_specs(model, real, cdk, report):
            if spec.entry:
                entry = dict(spec.entry)
                key = entry["spec_key"]
            else:
                key = spec_key(model, spec.version)
                entry = present({"model_id": model["model_id"], "version": spec.version, "spec_key": key,
                                 "min_version": spec.data.get("min_sdk_version"),
                                 "deprecated": spec.data.get("deprecated")})
            path = cache / key
            path.parent.mkdir(parents=True, exist_ok=True)
            if spec.raw is not None:
                path.write_bytes(spec.raw)
            elif spec.source == "prototypical":
                write_json(path, spec.data, indent=1, sort_keys=False)  # the source's key order
            else:
                write_json(path, spec.data)
            specs[key] = spec
            manifests["proprietary-sdk-manifest.json" if model["proprietary"] else "models_manifest.json"].append(entry)
    for name, manifest in manifests.items():
        write_json(cache / name, manifest, indent=1)
    return [entry for manifest in manifests.values() for entry in manifest], specs


def check_cache(cache, manifest, models, shared):
    """The bundle holds what the sync reads: every entry's spec exists with its model_id and version,
    every spec file is listed once, every model has a version, and the real files are unchanged."""
    listed = set()
    for entry in manifest:
        spec = load(cache / entry["spec_key"])
        assert (spec["model_id"], spec["version"]) == (entry["model_id"], entry["version"]), entry
        assert (entry["model_id"], entry["version"]) not in listed, entry
        listed.add((entry["model_id"], entry["version"]))
    on_disk = {str(p.relative_to(cache)) for p in cache.rglob("*.json")} - {"models_manifest.json", "proprietary-sdk-manifest.json"}
    assert on_disk == {e["spec_key"] for e in manifest}, on_disk ^ {e["spec_key"] for e in manifest}
    assert {m["model_id"] for m in models} == {model_id for model_id, _ in listed}
    for path in (shared / "specs" / "community_models").glob("*/specs_v*.json"):
        assert (cache / path.relative_to(shared / "specs")).read_bytes() == path.read_bytes(), path
    for entry in load(shared / "deploy_specs" / "verbatim" / "manifest.json"):
        name = f"{entry['model_id']}.json"
        if name in VERBATIM_SHA256:
            assert (cache / entry["spec_key"]).read_bytes() == (shared / "deploy_specs" / "verbatim" / name).read_bytes()


def _has_deploy_data(spec):
    """An artifact key and us-east-1 images, at the top level or in a named inference config."""
    parts = [spec, *(spec.get("inference_config_components") or {}).values()]
    key = any(p.get("hosting_artifact_key") or p.get("hosting_prepacked_artifact_key") for p in parts)
    images = any(((p.get("hosting_instance_type_variants") or {}).get("regional_aliases") or {}).get("us-east-1")
                 for p in parts)
    return key and images


def _has_training_data(spec):
    return bool(spec.get("training_supported") and spec.get("training_artifact_key")
                and (spec.get("training_script_key") or spec.get("training_prepacked_script_key")))


# -- cards: display names checked against the id ---------------------------------------------------


def name_contradicts_id(name, model_id):
    """Why a display name cannot be this model's, or None. Every number in the name must be one of
    the id's (a width "0.50" is written "050" in ids), and a size or casing the name says must
    not differ from the one the id says."""
    numbers = {n.replace(".", "") for n in re.findall(r"\d+(?:\.\d+)?", name)}
    missing = numbers - set(re.findall(r"\d+", model_id))
    if missing:
        return f"{', '.join(sorted(missing))} not in the id"
    words, tokens = set(re.findall(r"[a-z]+", name.lower())), set(model_id.lower().split("-"))
    for kind, vocabulary in (("size", SIZE_WORDS), ("casing", {"cased", "uncased"})):
        said, meant = words & vocabulary, tokens & vocabulary
        if said and meant and said != meant:
            return f"{kind} {', '.join(sorted(said))} where the id says {', '.join(sorted(meant))}"
    return None


def name_from_id(model_id):
    """A display name made from the id alone: the tokens after framework and task, capitalised."""
    tokens = model_id.split("-")[2:] or model_id.split("-")
    return " ".join(t.upper() if re.fullmatch(r"v\d+", t) else t[:1].upper() + t[1:] for t in tokens)


def build_cards(models, report):
    cards = {}
    for model in models:
        card = pick(model, CARD_FIELDS)
        name = card.get("display_name")
        why = name and name_contradicts_id(name, model["model_id"])
        if why:
            card["display_name"] = name_from_id(model["model_id"])
            report["display names replaced"].append(f"{model['model_id']}: {name!r} ({why}) -> {card['display_name']!r}")
        cards[model["model_id"]] = card
    return cards


# -- the rest of the bundle ------------------------------------------------------------------------


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


def main(shared, out=OUT):
    cache = out / "jumpstart-cache"
    report = defaultdict(list, {"facts of no known version (left out)": defaultdict(list)})
    catalog = load(shared / "jumpstart_catalog.json")
    models = sorted(catalog["models"], key=lambda m: m["model_id"])
    manifest, specs = build_cache(models, shared, cache, report)
    check_cache(cache, manifest, models, shared)
    cards = build_cards(models, report)
    assert not any(name_contradicts_id(c["display_name"], i) for i, c in cards.items() if c.get("display_name"))
    write_json(out / "cards.json", cards, indent=1)
    write_json(out / "tasks.json", build_tasks(catalog), indent=1)
    algorithms = build_algorithms(catalog)
    write_json(out / "algorithms.json", algorithms, indent=1)
    notebooks = build_notebooks(load(shared / "jumpstart_notebooks.json"))
    write_json(out / "notebooks.json", notebooks, indent=1)
    solutions = build_solutions(load(shared / "jumpstart_solutions.json"))
    write_json(out / "solutions.json", solutions, indent=1)

    versions = defaultdict(int)
    for entry in manifest:
        versions[entry["model_id"]] += 1
    files = [*cache.glob("community_models/*/specs_v*.json"), *cache.glob("proprietary-models/*/*.json")]
    counts = {
        "manifest entries": len(manifest), "models": len(versions), "specs": len(files),
        "models with two or more versions": sum(n > 1 for n in versions.values()),
        "specs with deploy data": sum(_has_deploy_data(s.data) for s in specs.values()),
        "specs with training data": sum(_has_training_data(s.data) for s in specs.values()),
        "cards": len(cards), "display names replaced": len(report["display names replaced"]),
        "algorithms": len(algorithms), "notebooks": len(notebooks), "solutions": len(solutions),
    }
    assert len({s["slug"] for s in solutions}) == len(solutions)
    for what, items in report.items():
        if isinstance(items, dict):
            for fields, ids in items.items():
                print(f"{what}: {len(ids)} models' {fields}")
        else:
            print(f"{what}: {len(items)}", *(f"  {item}" for item in items), sep="\n")
    size = sum(p.stat().st_size for p in out.rglob("*.json"))
    print(", ".join(f"{n} {what}" for what, n in counts.items()), f"; {size / 1e6:.2f} MB of JSON")
    assert counts == EXPECTED, {k: (v, EXPECTED.get(k)) for k, v in counts.items() if v != EXPECTED.get(k)}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
