"""Converting a qualified lead into an account, a contact and (optionally) an opportunity.

One transaction: either the lead ends ``converted`` with its three references set, the records
exist and its logged history is on the new contact's timeline, or nothing was written. Existing
records are reused when they match (``conversion_candidates``) and the user may pick others:

* account: same registrable domain as the lead's website or (non-webmail) email, or the same
  normalised company name ("ACME Ltd." = "acme");
* contact: same email address (primary or not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.activities.services import interaction_record, note_add
from rapport.core import permissions
from rapport.core.audit import audit_record
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.models import User
from rapport.parties.models import Account, Contact, ContactEmail
from rapport.parties.normalize import domain_from
from rapport.parties.services import account_create, contact_create
from rapport.sales.choices import LeadStatus
from rapport.sales.models import Lead, Opportunity
from rapport.sales.models_leads import HUMAN_EVENTS, LeadEvent, LeadEventKind
from rapport.sales.services import opportunity_create
from rapport.sales.services_leads import LeadConverted

# Mailbox providers: an address there says nothing about the company.
WEBMAIL = frozenset({"gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com",
                     "icloud.com", "me.com", "aol.com", "gmx.de", "gmx.net", "web.de", "proton.me",
                     "protonmail.com", "mail.com", "yandex.ru", "orange.fr", "free.fr", "t-online.de"})
_LEGAL = re.compile(
    r"\b(inc|ltd|llc|gmbh|ag|sa|sas|sarl|bv|nv|plc|co|corp|corporation|limited|company|srl|spa|oy|ab)\b"
)


class LeadNotConvertible(ValidationFailed):
    slug = "lead-not-convertible"
    status = 409
    title = "This lead cannot be converted"


def company_key(name: str) -> str:
    """``"ACME, Ltd."`` → ``"acme"``: lower case, legal forms and punctuation dropped."""
    text = re.sub(r"[^\w\s]", " ", (name or "").lower())
    return " ".join(_LEGAL.sub(" ", text).split())


def lead_domain(lead: Lead) -> str:
    domain = domain_from(lead.website) if lead.website else ""
    if not domain and lead.email:
        domain = domain_from(lead.email)
    return "" if domain in WEBMAIL else domain


@dataclass(frozen=True)
class Candidates:
    accounts: tuple[Account, ...]
    contacts: tuple[Contact, ...]


def conversion_candidates(*, actor: User, lead: Lead) -> Candidates:
    """Existing accounts and contacts (readable by ``actor``) the lead probably is; best first."""
    accounts: list[Account] = []
    readable_accounts = permissions.readable(actor, Account.objects.all())
    domain = lead_domain(lead)
    if domain:
        accounts += list(readable_accounts.filter(domain=domain).order_by("pk")[:5])
    key = company_key(lead.company)
    if key:
        first = key.split()[0]
        for account in readable_accounts.filter(name__icontains=first).order_by("pk")[:200]:
            if company_key(account.name) == key and account not in accounts:
                accounts.append(account)
    contacts: list[Contact] = []
    if lead.email:
        ids = ContactEmail.objects.filter(email=lead.email).values_list("contact_id", flat=True)
        contacts = list(permissions.readable(actor, Contact.objects.filter(pk__in=ids)).order_by("pk")[:5])
    return Candidates(tuple(accounts[:10]), tuple(contacts))


@dataclass(frozen=True)
class Conversion:
    lead: Lead
    account: Account
    contact: Contact
    opportunity: Opportunity | None
    account_created: bool
    contact_created: bool
    moved: int


_CHANNEL = {LeadEventKind.CALL: "phone", LeadEventKind.EMAIL: "email", LeadEventKind.MEETING: "meeting",
            LeadEventKind.INBOUND_EMAIL: "email"}


def _move_history(actor: User, lead: Lead, contact: Contact, account: Account) -> int:
    """Copy the lead's human timeline onto the contact (calls/mails/meetings as interactions,
    notes and tasks as notes), each linked back to the lead, keeping when they happened."""
    moved = 0
    for event in LeadEvent.objects.filter(lead=lead, kind__in=HUMAN_EVENTS).order_by("at", "id"):
        if event.kind in _CHANNEL:
            interaction_record(actor=actor, channel=_CHANNEL[event.kind], contact=contact, account=account,
                               direction="inbound" if event.kind == LeadEventKind.INBOUND_EMAIL else "outbound",
                               subject=event.subject or event.get_kind_display(), body=event.body,
                               occurred_at=event.at, related=lead)
        else:
            prefix = f"[{event.get_kind_display()} on the lead, {event.at:%Y-%m-%d}"
            prefix += f", due {event.due:%Y-%m-%d}]" if event.due else "]"
            note_add(actor=actor, contact=contact, body=f"{prefix} {event.subject}\n{event.body}".strip(),
                     related=lead)
        moved += 1
    return moved


@transaction.atomic
def lead_convert(
    *,
    actor: User,
    lead: Lead,
    expected_version: int | None,
    account: Account | None = None,
    contact: Contact | None = None,
    create_opportunity: bool = True,
    opportunity_name: str = "",
    amount: Decimal | int | str = Decimal(0),
    expected_close_date: Any = None,
) -> Conversion:
    """Convert ``lead`` (qualified) into ``account``/``contact`` (given, else the best match, else new)."""
    permissions.check_write(actor, lead)
    # Re-read under a lock: two conversions of one lead serialise here and the second is refused.
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.status == LeadStatus.CONVERTED or lead.converted_at is not None:
        raise LeadConverted(f"Lead {lead.pk} was converted already, on {lead.converted_at:%Y-%m-%d}.")
    if lead.status != LeadStatus.QUALIFIED:
        raise LeadNotConvertible(
            f"Only a qualified lead converts; this one is {lead.get_status_display().lower()}.",
            field_errors={"status": ["Qualify the lead first."]})
    if expected_version is not None and expected_version != lead.version:
        from rapport.core.errors import Conflict

        raise Conflict(f"Lead {lead.pk} changed since version {expected_version} (now {lead.version}).",
                       current_version=lead.version)
    for party in (account, contact):
        if party is not None and not permissions.can_read(actor, party):
            raise NotFound(f"{party._meta.verbose_name.capitalize()} {party.pk} was not found.")
    found = conversion_candidates(actor=actor, lead=lead)
    if contact is None and found.contacts:
        contact = found.contacts[0]
    if account is None:
        account = (contact.account if contact is not None and contact.account_id else None) or (
            found.accounts[0] if found.accounts else None)
    account_created = contact_created = False
    if account is None:
        name = lead.company or f"{lead.first_name} {lead.last_name}".strip() or lead.email
        data: dict[str, Any] = {"name": name, "industry": lead.industry} if lead.industry else {"name": name}
        if lead.website:
            data["website"] = lead.website
        elif lead_domain(lead):
            data["domain"] = lead_domain(lead)
        account = account_create(actor=actor, data=data, context={"lead": lead.pk})
        account_created = True
    if contact is None:
        cdata: dict[str, Any] = {"first_name": lead.first_name, "last_name": lead.last_name,
                                 "title": lead.title, "account_id": account.pk}
        if lead.email:
            cdata["emails"] = [lead.email]
        if lead.phone:
            cdata["phones"] = [lead.phone]
        if lead.city or lead.postal_code or lead.country:
            cdata["addresses"] = [{"city": lead.city, "postal_code": lead.postal_code, "region": lead.region,
                                   "country": lead.country}]
        contact = contact_create(actor=actor, data=cdata, context={"lead": lead.pk})
        contact_created = True
    opportunity = None
    if create_opportunity:
        opportunity = opportunity_create(
            actor=actor, account=account, contact=contact, lead=lead, owner=lead.owner or actor,
            name=(opportunity_name or "").strip() or f"{account.name}: {lead.company or lead}",
            amount=amount or Decimal(0), expected_close_date=expected_close_date,
            source=lead.source, campaign=lead.campaign)
    moved = _move_history(actor, lead, contact, account)
    now = timezone.now()
    Lead.objects.filter(pk=lead.pk, version=lead.version).update(
        status=LeadStatus.CONVERTED, converted_at=now, converted_account=account, converted_contact=contact,
        converted_opportunity=opportunity, version=lead.version + 1, updated_at=now)
    lead.refresh_from_db()
    LeadEvent.objects.create(lead=lead, kind=LeadEventKind.CONVERTED, actor=actor, at=now,
                             subject="Converted", body=f"Account {account}, contact {contact}"
                             + (f", opportunity {opportunity}" if opportunity else "") + ".")
    audit_record(actor=actor, action="update", instance=lead,
                 changes={"status": [LeadStatus.QUALIFIED, LeadStatus.CONVERTED]},
                 context={"converted": {"account": account.pk, "contact": contact.pk,
                                        "opportunity": getattr(opportunity, "pk", None)}})
    return Conversion(lead, account, contact, opportunity, account_created, contact_created, moved)
