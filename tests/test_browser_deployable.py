"""A new user against the running product: searches "mobilenet", sees which results can be
deployed here, pages through the results without losing the search, then deploys an LLM that
needs its license accepted, picking its configuration and machine from the benchmark numbers,
and watches the endpoint come up."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot, sign_in
from .test_demo import running_demo

pytestmark = [pytest.mark.browser, pytest.mark.demo]
LLAMA = "meta-textgeneration-llama-3-1-70b"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with running_demo(tmp_path_factory.mktemp("demo"), POLL_SECONDS="1", JSUI_LOCAL_ENDPOINT_SECONDS="2") as site:
        yield site


def test_a_person_finds_what_deploys_pages_through_a_search_and_deploys_a_gated_llm_by_its_numbers(page, site, violations):
    base, password = site
    sign_in(page, base, "demo", password)
    page.goto(f"{base}/models/")
    page.fill("#id_q", "mobilenet")
    page.wait_for_url(re.compile(r"q=mobilenet"))
    count = page.locator("#result-count").inner_text()
    assert int(count) > 24  # more than one page
    first = page.locator(".model-card").first
    expect(first.locator(".chip.deployable")).to_be_visible()  # what deploys comes first
    deployable_here = page.locator(".model-card:has(.chip.deployable)").count()
    assert 0 < deployable_here < page.locator(".model-card").count()
    screenshot(page, "search-mobilenet")

    page.click(".pagination a:has-text('Next')")
    page.wait_for_url(re.compile(r"page=2"))
    assert "q=mobilenet" in page.url and "??" not in page.url
    expect(page.locator("#id_q")).to_have_value("mobilenet")
    expect(page.locator("#result-count")).to_have_text(count)
    expect(page.locator(".pagination")).to_contain_text("Page 2 of")
    page.click(".pagination a:has-text('Previous')")
    page.wait_for_url(re.compile(r"q=mobilenet"))
    expect(page.locator(".pagination")).to_contain_text("Page 1 of")

    page.goto(f"{base}/models/{LLAMA}/")
    page.click("#deploy-button")
    configs = page.locator("#deploy-configs")
    expect(configs).to_contain_text("tokens/sec")
    screenshot(page, "deploy-configs")
    # The best-ranked config's default machine has no quota here: pick another from its numbers.
    row = configs.locator("button[data-value='ml.g5.48xlarge'][data-check='#id_config_lmi']")
    row.click()
    expect(page.locator("#id_instance_type")).to_have_value("ml.g5.48xlarge")
    expect(page.locator("#id_config_lmi")).to_be_checked()
    page.fill("#id_endpoint_name", "llama-by-numbers")
    page.click("#deploy-pane button[type=submit]")
    expect(page.locator("#deploy-pane .eula .error")).to_contain_text("accept its license")
    page.check("#id_accept_eula")
    page.click("#deploy-pane button[type=submit]")
    page.wait_for_url(re.compile(r"/endpoints/\d+/$"))
    expect(page.locator("#endpoint-status .status").first).to_have_text("InService", timeout=30_000)
    expect(page.locator("body")).to_contain_text("lmi")
    screenshot(page, "llama-in-service")
    assert violations == []
