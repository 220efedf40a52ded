"""Catalog pages are served from the cache until the catalog changes, and never after: each door
a change comes through (the admin's forms and actions, a sync, a machine-type restriction, a
write from another process) shows on the next request to every page."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog import sync
from catalog.models import CatalogVersion, Link, Model, Notebook, Solution

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures" / "jumpstart"
MOBILENET = "pytorch-ic-mobilenet-v2"
BERT = "huggingface-spc-bert-base-cased"
PAGES = ["/", "/?q=bert", "/models/", "/models/?q=bert", "/models/?modality=text", f"/models/{BERT}/"]


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def bert(make_model):
    return make_model(BERT, display_name="BERT Base Cased", description="Answers questions.",
                      deploy_types=["ml.m5.large"], deployable=True)


def html(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def warm(client, urls=PAGES):
    for url in urls:
        html(client, url)


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_cached_page_asks_the_database_only_for_the_session_the_user_and_the_catalogs_version(client_in, bert):
    for url in ["/", "/?q=bert", "/models/", "/models/?q=bert", "/models/?modality=text&fine_tunable=on"]:
        html(client_in, url)
        assert queries(client_in, url) == 3, url
    html(client_in, f"/models/{BERT}/")
    assert queries(client_in, f"/models/{BERT}/") == 4  # and whether the model may be shown


def test_pages_stay_within_six_queries_when_the_cache_is_cold(client_in, bert):
    for url in ["/models/", "/models/?q=bert", "/models/?modality=text&fine_tunable=on&task=spc", f"/models/{BERT}/"]:
        CatalogVersion.bump()
        assert queries(client_in, url) <= 6, url


def test_staff_renaming_a_model_in_the_admin_shows_on_every_cached_page(admin_client, bert):
    warm(admin_client)
    form = admin_client.get(f"/admin/catalog/model/{bert.pk}/change/").context["adminform"].form
    data = {**form.initial, "display_name": "Friendly BERT", "description": "Classifies support tickets."}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (None, False)}
    assert admin_client.post(f"/admin/catalog/model/{bert.pk}/change/", data).status_code == 302

    for url in PAGES:
        page = html(admin_client, url)
        assert "Friendly BERT" in page and "BERT Base Cased" not in page, url
    assert "Classifies support tickets." in html(admin_client, f"/models/{BERT}/")
    assert "Friendly BERT" in html(admin_client, "/?q=friendly")


@pytest.mark.parametrize("action, gone_from", [
    ("set_hidden_true", ["/", "/?q=bert", "/models/", "/models/?q=bert"]),
    ("set_deprecated_by_staff_true", ["/", "/?q=bert", "/models/", "/models/?q=bert"]),
])
def test_an_admin_action_that_updates_models_in_bulk_shows_at_once(admin_client, user, bert, action, gone_from):
    reader = Client()
    reader.force_login(user)
    warm(reader)
    admin_client.post("/admin/catalog/model/", {"action": action, "_selected_action": [bert.pk]})
    assert Model.objects.filter(pk=bert.pk, **{action[4:-5]: True}).exists()
    for url in gone_from:
        assert "BERT Base Cased" not in html(reader, url), url


def test_featuring_in_the_admin_reorders_the_cached_home_page(admin_client, make_model):
    make_model("huggingface-tc-albert-base", display_name="ALBERT Base")
    zebra = make_model("huggingface-tc-zebra", display_name="Zebra")
    page = html(admin_client, "/")
    assert page.index("ALBERT Base") < page.index("Zebra")
    admin_client.post("/admin/catalog/model/", {"action": "set_featured_true", "_selected_action": [zebra.pk]})
    page = html(admin_client, "/")
    assert page.index("Zebra") < page.index("ALBERT Base")


def test_deleting_a_model_in_the_admin_takes_it_off_the_cached_pages(admin_client, bert, make_model):
    make_model("huggingface-tc-roberta-base", display_name="RoBERTa")
    warm(admin_client)
    admin_client.post("/admin/catalog/model/", {"action": "delete_selected", "_selected_action": [bert.pk], "post": "yes"})
    assert not Model.objects.filter(pk=bert.pk).exists()
    for url in PAGES[:-1]:
        assert "BERT Base Cased" not in html(admin_client, url), url
    assert admin_client.get(f"/models/{BERT}/").status_code == 404


def test_notebooks_solutions_and_links_edited_in_the_admin_show_at_once(admin_client, bert):
    notebook = Notebook.objects.create(path="qa.ipynb", title="Question answering", url="https://example.com/qa")
    solution = Solution.objects.create(slug="fraud", name="Fraud detection", description="Spot fraud.")
    warm(admin_client, ["/", f"/models/{BERT}/", "/notebooks/", "/solutions/", "/links/?kind=blog", "/?q=fraud"])

    # The notebook's models are saved after the notebook itself, by the admin's many-to-many widget.
    admin_client.post(f"/admin/catalog/notebook/{notebook.pk}/change/", {
        "path": "qa.ipynb", "title": "Answer questions with BERT", "url": "https://example.com/qa",
        "tasks": "[]", "task_labels": "[]", "model_ids": "[]", "models": [bert.pk]})
    response = admin_client.post(f"/admin/catalog/solution/{solution.pk}/change/", {
        "slug": "fraud", "name": "Fraud detection at scale", "description": "Spot fraud."})
    assert response.status_code == 302, response.context["adminform"].form.errors
    admin_client.post("/admin/catalog/link/add/", {
        "kind": "blog", "title": "Deploying BERT", "url": "https://aws.amazon.com/blogs/machine-learning/x/"})

    assert "Answer questions with BERT" in html(admin_client, f"/models/{BERT}/")
    assert "Answer questions with BERT" in html(admin_client, "/notebooks/")
    assert "Fraud detection at scale" in html(admin_client, "/solutions/")
    assert "Fraud detection at scale" in html(admin_client, "/?q=fraud")
    home = html(admin_client, "/")
    assert "Deploying BERT" in home and "Fraud detection at scale" in home
    assert "Deploying BERT" in html(admin_client, "/links/?kind=blog")

    admin_client.post(f"/admin/catalog/link/{Link.objects.get().pk}/delete/", {"post": "yes"})
    assert "Deploying BERT</h3>" not in html(admin_client, "/links/?kind=blog")


def test_a_restriction_in_the_instance_type_admin_shows_on_the_cached_model_pages(admin_client, bert):
    assert 'id="deploy-button" class="button primary"' in html(admin_client, f"/models/{BERT}/")
    assert "BERT Base Cased" in html(admin_client, "/models/?deployable=on")

    response = admin_client.post("/admin/jobs/instancetype/add/", {"name": "ml.m5.large", "note": "too costly"})
    assert response.status_code == 302

    page = html(admin_client, f"/models/{BERT}/")
    assert "Deploy is not available here" in page and "restricted by your admins" in page
    assert "BERT Base Cased" not in html(admin_client, "/models/?deployable=on")


def bucket(tmp_path, model_ids):
    """The fixture bucket with only these models in its manifest."""
    root = tmp_path / "bucket"
    shutil.copytree(FIXTURES, root, dirs_exist_ok=True)
    manifest = json.loads((FIXTURES / "models_manifest.json").read_text())
    (root / "models_manifest.json").write_text(json.dumps([e for e in manifest if e["model_id"] in model_ids]))
    return root


def test_a_sync_shows_on_the_cached_pages_models_that_came_and_went(client_in, tmp_path):
    assert sync.sync_from_dir(bucket(tmp_path / "1", [BERT])).status == "succeeded"
    warm(client_in, ["/", "/models/", "/models/?q=mobilenet", f"/models/{BERT}/"])
    assert "mobilenet" not in html(client_in, "/models/").lower()

    assert sync.sync_from_dir(bucket(tmp_path / "2", [MOBILENET])).status == "succeeded"
    assert MOBILENET in html(client_in, "/models/?q=mobilenet")
    listed = html(client_in, "/models/")
    assert MOBILENET in listed and BERT not in listed
    assert "No longer listed" in html(client_in, f"/models/{BERT}/")


def test_a_failed_sync_changes_nothing_and_the_cache_still_serves(client_in, tmp_path):
    sync.sync_from_dir(bucket(tmp_path, [BERT]))
    html(client_in, "/models/")
    version = CatalogVersion.current()
    (tmp_path / "bucket" / "models_manifest.json").write_text("not json")
    assert sync.sync_from_dir(tmp_path / "bucket").status == "failed"
    assert CatalogVersion.current() == version
    assert queries(client_in, "/models/") == 3


def test_a_model_saved_twice_in_one_transaction_is_fresh_after_commit(client_in, bert):
    from django.db import transaction

    warm(client_in, ["/models/"])
    with transaction.atomic():
        Model.objects.filter(pk=bert.pk).update(display_name="Renamed once")
        bert.refresh_from_db()
        bert.display_name = "Renamed twice"
        bert.save()
    page = html(client_in, "/models/")
    assert "Renamed twice" in page and "Renamed once" not in page


@pytest.mark.django_db(transaction=True)
def test_a_change_made_by_another_process_shows_on_the_pages_this_one_cached(client_in, bert):
    """Another process, such as a Celery worker, has its own cache: what this one cached must go
    stale through the database alone."""
    warm(client_in, ["/models/", f"/models/{BERT}/"])
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    code = ("import django; django.setup(); from catalog.models import Model; "
            f"Model.objects.filter(model_id={BERT!r}).update(display_name='Renamed elsewhere')")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "jumpstart_ui.settings"}
    subprocess.run([sys.executable, "-c", code], cwd=django_settings.BASE_DIR, env=env, check=True, timeout=60)

    assert "Renamed elsewhere" in html(client_in, "/models/")
    assert "Renamed elsewhere" in html(client_in, f"/models/{BERT}/")


def settings_in_a_new_process(**environ):
    code = ("import json, django; django.setup(); from django.conf import settings; "
            "print(json.dumps({'caches': settings.CACHES, 'db': settings.DATABASES['default']}, default=str))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "jumpstart_ui.settings", **environ}
    env.pop("CACHE_URL", None) if "CACHE_URL" not in environ else None
    result = subprocess.run([sys.executable, "-c", code], cwd=django_settings.BASE_DIR, env=env,
                            capture_output=True, text=True, check=True, timeout=60)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_pages_are_cached_in_local_memory_unless_a_cache_url_names_a_redis(tmp_path):
    environ = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "VAR_DIR": str(tmp_path)}
    default = settings_in_a_new_process(**environ)["caches"]["default"]
    assert default["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    shared = settings_in_a_new_process(**environ, CACHE_URL="redis://cache.invalid:6379/1")["caches"]["default"]
    assert shared == {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://cache.invalid:6379/1"}


def test_database_connections_are_kept_and_checked_when_the_environment_says_so(tmp_path):
    db = settings_in_a_new_process(DATABASE_URL="postgres://u:p@db.invalid:5432/j", VAR_DIR=str(tmp_path),
                                   DB_CONN_MAX_AGE="600", DB_CONN_HEALTH_CHECKS="true")["db"]
    assert (db["CONN_MAX_AGE"], db["CONN_HEALTH_CHECKS"]) == (600, True)
    compose = (Path(django_settings.BASE_DIR) / "docker-compose.yml").read_text()
    assert "DB_CONN_MAX_AGE: ${DB_CONN_MAX_AGE:-600}" in compose and "DB_CONN_HEALTH_CHECKS: ${DB_CONN_HEALTH_CHECKS:-true}" in compose
    assert "CACHE_URL: redis://redis:6379/1" in compose


@pytest.mark.skipif(not os.getenv("REDIS_URL"), reason="needs a Redis (CI has one)")
def test_a_shared_redis_cache_serves_pages_and_still_never_a_stale_one(client_in, bert, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": os.environ["REDIS_URL"], "TIMEOUT": 120,
                                   "KEY_PREFIX": f"jsui-test-{os.getpid()}-{CatalogVersion.bump()}"}}
    html(client_in, "/models/?q=bert")
    assert queries(client_in, "/models/?q=bert") == 3
    Model.objects.filter(pk=bert.pk).update(display_name="Renamed while cached in Redis")
    assert "Renamed while cached in Redis" in html(client_in, "/models/?q=bert")
