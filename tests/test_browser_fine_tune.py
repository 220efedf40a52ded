"""Fine-tuning in Chromium against the running product (manage.py demo: web, a real Celery worker
with beat, the local AWS with its demo data bucket): a person browses to their data, is told
what is wrong with a broken dataset, picks the valid one, launches, watches the job's timeline,
logs, chart and progress move without a reload, reads the Training Output and deploys the result
to an endpoint that comes up. Others stop a running job and read a failed job's reason."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot, sign_in
from .test_demo import running_demo

pytestmark = [pytest.mark.browser, pytest.mark.demo]
BERT = "huggingface-spc-bert-base-cased"
MOBILENET = "pytorch-ic-mobilenet-v2"
DATA = "jumpstart-ui-demo-data"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # Every step of a training job takes a second and beat follows every second.
    with running_demo(tmp_path_factory.mktemp("demo"), POLL_SECONDS="1", LOG_POLL_SECONDS="1",
                      JSUI_LOCAL_TRAINING_SECONDS="1", JSUI_LOCAL_ENDPOINT_SECONDS="2") as site:
        yield site


def open_pane(page, base, model_id):
    page.goto(f"{base}/models/{model_id}/")
    page.click("#fine-tune-button")
    expect(page.locator("#fine-tune-pane h2")).to_have_text("Fine-tuning configuration")


def settled(page):
    """htmx has swapped and wired up what it last received (as a person's next click would find it)."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    page.wait_for_timeout(100)


def browse_to(page, *folders):
    """Find S3 bucket, then click through the demo bucket's folders and use the last one."""
    settled(page)
    page.click("#find-bucket")
    page.get_by_role("link", name=f"🪣 {DATA}", exact=True).click()
    for folder in folders:
        page.click(f"#s3-browser a:has-text('{folder}/')")
    path = "/".join(folders)
    page.click(f"#s3-browser button:has-text('Use s3://{DATA}/{path}/')")
    expect(page.locator("#id_training_uri")).to_have_value(f"s3://{DATA}/{path}/")
    expect(page.locator("#id_data_source_1")).to_be_checked()  # "my own data"


def check_data(page):
    page.click("#check-data")
    return page.locator("#data-problems, #data-ok")


def launch(page, name):
    page.fill("#id_job_name", name)
    expect(page.locator("#output-preview")).to_contain_text(f"/{name}/output/model.tar.gz")
    page.click("#launch-training")
    page.wait_for_url(re.compile(r"/training-jobs/\d+/$"))


def watch_it_train(page, name):
    """The job page moves by itself: timeline, logs, chart and progress, then the output."""
    url = page.url
    expect(page.locator("#training-status .status").first).to_have_text(re.compile("Queued|InProgress"))
    expect(page.locator("#timeline li").first).to_be_visible(timeout=30_000)
    expect(page.locator("#log-tail")).to_contain_text(re.compile("[Ee]poch"), timeout=30_000)
    expect(page.locator("#metrics svg polyline").first).to_be_visible(timeout=30_000)
    expect(page.locator("#epoch-progress progress")).to_be_visible()
    screenshot(page, f"training-{name}-running")
    expect(page.locator("#training-status .status").first).to_have_text("Completed", timeout=60_000)
    assert page.url == url  # no reload: htmx swapped the live parts in
    assert len(page.locator("#timeline li").all()) >= 4
    output = page.locator("#training-output")
    expect(output).to_contain_text(f"/{name}/output/model.tar.gz")
    expect(output).to_contain_text("Training job ARN")
    expect(page.locator("#epoch-progress progress")).to_have_attribute("value", "1.0")
    screenshot(page, f"training-{name}-output")


def deploy_result(page, endpoint_name):
    page.click("#deploy-fine-tuned")
    expect(page.locator("#fine-tuned-source")).to_contain_text("model.tar.gz")
    page.fill("#id_endpoint_name", endpoint_name)
    page.click("#deploy-pane button[type=submit]")
    page.wait_for_url(re.compile(r"/endpoints/\d+/$"))
    expect(page.locator("#endpoint-status .status").first).to_have_text("InService", timeout=30_000)
    screenshot(page, f"endpoint-{endpoint_name}")


def test_a_person_fine_tunes_a_text_model_on_their_own_data_and_deploys_it(page, site, violations, failures):
    base, password = site
    sign_in(page, base, "demo", password)
    open_pane(page, base, BERT)
    browse_to(page, "sentence-pair", "broken-columns")
    found = check_data(page)
    expect(found).to_have_id("data-problems", timeout=30_000)
    expect(found).to_contain_text("line 5")
    screenshot(page, "fine-tune-broken-data")

    browse_to(page, "sentence-pair", "valid")
    expect(check_data(page)).to_have_id("data-ok", timeout=30_000)
    page.select_option("#id_instance_type", "ml.p3.8xlarge")
    expect(page.locator("#batch-hint")).to_contain_text("4 GPUs, so try a batch size of 256")
    screenshot(page, "fine-tune-pane")
    launch(page, "bert-browser")
    watch_it_train(page, "bert-browser")
    deploy_result(page, "bert-fine-tuned")
    # The pane, the job page and the endpoint page ran under the Content-Security-Policy, and no
    # request the pages made was refused.
    assert violations == [] and failures == []


def test_a_person_fine_tunes_a_vision_model_and_the_broken_image_data_is_caught(page, site):
    base, password = site
    sign_in(page, base, "demo", password)
    open_pane(page, base, MOBILENET)
    browse_to(page, "image-classification", "broken-one-class")
    found = check_data(page)
    expect(found).to_have_id("data-problems", timeout=30_000)
    expect(found).to_contain_text("at least two")
    # Launching anyway is refused with the same problems, and nothing starts.
    page.fill("#id_job_name", "mobilenet-refused")
    page.click("#launch-training")
    expect(page.locator("#fine-tune-pane #data-problems")).to_contain_text("at least two")
    assert "/models/" in page.url

    browse_to(page, "image-classification", "valid")
    launch(page, "mobilenet-browser")
    watch_it_train(page, "mobilenet-browser")
    deploy_result(page, "mobilenet-fine-tuned")
    page.goto(f"{base}/training-jobs/")
    expect(page.locator("table.training-jobs")).to_contain_text("mobilenet-browser")
    expect(page.locator("table.training-jobs")).to_contain_text("Completed")
    screenshot(page, "training-jobs-list")


def test_a_person_stops_a_running_job(page, site):
    base, password = site
    sign_in(page, base, "demo", password)
    open_pane(page, base, MOBILENET)  # the model's default dataset
    page.fill("#id_hp_epochs", "50")  # long enough to stop it halfway
    launch(page, "mobilenet-stopped")
    expect(page.locator("#log-tail")).to_contain_text(re.compile("[Ee]poch"), timeout=30_000)
    page.reload()  # the Stop control is in the header
    page.click("summary:has-text('Stop training')")
    page.click("#confirm-stop")
    expect(page.locator("#training-status .status").first).to_have_text("Stopped", timeout=30_000)
    expect(page.locator("#training-output")).to_have_count(0)
    screenshot(page, "training-stopped")


def test_a_failed_job_shows_sagemakers_reason_and_its_last_log_lines(page, site):
    base, password = site
    sign_in(page, base, "demo", password)
    open_pane(page, base, BERT)
    browse_to(page, "sentence-pair", "fails-in-training")
    launch(page, "bert-failing")
    reason = page.locator("#failure-reason")
    expect(reason).to_contain_text("AlgorithmError", timeout=60_000)
    expect(page.locator("#log-tail")).to_contain_text("ValueError", timeout=30_000)
    screenshot(page, "training-failed")
