"""Staff curate the catalog in the admin with a browser: feature a model, add a blog link, and
start a catalog sync."""

import pytest
from playwright.sync_api import expect

from catalog.models import SyncRun
from catalog.sync import BUNDLED_DIR, sync_from_dir

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# A model that is not first in its section until staff feature it.
CHOSEN = "tensorflow-ic-imagenet-mobilenet-v2-050-224-classification-4"


@pytest.fixture
def staff_page(live_catalog_page):
    return live_catalog_page(staff=True)


def test_staff_feature_a_model_and_add_a_blog_link_that_people_then_see(staff_page, live_server):
    page = staff_page
    page.goto(f"{live_server.url}/admin/catalog/model/?q={CHOSEN}")
    page.check(f"tr:has-text('{CHOSEN}') input[name=_selected_action]")
    page.select_option("select[name=action]", "set_featured_true")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("1 entry updated")

    page.goto(f"{live_server.url}/admin/catalog/link/add/")
    page.select_option("#id_kind", "blog")
    page.fill("#id_title", "Deploying vision models with JumpStart")
    page.fill("#id_url", "https://aws.amazon.com/blogs/machine-learning/")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    page.goto(f"{live_server.url}/")
    expect(page.locator("#vision-models .model-card").first).to_contain_text(CHOSEN)
    expect(page.locator("#vision-models .model-card").first).to_contain_text("Featured")
    expect(page.locator("#blogs")).to_contain_text("Deploying vision models with JumpStart")
    screenshot(page, "home-curated")


def test_staff_start_a_catalog_sync_from_the_admin(staff_page, live_server, monkeypatch):
    from catalog import tasks

    # The task body runs here: the web request only queues it.
    monkeypatch.setattr(tasks.sync_catalog, "delay", lambda: sync_from_dir(BUNDLED_DIR))
    before = SyncRun.objects.count()
    page = staff_page
    page.goto(f"{live_server.url}/admin/catalog/syncrun/")
    page.click("text=Sync catalog now")
    expect(page.locator(".messagelist")).to_contain_text("Catalog sync queued")
    page.reload()
    assert SyncRun.objects.count() == before + 1
    expect(page.locator("#result_list")).to_contain_text("Succeeded")
