"""Per-user language and time zone (stored UTC, shown in the user's zone and locale), and the
refusal of NUL characters in query strings."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone, translation

from rapport.core.api_support import PROBLEM_JSON


class UserLocaleMiddleware(LocaleMiddleware):
    """Django's locale negotiation, except a signed-in user's own language wins."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        # The session (not the user object) is what is available this early.
        language = request.session.get("rapport_language") if hasattr(request, "session") else None
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()


class UserTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone_name = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
        if zone_name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class RejectNulMiddleware:
    """A request whose query string carries a NUL character gets a 400, before any view:
    PostgreSQL cannot compare a NUL in text (SQLite can), so a filter value like ``?size=%00`` was
    a 500 on one database and a plain miss on the other. Bodies are refused elsewhere, with the
    field named: API bodies by ``core.schemas.InSchema``, HTML forms by Django's form fields."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return _nul_refused(request)
        return self.get_response(request)


def _nul_refused(request: HttpRequest) -> HttpResponse:
    message = "Query parameters may not contain NUL characters (%00)."
    if request.path.startswith("/api/"):
        body = {"type": "/problems/validation", "title": "Invalid input", "status": 400, "detail": message,
                "instance": request.path}
        return JsonResponse(body, status=400, content_type=PROBLEM_JSON)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
