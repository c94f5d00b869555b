"""Request and response bodies of the marketing API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field

from rapport.core.schemas import Id, InSchema, Version

Name = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=10_000)]
Code = Annotated[str, Field(max_length=20)]
MAX_RECIPIENTS = 10_000


class CampaignIn(InSchema):
    name: Name
    channel: Code = "email"
    status: Code = "planned"
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    description: Description = ""


class CampaignPatchIn(InSchema):
    name: Name | None = None
    channel: Code | None = None
    status: Code | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    description: Description | None = None
    version: Version | None = None


class CampaignOut(Schema):
    id: int
    name: str
    channel: str
    status: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    description: str
    owner_id: int | None
    team_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class CampaignPage(Schema):
    items: list[CampaignOut]
    next: str | None


class RecipientIn(InSchema):
    account_id: Id
    contact_id: Id | None = None


class MembersAddIn(InSchema):
    recipients: list[RecipientIn] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    sent_at: dt.datetime | None = None


class MembersAddedOut(Schema):
    added: int
    skipped: int


class CampaignMemberOut(Schema):
    id: int
    campaign_id: int
    account_id: int
    contact_id: int | None
    sent_at: dt.datetime
    opened_at: dt.datetime | None
    clicked_at: dt.datetime | None
    responded_at: dt.datetime | None
    unsubscribed_at: dt.datetime | None
    version: int


class CampaignMemberPage(Schema):
    items: list[CampaignMemberOut]
    next: str | None


class ResponseIn(InSchema):
    event: Code
    at: dt.datetime | None = None


class CampaignStatsOut(Schema):
    campaign_id: int
    members: int
    sent: int
    opened: int
    clicked: int
    responded: int
    unsubscribed: int
    open_rate: float
    click_rate: float
    response_rate: float
    unsubscribe_rate: float
    click_to_open_rate: float
