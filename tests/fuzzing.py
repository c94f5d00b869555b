"""Property-based fuzzing of API endpoints from the OpenAPI schema (schemathesis), shared by the
apps' fuzz tests: whatever is sent, valid or not, the answer is never a server error.

Runs through the real WSGI app inside the test transaction: calling the WSGI app directly would
close the connection at the end of each request (and with it the test transaction), so the
connection-closing signal handlers are suspended meanwhile, as Django's own test client does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error


@contextmanager
def api_schema_of(path_regex: str) -> Iterator[Any]:
    """The API's schema narrowed to the operations whose path matches ``path_regex``."""
    from rapport.config.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(path_regex=path_regex)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def operations_of(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def fuzz_operations(operations: list[Any], *, token: str, max_examples: int) -> None:
    """Send ``max_examples`` generated requests (derandomized: the same ones every run) to each
    operation with ``token``; fails on the first 5xx."""
    headers = {"Authorization": f"Bearer {token}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
