"""Browse and search the catalog. Every view reads only the database; htmx requests get the
page's fragment, everything else (including a history restore) the whole page.

The catalog part of each page is cached as rendered HTML ({% cache %} in the templates), keyed by
the catalog's version (CatalogVersion: every sync and staff edit changes it) and the request
(_cache_key). So the views only describe what a page shows, lazily: querysets, and
SimpleLazyObject for what would otherwise be computed here; a cached page evaluates none."""

import uuid
from collections import Counter
from functools import cache
from hashlib import md5

from django.conf import settings
from django.core.cache import caches
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, Func, IntegerField, Q, Subquery, Value, When, Window
from django.db.models.functions import Coalesce, Lower, NullIf, RowNumber
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject, lazy

from .categories import BY_SLUG, CATEGORIES, model_category
from .forms import EntrySearchForm, ModelFilterForm
from .models import (
    BEST_FIRST, BROWSABLE, Algorithm, CatalogVersion, Link, Model, Modality, Notebook, Solution, hyperparameter_rows,
)

SECTION_SIZE = 4
SEARCH_PREVIEW = 12
OTHER_PREVIEW = 6
# Fragments of an old catalog version are never read again; this only bounds how long they linger.
CACHE_SECONDS = 24 * 3600
FACETS = ("task", "framework", "provider")


def _render(request, template, partial, context):
    """The whole page, or only its partial for an htmx swap."""
    if partial and request.htmx and not request.htmx.history_restore_request:
        template = f"{template}#{partial}"
    context = {**context, "cache_key": _cache_key(request), "cache_seconds": CACHE_SECONDS}
    response = render(request, template, context)
    # A cached fragment must never be shown as a page (back button, bfcache).
    patch_vary_headers(response, ["HX-Request"])
    return response


def _cache_key(request):
    """What a cached fragment depends on besides its name: the catalog, the page and its query
    string (its links repeat it), whether staff's admin links show and whether htmx asked (its
    history restore is a whole page with the fragment's extras)."""
    return (f"{_version(request)}|{int(request.user.is_staff)}|{int(bool(request.htmx))}|"
            f"{request.path}?{request.GET.urlencode()}")


def _version(request):
    """The catalog's version, read once per request."""
    if not hasattr(request, "_catalog_version"):
        request._catalog_version = CatalogVersion.current()
    return request._catalog_version


def _get_for_user(request, queryset, **lookup):
    """The entry, or 404; hidden entries are only for staff."""
    entry = get_object_or_404(queryset, **lookup)
    if entry.hidden and not request.user.is_staff:
        raise Http404("No such entry")
    return entry


def _page(request, queryset, count=None):
    paginator = Paginator(queryset, settings.CATALOG_PAGE_SIZE)
    if count is not None:
        paginator.count = count  # known already: no COUNT query
    return paginator.get_page(request.GET.get("page"))


_int_later = lazy(lambda function: function(), int)


def _lazy_int(function):
    """An int worked out when a template first uses it (pluralize and comparisons included)."""
    return _int_later(cache(function))


def _browsable_models():
    return Model.objects.visible().not_deprecated().for_listing()


def home(request):
    form = EntrySearchForm(request.GET)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    context = {"q": q, "categories": CATEGORIES}
    if q:
        context.update(_search(q))
    else:
        context["sections"] = SimpleLazyObject(_sections)
    return _render(request, "catalog/home.html", "browse", context)


def _sections():
    """Every category's first entries and count, in five queries whatever the catalog's size:
    one for all model categories, one per other table."""
    models = {}
    for model in _model_previews():
        models.setdefault(model.section, []).append(model)
    links = {}
    for link in _previews(Link.objects.visible(), partition="kind", order_by=["-featured", "-created_at"]):
        links.setdefault(link.kind, []).append(link)
    tables = {
        "solutions": list(_previews(Solution.objects.visible(), order_by=Solution._meta.ordering)),
        "algorithms": list(_previews(Algorithm.objects.visible(), order_by=Algorithm._meta.ordering)),
        "notebooks": list(_previews(Notebook.objects.visible(), order_by=Notebook._meta.ordering)),
    }
    sections = []
    for category in CATEGORIES:
        if category.slug in tables:
            entries = tables[category.slug]
        elif category.slug in ("blogs", "videos"):
            entries = links.get(category.params["kind"], [])
        else:
            entries = models.get("proprietary" if "proprietary" in category.params else category.params["modality"], [])
        sections.append({"category": category, "entries": entries, "count": entries[0].total if entries else 0})
    return sections


def _model_previews():
    """The first models of each category, each carrying its category's count, in one query that
    reads them from the browse indexes (catalog_model_browse*) whatever the catalog's size: each
    category's first SECTION_SIZE ids by a LIMIT subquery, and its count by a scalar one.
    Proprietary models are their own category, whatever their modality."""
    browsable = Model.objects.filter(BROWSABLE)
    categories = {"proprietary": Q(proprietary=True),
                  **{modality: Q(proprietary=False, modality=modality) for modality in Modality.values}}
    first = Q()
    section, total = [], []
    for name, where in categories.items():
        in_category = browsable.filter(where)
        first |= Q(pk__in=in_category.order_by(*BEST_FIRST).values("pk")[:SECTION_SIZE])
        # COUNT as a plain function: one count over the category, with no GROUP BY to sort.
        count = in_category.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
        section.append(When(where, then=Value(name)))
        total.append(When(where, then=Subquery(count)))
    return (_browsable_models().filter(first)
            .annotate(section=Case(*section), total=Case(*total, output_field=IntegerField()))
            .order_by("section", *BEST_FIRST))


def _previews(queryset, order_by, partition=None):
    """The first SECTION_SIZE rows of queryset (of each partition), each with its partition's count."""
    over = {"partition_by": [F(partition)]} if partition else {}
    return (
        queryset.annotate(place=Window(RowNumber(), order_by=order_by, **over), total=Window(Count("pk"), **over))
        .filter(place__lte=SECTION_SIZE)
        .order_by(*([partition] if partition else []), "place")
    )


def _search(q):
    def later(function):
        return SimpleLazyObject(lambda: list(function()))

    listed = Model.objects.visible().for_listing()
    counts = SimpleLazyObject(lambda: listed.matches(q).aggregate(
        every=Count("pk"), shown=Count("pk", filter=Q(deprecated=False, deprecated_by_staff=False))))
    return {
        "models": later(lambda: listed.not_deprecated().search(q).best_match()[:SEARCH_PREVIEW]),
        "model_count": _lazy_int(lambda: counts["shown"]),
        "deprecated_count": _lazy_int(lambda: counts["every"] - counts["shown"]),
        "solutions": later(lambda: Solution.objects.visible().matching(q, ["name", "category", "description"])[:OTHER_PREVIEW]),
        "notebooks": later(lambda: Notebook.objects.visible().matching(q, ["title", "description"])[:OTHER_PREVIEW]),
        "algorithms": later(lambda: Algorithm.objects.visible().matching(q, ["name"])[:OTHER_PREVIEW]),
        "links": later(lambda: Link.objects.visible().matching(q, ["title", "description"])[:OTHER_PREVIEW]),
    }


def model_list(request):
    form = ModelFilterForm(request.GET)
    f = form.values()
    querysets = cache(lambda: _model_querysets(f))  # built only when the page is not cached
    facets = SimpleLazyObject(lambda: _facets(_facet_rows(request, f, querysets()[0]), f))
    category = model_category(request.GET)
    modality_label = dict(Modality.choices).get(f["modality"])
    context = {
        "form": form,
        "f": f,
        "page": SimpleLazyObject(lambda: _page(request, querysets()[1], count=facets["total"])),
        "title": category.title if category else (f"{modality_label} models" if modality_label else "All models"),
        "blurb": category.blurb if category else "",
        "facets": facets,
        "modalities": Modality.choices,
        "sorts": ModelFilterForm.SORTS,
        "default_sort": "relevance" if f["q"] else "featured",
    }
    return _render(request, "catalog/model_list.html", "model-results", context)


def _model_querysets(f):
    """The models every filter but the facets' own leaves (the facets are counted among them),
    and those all filters leave, in the order asked for."""
    matched = Model.objects.visible().for_listing()
    if f["modality"]:
        matched = matched.filter(modality=f["modality"])
    if f["proprietary"]:
        matched = matched.filter(proprietary=True)
    if not f["deprecated"]:
        matched = matched.not_deprecated()
    if f["fine_tunable"]:
        matched = matched.filter(fine_tunable=True)
    if f["deployable"]:
        matched = matched.filter(deployable=True)
    if f["trainable"]:
        matched = matched.filter(trainable=True)
    if f["q"]:
        matched = matched.matches(f["q"])
    models = matched.filter(**{field: f[field] for field in FACETS if f[field]})
    if f["sort"] == "relevance" and f["q"]:
        models = models.ranked(f["q"]).best_match()
    elif f["sort"] == "name":
        models = models.order_by(Lower(Coalesce(NullIf("display_name", Value("")), "model_id")))
    elif f["sort"] == "id":
        models = models.order_by("model_id")
    else:
        models = models.best_first()
    return matched, models


def _facet_rows(request, f, matched):
    """matched.facet_rows(), kept for the catalog's version: the other pages, orders and facet
    choices of one search share them, so only the first of them counts."""
    shared = [f[name] for name in ("q", "modality", "proprietary", "deprecated", "fine_tunable", "deployable", "trainable")]
    key = "catalog-facets:" + md5(f"{_version(request)}|{shared}".encode()).hexdigest()
    return caches["default"].get_or_set(key, lambda: list(matched.facet_rows()), CACHE_SECONDS)


def _facets(rows, f):
    """The task, framework and source options with their counts, from facet_rows(): each facet
    counted among the models the other filters leave (choosing a task narrows the frameworks on
    offer, not the tasks), a chosen option always listed; and the total all filters leave."""
    chosen = {field: f[field] for field in FACETS if f[field]}
    counts = {field: Counter() for field in FACETS}
    labels, total = {}, 0
    for row in rows:
        off = [field for field, value in chosen.items() if row[field] != value]
        total += 0 if off else row["n"]
        for field in FACETS:
            if row[field] and (not off or off == [field]):
                counts[field][row[field]] += row["n"]
        if row["task_label"]:
            labels.setdefault(row["task"], row["task_label"])
    for field, value in chosen.items():
        counts[field].setdefault(value, 0)
    return {
        "task": sorted(({"task": t, "task_label": labels.get(t, ""), "n": n} for t, n in counts["task"].items()),
                       key=lambda row: (row["task_label"] or row["task"], row["task"])),
        "framework": [{"framework": v, "n": n} for v, n in sorted(counts["framework"].items())],
        "provider": [{"provider": v, "n": n} for v, n in sorted(counts["provider"].items())],
        "total": total,
    }


def model_detail(request, model_id):
    entry = _get_for_user(request, Model.objects.only("model_id", "display_name", "hidden"), model_id=model_id)
    model = SimpleLazyObject(lambda: Model.objects.select_related("algorithm").get(pk=entry.pk))
    context = {
        "model_id": entry.model_id,
        "name": entry.name,
        "model": model,
        "notebooks": SimpleLazyObject(lambda: list(Notebook.objects.visible().filter(models=entry.pk))),
        "hyperparameters": SimpleLazyObject(lambda: hyperparameter_rows(model.user_hyperparameters)),
    }
    return _render(request, "catalog/model_detail.html", None, context)


def _entry_list(request, queryset, fields, **extra):
    form = EntrySearchForm(request.GET)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if q:
        queryset = queryset.matching(q, fields)
    context = {"q": q, "page": SimpleLazyObject(lambda: _page(request, queryset)), **extra}
    return _render(request, "catalog/entry_list.html", "entry-results", context)


def solution_list(request):
    return _entry_list(request, Solution.objects.visible(), ["name", "category", "description"], category=BY_SLUG["solutions"])


def solution_detail(request, slug):
    """A solution, and Launch when it has a template (with what the stack will make, the model its
    endpoint serves and that model's notebooks), or its source when it has none."""
    solution = _get_for_user(request, Solution.objects, slug=slug)
    context = {"solution": solution,
               "launches": solution.launches.filter(user=request.user).live().defer("request")}
    if solution.launchable:
        model_id = solution.served_model_id
        model = Model.objects.visible().for_listing().filter(model_id=model_id).first() if model_id else None
        context.update({
            "makes": sorted(Counter(str(r.get("Type", "")) for r in solution.stack_template["Resources"].values()).items()),
            "model": model,
            "notebooks": Notebook.objects.visible().filter(models=model) if model else [],
            "request_token": uuid.uuid4(),
        })
    return render(request, "catalog/solution_detail.html", context)


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

