"""Brute-force protection: repeated wrong passwords lock one username out from one address, on our
sign-in page and the admin's, until the cool-off has passed."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"
PROXY = "192.0.2.1"
LOCKED = "Too many failed sign-ins for this account from your address: try again in 15 minutes"


def sign_in(client, path, username, password, **extra):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ATTACKER, **extra)


def signed_in_as(client):
    return client.session.get("_auth_user_id")


def guess(client, path, username, times=100, **extra):
    for _ in range(times):
        response = sign_in(client, path, username, "not-the-password", **extra)
    return response


@pytest.mark.parametrize(("path", "who"), [("/login/", "user"), ("/admin/login/", "staff")])
def test_a_hundred_wrong_passwords_lock_the_account_out_until_the_cool_off_has_passed(client, request, path, who):
    person = request.getfixturevalue(who)
    password = "pw-ada-123" if who == "user" else "pw-grace-123"

    last = guess(client, path, person.username)
    assert last.status_code == 429
    refused = sign_in(client, path, person.username, password)
    assert refused.status_code == 429
    assert LOCKED in refused.content.decode()
    assert signed_in_as(client) is None

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = sign_in(client, path, person.username, password)
        assert response.status_code == 302
        assert signed_in_as(client) == str(person.pk)


def test_four_wrong_passwords_leave_the_form_usable_and_the_fifth_locks_it(client, user):
    for _ in range(4):
        response = sign_in(client, "/login/", "ada", "not-the-password")
        assert response.status_code == 200
        assert "didn't match" in response.content.decode()
    assert sign_in(client, "/login/", "ada", "pw-ada-123").status_code == 302
    client.logout()

    # A success starts the count again: five more wrong ones lock the account out.
    statuses = [sign_in(client, "/login/", "ada", "not-the-password").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


def test_an_attacker_cannot_lock_the_owner_out_from_another_address_or_another_account(client, user, staff):
    guess(client, "/login/", "ada")

    owner = client.post("/login/", {"username": "ada", "password": "pw-ada-123"}, REMOTE_ADDR=OWNER)
    assert owner.status_code == 302 and signed_in_as(client) == str(user.pk)
    client.logout()
    other_account = sign_in(client, "/login/", "grace", "pw-grace-123")
    assert other_account.status_code == 302 and signed_in_as(client) == str(staff.pk)
    client.logout()
    assert sign_in(client, "/login/", "ada", "pw-ada-123").status_code == 429  # the attacker's address stays locked


def test_behind_a_proxy_the_lockout_is_for_the_address_the_proxy_saw(client, user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # Whatever the attacker writes into X-Forwarded-For, the proxy appends the address it saw.
    spoofed = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"{OWNER}, {ATTACKER}"}
    for _ in range(10):
        client.post("/login/", {"username": "ada", "password": "not-the-password"}, **spoofed)

    owner = client.post("/login/", {"username": "ada", "password": "pw-ada-123"},
                        REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=OWNER)
    assert owner.status_code == 302
    client.logout()
    attacker = client.post("/login/", {"username": "ada", "password": "pw-ada-123"},
                           REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ATTACKER)
    assert attacker.status_code == 429


def test_the_message_names_the_configured_cool_off(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    responses = [sign_in(client, "/login/", "ada", "not-the-password") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert "try again in 1 minute." in responses[-1].content.decode()
