"""static/js/app.js in Chromium, under the Content-Security-Policy: htmx errors show a banner,
elapsed times tick as the server words them, and the main pages and the admin run with no
policy violation."""

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from jobs.templatetags.jobs_extras import duration

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MOBILENET = "pytorch-ic-mobilenet-v2"
UNREACHABLE = "The server could not be reached: check your connection and try again."
def banner(page):
    return page.locator("#error-banner [role=alert]")


def open_deploy_pane(page, base):
    page.goto(f"{base}/models/{MOBILENET}/")
    page.click("#deploy-button")
    expect(page.locator("#deploy-pane h2")).to_have_text("Deployment configuration")


def test_a_form_sent_by_htmx_with_a_spoiled_csrf_token_shows_what_happened_and_what_to_do(aws, live_catalog_page, live_server):
    from jobs.models import Deployment

    page = live_catalog_page()
    open_deploy_pane(page, live_server.url)
    expect(page.locator("#error-banner")).to_be_hidden()
    page.evaluate("""() => {
      const spoiled = "spoiled".repeat(8);
      document.body.setAttribute("hx-headers", JSON.stringify({"X-CSRFToken": spoiled}));
      document.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach((input) => { input.value = spoiled; });
    }""")

    page.click("#deploy-pane button[type=submit]")

    expect(banner(page)).to_be_visible()
    expect(banner(page)).to_contain_text("security token is missing or out of date")
    expect(banner(page)).to_contain_text("Reload the page and submit again.")
    expect(page.locator("#deploy-pane h2")).to_have_text("Deployment configuration")  # the form is still there
    screenshot(page, "csrf-failure-banner")
    assert Deployment.objects.count() == 0

    page.click("#error-banner [data-dismiss-banner]")
    expect(page.locator("#error-banner")).to_be_hidden()


def test_a_request_that_cannot_reach_the_server_says_so_and_the_next_good_one_clears_it(live_catalog_page, live_server):
    page = live_catalog_page()
    page.goto(f"{live_server.url}/models/")
    offline = re.compile(r".*/models/\?.*")
    page.route(offline, lambda route: route.abort("internetdisconnected"))

    page.fill("#id_q", "bert")
    expect(banner(page)).to_have_text(UNREACHABLE)
    screenshot(page, "unreachable-banner")

    page.unroute(offline)
    page.fill("#id_q", "bert base")
    page.wait_for_url(re.compile(r"q=bert(\+|%20)base"))
    expect(page.locator("#error-banner")).to_be_hidden()


def test_a_server_error_shows_the_message_its_fragment_carries_or_its_status(live_catalog_page, live_server):
    page = live_catalog_page()
    page.goto(f"{live_server.url}/models/")
    answers = iter([
        {"status": 500, "content_type": "text/html", "body": '<div class="alert bad" role="alert">The catalog is being rebuilt: try again in a minute.</div>'},
        {"status": 502, "content_type": "text/html", "body": "<html><body>Bad gateway</body></html>"},
    ])
    page.route(re.compile(r".*/models/\?.*"), lambda route: route.fulfill(**next(answers)))

    page.fill("#id_q", "bert")
    expect(banner(page)).to_have_text("The catalog is being rebuilt: try again in a minute.")
    page.fill("#id_q", "llama")
    expect(banner(page)).to_have_text(re.compile(r"^The server answered 502\b.*: reload the page and try again\.$"))


SAMPLES = [timedelta(seconds=s) for s in (0, 1, 45, 59, 60, 61, 12 * 60 + 30, 3599, 3600, 3 * 3600 + 5 * 60 + 59,
                                           86399, 86400, 2 * 86400 + 4 * 3600 + 59 * 60, 400 * 86400)]


def test_elapsed_times_are_worded_exactly_as_the_servers_duration_filter(live_server, page):
    page.goto(f"{live_server.url}/login/")
    start = datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=timezone.utc)
    page.evaluate("""(cases) => {
      for (const [id, since, until] of cases) {
        const span = document.createElement("span");
        span.id = id;
        span.dataset.elapsedSince = since;
        span.dataset.elapsedUntil = until;
        document.body.append(span);
      }
    }""", [[f"d{i}", start.isoformat(), (start + delta).isoformat()] for i, delta in enumerate(SAMPLES)])

    for i, delta in enumerate(SAMPLES):
        expect(page.locator(f"#d{i}")).to_have_text(duration(delta))
    assert page.evaluate("(seconds) => seconds.map(window.jumpstart.duration)",
                         [d.total_seconds() for d in SAMPLES]) == [duration(d) for d in SAMPLES]


def test_a_running_time_ticks_every_second_also_in_content_htmx_swaps_in_later(live_server, page):
    page.goto(f"{live_server.url}/login/")
    now = datetime.now(timezone.utc)
    page.evaluate("""(since) => {
      const span = document.createElement("span");
      span.id = "running";
      span.dataset.elapsedSince = since;
      const slot = document.createElement("div");
      slot.id = "slot";
      document.body.append(span, slot);
    }""", (now - timedelta(seconds=45)).isoformat())
    running = page.locator("#running")
    expect(running).to_have_text(re.compile(r"^4[5-7] s$"))
    first = running.inner_text()
    expect(running).not_to_have_text(first, timeout=2500)  # a second later it says so
    expect(running).to_have_text(re.compile(r"^4[6-9] s$"))

    fragment = f'<p id="late" data-elapsed-since="{(now - timedelta(hours=3, minutes=5, seconds=10)).isoformat()}">…</p>'
    page.route("**/elapsed-fragment", lambda route: route.fulfill(status=200, content_type="text/html", body=fragment))
    page.evaluate("htmx.ajax('GET', '/elapsed-fragment', {target: '#slot', swap: 'innerHTML'})")
    expect(page.locator("#late")).to_have_text("3 h 5 min", timeout=1500)


def test_the_main_pages_and_the_admin_run_under_the_policy_without_a_violation(aws, violations, failures, live_catalog_page, live_server):
    base = live_server.url
    page = live_catalog_page(staff=True)

    for path in ["/", "/models/", "/models/?modality=vision", f"/models/{MOBILENET}/", "/notebooks/", "/solutions/",
                 "/algorithms/", "/endpoints/", "/admin/", "/admin/catalog/model/", "/admin/catalog/link/add/",
                 "/admin/catalog/syncrun/", "/admin/axes/accessattempt/"]:
        response = page.goto(base + path)
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, path
        if path == f"/models/{MOBILENET}/":
            page.click("#deploy-button")
            expect(page.locator("#deploy-pane h2")).to_have_text("Deployment configuration")
            page.click("#deploy-pane details.security summary")
        if path == "/endpoints/":
            page.check("input[name=deleted]")  # submits its form by itself (app.js, no inline handler)
            page.wait_for_url(re.compile(r"deleted=on"))
        if path == "/admin/catalog/model/":
            page.fill("#searchbar", "mobilenet")
            page.press("#searchbar", "Enter")
            page.wait_for_url(re.compile(r"q=mobilenet"))
    icon = page.request.get(base + "/favicon.ico")
    assert icon.ok and icon.headers["content-type"] == "image/svg+xml"
    page.wait_for_timeout(300)  # reports arrive asynchronously
    assert violations == []
    assert failures == []

    # The check above can see a violation: an inline style is refused and reported.
    page.goto(base + "/")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">inline</p>')")
    expect(page.locator("body")).to_contain_text("inline")
    for _ in range(20):
        if violations:
            break
        page.wait_for_timeout(100)
    assert violations and "style-src" in " ".join(violations)
