"""Browse and search the catalog. Every view reads only the database; htmx requests get the
page's fragment, everything else (including a history restore) the whole page."""

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Value
from django.db.models.functions import Coalesce, Lower, NullIf
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers

from .categories import BY_SLUG, CATEGORIES, model_category
from .forms import EntrySearchForm, ModelFilterForm
from .models import Algorithm, Link, Model, Modality, Notebook, Solution, hyperparameter_rows

SECTION_SIZE = 4
SEARCH_PREVIEW = 12
OTHER_PREVIEW = 6


def _render(request, template, partial, context):
    """The whole page, or only its partial for an htmx swap."""
    if request.htmx and not request.htmx.history_restore_request:
        template = f"{template}#{partial}"
    response = render(request, template, context)
    # A cached fragment must never be shown as a page (back button, bfcache).
    patch_vary_headers(response, ["HX-Request"])
    return response


def _get_for_user(request, queryset, **lookup):
    """The entry, or 404; hidden entries are only for staff."""
    entry = get_object_or_404(queryset, **lookup)
    if entry.hidden and not request.user.is_staff:
        raise Http404("No such entry")
    return entry


def _page(request, queryset):
    return Paginator(queryset, settings.CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))


def _browsable_models():
    return Model.objects.visible().not_deprecated().for_listing()


def home(request):
    form = EntrySearchForm(request.GET)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    context = {"q": q, "categories": CATEGORIES}
    if q:
        context.update(_search(q))
    else:
        context["sections"] = _sections()
    return _render(request, "catalog/home.html", "browse", context)


def _sections():
    models = _browsable_models()
    counts = {
        (row["modality"], row["proprietary"]): row["n"]
        for row in models.values("modality", "proprietary").annotate(n=Count("pk")).order_by()
    }
    sections = []
    for category in CATEGORIES:
        if category.slug == "solutions":
            entries, count = Solution.objects.visible(), None
        elif category.slug == "algorithms":
            entries, count = Algorithm.objects.visible(), None
        elif category.slug == "notebooks":
            entries, count = Notebook.objects.visible(), None
        elif category.slug in ("blogs", "videos"):
            entries, count = Link.objects.visible().filter(**category.params), None
        elif "proprietary" in category.params:
            entries = models.filter(proprietary=True)
            count = sum(n for (_, proprietary), n in counts.items() if proprietary)
        else:
            modality = category.params["modality"]
            entries = models.filter(modality=modality, proprietary=False)
            count = sum(n for (m, proprietary), n in counts.items() if m == modality and not proprietary)
        if entries.model is Model:
            entries = entries.best_first()
        preview = list(entries[: SECTION_SIZE + 1] if count is None else entries[:SECTION_SIZE])
        if count is None:
            # Small tables: count only when the preview is full.
            count = len(preview) if len(preview) <= SECTION_SIZE else entries.count()
            preview = preview[:SECTION_SIZE]
        sections.append({"category": category, "entries": preview, "count": count})
    return sections


def _search(q):
    models = Model.objects.visible().search(q).for_listing()
    shown = models.not_deprecated()
    ranked = shown.best_match()
    model_count = shown.count()
    return {
        "models": list(ranked[:SEARCH_PREVIEW]),
        "model_count": model_count,
        "deprecated_count": models.count() - model_count,
        "solutions": list(Solution.objects.visible().matching(q, ["name", "category", "description"])[:OTHER_PREVIEW]),
        "notebooks": list(Notebook.objects.visible().matching(q, ["title", "description"])[:OTHER_PREVIEW]),
        "algorithms": list(Algorithm.objects.visible().matching(q, ["name"])[:OTHER_PREVIEW]),
        "links": list(Link.objects.visible().matching(q, ["title", "description"])[:OTHER_PREVIEW]),
    }


def model_list(request):
    form = ModelFilterForm(request.GET)
    f = form.values()
    base = Model.objects.visible().for_listing()
    if f["modality"]:
        base = base.filter(modality=f["modality"])
    if f["proprietary"]:
        base = base.filter(proprietary=True)
    if not f["deprecated"]:
        base = base.not_deprecated()

    models = base
    for field in ("task", "framework", "provider"):
        if f[field]:
            models = models.filter(**{field: f[field]})
    if f["fine_tunable"]:
        models = models.filter(fine_tunable=True)
    if f["deployable"]:
        models = models.filter(deployable=True)
    if f["trainable"]:
        models = models.filter(trainable=True)
    if f["q"]:
        models = models.search(f["q"])

    if f["sort"] == "relevance" and f["q"]:
        models = models.best_match()
    elif f["sort"] == "name":
        models = models.order_by(Lower(Coalesce(NullIf("display_name", Value("")), "model_id")))
    elif f["sort"] == "id":
        models = models.order_by("model_id")
    else:
        models = models.best_first()

    category = model_category(request.GET)
    modality_label = dict(Modality.choices).get(f["modality"])
    context = {
        "form": form,
        "f": f,
        "page": _page(request, models),
        "title": category.title if category else (f"{modality_label} models" if modality_label else "All models"),
        "blurb": category.blurb if category else "",
        "facets": {
            "task": base.exclude(task="").values("task", "task_label").annotate(n=Count("pk")).order_by("task_label", "task"),
            "framework": base.exclude(framework="").values("framework").annotate(n=Count("pk")).order_by("framework"),
            "provider": base.exclude(provider="").values("provider").annotate(n=Count("pk")).order_by("provider"),
        },
        "modalities": Modality.choices,
        "sorts": ModelFilterForm.SORTS,
    }
    return _render(request, "catalog/model_list.html", "model-results", context)


def model_detail(request, model_id):
    model = _get_for_user(request, Model.objects.select_related("algorithm"), model_id=model_id)
    context = {
        "model": model,
        "notebooks": model.notebooks.visible(),
        "hyperparameters": hyperparameter_rows(model.user_hyperparameters),
    }
    return render(request, "catalog/model_detail.html", context)


def _entry_list(request, queryset, fields, **extra):
    form = EntrySearchForm(request.GET)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if q:
        queryset = queryset.matching(q, fields)
    context = {"q": q, "page": _page(request, queryset), **extra}
    return _render(request, "catalog/entry_list.html", "entry-results", context)


def solution_list(request):
    return _entry_list(request, Solution.objects.visible(), ["name", "category", "description"], category=BY_SLUG["solutions"])


def solution_detail(request, slug):
    solution = _get_for_user(request, Solution.objects, slug=slug)
    return render(request, "catalog/solution_detail.html", {"solution": solution})


def notebook_list(request):
    return _entry_list(request, Notebook.objects.visible(), ["title", "description"], category=BY_SLUG["notebooks"])


def notebook_detail(request, pk):
    notebook = _get_for_user(request, Notebook.objects, pk=pk)
    models = notebook.models.visible().for_listing()
    return render(request, "catalog/notebook_detail.html", {"notebook": notebook, "models": models})


def algorithm_list(request):
    algorithms = Algorithm.objects.visible().annotate(model_count=Count("models")).order_by("name")
    return _entry_list(request, algorithms, ["name"], category=BY_SLUG["algorithms"], show_model_count=True)


def algorithm_detail(request, slug):
    algorithm = _get_for_user(request, Algorithm.objects, slug=slug)
    models = algorithm.models.visible().for_listing().best_first()
    context = {"algorithm": algorithm, "models": models,
               "hyperparameters": hyperparameter_rows(algorithm.hyperparameters)}
    return render(request, "catalog/algorithm_detail.html", context)


def link_list(request):
    kind = request.GET.get("kind", Link.Kind.BLOG)
    if kind not in Link.Kind.values:
        raise Http404("No such kind of link")
    category = BY_SLUG["blogs" if kind == Link.Kind.BLOG else "videos"]
    return _entry_list(request, Link.objects.visible().filter(kind=kind), ["title", "description"], category=category, kind=kind)

