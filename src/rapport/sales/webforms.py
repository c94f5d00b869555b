"""Public lead capture: web-to-lead forms and inbound email.

Web form submissions are anonymous. What protects the CRM:

* the form is found by its random ``public_key`` and must be active;
* a honeypot field (``HONEYPOT``, hidden from people by the snippet) filled in means a bot: the
  submission is accepted with the usual answer and silently dropped;
* a rate limit in the cache, per client IP and per form (``RATE_PER_IP`` / ``RATE_PER_FORM`` per
  ``RATE_WINDOW`` seconds), refuses floods with 429;
* only the fields the form declares are read; everything goes through ``lead_create``.

Double opt-in: the lead is created without marketing consent and the visitor is mailed a link
signed with ``django.core.signing`` (salt ``SALT``, valid ``OPT_IN_MAX_AGE``); opening it sets
``marketing_consent`` and ``consent_confirmed_at`` and logs an engagement event.
"""

from __future__ import annotations

import email.policy
import email.utils
from email import message_from_bytes
from html import escape
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from rapport.core.errors import DomainError, NotFound, ValidationFailed
from rapport.core.models import User
from rapport.sales.models import Lead
from rapport.sales.models_leads import LeadEvent, LeadEventKind, WebForm
from rapport.sales.scoring import lead_score_refresh
from rapport.sales.services_leads import EDITABLE, lead_create

HONEYPOT = "website_url_confirm"
SALT = "rapport.sales.lead-opt-in"
OPT_IN_MAX_AGE = 7 * 24 * 3600
RATE_WINDOW = 3600
RATE_PER_IP = 20
RATE_PER_FORM = 1000
FORM_FIELDS = tuple(f for f in EDITABLE if f not in ("source", "campaign", "description")) + ("description",)
LABELS = {"first_name": "First name", "last_name": "Last name", "company": "Company", "title": "Job title",
          "email": "Email", "phone": "Phone", "website": "Website", "industry": "Industry",
          "employees": "Employees", "country": "Country (2 letters)", "region": "Region", "city": "City",
          "postal_code": "Postcode", "marketing_consent": "Keep me informed by email",
          "description": "Message"}


class RateLimited(DomainError):
    status = 429
    slug = "rate-limited"
    title = "Too many submissions"


def webform_fields_clean(fields: list[str], required: list[str]) -> tuple[list[str], list[str]]:
    unknown = [f for f in [*fields, *required] if f not in FORM_FIELDS]
    errors: dict[str, list[str]] = {}
    if unknown:
        errors["fields"] = [f"Unknown lead fields: {', '.join(sorted(set(unknown)))}."]
    if not fields:
        errors["fields"] = ["A form asks for at least one field."]
    if set(required) - set(fields):
        errors["required"] = ["A required field must be one of the form's fields."]
    if not ({"email", "phone"} & set(fields)):
        errors.setdefault("fields", []).append(
            "Ask for an email address or a phone number, or leads cannot be reached.")
    if errors:
        raise ValidationFailed("The web form is not valid.", field_errors=errors)
    return list(dict.fromkeys(fields)), list(dict.fromkeys(required))


def _hit(key: str, limit: int) -> bool:
    """Count one hit in the window; True while at or below ``limit``. ``add`` then ``incr`` is atomic
    on every shared cache backend, so concurrent workers do not lose counts."""
    cache.add(key, 0, RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW)
        count = 1
    return count <= limit


def rate_check(*, form: WebForm, ip: str) -> None:
    if not _hit(f"webform:ip:{ip}", RATE_PER_IP) or not _hit(f"webform:form:{form.pk}", RATE_PER_FORM):
        raise RateLimited("Too many submissions from here; try again later.", extra={"retry_after": RATE_WINDOW})


def webform_get(public_key: str) -> WebForm:
    form = WebForm.objects.filter(public_key=public_key, is_active=True).select_related("owner").first()
    if form is None:
        raise NotFound("This form does not exist or is closed.")
    return form


def opt_in_token(lead: Lead) -> str:
    return signing.dumps({"lead": lead.pk, "email": lead.email}, salt=SALT)


def opt_in_url(lead: Lead) -> str:
    return settings.RAPPORT_BASE_URL + reverse("lead_opt_in", args=[opt_in_token(lead)])


def _send_opt_in(lead_id: int) -> None:
    lead = Lead.objects.get(pk=lead_id)
    send_mail(subject="Please confirm your email address",
              message=("Thank you for your interest. Please confirm that you want to hear from us by "
                       f"opening this link:\n\n{opt_in_url(lead)}\n\nIf you did not ask, ignore this message.\n"),
              from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[lead.email])


@transaction.atomic
def webform_submit(*, form: WebForm, data: dict[str, Any], ip: str) -> Lead | None:
    """A visitor's submission: the lead, or ``None`` when the honeypot caught a bot."""
    rate_check(form=form, ip=ip)
    if str(data.get(HONEYPOT) or "").strip():
        return None
    values = {name: data.get(name, "") for name in form.fields}
    if "marketing_consent" in values:
        values["marketing_consent"] = str(values["marketing_consent"]).lower() in ("1", "on", "true", "yes")
    missing = [name for name in form.required if not str(values.get(name) or "").strip()]
    if missing:
        raise ValidationFailed("Some required fields are empty.", field_errors={m: ["Required."] for m in missing})
    wants_consent = bool(values.get("marketing_consent"))
    if form.double_opt_in:
        values["marketing_consent"] = False  # only the confirmation link grants it
    lead = lead_create(actor=None, data=values, source=form.source, campaign=form.campaign,
                       fallback_owner=form.owner, channel="web_form",
                       event=(LeadEventKind.WEB_FORM, f"Web form “{form.name}”", ""))
    WebForm.objects.filter(pk=form.pk).update(submissions=F("submissions") + 1)
    if form.double_opt_in and wants_consent and lead.email:
        transaction.on_commit(lambda: _send_opt_in(lead.pk))
    elif wants_consent:
        Lead.objects.filter(pk=lead.pk).update(consent_confirmed_at=timezone.now())
    return lead


@transaction.atomic
def opt_in_confirm(*, token: str) -> Lead:
    """The visitor opened the confirmation link: consent recorded once (idempotent)."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=OPT_IN_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationFailed("This confirmation link has expired; submit the form again.") from None
    except signing.BadSignature:
        raise NotFound("This confirmation link is not valid.") from None
    lead = Lead.objects.select_for_update().filter(pk=payload.get("lead"), email=payload.get("email")).first()
    if lead is None:
        raise NotFound("This confirmation link is not valid any more.")
    if lead.consent_confirmed_at is None:
        now = timezone.now()
        Lead.objects.filter(pk=lead.pk).update(marketing_consent=True, consent_confirmed_at=now)
        lead.marketing_consent, lead.consent_confirmed_at = True, now
        LeadEvent.objects.create(lead=lead, kind=LeadEventKind.OPT_IN, subject="Email opt-in confirmed", at=now)
        lead_score_refresh(lead)
    return lead


def embed_snippet(form: WebForm, base_url: str | None = None) -> str:
    """The HTML a site owner pastes into a page: a plain form posting to the public endpoint."""
    action = (base_url or settings.RAPPORT_BASE_URL) + reverse("webform_submit", args=[form.public_key])
    rows = []
    for name in form.fields:
        label = escape(LABELS.get(name, name))
        req = " required" if name in form.required else ""
        if name == "marketing_consent":
            rows.append(f'  <p><label><input type="checkbox" name="{name}" value="1"> {label}</label></p>')
        elif name == "description":
            rows.append(f'  <p><label>{label}<br><textarea name="{name}"{req}></textarea></label></p>')
        else:
            kind = {"email": "email", "phone": "tel", "employees": "number"}.get(name, "text")
            rows.append(f'  <p><label>{label}<br><input type="{kind}" name="{name}"{req}></label></p>')
    rows.append(f'  <p style="position:absolute;left:-9999px" aria-hidden="true"><input type="text" '
                f'name="{HONEYPOT}" tabindex="-1" autocomplete="off"></p>')
    rows.append('  <p><button type="submit">Send</button></p>')
    return f'<form method="post" action="{escape(action)}" accept-charset="utf-8">\n' + "\n".join(rows) + "\n</form>"


# --- inbound email -------------------------------------------------------------------------------


def _body_text(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    if part.get_content_subtype() == "html":
        import re

        text = re.sub(r"<[^>]+>", " ", text)
    return str(text).strip()


def inbound_parse(raw: bytes) -> dict[str, Any]:
    """The lead fields an RFC 822 message gives: sender name and address, subject and text."""
    if not raw or not raw.strip():
        raise ValidationFailed("The message is empty.")
    message = message_from_bytes(raw, policy=email.policy.default)
    name, address = email.utils.parseaddr(str(message.get("Reply-To") or message.get("From") or ""))
    if not address or "@" not in address:
        raise ValidationFailed("The message has no sender address (From or Reply-To).",
                               field_errors={"from": ["Missing or not an address."]})
    first, _, last = (name or "").strip().rpartition(" ")
    if not first:
        first, last = last, ""
    return {"first_name": first, "last_name": last, "email": address,
            "subject": str(message.get("Subject") or "").strip(), "body": _body_text(message)[:20000],
            "message_id": str(message.get("Message-ID") or "").strip()}


@transaction.atomic
def inbound_lead(*, raw: bytes, actor: User | None, source: str = "email", campaign: str = "",
                 fallback_owner: User | None = None) -> Lead:
    """A lead from a raw inbound message; the mail itself is the lead's first timeline entry."""
    parsed = inbound_parse(raw)
    return lead_create(
        actor=actor, data={"first_name": parsed["first_name"], "last_name": parsed["last_name"],
                           "email": parsed["email"], "description": parsed["subject"]},
        source=source, campaign=campaign, fallback_owner=fallback_owner or actor, channel="inbound_email",
        event=(LeadEventKind.INBOUND_EMAIL, parsed["subject"] or "(no subject)", parsed["body"]))
