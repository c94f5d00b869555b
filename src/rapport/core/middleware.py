"""Per-user language and time zone: stored UTC, shown in the user's zone and locale."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone, translation


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
