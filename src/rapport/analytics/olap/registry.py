"""Measures and dimensions of the warehouse star schema.

Invariants: every measure is one SQL aggregate over exactly one fact table (alias ``f``); every
dimension level is a column of one dimension table joined to that fact by a key.
All SQL text here is written by us, never taken from a request: a query spec only *names* these.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measure:
    name: str
    fact: str
    sql: str  # an aggregate over columns of ``f``
    label: str


@dataclass(frozen=True)
class Level:
    name: str
    column: str  # a column of the dimension table
    label: str


@dataclass(frozen=True)
class Dimension:
    """A dimension table joined as ``d`` on ``f.<fact_key> = d.<key>``, levels coarse to fine."""

    name: str
    table: str
    key: str
    fact_keys: dict[str, str]  # fact table → its foreign-key column to this dimension
    levels: tuple[Level, ...]
    label: str

    def level(self, name: str) -> Level:
        for level in self.levels:
            if level.name == name:
                return level
        known = ", ".join(lv.name for lv in self.levels)
        raise KeyError(f"dimension {self.name!r} has no level {name!r} (levels: {known})")

    def child(self, level: str) -> str | None:
        """The next finer level after ``level`` (where a drill-down goes), or None at the bottom."""
        names = [lv.name for lv in self.levels]
        i = names.index(level)
        return names[i + 1] if i + 1 < len(names) else None


@dataclass(frozen=True)
class Registry:
    measures: dict[str, Measure] = field(default_factory=dict)
    dimensions: dict[str, Dimension] = field(default_factory=dict)

    def describe(self) -> dict[str, object]:
        """A JSON-ready description (the API's schema endpoint and the page's pickers)."""
        return {
            "measures": [{"name": m.name, "label": m.label, "fact": m.fact} for m in self.measures.values()],
            "dimensions": [
                {
                    "name": d.name,
                    "label": d.label,
                    "facts": sorted(d.fact_keys),
                    "levels": [{"name": lv.name, "label": lv.label} for lv in d.levels],
                }
                for d in self.dimensions.values()
            ],
        }


def _measures(*items: Measure) -> dict[str, Measure]:
    return {m.name: m for m in items}


def _dims(*items: Dimension) -> dict[str, Dimension]:
    return {d.name: d for d in items}


_OL = "fact_order_line"
_IN = "fact_interaction"

DEFAULT_REGISTRY = Registry(
    measures=_measures(
        Measure("revenue", _OL, "sum(f.net_amount)", "Revenue (net, company currency)"),
        Measure("margin", _OL, "sum(f.net_amount - f.cost_amount)", "Margin"),
        Measure("order_count", _OL, "count(DISTINCT f.order_id)", "Orders"),
        Measure("line_count", _OL, "count(*)", "Order lines"),
        Measure("units", _OL, "sum(f.quantity)", "Units"),
        Measure("distinct_customers", _OL, "count(DISTINCT f.customer_key)", "Buying customers"),
        Measure(
            "avg_order_value", _OL, "sum(f.net_amount) / nullif(count(DISTINCT f.order_id), 0)", "Average order value"
        ),
        Measure("interactions", _IN, "count(*)", "Interactions"),
        Measure("interacting_customers", _IN, "count(DISTINCT f.customer_key)", "Customers contacted"),
    ),
    dimensions=_dims(
        Dimension(
            "date",
            "dim_date",
            "date_key",
            {_OL: "date_key", _IN: "date_key"},
            (
                Level("year", "year", "Year"),
                Level("quarter", "quarter", "Quarter"),
                Level("month", "month", "Month"),
                Level("day", "date", "Day"),
            ),
            "Date",
        ),
        Dimension(
            "region",
            "dim_region",
            "region_key",
            {_OL: "region_key", _IN: "region_key"},
            (Level("region", "region", "Region"), Level("country", "country", "Country")),
            "Region",
        ),
        Dimension(
            "product",
            "dim_product",
            "product_key",
            {_OL: "product_key"},
            (
                Level("kind", "kind", "Kind"),
                Level("product", "sku", "Product"),
            ),
            "Product",
        ),
        Dimension(
            "customer",
            "dim_customer",
            "customer_key",
            {_OL: "customer_key", _IN: "customer_key"},
            (
                Level("tier", "tier", "Tier"),
                Level("segment", "segment", "Segment"),
                Level("industry", "industry", "Industry"),
                Level("size", "size", "Size"),
                Level("customer", "name", "Customer"),
            ),
            "Customer",
        ),
        Dimension(
            "owner",
            "dim_owner",
            "owner_key",
            {_OL: "owner_key", _IN: "owner_key"},
            (Level("team", "team", "Team"), Level("owner", "owner", "Owner")),
            "Owner",
        ),
        Dimension(
            "channel",
            "dim_channel",
            "channel_key",
            {_IN: "channel_key"},
            (Level("channel", "channel", "Channel"),),
            "Channel",
        ),
    ),
)
