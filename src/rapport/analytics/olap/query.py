"""Query specs: validated against a registry, compiled into one parameterised DuckDB statement.

Invariants: identifiers in the SQL come only from the registry (names in the spec are looked up,
never pasted); every filter value travels as a ``?`` parameter. A spec reads one fact table: all
its measures share it and every dimension used must join to it.

What is read is chosen per spec, always giving the figures the facts would (``registry``): the
coarsest rollup that keeps every dimension and level used, else the facts with each measure's
``per_order`` form where no dimension used splits an order, else the facts as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb

from rapport.analytics.olap.registry import DEFAULT_REGISTRY, Dimension, Registry, Rollup

MAX_DIMENSIONS = 3
MAX_LIMIT = 100_000
FILTER_OPS = ("eq", "in", "range")


class OlapError(ValueError):
    """A spec that the registry cannot answer; the message says which part and why."""


@dataclass(frozen=True)
class Filter:
    dimension: str
    level: str
    op: str  # eq | in | range
    value: Any  # eq: a scalar; in: a list; range: [low, high] inclusive, either may be None


@dataclass(frozen=True)
class QuerySpec:
    measures: tuple[str, ...]
    dimensions: tuple[tuple[str, str], ...] = ()  # (dimension, level)
    filters: tuple[Filter, ...] = ()
    sort: tuple[tuple[str, bool], ...] = ()  # (output column, descending)
    limit: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuerySpec:
        """Build from JSON-ish input (API, page form); shape errors become ``OlapError``."""
        if not isinstance(data, dict):
            raise OlapError("the query must be an object")
        try:
            measures = tuple(str(m) for m in data.get("measures") or ())
            dims = tuple(_dim_pair(d) for d in data.get("dimensions") or ())
            filters = tuple(
                Filter(str(f["dimension"]), str(f["level"]), str(f.get("op", "eq")), f.get("value"))
                for f in data.get("filters") or ()
            )
            sort = tuple(_sort_pair(s) for s in data.get("sort") or ())
            limit = data.get("limit")
            limit = None if limit is None else int(limit)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise OlapError(f"malformed query: {exc}") from exc
        return cls(measures=measures, dimensions=dims, filters=filters, sort=sort, limit=limit)


def _dim_pair(d: Any) -> tuple[str, str]:
    if isinstance(d, dict):
        return str(d["dimension"]), str(d["level"])
    if isinstance(d, str) and "." in d:
        name, level = d.split(".", 1)
        return name, level
    raise OlapError(f"a dimension is 'name.level' or {{dimension, level}}, got {d!r}")


def _sort_pair(s: Any) -> tuple[str, bool]:
    if isinstance(s, dict):
        return str(s["by"]), bool(s.get("desc", False))
    if isinstance(s, str):
        return (s[1:], True) if s.startswith("-") else (s, False)
    raise OlapError(f"a sort key is 'column' or '-column', got {s!r}")


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: list[Any]
    columns: tuple[str, ...]  # output column names, dimensions first then measures
    dimension_columns: tuple[str, ...]
    measure_columns: tuple[str, ...]
    fact: str = field(default="")
    source: str = field(default="")  # the table read: the fact or one of its rollups


def column_name(dimension: str, level: str) -> str:
    return f"{dimension}_{level}"


def _scalar(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, dt.date)):
        return value
    raise OlapError(f"{where}: values must be strings, numbers or dates, got {type(value).__name__}")


def _used(spec: QuerySpec) -> dict[str, set[str]]:
    """Every dimension the spec touches (grouped or filtered), with the levels it uses."""
    used: dict[str, set[str]] = {}
    for name, level in (*spec.dimensions, *((f.dimension, f.level) for f in spec.filters)):
        used.setdefault(name, set()).add(level)
    return used


def _rollup_plan(
    spec: QuerySpec, registry: Registry, fact: str, used: dict[str, set[str]]
) -> tuple[Rollup, bool] | None:
    """The coarsest rollup that answers the spec exactly, and whether its rows are unique per key
    within each output group (then a distinct count of keys is count(*)); None: read the facts.

    A rollup answers when every measure has a rollup form and every dimension used is one of its
    keys (constant per key) or its period at levels it keeps. Its rows are unique per (keys, finest
    kept level). Where the spec uses no key but the first and groups by that level (or the rollup
    keeps no level at all), each first-key value is in at most one row per group: the other grouped
    dimensions are functions of it. (A second key used, say the order's region, may give one
    customer several rows in a group: a customer with orders in two countries of one region.)
    """
    if not all(registry.measures[m].rollup for m in spec.measures):
        return None
    for rollup in (r for r in registry.rollups if r.fact == fact):
        if all(
            name in rollup.keys or (name == rollup.period and levels <= set(rollup.levels))
            for name, levels in used.items()
        ):
            grouped = {level for name, level in spec.dimensions if name == rollup.period}
            by_level = not rollup.levels or rollup.levels[-1] in grouped
            return rollup, by_level and not any(name in rollup.keys[1:] for name in used)
    return None


def _measure_sql(registry: Registry, name: str, plan: tuple[Rollup, bool] | None, per_order: bool) -> str:
    m = registry.measures[name]
    if plan is not None:
        assert m.rollup is not None
        return "count(*)" if m.counts_rollup_keys and plan[1] else m.rollup
    return (m.per_order or m.sql) if per_order else m.sql


def compile_query(spec: QuerySpec, registry: Registry = DEFAULT_REGISTRY) -> CompiledQuery:
    if not spec.measures:
        raise OlapError("pick at least one measure")
    unknown = [m for m in spec.measures if m not in registry.measures]
    if unknown:
        raise OlapError(f"unknown measure(s): {', '.join(unknown)}; known: {', '.join(registry.measures)}")
    if len(set(spec.measures)) != len(spec.measures):
        raise OlapError("a measure is listed twice")
    facts = {registry.measures[m].fact for m in spec.measures}
    if len(facts) > 1:
        raise OlapError(f"measures come from different fact tables ({', '.join(sorted(facts))}); query them apart")
    fact = facts.pop()
    if len(spec.dimensions) > MAX_DIMENSIONS:
        raise OlapError(f"at most {MAX_DIMENSIONS} dimensions")
    if spec.limit is not None and not 1 <= spec.limit <= MAX_LIMIT:
        raise OlapError(f"limit must be between 1 and {MAX_LIMIT}")

    joins: dict[str, str] = {}
    used = _used(spec)
    for name, level in used.items():
        for lv in level:
            _level(registry, fact, name, lv)  # unknown names are errors before any plan is made
    plan = _rollup_plan(spec, registry, fact, used)
    per_order = not any(registry.dimensions[name].splits_orders for name in used)

    def resolve(name: str, level: str) -> str:
        dim, lv = _level(registry, fact, name, level)
        if plan is not None and name == plan[0].period:
            return f"f.{lv.column}"  # the rollup keeps the period's level columns itself
        alias = f"d_{dim.name}"
        joins.setdefault(alias, f"JOIN {dim.table} AS {alias} ON f.{dim.fact_keys[fact]} = {alias}.{dim.key}")
        return f"{alias}.{lv.column}"

    select: list[str] = []
    group: list[str] = []
    dim_cols: list[str] = []
    seen: set[tuple[str, str]] = set()
    for name, level in spec.dimensions:
        if (name, level) in seen:
            raise OlapError(f"dimension {name}.{level} is listed twice")
        seen.add((name, level))
        expr = resolve(name, level)
        col = column_name(name, level)
        select.append(f"{expr} AS {col}")
        group.append(expr)
        dim_cols.append(col)
    for m in spec.measures:
        select.append(f"{_measure_sql(registry, m, plan, per_order)} AS {m}")

    where: list[str] = []
    params: list[Any] = []
    for flt in spec.filters:
        expr = resolve(flt.dimension, flt.level)
        where_label = f"filter on {flt.dimension}.{flt.level}"
        if flt.op == "eq":
            where.append(f"{expr} = ?")
            params.append(_scalar(flt.value, where_label))
        elif flt.op == "in":
            if not isinstance(flt.value, (list, tuple)) or not flt.value:
                raise OlapError(f"{where_label}: 'in' takes a non-empty list")
            where.append(f"{expr} IN ({', '.join('?' for _ in flt.value)})")
            params.extend(_scalar(v, where_label) for v in flt.value)
        elif flt.op == "range":
            if not isinstance(flt.value, (list, tuple)) or len(flt.value) != 2:
                raise OlapError(f"{where_label}: 'range' takes [low, high]")
            low, high = (_scalar(v, where_label) for v in flt.value)
            if low is None and high is None:
                raise OlapError(f"{where_label}: 'range' needs a low or a high bound")
            if low is not None:
                where.append(f"{expr} >= ?")
                params.append(low)
            if high is not None:
                where.append(f"{expr} <= ?")
                params.append(high)
        else:
            raise OlapError(f"{where_label}: unknown operator {flt.op!r}; use one of {', '.join(FILTER_OPS)}")

    columns = (*dim_cols, *spec.measures)
    order: list[str] = []
    for by, desc in spec.sort:
        if by not in columns:
            raise OlapError(f"cannot sort by {by!r}: not an output column ({', '.join(columns)})")
        order.append(f"{by} {'DESC' if desc else 'ASC'} NULLS LAST")
    # A stable default order so that pages, exports and tests agree.
    order.extend(f"{c} ASC NULLS LAST" for c in dim_cols if all(not o.startswith(f"{c} ") for o in order))

    source = plan[0].table if plan is not None else fact
    sql = f"SELECT {', '.join(select)} FROM {source} AS f"
    if joins:
        sql += " " + " ".join(joins.values())
    if where:
        sql += " WHERE " + " AND ".join(where)
    if group:
        sql += " GROUP BY " + ", ".join(group)
    if order:
        sql += " ORDER BY " + ", ".join(order)
    if spec.limit is not None:
        sql += f" LIMIT {int(spec.limit)}"
    return CompiledQuery(sql, params, columns, tuple(dim_cols), tuple(spec.measures), fact, source)


def _level(registry: Registry, fact: str, name: str, level: str) -> tuple[Dimension, Any]:
    dim: Dimension | None = registry.dimensions.get(name)
    if dim is None:
        raise OlapError(f"unknown dimension {name!r}; known: {', '.join(registry.dimensions)}")
    if fact not in dim.fact_keys:
        raise OlapError(f"dimension {name!r} does not apply to {fact}")
    try:
        return dim, dim.level(level)
    except KeyError as exc:
        raise OlapError(str(exc.args[0])) from exc


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    dimension_columns: tuple[str, ...]
    measure_columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def run_query(con: duckdb.DuckDBPyConnection, spec: QuerySpec, registry: Registry = DEFAULT_REGISTRY) -> QueryResult:
    q = compile_query(spec, registry)
    rows = con.execute(q.sql, q.params).fetchall()
    return QueryResult(q.columns, q.dimension_columns, q.measure_columns, rows)


def drill_down(spec: QuerySpec, *, dimension: str, member: Any, registry: Registry = DEFAULT_REGISTRY) -> QuerySpec:
    """The spec one level finer on ``dimension``, filtered to ``member`` of its current level
    (click 2025 → the quarters of 2025). Filters already on the dimension are kept."""
    levels = dict(spec.dimensions)
    if dimension not in levels:
        raise OlapError(f"dimension {dimension!r} is not in the query")
    level = levels[dimension]
    child = registry.dimensions[dimension].child(level)
    if child is None:
        raise OlapError(f"{dimension}.{level} is the finest level")
    dims = tuple((d, child if d == dimension else lv) for d, lv in spec.dimensions)
    filters = (*spec.filters, Filter(dimension, level, "eq", member))
    return QuerySpec(spec.measures, dims, filters, spec.sort, spec.limit)
