"""An account of team A's rep and the default pipeline (created by migration sales 0002)."""

from __future__ import annotations

import pytest

from rapport.parties.services import account_create
from rapport.sales.models import Pipeline, Stage


@pytest.fixture
def pipeline(db) -> Pipeline:
    return Pipeline.objects.get(is_default=True)


@pytest.fixture
def stages(pipeline) -> dict[str, Stage]:
    """The default pipeline's stages by a short key: generated, assigned, contacted, ..., lost."""
    keys = ("generated", "assigned", "contacted", "meeting", "solution", "quote", "ordered", "fulfilled",
            "billed", "lost")
    return dict(zip(keys, pipeline.stages.order_by("position"), strict=True))


@pytest.fixture
def customer(rep):
    return account_create(actor=rep, data={"name": "Prospect Ltd", "currency": "EUR"})


class Inbox:
    """What a real SMTP server on loopback received: the raw messages, in order."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_inbox(settings):
    """An aiosmtpd server on 127.0.0.1 (free port) and Django's SMTP backend pointed at it."""
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
