"""Request and response bodies of the accounts and contacts API."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field

from rapport.core.schemas import Id, InSchema, Version

Text50 = Annotated[str, Field(max_length=50)]
Text100 = Annotated[str, Field(max_length=100)]
Text200 = Annotated[str, Field(max_length=200)]
Text300 = Annotated[str, Field(max_length=300)]


class EmailIn(InSchema):
    email: Annotated[str, Field(max_length=254)]
    kind: str = "work"
    is_primary: bool = False


class PhoneIn(InSchema):
    number: Annotated[str, Field(max_length=40)]
    kind: str = "mobile"
    is_primary: bool = False


class AddressIn(InSchema):
    kind: str = "work"
    street: Text300 = ""
    city: Text100 = ""
    region: Text100 = ""
    postal_code: Annotated[str, Field(max_length=20)] = ""
    country: Annotated[str, Field(max_length=2)] = ""


class EmailOut(Schema):
    email: str
    kind: str
    is_primary: bool


class PhoneOut(Schema):
    number: str
    kind: str
    is_primary: bool


class AddressOut(Schema):
    id: int
    kind: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str


class MembershipOut(Schema):
    account_id: int
    account_name: str
    role: str
    is_primary: bool


class ContactFields(InSchema):
    """Fields a client may set. Every one is optional in a PATCH."""

    first_name: Text100 | None = None
    last_name: Text100 | None = None
    title: Annotated[str, Field(max_length=150)] | None = None
    birthday: dt.date | None = None
    language: Annotated[str, Field(max_length=10)] | None = None
    time_zone: Annotated[str, Field(max_length=64)] | None = None
    preferred_channel: Annotated[str, Field(max_length=10)] | None = None
    lifecycle_stage: Annotated[str, Field(max_length=20)] | None = None
    source: Text50 | None = None
    external_id: Text100 | None = None
    emails: Annotated[list[EmailIn | Annotated[str, Field(max_length=254)]], Field(max_length=20)] | None = None
    phones: Annotated[list[PhoneIn | Annotated[str, Field(max_length=40)]], Field(max_length=20)] | None = None
    addresses: Annotated[list[AddressIn], Field(max_length=20)] | None = None
    tags: Annotated[list[Text50], Field(max_length=50)] | None = None
    custom: dict[Annotated[str, Field(max_length=50)], Any] | None = None
    account_id: Id | None = None
    account_role: Text100 | None = None
    reports_to_id: Id | None = None
    owner_id: Id | None = None
    team_id: Id | None = None


class ContactCreateIn(ContactFields):
    pass


class ContactPatchIn(ContactFields):
    version: Version | None = Field(None, description="The version you read; or send If-Match.")


class ContactListItem(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    title: str
    email: str
    phone: str
    account_id: int | None
    account_name: str | None
    lifecycle_stage: str
    owner_id: int | None
    team_id: int | None
    updated_at: dt.datetime
    version: int


class ContactOut(ContactListItem):
    birthday: dt.date | None
    language: str
    time_zone: str
    preferred_channel: str
    source: str
    external_id: str
    reports_to_id: int | None
    emails: list[EmailOut]
    phones: list[PhoneOut]
    addresses: list[AddressOut]
    memberships: list[MembershipOut]
    tags: list[str]
    custom: dict[str, Any]
    created_at: dt.datetime
    created_by_id: int | None


class ContactPage(Schema):
    items: list[ContactListItem]
    next: str | None


class AccountFields(InSchema):
    name: Text200 | None = None
    domain: Annotated[str, Field(max_length=253)] | None = None
    website: Text300 | None = None
    industry: Annotated[str, Field(max_length=20)] | None = None
    size: Annotated[str, Field(max_length=10)] | None = None
    annual_revenue: Annotated[decimal.Decimal, Field(max_digits=18, decimal_places=2, allow_inf_nan=False)] | None = (
        None
    )
    currency: Annotated[str, Field(max_length=3)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    tier: Annotated[str, Field(max_length=10)] | None = None
    description: Annotated[str, Field(max_length=10000)] | None = None
    external_id: Text100 | None = None
    parent_id: Id | None = None
    tags: Annotated[list[Text50], Field(max_length=50)] | None = None
    addresses: Annotated[list[AddressIn], Field(max_length=20)] | None = None
    custom: dict[Annotated[str, Field(max_length=50)], Any] | None = None
    owner_id: Id | None = None
    team_id: Id | None = None


class AccountCreateIn(AccountFields):
    name: Text200


class AccountPatchIn(AccountFields):
    version: Version | None = Field(None, description="The version you read; or send If-Match.")


class AccountListItem(Schema):
    id: int
    name: str
    domain: str
    industry: str
    size: str
    tier: str
    owner_id: int | None
    team_id: int | None
    parent_id: int | None
    updated_at: dt.datetime
    version: int


class AccountOut(AccountListItem):
    website: str
    annual_revenue: decimal.Decimal | None
    currency: str
    phone: str
    description: str
    external_id: str
    tags: list[str]
    addresses: list[AddressOut]
    custom: dict[str, Any]
    created_at: dt.datetime
    created_by_id: int | None


class AccountPage(Schema):
    items: list[AccountListItem]
    next: str | None


class SearchHit(Schema):
    type: str
    id: int
    title: str
    subtitle: str
    url: str


class SearchOut(Schema):
    contacts: list[SearchHit]
    accounts: list[SearchHit]


class PossibleDuplicateOut(Schema):
    """An existing contact the new one may be (see ``parties.duplicate_check``)."""

    contact_id: int
    name: str
    email: str
    phone: str
    account_name: str
    probability: float = Field(description="The identity matcher's probability that both are one person.")
    likely: bool = Field(description="At or above the matcher's threshold: probably the same person.")
    exact_copy: bool
    evidence: dict[str, str] = Field(
        description="Per compared field, how the values agree: exact, similar, nickname, missing, different, …"
    )


class DuplicateCheckOut(Schema):
    possible_duplicates: list[PossibleDuplicateOut]
    hidden: int = Field(description="Further possible duplicates among contacts you may not see.")
    matcher: str = Field(description="fitted (learnt by the last duplicate scan), default (built-in) or none.")


class ContactCreatedOut(ContactOut):
    possible_duplicates: list[PossibleDuplicateOut] = Field(
        default_factory=list, description="Existing contacts this one may duplicate (queued for review when likely)."
    )
