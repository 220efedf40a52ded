"""A person pages through search results in Chromium: Next and Previous keep the search and every
filter (in the address bar, in the form and in the count), on the model list and the notebooks."""

import math
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import expect

from catalog.models import Model, Notebook

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(live_catalog_page):
    return live_catalog_page()


def query(page):
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query, keep_blank_values=True).items()}


def page_through(page, results, count, pages, kept):
    """Next to the last page and Previous back to the first, checking on each page that the
    address, the form and the count still hold the search."""
    count_locator = results.locator(".count").first
    for number in [*range(2, pages + 1), *range(pages - 1, 0, -1)]:
        button = "Next →" if number > int(query(page).get("page") or 1) else "← Previous"
        results.get_by_role("link", name=button).click()
        page.wait_for_url(re.compile(rf"[?&]page={number}(&|$)"))
        expect(results.locator(".pagination")).to_contain_text(f"Page {number} of {pages}")
        expect(count_locator).to_have_text(str(count))
        address = query(page)
        for name, value in kept.items():
            assert address.get(name) == value, (name, page.url)


def test_paging_a_model_search_keeps_the_query_and_the_count(signed_in, live_server):
    page = signed_in
    expected = Model.objects.visible().not_deprecated().matches("mobilenet").count()
    pages = math.ceil(expected / settings.CATALOG_PAGE_SIZE)
    assert pages >= 3, expected

    page.goto(f"{live_server.url}/models/")
    page.fill("#id_q", "mobilenet")
    page.wait_for_url(re.compile(r"q=mobilenet"))
    results = page.locator("#model-results")
    expect(page.locator("#result-count")).to_have_text(str(expected))

    page_through(page, results, expected, pages, {"q": "mobilenet"})
    expect(page.locator("#id_q")).to_have_value("mobilenet")
    assert all("mobilenet" in t.lower() for t in results.locator(".model-card").all_inner_texts())

    # Back retraces the pages; a reload of one is the same page, search and count included.
    page.go_back()
    page.wait_for_url(re.compile(r"page=2"))
    expect(results.locator(".pagination")).to_contain_text(f"Page 2 of {pages}")
    page.reload()
    expect(page.locator("#id_q")).to_have_value("mobilenet")
    expect(page.locator("#result-count")).to_have_text(str(expected))
    expect(page.locator(".pagination")).to_contain_text(f"Page 2 of {pages}")
    screenshot(page, "paging-models")


def test_paging_keeps_a_modality_filter_and_the_search(signed_in, live_server):
    page = signed_in
    page.goto(f"{live_server.url}/models/")
    page.select_option("#id_modality", "vision")
    page.wait_for_url(re.compile(r"modality=vision"))
    vision = Model.objects.visible().not_deprecated().filter(modality="vision").count()
    results = page.locator("#model-results")
    expect(page.locator("#result-count")).to_have_text(str(vision))
    expect(page.locator("h1")).to_contain_text("Vision models")

    # Three pages in and back, then the same with a search on top of the filter.
    results.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"page=2"))
    results.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"page=3"))
    assert query(page)["modality"] == "vision"
    expect(page.locator("#id_modality")).to_have_value("vision")
    expect(page.locator("#result-count")).to_have_text(str(vision))

    page.fill("#id_q", "mobilenet")
    page.wait_for_url(re.compile(r"q=mobilenet"))
    assert "page" not in query(page)  # a new search starts on its first page
    both = Model.objects.visible().not_deprecated().filter(modality="vision").matches("mobilenet").count()
    expect(page.locator("#result-count")).to_have_text(str(both))
    page_through(page, results, both, math.ceil(both / settings.CATALOG_PAGE_SIZE), {"q": "mobilenet", "modality": "vision"})
    expect(page.locator("#id_modality")).to_have_value("vision")
    expect(page.locator("#id_q")).to_have_value("mobilenet")
    expect(page.locator("h1")).to_contain_text("Vision models")
    screenshot(page, "paging-vision-models")


def test_paging_the_notebooks_keeps_their_filter(signed_in, live_server):
    page = signed_in
    expected = Notebook.objects.visible().matching("text", ["title", "description"]).count()
    pages = math.ceil(expected / settings.CATALOG_PAGE_SIZE)
    assert pages >= 2, expected

    page.goto(f"{live_server.url}/notebooks/")
    page.fill("#q", "text")
    page.wait_for_url(re.compile(r"q=text"))
    results = page.locator("#entry-results")
    expect(results.locator(".count")).to_have_text(str(expected))

    page_through(page, results, expected, pages, {"q": "text"})
    expect(page.locator("#q")).to_have_value("text")

    # Filtering anew from a later page starts again at the first page of the new filter.
    results.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"page=2"))
    page.fill("#q", "jumpstart")
    page.wait_for_url(re.compile(r"q=jumpstart"))
    assert "page" not in query(page) and query(page)["q"] == "jumpstart", page.url
    jumpstart = Notebook.objects.visible().matching("jumpstart", ["title", "description"]).count()
    expect(results.locator(".count")).to_have_text(str(jumpstart))
    screenshot(page, "paging-notebooks")
