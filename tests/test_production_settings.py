"""Production settings from the environment: docker-compose.yml's environment passes Django's
deployment checks; HTTPS, cookies, HSTS, the proxy header and the CSP are what a browser gets;
the health check and the favicon need no login."""

import json
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings

pytestmark = pytest.mark.django_db

ROOT = Path(django_settings.BASE_DIR)
SUBSTITUTION = re.compile(r"\$\{(?P<name>\w+)(?::(?P<kind>[-?])(?P<arg>[^}]*))?\}")
CSP = {"default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "object-src 'none'",
       "base-uri 'self'", "frame-ancestors 'none'", "form-action 'self'"}


def compose_environment(service, required):
    """The service's environment as docker-compose resolves it with nothing set in the shell:
    ${VAR:-default} takes its default, ${VAR:?message} the value given in required, and a bare
    name (passed through from the shell) is left out."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    def resolve(match):
        if match["kind"] == "?":
            return required[match["name"]]
        return match["arg"] or ""

    environment = compose["services"][service]["environment"]
    return {name: SUBSTITUTION.sub(resolve, str(value)) for name, value in environment.items() if value is not None}


def settings_under(env, *names):
    """Settings as a process started with env reads them (and this test's VAR_DIR, so nothing is
    written to the checkout)."""
    env = {"VAR_DIR": str(django_settings.VAR_DIR), **env}
    code = ("import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'jumpstart_ui.settings'; "
            "from django.conf import settings; "
            f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def compose_env():
    return compose_environment("web", {"SECRET_KEY": secrets.token_urlsafe(50)})


def test_the_compose_environment_passes_djangos_deployment_checks(compose_env):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=compose_env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_compose_environment_turns_https_on_behind_a_proxy(compose_env):
    values = settings_under(compose_env, "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                            "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
                            "SECURE_PROXY_SSL_HEADER", "TRUSTED_PROXY_COUNT", "ALLOWED_HOSTS", "DEBUG")
    assert values == {
        "SECURE_SSL_REDIRECT": True, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"], "TRUSTED_PROXY_COUNT": 1,
        "ALLOWED_HOSTS": ["localhost", "127.0.0.1"], "DEBUG": False,
    }


def test_the_compose_health_check_asks_healthz():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "http://127.0.0.1:8000/healthz" in " ".join(compose["services"]["web"]["healthcheck"]["test"])


def test_a_fresh_clone_serves_only_this_machine_over_plain_http():
    values = settings_under({}, "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE",
                            "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_TIME")
    assert values == {
        "ALLOWED_HOSTS": ["localhost", "127.0.0.1", "[::1]"], "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False, "SECURE_HSTS_SECONDS": 0, "SECURE_PROXY_SSL_HEADER": None,
        "AXES_FAILURE_LIMIT": 5, "AXES_COOLOFF_TIME": "0:15:00",
    }


def test_the_sign_in_lockout_is_configured_from_the_environment():
    values = settings_under({"LOGIN_FAILURE_LIMIT": "10", "LOGIN_COOLOFF_MINUTES": "60"},
                            "AXES_FAILURE_LIMIT", "AXES_COOLOFF_TIME")
    assert values == {"AXES_FAILURE_LIMIT": 10, "AXES_COOLOFF_TIME": "1:00:00"}


def test_a_request_for_another_host_is_refused(client):
    # Django's test client adds its own 'testserver'; the default list names only this machine.
    assert client.get("/healthz", HTTP_HOST="jumpstart.evil.example").status_code == 400
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 200


@pytest.fixture
def https(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def test_with_https_on_plain_http_redirects_and_the_proxys_https_gets_hsts_and_secure_cookies(client, https):
    plain = client.get("/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/login/"

    secure = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert secure.cookies["csrftoken"]["secure"]

    # Only the container's health check is answered over plain HTTP.
    assert client.get("/healthz").status_code == 200


def test_healthz_answers_ok_over_plain_http_without_a_login_after_one_query(client, https, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok" and response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]


def test_every_page_carries_the_content_security_policy(client_in):
    for path in ("/", "/login/", "/models/"):
        policy = client_in.get(path)["Content-Security-Policy"]
        assert {directive.strip() for directive in policy.split(";")} == CSP


def test_favicon_ico_redirects_to_our_svg_icon_without_a_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/favicon.svg"
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)


def test_every_page_names_the_icon(client):
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in client.get("/login/").content.decode()
