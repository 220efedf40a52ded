"""Staff curate the catalog in Django's admin; everyone else is kept out of it."""

import pytest

from catalog.models import Link, Model

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


def test_a_signed_in_user_who_is_not_staff_cannot_open_the_admin(client_in):
    response = client_in.get("/admin/catalog/model/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_featuring_a_model_puts_it_first_in_its_home_section(admin_client, make_model):
    make_model("huggingface-tc-albert-base", modality="text", display_name="ALBERT Base")
    chosen = make_model("huggingface-tc-zebra", modality="text")

    admin_client.post("/admin/catalog/model/", {"action": "set_featured_true", "_selected_action": [chosen.pk]})

    sections = {s["category"].slug: s for s in admin_client.get("/").context["sections"]}
    assert sections["text-models"]["entries"][0].model_id == "huggingface-tc-zebra"


def test_hiding_a_model_takes_it_out_of_search(admin_client, client, user, make_model):
    model = make_model("huggingface-tc-bert-secret")
    admin_client.post("/admin/catalog/model/", {"action": "set_hidden_true", "_selected_action": [model.pk]})
    client.force_login(user)
    assert client.get("/", {"q": "secret"}).context["model_count"] == 0


def test_staff_rename_and_describe_a_model_and_search_finds_the_new_name(admin_client, make_model):
    model = make_model("huggingface-tc-bert-base-cased")
    form = admin_client.get(f"/admin/catalog/model/{model.pk}/change/").context["adminform"].form
    data = {**form.initial, "display_name": "Friendly BERT", "description": "Classifies support tickets."}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (None, False)}
    response = admin_client.post(f"/admin/catalog/model/{model.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors

    model.refresh_from_db()
    assert (model.display_name, model.description) == ("Friendly BERT", "Classifies support tickets.")
    assert list(Model.objects.search("friendly")) == [model]


def test_marking_a_model_deprecated_hides_it_from_browsing(admin_client, make_model):
    model = make_model("huggingface-tc-old")
    admin_client.post("/admin/catalog/model/", {"action": "set_deprecated_by_staff_true", "_selected_action": [model.pk]})
    assert admin_client.get("/models/").context["page"].paginator.count == 0


def test_a_blog_link_added_by_staff_shows_in_the_blogs_section(admin_client):
    response = admin_client.post("/admin/catalog/link/add/", {
        "kind": "blog", "title": "Fine-tuning Llama on SageMaker", "url": "https://aws.amazon.com/blogs/machine-learning/x/",
        "description": "A walkthrough.",
    })
    assert response.status_code == 302
    assert Link.objects.get().kind == "blog"
    sections = {s["category"].slug: s for s in admin_client.get("/").context["sections"]}
    assert [link.title for link in sections["blogs"]["entries"]] == ["Fine-tuning Llama on SageMaker"]
    assert "Fine-tuning Llama on SageMaker" in admin_client.get("/links/", {"kind": "blog"}).content.decode()


def test_the_sync_button_queues_a_catalog_sync_after_commit(admin_client, monkeypatch, django_capture_on_commit_callbacks):
    from catalog import tasks

    queued = []
    monkeypatch.setattr(tasks.sync_catalog, "delay", lambda: queued.append(True))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/catalog/syncrun/start/")
    assert response.status_code == 302 and queued == [True]
    assert "Sync catalog now" in admin_client.get("/admin/catalog/syncrun/").content.decode()
