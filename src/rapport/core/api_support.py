"""What every API router shares: authentication, problem+json errors, ETags, list envelopes."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from rapport.core.choices import TokenScope
from rapport.core.errors import (
    DomainError,
    PermissionDenied,
    PreconditionFailed,
    PreconditionRequired,
)
from rapport.core.tokens import api_token_authenticate

logger = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class SessionAuth(APIKeyCookie):
    """The browser's session cookie; unsafe methods need the CSRF token as in any Django form."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


class TokenAuth(HttpBearer):
    """``Authorization: Bearer rpt_…``. A read-scoped token may only use safe methods."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        if api_token.scope == TokenScope.READ and request.method not in SAFE_METHODS:
            raise PermissionDenied("This API token is read-only; create a read-write token to make changes.")
        request.user = api_token.user
        return api_token.user


session_or_token_auth = [TokenAuth(), SessionAuth()]


def problem(request: HttpRequest, api: NinjaAPI, status: int, body: dict[str, Any]) -> HttpResponse:
    body.setdefault("status", status)
    body.setdefault("instance", request.path)
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = PROBLEM_JSON
    return response


def _validation_errors(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", []) if part not in ("body", "payload", "query", "path")]
        out.setdefault(".".join(loc) or "__all__", []).append(str(error.get("msg", "invalid")))
    return out


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def _domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return problem(request, api, exc.status, exc.as_problem(request.path))

    @api.exception_handler(NinjaValidationError)
    def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return problem(
            request,
            api,
            422,
            {
                "type": "/problems/validation",
                "title": "The data is not valid",
                "detail": "Some fields are missing or malformed.",
                "errors": _validation_errors(exc.errors),
            },
        )

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(
            request,
            api,
            401,
            {
                "type": "/problems/unauthenticated",
                "title": "Authentication required",
                "detail": "Sign in, or send 'Authorization: Bearer <token>'.",
            },
        )

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem(request, api, exc.status_code, {"type": "about:blank", "title": str(exc), "detail": str(exc)})

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(request, api, 404, {"type": "/problems/not-found", "title": "Not found", "detail": "Not found."})

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("Unhandled API error on %s %s", request.method, request.path)
        return problem(
            request,
            api,
            500,
            {"type": "/problems/internal", "title": "Internal error", "detail": "Something went wrong on our side."},
        )


def etag_for(obj: Any) -> str:
    return f'"{obj.pk}-{obj.version}"'


def etag_set(response: HttpResponse, obj: Any) -> None:
    """Send ``obj``'s ETag (its id and version), which a later write may name in ``If-Match``."""
    response["ETag"] = etag_for(obj)


def patch_data(payload: Schema) -> dict[str, Any]:
    """The fields a PATCH body set (left-out fields stay as they are), without its ``version``:
    that goes to ``expected_version``, not to the row."""
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    return data


def expected_version(request: HttpRequest, obj: Any, body_version: int | None) -> int:
    """The version a write expects: ``If-Match`` wins over a ``version`` in the body.

    A write that names neither is refused with 428: the API never applies a change to a
    version the client has not seen (no silent last-writer-wins).
    """
    header = request.headers.get("If-Match")
    if header:
        wanted = [tag.strip().removeprefix("W/") for tag in header.split(",")]
        if etag_for(obj) not in wanted:
            raise PreconditionFailed(
                f"If-Match {header} does not match the current ETag {etag_for(obj)}.",
                current_version=obj.version,
            )
        return int(obj.version)
    if body_version is None:
        raise PreconditionRequired(
            "Send the version you read, as 'version' in the body or an If-Match header with the ETag.",
            current_version=obj.version,
        )
    return body_version


class ListOut(Schema):
    """The envelope of every list: one page of items and the cursor of the next page."""

    next: str | None = None
