"""Notifications, settings (profile, language, time zone) and API tokens."""

from __future__ import annotations

from django.urls import reverse

from rapport.core.models import ApiToken, Notification
from rapport.core.notifications import notification_send
from rapport.core.tokens import api_token_authenticate


def test_notifications_list_and_mark_read(rep, teammate, client_of):
    first = notification_send(user=rep, kind="x", message="First <i>one</i>", url="/tasks/")
    notification_send(user=rep, kind="x", message="Second one")
    notification_send(user=teammate, kind="x", message="Not yours")
    client = client_of(rep)
    body = client.get(reverse("notifications")).content.decode()
    assert "First &lt;i&gt;one&lt;/i&gt;" in body and "Second one" in body and "Not yours" not in body
    assert '<span class="badge">2</span>' in body
    client.post(reverse("notifications"), {"ids": [first.pk]})
    assert Notification.objects.filter(user=rep, read_at__isnull=True).count() == 1
    client.post(reverse("notifications"), {"all": "1"})
    assert not Notification.objects.filter(user=rep, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=teammate, read_at__isnull=True).count() == 1


def test_settings_update_profile_language_and_time_zone(rep, client_of):
    client = client_of(rep)
    response = client.post(
        reverse("settings"),
        {
            "first_name": "Rita",
            "last_name": "Rapport",
            "email": "Rita@Example.com",
            "language": "de",
            "time_zone": "Europe/Berlin",
            "email_notifications": "",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.last_name, rep.email, rep.language, rep.time_zone, rep.email_notifications) == (
        "Rapport",
        "rita@example.com",
        "de",
        "Europe/Berlin",
        False,
    )
    assert client.session["rapport_language"] == "de"


def test_settings_refuses_an_unknown_time_zone(rep, client_of):
    response = client_of(rep).post(reverse("settings"), {"time_zone": "Mars/Olympus", "language": ""})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    rep.refresh_from_db()
    assert rep.time_zone == ""


def test_token_is_shown_once_and_can_be_revoked(rep, other_rep, client_of):
    client = client_of(rep)
    response = client.post(reverse("token_create"), {"name": "CI", "scope": "read"})
    body = response.content.decode()
    assert response.status_code == 200
    token = ApiToken.objects.get(user=rep)
    plain = response.context["new_token"]
    assert plain in body and api_token_authenticate(plain) == token
    assert plain not in client.get(reverse("settings")).content.decode()
    # someone else cannot revoke it
    assert client_of(other_rep).post(reverse("token_revoke", args=[token.pk])).status_code == 404
    assert client.post(reverse("token_revoke", args=[token.pk])).status_code == 302
    assert api_token_authenticate(plain) is None


def test_token_without_name_is_refused(rep, client_of):
    response = client_of(rep).post(reverse("token_create"), {"name": "", "scope": "read"})
    assert response.status_code == 422
    assert not ApiToken.objects.exists()
