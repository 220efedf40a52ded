"""A person browsing the real bundled catalog in Chromium: search, filters, model pages, history."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(live_catalog_page):
    return live_catalog_page()


def result_count(page):
    return int(page.locator("#result-count").inner_text())


def test_a_person_browses_the_real_catalog_searches_filters_and_opens_a_model(signed_in, live_server):
    page = signed_in
    expect(page.locator("#text-models h2")).to_contain_text("Text models")
    screenshot(page, "home")

    page.click("text=Models")
    page.wait_for_url(re.compile(r"/models/$"))
    assert result_count(page) > 1000

    # Typing searches as you go: the URL follows, so it can be shared.
    page.fill("#id_q", "bert")
    page.wait_for_url(re.compile(r"q=bert"))
    expect(page.locator("#model-results .entry-title").first).to_contain_text(re.compile("bert", re.I))
    titles = page.locator("#model-results .model-card").all_inner_texts()[:6]
    assert all("bert" in t.lower() for t in titles), titles
    screenshot(page, "search-bert")

    page.fill("#id_q", "")
    page.wait_for_url(re.compile(r"q=&"))
    page.select_option("#id_modality", "vision")
    page.wait_for_url(re.compile(r"modality=vision"))
    expect(page.locator("h1")).to_contain_text("Vision models")
    vision_count = result_count(page)
    assert 100 < vision_count < 1000
    screenshot(page, "vision")

    # Back goes through each step again, with its filters as they were.
    page.go_back()
    page.wait_for_url(re.compile(r"q=&modality=&"))
    expect(page.locator("#id_modality")).to_have_value("")
    page.go_back()
    page.wait_for_url(re.compile(r"q=bert"))
    expect(page.locator("#id_q")).to_have_value("bert")
    expect(page.locator("#model-results .entry-title").first).to_contain_text(re.compile("bert", re.I))

    page.goto(f"{live_server.url}/models/pytorch-ic-mobilenet-v2/")
    expect(page.locator("#inference-instances")).to_contain_text("ml.")
    expect(page.locator("#training-instances")).to_contain_text("ml.")
    expect(page.locator("table.hyperparameters")).to_contain_text("epochs")
    screenshot(page, "model-detail")


def test_home_search_is_live_and_the_back_button_returns_to_the_sections(signed_in, live_server):
    page = signed_in
    page.fill("#q", "llama")
    page.wait_for_url(re.compile(r"\?q=llama"))
    expect(page.locator("#browse .model-card").first).to_contain_text(re.compile("llama", re.I))
    page.go_back()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("#vision-models")).to_be_visible()
