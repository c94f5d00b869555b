"""Sign-in: argon2 hashes, and rate limiting of failed attempts per username and address."""

from __future__ import annotations

from django.test import Client
from tests.conftest import PASSWORD


def _login(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def test_passwords_are_hashed_with_argon2(rep) -> None:
    assert rep.password.startswith("argon2$argon2id$")


def test_the_configured_hasher_is_argon2_at_full_cost(settings) -> None:
    # The suite hashes at the cheapest Argon2 cost (conftest); production keeps Django's.
    from django.contrib.auth.hashers import check_password, make_password

    from rapport.config import settings as configured

    assert configured.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = configured.PASSWORD_HASHERS
    encoded = make_password(PASSWORD)
    assert encoded.startswith("argon2$argon2id$v=19$m=102400,t=2,p=8$")
    assert check_password(PASSWORD, encoded) and not check_password("wrong", encoded)


def test_a_good_login_redirects_home(rep) -> None:
    response = _login(Client(), "rep", PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/")


def test_five_failures_lock_the_username_even_for_the_right_password(rep, teammate, settings) -> None:
    # given: five wrong passwords for rep (the fifth already answers "locked")
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [_login(client, "rep", "wrong").status_code for _attempt in range(limit)]
    assert statuses == [200] * (limit - 1) + [429]
    # when: the right one comes next
    locked = _login(client, "rep", PASSWORD)
    # then: refused, and not signed in; another user is unaffected
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert _login(Client(), "teammate", PASSWORD).status_code == 302
