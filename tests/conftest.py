"""Shared fixtures: a signed-in user, moto's AWS, and the CI rule that services never skip."""

import os

import pytest

IN_CI = os.getenv("CI", "").lower() in ("1", "true")


def pytest_sessionstart(session):
    if IN_CI:
        missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.getenv(name)]
        if missing:
            pytest.exit(f"CI runs against PostgreSQL and Redis: {', '.join(missing)} unset", returncode=3)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (role suggestions are cached per process)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", password="pw-ada-123")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("grace", password="pw-grace-123")


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def aws(monkeypatch):
    """moto in-process, made to behave like SageMaker by the local AWS (endpoints settle on the
    next read), with fresh boto3 clients on both sides of it."""
    from moto import mock_aws

    import aws as aws_boundary
    from aws import local

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    aws_boundary.reset_clients()
    local.install()
    local.configure(endpoint_seconds=0)
    with mock_aws():
        yield aws_boundary
    local.reset()
    aws_boundary.reset_clients()


@pytest.fixture
def make_model(db):
    """Create a catalog model with just the fields a test cares about."""
    from catalog.models import Model

    def make(model_id, **fields):
        framework, task = (model_id.split("-") + ["", ""])[:2]
        defaults = {"version": "1.0.0", "framework": framework, "task": task, "modality": "text"}
        return Model.objects.create(model_id=model_id, **{**defaults, **fields})

    return make


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = os.path.join(os.path.dirname(__file__), "..", "screenshots")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; missing Chromium fails in CI and skips elsewhere."""
    import shutil

    chromium = shutil.which("chromium")
    if not chromium:
        if IN_CI:
            pytest.fail("chromium is not installed: CI must run the browser tests")
        pytest.skip("chromium is not installed (python3 dev.py test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; the live server's ORM calls happen in the test thread too.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault("failed", False)
    if report.failed:
        item.stash["failed"] = True
    return report


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    if request.node.stash.get("failed", False):
        screenshot(page, f"failed-{request.node.name}"[:120])  # what the person saw when it failed
    context.close()


REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`));"""


@pytest.fixture
def violations(page):
    """What the browser reports against the Content-Security-Policy, on every page from now on."""
    found = []
    page.context.add_init_script(REPORT_VIOLATIONS)
    page.on("console", lambda message: found.append(message.text) if "Content Security Policy" in message.text else None)
    return found


@pytest.fixture
def failures(page):
    """Every response of 400 or more the browser got (a missing favicon would be one)."""
    found = []
    page.on("response", lambda response: found.append(f"{response.status} {response.url}") if response.status >= 400 else None)
    return found


def screenshot(page, name):
    """Keep a picture of what a person sees (screenshots/ is not committed)."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def sign_in(page, base_url, username, password):
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def live_catalog_page(page, live_server, django_user_model):
    """Sign a new user into the live server with the bundled catalog loaded: page_for(staff=...)."""
    from catalog.sync import BUNDLED_DIR, sync_from_dir

    sync_from_dir(BUNDLED_DIR)

    def page_for(staff=False):
        create = django_user_model.objects.create_superuser if staff else django_user_model.objects.create_user
        create("grace" if staff else "ada", password="pw-browser-123")
        sign_in(page, live_server.url, "grace" if staff else "ada", "pw-browser-123")
        return page

    return page_for
