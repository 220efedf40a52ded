"""Solutions and Clean up in Chromium against the running product (manage.py demo: web, a real
Celery worker with beat, and the local AWS with its CloudFormation): a person finds a solution,
launches it, watches the stack complete, sees its endpoint in the resources pane and the Endpoints
list, deletes the solution's resources and sees them go; then deploys a model, finds it on the
Clean up page and deletes it from there."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot, sign_in
from .test_demo import running_demo

pytestmark = [pytest.mark.browser, pytest.mark.demo]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # Stacks take 3 s, endpoints 2 s, and beat polls every second: every step can be seen.
    with running_demo(tmp_path_factory.mktemp("demo"), POLL_SECONDS="1", JSUI_LOCAL_ENDPOINT_SECONDS="2",
                      JSUI_LOCAL_STACK_SECONDS="3") as site:
        yield site


def settled(page):
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def test_a_person_launches_a_solution_watches_it_complete_and_deletes_its_resources(page, site, violations, failures):
    base, password = site
    sign_in(page, base, "demo", password)
    pane = page.locator("#resources-pane")
    expect(pane.locator("h3", has_text="Solutions").locator("xpath=following-sibling::ul[1]")).to_contain_text("None launched.")

    page.click("nav >> text=Solutions")
    page.fill("#q", "defect")
    expect(page.locator("#entry-results .count")).to_have_text("1")
    page.click("#entry-results >> text=Visual product defect detection")
    expect(page.locator("#launch-makes")).to_contain_text("AWS::SageMaker::Endpoint")
    expect(page.locator("#launch-makes")).to_contain_text("pytorch-ic-mobilenet-v2")
    screenshot(page, "solution-launchable")

    page.click("#launch-button")
    page.wait_for_url(re.compile(r"/solution-launches/\d+/$"))
    launch_url = page.url
    status = page.locator("#launch-status .status").first
    expect(status).to_have_text(re.compile("Queued|Creating"))
    expect(pane.locator("li.moving")).to_have_count(1)  # the pane shows it moving
    expect(page.locator("#stack-events")).to_contain_text("CREATE_IN_PROGRESS", timeout=15_000)
    screenshot(page, "solution-creating")
    expect(status).to_have_text("Complete", timeout=60_000)
    assert page.url == launch_url  # no reload: htmx swapped the status in
    expect(page.locator("#stack-events")).to_contain_text("CREATE_COMPLETE")
    endpoint = page.locator("#stack-resources a.mono").first
    expect(endpoint).to_contain_text("-endpoint")
    endpoint_name = endpoint.inner_text()
    expect(page.locator("#solution-notebook")).to_have_attribute("href", re.compile(r"^https://github\.com/"))

    # The pane follows by itself; reload any page and it is there with the endpoint.
    expect(pane).to_contain_text("Visual product defect detection")
    expect(pane).to_contain_text(endpoint_name, timeout=15_000)
    expect(pane.locator("li.moving")).to_have_count(0)
    screenshot(page, "solution-complete")

    page.click("nav >> text=Endpoints")
    row = page.locator("tr", has_text=endpoint_name)
    expect(row).to_contain_text("InService")
    page.goto(launch_url)

    page.click("summary:has-text('Delete solution resources')")
    page.click("#confirm-delete-solution")
    expect(status).to_have_text("Deleting")
    expect(status).to_have_text("Deleted", timeout=60_000)
    expect(page.locator("#stack-events")).to_contain_text("DELETE_COMPLETE")
    screenshot(page, "solution-deleted")
    page.reload()
    expect(pane).to_contain_text("None launched.")
    expect(pane).not_to_contain_text(endpoint_name)
    page.click("nav >> text=Endpoints")
    expect(page.locator("body")).not_to_contain_text(endpoint_name)
    assert violations == [] and failures == []


def test_a_person_cleans_up_an_endpoint_from_the_clean_up_page(page, site, violations):
    base, password = site
    sign_in(page, base, "demo", password)
    page.goto(f"{base}/models/pytorch-ic-mobilenet-v2/")
    page.click("#deploy-button")
    page.fill("#id_endpoint_name", "forgotten-endpoint")
    page.click("#deploy-pane button[type=submit]")
    page.wait_for_url(re.compile(r"/endpoints/\d+/$"))
    expect(page.locator("#endpoint-status .status").first).to_have_text("InService", timeout=30_000)

    page.click("#cleanup-link")
    row = page.locator(".cleanup-endpoints tr", has_text="forgotten-endpoint")
    expect(row).to_contain_text("1 × ml.m5.large")
    expect(row).to_contain_text("InService")
    screenshot(page, "cleanup-before")
    row.locator("input[type=checkbox]").check()
    page.click("#cleanup-delete")
    expect(page.locator("#cleanup-asked")).to_contain_text("Asked to delete or stop 1 resource")
    # The list follows the deletion to its end, and the endpoint leaves it.
    expect(page.locator(".cleanup-endpoints")).to_have_count(0, timeout=30_000)
    expect(page.locator("#cleanup-list")).to_contain_text("No endpoints.")
    settled(page)
    screenshot(page, "cleanup-after")
    expect(page.locator("#resources-pane")).not_to_contain_text("forgotten-endpoint", timeout=15_000)
    assert violations == []
