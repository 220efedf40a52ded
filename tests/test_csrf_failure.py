"""A form refused by the CSRF check says what happened and what to do: a page for a plain request,
a fragment carrying the message for htmx (app.js shows it in the page's banner)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ADVICE = "Reload the page and submit again."


@pytest.fixture
def strict_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")  # sets the CSRF cookie, as a browser's first page does
    return client


def test_a_form_posted_with_a_spoiled_token_gets_a_page_that_says_what_to_do(strict_client):
    response = strict_client.post("/logout/", {"csrfmiddlewaretoken": "spoiled" * 8}, HTTP_REFERER="http://testserver/models/")

    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>This form could not be sent</h1>" in page
    assert "security token is missing or out of date" in page and ADVICE in page
    assert "session has expired" in page
    assert 'href="http://testserver/models/"' in page  # back where the form was
    assert strict_client.get("/").status_code == 200  # nothing happened: still signed in


def test_an_htmx_request_with_a_spoiled_token_gets_a_fragment_carrying_the_message(strict_client):
    response = strict_client.post("/logout/", HTTP_X_CSRFTOKEN="spoiled" * 8, HTTP_HX_REQUEST="true")

    assert response.status_code == 403
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert 'role="alert"' in fragment and ADVICE in fragment


def test_a_form_posted_without_the_cookie_gets_the_same_page(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/logout/")
    assert response.status_code == 403 and ADVICE in response.content.decode()


def test_the_back_link_never_leads_off_the_site(strict_client):
    response = strict_client.post("/logout/", HTTP_REFERER="https://evil.example/")
    page = response.content.decode()
    assert "evil.example" not in page
    assert '<a class="button primary" href="/">Back to the page</a>' in page
