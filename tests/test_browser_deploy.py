"""Deploying in Chromium against the running product (manage.py demo: web, a real Celery worker
with beat, and the local AWS): a model goes to InService without a reload, answers a test request
and is deleted; a failing deployment shows SageMaker's reason."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot, sign_in
from .test_demo import running_demo

pytestmark = [pytest.mark.browser, pytest.mark.demo]
MOBILENET = "pytorch-ic-mobilenet-v2"
# Two of MobileNet's machine types, made to fail and to have no quota in this demo's local AWS.
FAILING = "ml.m4.xlarge"
NO_QUOTA = "ml.c5.2xlarge"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # Endpoints settle in two seconds and beat polls every second: the test watches every step.
    with running_demo(tmp_path_factory.mktemp("demo"), POLL_SECONDS="1", JSUI_LOCAL_ENDPOINT_SECONDS="2",
                      JSUI_LOCAL_FAILING_INSTANCE_TYPES=FAILING, JSUI_LOCAL_NO_QUOTA_INSTANCE_TYPES=NO_QUOTA) as site:
        yield site


def open_deploy_pane(page, base, model_id):
    page.goto(f"{base}/models/{model_id}/")
    page.click("#deploy-button")
    expect(page.locator("#deploy-pane h2")).to_have_text("Deployment configuration")


def test_a_person_deploys_watches_it_come_up_tests_it_and_deletes_it(page, site):
    base, password = site
    sign_in(page, base, "demo", password)
    open_deploy_pane(page, base, MOBILENET)
    expect(page.locator("#id_instance_type")).to_have_value("ml.m5.large")
    page.fill("#id_endpoint_name", "bad_name")
    page.click("#deploy-pane button[type=submit]")
    expect(page.locator("#deploy-pane .error")).to_contain_text("letters, digits and hyphens")
    screenshot(page, "deploy-error")

    # A pasted name longer than SageMaker allows is kept whole and refused with its length.
    page.fill("#id_endpoint_name", "m" * 70)
    assert len(page.input_value("#id_endpoint_name")) == 70
    page.click("#deploy-pane button[type=submit]")
    expect(page.locator("#deploy-pane .error")).to_contain_text("at most 63 characters; this one has 70")

    page.fill("#id_endpoint_name", "mobilenet-browser")
    page.click("#deploy-pane button[type=submit]")
    page.wait_for_url(re.compile(r"/endpoints/\d+/$"))
    status = page.locator("#endpoint-status .status").first
    expect(status).to_have_text(re.compile("Queued|Creating"))
    # What will be sent is there from the start, not after a reload.
    expect(page.locator("text=Resolved from the spec")).to_be_visible()
    screenshot(page, "endpoint-creating")
    url = page.url
    expect(status).to_have_text("InService", timeout=30_000)
    assert page.url == url  # no reload: htmx swapped the status in
    expect(page.locator("#endpoint-status")).not_to_have_attribute("hx-trigger", re.compile("every"))
    screenshot(page, "endpoint-in-service")
    # Polling has stopped, and "Running for" still counts.
    running = page.locator("#running-for")
    expect(running).to_have_text(re.compile(r"\d+ s"))
    before = running.inner_text()
    expect(running).not_to_have_text(before, timeout=5_000)

    page.click("#invoke-panel button[type=submit]")
    expect(page.locator("#invoke-result")).to_contain_text("probabilities")
    result = page.locator("#invoke-result")
    assert result.inner_text().count("\n") > 3  # indented, not one line
    assert result.evaluate("el => el.scrollWidth <= el.clientWidth")  # never wider than its card
    screenshot(page, "endpoint-invoked")

    page.click("summary:has-text('Delete endpoint')")
    page.click("#confirm-delete")
    expect(page.locator("#endpoint-status .status").first).to_have_text("Deleted", timeout=30_000)
    page.goto(f"{base}/endpoints/")
    expect(page.locator("body")).not_to_contain_text("mobilenet-browser")
    page.check("input[name=deleted]")
    expect(page.locator("table.endpoints")).to_contain_text("mobilenet-browser")
    screenshot(page, "endpoints-with-deleted")


def test_a_failing_deployment_shows_sagemakers_reason(page, site):
    base, password = site
    sign_in(page, base, "demo", password)
    open_deploy_pane(page, base, MOBILENET)
    page.select_option("#id_instance_type", FAILING)
    page.fill("#id_endpoint_name", "mobilenet-failing")
    page.click("#deploy-pane button[type=submit]")
    page.wait_for_url(re.compile(r"/endpoints/\d+/$"))
    expect(page.locator("#failure-reason")).to_contain_text("health check", timeout=30_000)
    expect(page.locator("#invoke-unavailable")).to_contain_text("This endpoint failed, so it cannot answer requests")
    screenshot(page, "endpoint-failed")


def test_a_quota_refusal_says_what_it_made_was_deleted_again(page, site):
    base, password = site
    sign_in(page, base, "demo", password)
    open_deploy_pane(page, base, MOBILENET)
    page.select_option("#id_instance_type", NO_QUOTA)
    page.fill("#id_endpoint_name", "mobilenet-no-quota")
    page.click("#deploy-pane button[type=submit]")
    page.wait_for_url(re.compile(r"/endpoints/\d+/$"))
    reason = page.locator("#failure-reason")
    expect(reason).to_contain_text("Service Quotas", timeout=30_000)
    expect(reason).to_contain_text("The endpoint config and model it had made were deleted again.")
    screenshot(page, "endpoint-no-quota")
