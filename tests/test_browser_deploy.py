"""Deploying in Chromium against the running product (manage.py demo: web, a real Celery worker
with beat, and the local AWS): a model goes to InService without a reload, answers a test request
and is deleted; a failing deployment shows SageMaker's reason."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot, sign_in
from .test_demo import Demo, _free_port, private_env

pytestmark = [pytest.mark.browser, pytest.mark.demo]
MOBILENET = "pytorch-ic-mobilenet-v2"
# One of MobileNet's machine types, made to fail in this demo's local AWS.
FAILING = "ml.m4.xlarge"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    env = private_env(tmp_path_factory.mktemp("demo"))
    # Endpoints settle in two seconds and beat polls every second: the test watches every step.
    env.update(POLL_SECONDS="1", JSUI_LOCAL_ENDPOINT_SECONDS="2", JSUI_LOCAL_FAILING_INSTANCE_TYPES=FAILING)
    port = _free_port()
    demo = Demo(["--port", str(port), "--aws-port", str(_free_port())], env)
    try:
        password = demo.wait_for(r"password: (\S+)", timeout=90)
        demo.wait_for(r"\[worker\] .* (celery@\S+) ready", timeout=30)
        yield f"http://127.0.0.1:{port}", password
    finally:
        demo.kill()


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

    page.fill("#id_endpoint_name", "mobilenet-browser")
    page.click("#deploy-pane button[type=submit]")
    page.wait_for_url(re.compile(r"/endpoints/\d+/$"))
    status = page.locator("#endpoint-status .status").first
    expect(status).to_have_text(re.compile("Queued|Creating"))
    screenshot(page, "endpoint-creating")
    url = page.url
    expect(status).to_have_text("InService", timeout=30_000)
    assert page.url == url  # no reload: htmx swapped the status in
    expect(page.locator("#endpoint-status")).not_to_have_attribute("hx-trigger", re.compile("every"))
    screenshot(page, "endpoint-in-service")

    page.click("#invoke-panel button[type=submit]")
    expect(page.locator("#invoke-result")).to_contain_text("probabilities")
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
    screenshot(page, "endpoint-failed")
