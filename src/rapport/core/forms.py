"""Forms of the core pages: profile settings and API tokens. Services do the real validation."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rapport.core.choices import TokenScope
from rapport.core.services_profile import time_zone_names


def _zone_choices() -> list[tuple[str, str]]:
    return [("", _("Server default")), *((name, name.replace("_", " ")) for name in time_zone_names())]


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)
    email_notifications = forms.BooleanField(
        label=_("Email me notifications"),
        required=False,
        help_text=_("Reminders and assignments are also sent by email."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Browser default")), *settings.LANGUAGES]
        self.fields["time_zone"].choices = _zone_choices()


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100)
    scope = forms.ChoiceField(label=_("Scope"), choices=TokenScope.choices, initial=TokenScope.READ)
