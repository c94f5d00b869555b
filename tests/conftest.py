"""Shared fixtures: a small company with two teams and one user per role.

Data is built through the real services (``core.services``, ``parties.services``), never by
writing rows by hand, so tests exercise the same code paths as the product.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client

from rapport.core.choices import Role
from rapport.core.models import Team, User
from rapport.core.services import team_create, user_create

PASSWORD = "correct horse battery staple"
TEST_CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 still (the same algorithm name, so hashes check and log in as in production), at the
    cheapest cost: Django's defaults take 0.19 s per hash, and the suite creates thousands of users.
    ``tests/core/test_login.py`` checks what production configures."""

    time_cost = 1
    memory_cost = 8
    parallelism = 1


def _threads_per_worker() -> int:
    """The cores each parallel test process may use. OpenMP (scikit-learn's gradient boosting) and
    OpenBLAS spin while they wait for their threads: two xdist workers each running threads on both
    cores of a 2-core machine trained the churn model in 76.7 s instead of 5.5 s."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    return max(1, (os.cpu_count() or 1) // workers)


_LIMITS: Any = None
# Before any numerical library starts its thread pool (they read these once, when loaded) ...
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, str(_threads_per_worker()))


def pytest_configure(config: Any) -> None:
    """Each test process keeps its own in-memory cache. The configured one (a file cache under the
    data directory, or Redis with ``RAPPORT_CACHE_URL``) would be shared by parallel workers and
    concurrent runs, so one test's ``cache.clear()`` or cached visibility would reach another's.
    ``override_settings`` also drops cache connections made before (Django's setting_changed)."""
    from django.test.utils import override_settings
    from threadpoolctl import threadpool_limits

    override_settings(CACHES=TEST_CACHES, PASSWORD_HASHERS=[f"{__name__}.CheapArgon2PasswordHasher"]).enable()
    # ... and for the pools of libraries that a plugin had loaded before this file (Django's setup).
    global _LIMITS
    _LIMITS = threadpool_limits(int(os.environ["OMP_NUM_THREADS"]))  # kept: the limits last while it does


@pytest.fixture(autouse=True)
def _fresh_visibility_cache():
    """Visibilities are cached for a minute, but each test's database is rolled back: a test that
    made accounts public must not leave them public for the next test in the same process."""
    from rapport.core.permissions import visibility_cache_clear

    visibility_cache_clear()
    yield
    visibility_cache_clear()


@pytest.fixture
def make_user(db: Any):
    counter = {"n": 0}

    def _make(role: str = Role.SALES_REP, team: Team | None = None, **kwargs: Any) -> User:
        counter["n"] += 1
        username = kwargs.pop("username", f"{role}_{counter['n']}")
        return user_create(
            username=username,
            password=PASSWORD,
            roles=[role],
            team=team,
            email=kwargs.pop("email", f"{username}@example.test"),
            **kwargs,
        )

    return _make


@pytest.fixture
def team_a(db: Any) -> Team:
    return team_create(name="Team A")


@pytest.fixture
def team_b(db: Any) -> Team:
    return team_create(name="Team B")


@pytest.fixture
def rep(make_user, team_a) -> User:
    return make_user(Role.SALES_REP, team_a, username="rep", first_name="Rita", last_name="Rep")


@pytest.fixture
def teammate(make_user, team_a) -> User:
    return make_user(Role.SALES_REP, team_a, username="teammate")


@pytest.fixture
def other_rep(make_user, team_b) -> User:
    return make_user(Role.SALES_REP, team_b, username="other_rep")


@pytest.fixture
def manager(make_user, team_a) -> User:
    user = make_user(Role.SALES_MANAGER, team_a, username="manager")
    team_a.manager = user
    team_a.save(update_fields=["manager"])
    return user


@pytest.fixture
def admin_user(make_user) -> User:
    return make_user(Role.ADMINISTRATOR, None, username="admin")


@pytest.fixture
def analyst(make_user, team_a) -> User:
    return make_user(Role.ANALYST, team_a, username="analyst")


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def client_of():
    return client_for


class Received(NamedTuple):
    """One message the test SMTP server accepted: envelope sender, recipients, and the raw text."""

    mail_from: str
    rcpt_tos: list[str]
    content: str


class Inbox:
    """What a real SMTP server on loopback received, in order."""

    def __init__(self) -> None:
        self.messages: list[Received] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        raw = envelope.original_content or envelope.content
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw.decode()))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """An aiosmtpd server on 127.0.0.1 (a free port) and Django's SMTP backend pointed at it."""
    import socket

    from aiosmtpd.controller import Controller

    inbox = Inbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()
