"""Browsing and searching the catalog as a signed-in user sees it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import CatalogVersion, Model, Notebook, Solution

pytestmark = pytest.mark.django_db


def model_ids(response):
    return [m.model_id for m in response.context["page"].object_list]


def test_every_catalog_page_asks_an_anonymous_visitor_to_sign_in(client, make_model):
    make_model("huggingface-spc-bert-base-cased")
    for url in ["/", "/models/", "/models/huggingface-spc-bert-base-cased/", "/notebooks/", "/solutions/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_search_puts_an_exact_id_then_whole_words_before_description_mentions(client_in, make_model):
    make_model("huggingface-tc-roberta-base")
    make_model("huggingface-llm-mistral-7b", description="Outperforms BERT on many benchmarks")
    make_model("huggingface-tc-bert-large-uncased")
    make_model("huggingface-spc-bert-base-cased", display_name="BERT Base Cased")

    response = client_in.get("/models/", {"q": "bert"})
    ranked = model_ids(response)
    assert set(ranked[:2]) == {"huggingface-spc-bert-base-cased", "huggingface-tc-bert-large-uncased"}
    assert ranked[2:] == ["huggingface-tc-roberta-base", "huggingface-llm-mistral-7b"]

    exact = model_ids(client_in.get("/models/", {"q": "huggingface-tc-bert-large-uncased"}))
    assert exact == ["huggingface-tc-bert-large-uncased"]
    assert model_ids(client_in.get("/models/", {"q": "bert base cased"}))[0] == "huggingface-spc-bert-base-cased"


def test_home_search_lists_matching_models_solutions_and_notebooks(client_in, make_model):
    make_model("huggingface-spc-bert-base-cased")
    Solution.objects.create(slug="fraud", name="Fraud detection", description="Spot fraud with BERT embeddings")
    Notebook.objects.create(path="a.ipynb", title="Fine-tune BERT", url="https://example.com/a.ipynb")

    response = client_in.get("/", {"q": "bert"})
    html = response.content.decode()
    assert [m.model_id for m in response.context["models"]] == ["huggingface-spc-bert-base-cased"]
    assert "Fraud detection" in html and "Fine-tune BERT" in html


def test_the_vision_filter_shows_only_vision_models(client_in, make_model):
    make_model("pytorch-ic-mobilenet-v2", modality="vision")
    make_model("huggingface-spc-bert-base-cased", modality="text")
    assert model_ids(client_in.get("/models/", {"modality": "vision"})) == ["pytorch-ic-mobilenet-v2"]


def test_filters_by_task_framework_source_and_fine_tunable(client_in, make_model):
    make_model("pytorch-ic-mobilenet-v2", modality="vision", provider="Pytorch Hub", fine_tunable=True)
    make_model("tensorflow-ic-bit-m", modality="vision", provider="Tensorflow Hub", fine_tunable=False)
    make_model("tensorflow-od-ssd", modality="vision", provider="Tensorflow Hub", fine_tunable=True)

    assert model_ids(client_in.get("/models/", {"task": "ic"})) == ["pytorch-ic-mobilenet-v2", "tensorflow-ic-bit-m"]
    assert model_ids(client_in.get("/models/", {"framework": "tensorflow", "fine_tunable": "on"})) == ["tensorflow-od-ssd"]
    assert model_ids(client_in.get("/models/", {"provider": "Pytorch Hub"})) == ["pytorch-ic-mobilenet-v2"]


def test_deprecated_models_are_hidden_until_asked_for(client_in, make_model):
    make_model("huggingface-spc-bert-base-cased")
    make_model("huggingface-spc-old-one", deprecated=True)
    make_model("huggingface-spc-staff-retired", deprecated_by_staff=True)

    assert model_ids(client_in.get("/models/")) == ["huggingface-spc-bert-base-cased"]
    shown = model_ids(client_in.get("/models/", {"deprecated": "on"}))
    assert sorted(shown) == ["huggingface-spc-bert-base-cased", "huggingface-spc-old-one", "huggingface-spc-staff-retired"]


def test_hidden_and_unavailable_models_leave_browsing(client_in, make_model):
    make_model("huggingface-spc-bert-base-cased")
    make_model("huggingface-spc-hidden", hidden=True)
    make_model("huggingface-spc-gone", available=False)
    assert model_ids(client_in.get("/models/")) == ["huggingface-spc-bert-base-cased"]
    assert client_in.get("/models/huggingface-spc-hidden/").status_code == 404


def test_staff_can_still_open_a_hidden_model(client, staff, make_model):
    make_model("huggingface-spc-hidden", hidden=True)
    client.force_login(staff)
    assert client.get("/models/huggingface-spc-hidden/").status_code == 200


def test_bad_filter_values_are_ignored_not_an_error(client_in, make_model):
    make_model("huggingface-spc-bert-base-cased")
    response = client_in.get("/models/", {"modality": "smell", "sort": "random", "page": "zzz"})
    assert response.status_code == 200
    assert model_ids(response) == ["huggingface-spc-bert-base-cased"]


def test_pages_of_results_hold_the_configured_number(client_in, make_model, settings):
    settings.CATALOG_PAGE_SIZE = 5
    for i in range(12):
        make_model(f"huggingface-tc-model-{i:02d}")
    assert len(model_ids(client_in.get("/models/"))) == 5
    last = client_in.get("/models/", {"page": 3})
    assert model_ids(last) == ["huggingface-tc-model-10", "huggingface-tc-model-11"]


def test_an_htmx_request_gets_the_fragment_and_a_history_restore_the_whole_page(client_in, make_model):
    make_model("huggingface-spc-bert-base-cased")
    fragment = client_in.get("/models/", {"q": "bert"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="model-results"' in fragment and 'id="facets" hx-swap-oob="true"' in fragment
    assert 'id="id_q"' not in fragment and "<html" not in fragment

    restore = client_in.get("/models/", {"q": "bert"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restore.content.decode()
    assert "HX-Request" in restore["Vary"]


def test_a_model_page_shows_instance_types_hyperparameters_and_data_format(client_in, make_model):
    model = make_model(
        "pytorch-ic-mobilenet-v2", modality="vision", fine_tunable=True,
        default_inference_instance_type="ml.m5.large",
        supported_inference_instance_types=["ml.m5.large", "ml.g5.2xlarge"],
        default_training_instance_type="ml.p3.2xlarge", supported_training_instance_types=["ml.p3.2xlarge"],
        hyperparameters=[
            {"name": "epochs", "type": "int", "default": 5, "min": 1, "max": 1000, "scope": "algorithm"},
            {"name": "train_only_top_layer", "type": "text", "default": "True", "options": ["True", "False"], "scope": "algorithm"},
            {"name": "sagemaker_program", "type": "text", "default": "transfer_learning.py", "scope": "container"},
        ],
        spec={"predictor_specs": {"default_content_type": "application/x-image", "supported_content_types": ["application/x-image"],
                                  "default_accept_type": "application/json", "supported_accept_types": ["application/json"]}},
    )
    Notebook.objects.create(path="ic.ipynb", title="Introduction to JumpStart - Image Classification", url="https://example.com").models.add(model)

    html = client_in.get("/models/pytorch-ic-mobilenet-v2/").content.decode()
    for text in ["ml.g5.2xlarge", "ml.p3.2xlarge", "epochs", "1 to 1000", "one of True, False", "application/x-image",
                 ".jpg", "Introduction to JumpStart - Image Classification"]:
        assert text in html
    assert "sagemaker_program" not in html  # the container's own settings are not the user's


def test_a_text_model_page_describes_the_csv_layout(client_in, make_model):
    make_model("huggingface-tc-bert-base-cased", modality="text", fine_tunable=True)
    html = client_in.get("/models/huggingface-tc-bert-base-cased/").content.decode()
    assert "data.csv" in html and "the first column is the class label" in html


def test_script_in_catalog_text_is_shown_as_text_never_run(client_in, make_model):
    make_model("huggingface-tc-evil", display_name="<script>alert(1)</script>",
               description='<img src=x onerror="alert(2)">')
    for url in ["/models/huggingface-tc-evil/", "/models/", "/?q=evil"]:
        html = client_in.get(url).content.decode()
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)" in html


def test_the_home_page_has_a_section_per_category_with_counts(client_in, make_model):
    make_model("pytorch-ic-mobilenet-v2", modality="vision")
    make_model("huggingface-spc-bert-base-cased", modality="text", featured=True)
    make_model("ai21-contextual-answers", modality="", proprietary=True)
    sections = {s["category"].slug: s for s in client_in.get("/").context["sections"]}
    assert sections["vision-models"]["count"] == 1
    assert sections["text-models"]["count"] == 1
    assert sections["proprietary-models"]["count"] == 1
    assert [m.model_id for m in sections["text-models"]["entries"]] == ["huggingface-spc-bert-base-cased"]
    assert {"solutions", "notebooks", "algorithms", "blogs", "videos"} <= sections.keys()


def test_home_shows_each_category_featured_then_named_first_and_counts_only_what_browsing_shows(client_in, make_model):
    for i in range(6):
        make_model(f"pytorch-ic-net-{i}", modality="vision")
    make_model("pytorch-ic-hidden", modality="vision", hidden=True)
    make_model("pytorch-ic-old", modality="vision", deprecated=True)
    make_model("pytorch-ic-z-named", modality="vision", display_name="Zebra net")
    make_model("pytorch-ic-z-featured", modality="vision", featured=True)
    make_model("ai21-vision-thing", modality="vision", proprietary=True)

    def vision():
        section = {s["category"].slug: s for s in client_in.get("/").context["sections"]}["vision-models"]
        return section["count"], [m.model_id for m in section["entries"]]

    assert vision() == (8, ["pytorch-ic-z-featured", "pytorch-ic-z-named", "pytorch-ic-net-0", "pytorch-ic-net-1"])
    # A staff rename (the admin saves the row) gives a model its card: it moves up with the named ones.
    model = Model.objects.get(model_id="pytorch-ic-net-5")
    model.display_name = "Alpha net"
    model.save()
    assert vision()[1][:3] == ["pytorch-ic-z-featured", "pytorch-ic-net-5", "pytorch-ic-z-named"]


# Queries with the page cache cold (the catalog just changed): the session, the user, the catalog's
# version, then the page's own. Home reads one query per table (models, solutions, algorithms,
# notebooks, links), its search the models' counts and best matches and each other table; a model
# list reads its facets (which give the count) and its page of models.
COLD_QUERIES = {"/": 8, "/?q=bert": 9, "/models/": 5, "/models/?modality=vision&q=net&fine_tunable=on": 5,
                "/models/?q=net&task=ic&sort=name&page=2": 5, "/models/pytorch-ic-net-0/": 6}


@pytest.mark.parametrize("url", COLD_QUERIES)
def test_catalog_page_queries_do_not_grow_with_the_number_of_models(client_in, make_model, url):
    def queries(cold):
        if cold:
            CatalogVersion.bump()
        else:
            client_in.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client_in.get(url).status_code == 200
        return len(captured)

    for i in range(5):
        make_model(f"pytorch-ic-net-{i}", modality="vision", fine_tunable=True, description="bert net")
    few = queries(cold=True), queries(cold=False)
    Model.objects.bulk_create(
        Model(model_id=f"huggingface-tc-bert-net-{i}", framework="huggingface", task="tc", modality="vision",
              fine_tunable=True, search_name=f" bert net {i} ", search_text=" bert net ")
        for i in range(300)
    )
    assert (queries(cold=True), queries(cold=False)) == few
    # A cached page asks only for the session, the user and the catalog's version (a model page
    # also whether the model may be shown).
    assert few == (COLD_QUERIES[url], 4 if url.startswith("/models/pytorch") else 3)


def test_home_search_counts_the_deprecated_matches_it_leaves_out(client_in, make_model):
    make_model("huggingface-spc-bert-base-cased")
    make_model("huggingface-spc-bert-old", deprecated=True)
    make_model("huggingface-spc-bert-retired", deprecated_by_staff=True)
    response = client_in.get("/", {"q": "bert"})
    assert [m.model_id for m in response.context["models"]] == ["huggingface-spc-bert-base-cased"]
    assert response.context["model_count"] == 1
    assert "2 deprecated models</a> also match and are hidden" in response.content.decode()


def test_facets_count_the_models_the_search_and_the_other_filters_leave(client_in, make_model):
    make_model("pytorch-ic-mobilenet-v2", modality="vision", provider="Pytorch Hub", task_label="Image Classification")
    make_model("tensorflow-ic-mobilenet-v3", modality="vision", provider="Tensorflow Hub", task_label="Image Classification")
    make_model("tensorflow-od-mobilenet-ssd", modality="vision", provider="Tensorflow Hub", task_label="Object Detection")
    make_model("tensorflow-ic-resnet-50", modality="vision", provider="Tensorflow Hub", task_label="Image Classification")

    facets = client_in.get("/models/", {"q": "mobilenet"}).context["facets"]
    assert [(r["task"], r["n"]) for r in facets["task"]] == [("ic", 2), ("od", 1)]
    assert [(r["provider"], r["n"]) for r in facets["provider"]] == [("Pytorch Hub", 1), ("Tensorflow Hub", 2)]

    # A chosen task narrows the other facets, not its own: the other tasks stay on offer.
    response = client_in.get("/models/", {"q": "mobilenet", "task": "ic", "framework": "tensorflow"})
    facets = response.context["facets"]
    assert [(r["task"], r["n"]) for r in facets["task"]] == [("ic", 1), ("od", 1)]
    assert [(r["framework"], r["n"]) for r in facets["framework"]] == [("pytorch", 1), ("tensorflow", 1)]
    assert model_ids(response) == ["tensorflow-ic-mobilenet-v3"]
    assert response.context["page"].paginator.count == 1

    # A chosen value that nothing matches any more is still offered, so the form shows it.
    facets = client_in.get("/models/", {"q": "resnet", "provider": "Pytorch Hub"}).context["facets"]
    assert {"provider": "Pytorch Hub", "n": 0} in facets["provider"]
