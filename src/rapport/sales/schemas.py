"""Request bodies of the opportunity, pipeline, stage and quote API (``sales.api``, ``sales.api_quotes``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field

from rapport.core.schemas import Id, InSchema, Version

Money = Field(max_digits=19, decimal_places=4, ge=0)


class OpportunityIn(InSchema):
    name: str = Field(min_length=1, max_length=200)
    account_id: Id
    contact_id: Id | None = None
    pipeline_id: Id | None = None
    stage_id: Id | None = None
    owner_id: Id | None = None
    amount: Decimal = Field(Decimal(0), max_digits=19, decimal_places=4, ge=0)
    currency: str = Field("", max_length=3)
    probability: int | None = Field(None, ge=0, le=100)
    expected_close_date: dt.date | None = None
    next_step: str = Field("", max_length=200)
    competitors: str = Field("", max_length=300)
    description: str = Field("", max_length=20000)
    source: str = Field("", max_length=50)
    campaign: str = Field("", max_length=100)


class OpportunityPatchIn(InSchema):
    version: Version | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    contact_id: Id | None = None
    owner_id: Id | None = None
    amount: Decimal | None = Field(None, max_digits=19, decimal_places=4, ge=0)
    currency: str | None = Field(None, max_length=3)
    probability: int | None = Field(None, ge=0, le=100)
    expected_close_date: dt.date | None = None
    next_step: str | None = Field(None, max_length=200)
    competitors: str | None = Field(None, max_length=300)
    description: str | None = Field(None, max_length=20000)
    source: str | None = Field(None, max_length=50)
    campaign: str | None = Field(None, max_length=100)
    close_reason: str | None = Field(None, max_length=200)


class MoveIn(InSchema):
    stage_id: Id
    version: Version | None = None
    close_reason: str = Field("", max_length=200)


class LineIn(InSchema):
    product_id: Id
    quantity: Decimal = Field(Decimal(1), max_digits=14, decimal_places=3)
    unit_price: Decimal = Field(Decimal(0), max_digits=19, decimal_places=4)
    discount_percent: Decimal = Field(Decimal(0), max_digits=5, decimal_places=2)


class LinesIn(InSchema):
    version: Version | None = None
    lines: list[LineIn] = Field(max_length=200)


class StageIn(InSchema):
    name: str = Field(min_length=1, max_length=100)
    probability: int = Field(ge=0, le=100)
    kind: Literal["open", "won", "lost"] = "open"
    forecast_category: str = Field("pipeline", max_length=10)
    is_active: bool = True
    position: int | None = Field(None, ge=0, le=1000)


class StagePatchIn(InSchema):
    name: str | None = Field(None, min_length=1, max_length=100)
    probability: int | None = Field(None, ge=0, le=100)
    kind: Literal["open", "won", "lost"] | None = None
    forecast_category: str | None = Field(None, max_length=10)
    is_active: bool | None = None


class PipelineIn(InSchema):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=5000)
    is_default: bool = False
    stages: list[StageIn] = Field(default_factory=list, max_length=50)


class PipelinePatchIn(InSchema):
    version: Version | None = None
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=5000)
    is_active: bool | None = None
    is_default: bool | None = None


class ReorderIn(InSchema):
    stage_ids: list[Id] = Field(min_length=1, max_length=100)


class QuoteLineIn(InSchema):
    product_id: Id
    quantity: Decimal = Field(Decimal(1), max_digits=14, decimal_places=3)
    unit_price: Decimal | None = Field(None, max_digits=19, decimal_places=4)
    discount_kind: Literal["", "percent", "amount"] = ""
    discount_value: Decimal = Field(Decimal(0), max_digits=19, decimal_places=4)
    description: str = Field("", max_length=300)


class QuoteIn(InSchema):
    currency: str = Field("", max_length=3)
    price_book_id: Id | None = None
    valid_until: dt.date | None = None
    tax_country: str = Field("", max_length=2)
    notes: str = Field("", max_length=20000)
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=200)


class QuoteSendIn(InSchema):
    to: str | None = Field(None, max_length=254)
    message: str = Field("", max_length=5000)


class QuoteDecisionIn(InSchema):
    name: str = Field(min_length=1, max_length=200)
