"""Measures and dimensions of the warehouse star schema.

Invariants: every measure is one SQL aggregate over exactly one fact table (alias ``f``); every
dimension level is a column of one dimension table joined to that fact by a key.
All SQL text here is written by us, never taken from a request: a query spec only *names* these.

Two faster forms of a measure give the *same* figure where they apply (``query`` picks them):
- ``per_order``: order counts as ``count_if(f.first_line)`` instead of ``count(DISTINCT order_id)``
  (a 10M-value hash set). Exact when no dimension used splits an order (``splits_orders``): every
  other dimension is constant over an order's lines, so each order has its one first line in
  exactly one output group.
- ``rollup``: the aggregate over a ``Rollup`` table, the facts summed per customer and period.
  Every rollup column is an additive sum, so a coarser rollup is the finer one summed again.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measure:
    name: str
    fact: str
    sql: str  # an aggregate over columns of ``f``
    label: str
    per_order: str | None = None  # the same aggregate when no dimension splits an order
    rollup: str | None = None  # the same aggregate over a rollup's columns (None: facts only)
    # Counts distinct rollup keys (customers): over a rollup whose rows are unique per key in each
    # output group this is count(*), with no hash set at all (see query._rollup_plan).
    counts_rollup_keys: bool = False


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
    splits_orders: bool = False  # varies between the lines of one order (the product)

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
class Rollup:
    """A fact table summed per key and period: one row per (keys, levels) value that has facts.

    Invariant: its rows are unique per (key columns, finest kept level); its columns are the key
    dimensions' fact keys, the period dimension's kept level columns, and ``sums``. The first key is
    the one a ``counts_rollup_keys`` measure counts; rollups with the same fact and keys form a
    family, each coarser one summed from the next finer.
    """

    table: str
    fact: str
    period: str  # the dimension it coarsens (the date)
    levels: tuple[str, ...]  # the period levels kept, coarse to fine; () = all time
    keys: tuple[str, ...]  # dimensions still joined through their fact key (the customer)
    sums: tuple[tuple[str, str, str], ...]  # (column, aggregate over the facts f, DuckDB type)


@dataclass(frozen=True)
class Registry:
    measures: dict[str, Measure] = field(default_factory=dict)
    dimensions: dict[str, Dimension] = field(default_factory=dict)
    # Per fact its families, smallest first, each coarsest first: the first that answers is used.
    rollups: tuple[Rollup, ...] = ()

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
_CS = "fact_case"
_CR = "fact_campaign_response"

_ORDER_SUMS = (
    ("net_amount", "sum(f.net_amount)", "DECIMAL(38,4)"),
    ("margin", "sum(f.net_amount - f.cost_amount)", "DECIMAL(38,4)"),
    ("quantity", "sum(f.quantity)", "DECIMAL(38,3)"),
    ("lines", "count(*)", "BIGINT"),
    ("orders", "count_if(f.first_line)", "BIGINT"),
)
_INTERACTION_SUMS = (("interactions", "count(*)", "BIGINT"),)


def _customers(name: str, fact: str, label: str) -> Measure:
    """Distinct customers of ``fact``: over a rollup, keys counted (count(*) where each is once)."""
    sql = "count(DISTINCT f.customer_key)"
    return Measure(name, fact, sql, label, rollup=sql, counts_rollup_keys=True)


def _rollups(
    fact: str, name: str, sums: tuple[tuple[str, str, str], ...], keys: tuple[str, ...] = ("customer",)
) -> tuple[Rollup, ...]:
    """One family of rollups of ``fact`` by ``keys``, coarsest first: all time, year, quarter, month."""
    grains = {"all": (), "year": ("year",), "quarter": ("year", "quarter"), "month": ("year", "quarter", "month")}
    return tuple(Rollup(f"rollup_{name}_{grain}", fact, "date", levels, keys, sums) for grain, levels in grains.items())


DEFAULT_REGISTRY = Registry(
    measures=_measures(
        Measure("revenue", _OL, "sum(f.net_amount)", "Revenue (net, company currency)", rollup="sum(f.net_amount)"),
        Measure("margin", _OL, "sum(f.net_amount - f.cost_amount)", "Margin", rollup="sum(f.margin)"),
        Measure(
            "order_count",
            _OL,
            "count(DISTINCT f.order_id)",
            "Orders",
            per_order="count_if(f.first_line)",
            rollup="sum(f.orders)",
        ),
        Measure("line_count", _OL, "count(*)", "Order lines", rollup="sum(f.lines)"),
        Measure("units", _OL, "sum(f.quantity)", "Units", rollup="sum(f.quantity)"),
        _customers("distinct_customers", _OL, "Buying customers"),
        Measure(
            "avg_order_value",
            _OL,
            "sum(f.net_amount) / nullif(count(DISTINCT f.order_id), 0)",
            "Average order value",
            per_order="sum(f.net_amount) / nullif(count_if(f.first_line), 0)",
            rollup="sum(f.net_amount) / nullif(sum(f.orders), 0)",
        ),
        Measure("interactions", _IN, "count(*)", "Interactions", rollup="sum(f.interactions)"),
        _customers("interacting_customers", _IN, "Customers contacted"),
        Measure("cases", _CS, "count(*)", "Cases"),
        Measure("complaints", _CS, "count_if(f.kind = 'complaint')", "Complaints"),
        Measure("open_cases", _CS, "count_if(f.resolved_at IS NULL)", "Cases still open"),
        Measure("avg_satisfaction", _CS, "avg(f.satisfaction)", "Average satisfaction (CSAT, 1-5)"),
        Measure("avg_resolution_hours", _CS, "avg(f.resolution_hours)", "Average hours to resolve"),
        _customers("customers_with_cases", _CS, "Customers with cases"),
        Measure("campaign_sends", _CR, "count(*)", "Campaign messages sent"),
        Measure("campaign_opens", _CR, "count(f.opened_at)", "Opened"),
        Measure("campaign_responses", _CR, "count(f.responded_at)", "Responded"),
        Measure("campaign_open_rate", _CR, "count(f.opened_at) / nullif(count(*), 0)", "Open rate"),
        Measure("campaign_click_rate", _CR, "count(f.clicked_at) / nullif(count(*), 0)", "Click rate"),
        Measure("campaign_response_rate", _CR, "count(f.responded_at) / nullif(count(*), 0)", "Response rate"),
        Measure("campaign_unsubscribes", _CR, "count(f.unsubscribed_at)", "Unsubscribed"),
        _customers("customers_reached", _CR, "Customers reached"),
    ),
    dimensions=_dims(
        Dimension(
            "date",
            "dim_date",
            "date_key",
            {_OL: "date_key", _IN: "date_key", _CS: "date_key", _CR: "date_key"},
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
            {_OL: "region_key", _IN: "region_key", _CS: "region_key", _CR: "region_key"},
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
            splits_orders=True,
        ),
        Dimension(
            "customer",
            "dim_customer",
            "customer_key",
            {_OL: "customer_key", _IN: "customer_key", _CS: "customer_key", _CR: "customer_key"},
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
            # A case's owner is the agent working it; a campaign response's is the campaign's owner.
            {_OL: "owner_key", _IN: "owner_key", _CS: "owner_key", _CR: "owner_key"},
            (Level("team", "team", "Team"), Level("owner", "owner", "Owner")),
            "Owner",
        ),
        Dimension(
            "channel",
            "dim_channel",
            "channel_key",
            {_IN: "channel_key", _CS: "channel_key", _CR: "channel_key"},
            (Level("channel", "channel", "Channel"),),
            "Channel",
        ),
        Dimension(
            "campaign",
            "dim_campaign",
            "campaign_key",
            {_CR: "campaign_key"},
            (Level("status", "status", "Campaign status"), Level("campaign", "name", "Campaign")),
            "Campaign",
        ),
    ),
    # Per fact two families: by customer (the smallest; every customer-attribute query), then by
    # customer and the fact's own region (the order's tax country, which may differ from the
    # customer's), which is nearly as small. Not by owner or channel: those vary from one order or
    # interaction of a customer to the next, so such a rollup is about as large as the facts.
    rollups=(
        *_rollups(_OL, "order_line", _ORDER_SUMS),
        *_rollups(_OL, "order_line_by_region", _ORDER_SUMS, ("customer", "region")),
        *_rollups(_IN, "interaction", _INTERACTION_SUMS),
        *_rollups(_IN, "interaction_by_region", _INTERACTION_SUMS, ("customer", "region")),
    ),
)
