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
