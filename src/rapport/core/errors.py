"""Domain errors: what services raise and interfaces translate.

The API maps each to an RFC 9457 ``application/problem+json`` body whose ``type`` is stable
(``/problems/<slug>``); forms show ``field_errors`` beside their fields. Services never return
error codes and never raise HTTP exceptions.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule was broken; nothing was written."""

    slug = "domain-error"
    status = 400
    title = "The request breaks a business rule"

    def __init__(
        self,
        detail: str,
        *,
        field_errors: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field_errors = field_errors or {}
        self.extra = extra or {}

    @property
    def type_uri(self) -> str:
        return f"/problems/{self.slug}"

    def as_problem(self, instance: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.field_errors:
            body["errors"] = self.field_errors
        body.update(self.extra)
        return body


class ValidationFailed(DomainError):
    slug = "validation"
    status = 422
    title = "The data is not valid"


class PermissionDenied(DomainError):
    slug = "forbidden"
    status = 403
    title = "You may not do this"


class NotFound(DomainError):
    slug = "not-found"
    status = 404
    title = "No such record, or you may not see it"


class Conflict(DomainError):
    """The record changed since the caller read it (optimistic concurrency)."""

    slug = "stale-version"
    status = 409
    title = "The record was changed by someone else"

    def __init__(self, detail: str, *, current_version: int | None = None) -> None:
        extra = {"current_version": current_version} if current_version is not None else {}
        super().__init__(detail, extra=extra)
        self.current_version = current_version


class PreconditionFailed(Conflict):
    slug = "precondition-failed"
    status = 412
    title = "If-Match does not match the current version"


def django_validation_to_field_errors(exc: Any) -> dict[str, list[str]]:
    """Flatten a Django ``ValidationError`` into ``{field: [messages]}``."""
    if hasattr(exc, "message_dict"):
        return {key: [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


class PreconditionRequired(Conflict):
    slug = "precondition-required"
    status = 428
    title = "Say which version you are changing"
