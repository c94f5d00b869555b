"""Web views of the core app (notifications, settings, API tokens) and helpers every app's views use.

Helpers:

* ``domain_view`` wraps a view: login required, and a ``NotFound``/``PermissionDenied`` raised
  by a selector or service becomes the 404/403 page (the same page whether the row does not
  exist or the user may not see it, so ids do not leak).
* ``apply_field_errors`` puts a ``ValidationFailed``'s ``field_errors`` beside a form's fields.
* ``safe_next`` accepts only same-site redirect targets.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rapport.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from rapport.core.forms import ProfileForm, TokenForm
from rapport.core.models import ApiToken, Notification
from rapport.core.notifications import notifications_mark_read
from rapport.core.services_profile import user_profile_update
from rapport.core.tokens import api_token_create, api_token_revoke

ViewFunc = Callable[..., HttpResponse]


def error_page(request: HttpRequest, exc: DomainError, status: int | None = None) -> HttpResponse:
    status = status or exc.status
    if status == 404:
        title = _("Not found")
        detail = _("There is no such record, or you may not see it.")
    elif status == 403:
        title = _("Not allowed")
        detail = _("Your role may not do this.")
    else:
        title = _("Something is wrong")
        detail = ""
    return render(
        request,
        "core/error.html",
        {"title": title, "detail": detail, "reason": exc.detail, "status": status},
        status=status,
    )


def domain_view(view: ViewFunc) -> ViewFunc:
    """Login required; domain errors not handled by the view become the 403/404 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            return error_page(request, exc, 404)
        except PermissionDenied as exc:
            return error_page(request, exc, 403)

    return login_required(wrapper)


def apply_field_errors(form: forms.Form, exc: ValidationFailed, field_map: dict[str, str] | None = None) -> None:
    """Show a service's ``field_errors`` beside the form's fields (unknown keys at the top)."""
    field_map = field_map or {}
    for key, messages_ in exc.field_errors.items():
        name = field_map.get(key, key)
        if name not in form.fields:
            # "emails.0.kind" -> try "emails.0", then give up and show it on top.
            parent = key.rsplit(".", 1)[0]
            name = field_map.get(parent, parent)
        target = name if name in form.fields else None
        for message in messages_:
            form.add_error(target, message if target else f"{key}: {message}" if key != "__all__" else message)
    if not exc.field_errors:
        form.add_error(None, exc.detail)


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return fallback


def htmx_partial(request: HttpRequest, target: str) -> bool:
    """True for an htmx request that swaps ``target`` (not a boosted page load)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and htmx.target == target


# --- notifications --------------------------------------------------------------------------


@domain_view
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        ids: list[int] | None = None
        if request.POST.get("all") != "1":
            ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
        count = notifications_mark_read(user=request.user, ids=ids)
        messages.success(request, _("%(count)s marked as read.") % {"count": count})
        return redirect(safe_next(request, "notifications"))
    show_all = request.GET.get("show") == "all"
    qs = Notification.objects.filter(user=request.user)
    if not show_all:
        qs = qs.filter(read_at__isnull=True)
    items = list(qs.order_by("-created_at", "-id")[:100])
    return render(request, "core/notifications.html", {"items": items, "show_all": show_all})


# --- settings: profile and API tokens -------------------------------------------------------


@domain_view
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    profile_form = ProfileForm(
        initial={name: getattr(user, name) for name in ProfileForm.base_fields},
    )
    if request.method == "POST":
        profile_form = ProfileForm(request.POST)
        if profile_form.is_valid():
            try:
                user_profile_update(actor=user, data=profile_form.cleaned_data)
            except ValidationFailed as exc:
                apply_field_errors(profile_form, exc)
            else:
                request.session["rapport_language"] = user.language
                messages.success(request, _("Your settings were saved."))
                return redirect("settings")
    return _settings_page(request, profile_form=profile_form)


def _settings_page(
    request: HttpRequest,
    *,
    profile_form: forms.Form | None = None,
    token_form: forms.Form | None = None,
    new_token: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    if profile_form is None:
        profile_form = ProfileForm(initial={name: getattr(user, name) for name in ProfileForm.base_fields})
    tokens = ApiToken.objects.filter(user=user).order_by("-created_at")[:50]
    return render(
        request,
        "core/settings.html",
        {
            "profile_form": profile_form,
            "token_form": token_form or TokenForm(),
            "tokens": tokens,
            "new_token": new_token,
        },
        status=status,
    )


@domain_view
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            _token, plain = api_token_create(
                actor=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
            )
        except ValidationFailed as exc:
            apply_field_errors(form, exc)
        else:
            # Shown once, in this response only; never stored in plain text.
            return _settings_page(request, new_token=plain)
    return _settings_page(request, token_form=form, status=422)


@domain_view
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = api_token_revoke(actor=request.user, token_id=pk)
    messages.success(request, _("Token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("settings")
