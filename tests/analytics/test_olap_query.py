"""OLAP queries on the hand-made star (tests/analytics/olap_star.py); answers computed by hand."""

from decimal import Decimal

import pytest
from tests.analytics.olap_star import star

from rapport.analytics.olap import DEFAULT_REGISTRY, OlapError, QuerySpec, compile_query, run_query
from rapport.analytics.olap.export import export_query
from rapport.analytics.olap.pivot import pivot
from rapport.analytics.olap.query import Filter, drill_down


def q(**kw):
    return QuerySpec.from_dict(kw)


def test_revenue_by_year_and_region():
    res = run_query(star(), q(measures=["revenue", "order_count"], dimensions=["date.year", "region.region"]))
    assert res.columns == ("date_year", "region_region", "revenue", "order_count")
    assert res.rows == [
        (2024, "Americas", Decimal(250), 1),
        (2024, "Europe", Decimal(150), 1),
        (2025, "Americas", Decimal(200), 1),
        (2025, "Europe", Decimal(190), 2),
    ]


def test_measures_without_dimensions_are_grand_totals():
    res = run_query(
        star(),
        q(measures=["revenue", "margin", "units", "line_count", "distinct_customers", "avg_order_value"]),
    )
    # revenue 790, cost 394 (margin 396), units 16, 6 lines, 3 customers, 5 orders → AOV 158
    assert res.rows == [(Decimal(790), Decimal(396), Decimal(16), 6, 3, Decimal(158))]


def test_distinct_customers_by_tier():
    res = run_query(star(), q(measures=["distinct_customers"], dimensions=["customer.tier"]))
    assert res.rows == [("gold", 2), ("silver", 1)]


def test_interactions_by_channel_use_their_own_fact():
    res = run_query(star(), q(measures=["interactions"], dimensions=["channel.channel"]))
    assert res.rows == [("email", 1), ("phone", 2)]


def test_filters_eq_in_range():
    con = star()
    by_month_de = q(
        measures=["revenue"],
        dimensions=["date.month"],
        filters=[{"dimension": "region", "level": "country", "op": "eq", "value": "DE"}],
    )
    assert run_query(con, by_month_de).rows == [("2024-01", Decimal(150)), ("2025-02", Decimal(150))]
    in_spec = q(
        measures=["revenue"],
        filters=[{"dimension": "region", "level": "country", "op": "in", "value": ["FR", "US"]}],
    )
    assert run_query(con, in_spec).rows == [(Decimal(490),)]
    range_spec = q(
        measures=["revenue"],
        filters=[{"dimension": "date", "level": "day", "op": "range", "value": ["2024-05-01", "2025-01-31"]}],
    )
    assert run_query(con, range_spec).rows == [(Decimal(290),)]
    open_high = q(
        measures=["units"], filters=[{"dimension": "date", "level": "year", "op": "range", "value": [2025, None]}]
    )
    assert run_query(con, open_high).rows == [(Decimal(8),)]


def test_drill_down_year_to_quarter_to_month():
    con = star()
    spec = q(measures=["revenue"], dimensions=["date.year"])
    quarters = drill_down(spec, dimension="date", member=2025)
    assert quarters.dimensions == (("date", "quarter"),)
    assert run_query(con, quarters).rows == [("2025-Q1", Decimal(390))]
    months = drill_down(quarters, dimension="date", member="2025-Q1")
    assert run_query(con, months).rows == [("2025-01", Decimal(40)), ("2025-02", Decimal(350))]
    regions = q(measures=["revenue"], dimensions=["region.region"])
    assert run_query(con, drill_down(regions, dimension="region", member="Europe")).rows == [
        ("DE", Decimal(300)),
        ("FR", Decimal(40)),
    ]
    with pytest.raises(OlapError, match="finest level"):
        drill_down(q(measures=["revenue"], dimensions=["date.day"]), dimension="date", member="2025-01-10")


def test_sort_and_limit():
    res = run_query(star(), q(measures=["revenue"], dimensions=["customer.customer"], sort=["-revenue"], limit=2))
    assert res.rows == [("Bolt", Decimal(450)), ("Acme", Decimal(300))]


def test_pivot_years_as_columns():
    res = run_query(star(), q(measures=["revenue"], dimensions=["region.region", "date.year"]))
    pv = pivot(res, columns="date_year")
    assert pv.column_members == (2024, 2025)
    assert pv.rows == [(("Americas",), [Decimal(250), Decimal(200)]), (("Europe",), [Decimal(150), Decimal(190)])]
    with pytest.raises(OlapError):
        pivot(res, columns="revenue")


def test_export_csv_and_parquet():
    import duckdb

    con = star()
    spec = q(measures=["revenue"], dimensions=["date.year"])
    csv = export_query(con, spec, fmt="csv").decode()
    assert csv.splitlines() == ["date_year,revenue", "2024,400.0000", "2025,390.0000"]
    parquet = export_query(con, spec, fmt="parquet")
    assert parquet[:4] == b"PAR1"
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".parquet") as fh:
        fh.write(parquet)
        fh.flush()
        assert duckdb.sql(f"SELECT * FROM read_parquet('{fh.name}')").fetchall() == [
            (2024, Decimal(400)),
            (2025, Decimal(390)),
        ]
    with pytest.raises(OlapError, match="unknown export format"):
        export_query(con, spec, fmt="xlsx")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"measures": []}, "at least one measure"),
        ({"measures": ["profit"]}, "unknown measure"),
        ({"measures": ["revenue", "interactions"]}, "different fact tables"),
        ({"measures": ["revenue"], "dimensions": ["planet.name"]}, "unknown dimension"),
        ({"measures": ["revenue"], "dimensions": ["date.week"]}, "no level 'week'"),
        ({"measures": ["revenue"], "dimensions": ["channel.channel"]}, "does not apply"),
        (
            {"measures": ["revenue"], "dimensions": ["date.year", "region.region", "product.kind", "owner.team"]},
            "at most 3",
        ),
        ({"measures": ["revenue"], "sort": ["revenue; DROP TABLE x"]}, "cannot sort"),
        ({"measures": ["revenue"], "limit": 0}, "limit"),
        (
            {"measures": ["revenue"], "filters": [{"dimension": "date", "level": "year", "op": "like", "value": 1}]},
            "unknown operator",
        ),
        (
            {"measures": ["revenue"], "filters": [{"dimension": "date", "level": "year", "op": "in", "value": []}]},
            "non-empty list",
        ),
        (
            {
                "measures": ["revenue"],
                "filters": [{"dimension": "date", "level": "year", "op": "eq", "value": {"a": 1}}],
            },
            "values must be",
        ),
        ({"measures": ["revenue"], "filters": [{"level": "year"}]}, "malformed"),
        ({"measures": ["revenue"], "dimensions": [42]}, "dimension is"),
    ],
)
def test_bad_specs_are_clear_errors(spec, message):
    with pytest.raises(OlapError, match=message):
        compile_query(QuerySpec.from_dict(spec))


def test_filter_values_are_parameters_not_sql():
    con = star()
    evil = "DE' OR '1'='1"
    spec = q(measures=["revenue"], filters=[{"dimension": "region", "level": "country", "op": "eq", "value": evil}])
    compiled = compile_query(spec)
    assert evil not in compiled.sql and compiled.params == [evil]
    assert run_query(con, spec).rows == [(None,)]
    drop = "x'); DROP TABLE fact_order_line; --"
    run_query(
        con, q(measures=["revenue"], filters=[{"dimension": "customer", "level": "tier", "op": "in", "value": [drop]}])
    )
    assert con.execute("SELECT count(*) FROM fact_order_line").fetchone() == (6,)


def test_names_in_a_spec_never_reach_sql_unless_registered():
    with pytest.raises(OlapError):
        compile_query(q(measures=["revenue) FROM fact_order_line; --"]))
    with pytest.raises(OlapError):
        compile_query(q(measures=["revenue"], dimensions=["date.year FROM x --"]))


def test_schema_description_lists_the_hierarchies():
    desc = DEFAULT_REGISTRY.describe()
    date = next(d for d in desc["dimensions"] if d["name"] == "date")
    assert [lv["name"] for lv in date["levels"]] == ["year", "quarter", "month", "day"]
    assert Filter("date", "year", "eq", 1).op == "eq"
