"""Calendar pages: a meeting's ``.ics`` file, the user's feed page, and the token-authenticated feed."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from rapport.activities.calendar import (
    calendar_key_rotate,
    calendar_token,
    feed_rows,
    meeting_ics,
    user_feed_ics,
    user_for_calendar_token,
)
from rapport.activities.models import Interaction
from rapport.activities.selectors import timeline_item_get
from rapport.core.errors import NotFound
from rapport.core.views import domain_view
from rapport.parties.choices import Channel

_ICS = "text/calendar; charset=utf-8"


def _ics_response(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=_ICS)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@domain_view
@require_GET
def meeting_ics_view(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = timeline_item_get(actor=request.user, model=Interaction, pk=pk)
    if meeting.channel != Channel.MEETING:
        raise NotFound(f"Interaction {pk} is not a meeting.")
    return _ics_response(meeting_ics(meeting, host=request.get_host(), base_url=_base_url(request)),
                         f"meeting-{pk}.ics")


@domain_view
@require_http_methods(["GET", "POST"])
def calendar_view(request: HttpRequest) -> HttpResponse:
    """The user's upcoming meetings and follow-ups, and the feed URL to subscribe to (rotatable)."""
    if request.method == "POST":
        calendar_key_rotate(user=request.user)
        messages.success(request, _("A new calendar link was made; the old one no longer works."))
        return redirect("calendar")
    feed_url = request.build_absolute_uri(reverse("calendar_feed", args=[calendar_token(request.user)]))
    meetings, tasks = feed_rows(user=request.user)
    return render(request, "activities/calendar.html", {"feed_url": feed_url, "meetings": meetings, "tasks": tasks})


@require_GET
def calendar_feed_view(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself: no session (calendar apps cannot sign in); the token decides whose it is."""
    user = user_for_calendar_token(token)
    if user is None:
        raise Http404("No such calendar.")
    return _ics_response(user_feed_ics(user=user, host=request.get_host(), base_url=_base_url(request)),
                         "rapport.ics")
