"""The SQL that builds and refreshes a registry's rollup tables from its facts.

The rollups of one fact by the same keys form a chain, finest first: the finest is summed from the
facts joined to the period dimension, each coarser one from the one before it (its sums are
additive). A fact may have several chains (by customer; by customer and region). Invariant
after ``build_statements`` or ``refresh_statements``: every rollup equals the facts summed afresh.

A refresh is told which cells changed — ``touch_statement`` records, per fact, the keys of every
chain and the finest level of the fact rows matching a condition, once before those rows are
deleted and once after the new ones are in — and recomputes only those cells in each chain's finest
rollup, then every row of the touched keys in the coarser ones (a customer has a few dozen months
at most, so that is cheap).
"""

from __future__ import annotations

from rapport.analytics.olap.registry import Registry, Rollup


def chains(registry: Registry, fact: str) -> list[list[Rollup]]:
    """The chains of ``fact`` (its rollups by the same keys), each finest first, in registry order."""
    families: dict[tuple[str, ...], list[Rollup]] = {}
    for r in registry.rollups:
        if r.fact == fact:
            families.setdefault(r.keys, []).append(r)
    return [sorted(family, key=lambda r: -len(r.levels)) for family in families.values()]


def facts(registry: Registry) -> list[str]:
    return sorted({r.fact for r in registry.rollups})


def touched_table(fact: str) -> str:
    return f"touched_{fact}"


def _key_columns(registry: Registry, rollup: Rollup) -> list[str]:
    return [registry.dimensions[k].fact_keys[rollup.fact] for k in rollup.keys]


def _touched_rollup(registry: Registry, fact: str) -> Rollup:
    """A rollup shape whose cells cover every chain of ``fact``: the union of their keys at the
    finest level any of them keeps (each chain's cells are a projection of these)."""
    finest = [chain[0] for chain in chains(registry, fact)]
    keys = tuple(dict.fromkeys(k for r in finest for k in r.keys))
    deepest = max(finest, key=lambda r: len(r.levels))
    return Rollup(touched_table(fact), fact, deepest.period, deepest.levels, keys, ())


def _level_columns(registry: Registry, rollup: Rollup) -> list[str]:
    period = registry.dimensions[rollup.period]
    return [period.level(name).column for name in rollup.levels]


def _cells(registry: Registry, rollup: Rollup) -> list[str]:
    """The rollup's grouping columns as read from the facts ``f`` joined to the period ``p``."""
    return [f"f.{c}" for c in _key_columns(registry, rollup)] + [f"p.{c}" for c in _level_columns(registry, rollup)]


def _period_join(registry: Registry, rollup: Rollup) -> str:
    period = registry.dimensions[rollup.period]
    return f"JOIN {period.table} AS p ON p.{period.key} = f.{period.fact_keys[rollup.fact]}"


def _on(alias: str, other: str, columns: list[str]) -> str:
    return " AND ".join(f"{alias}.{c} = {other}.{c}" for c in columns)


def _select(registry: Registry, rollup: Rollup, keys: list[str], levels: list[str], sums: list[str]) -> str:
    """SELECT list and GROUP BY of a rollup row: grouped by the keys and the finest level only, the
    coarser levels taken with any_value (a level hierarchy: the finest level determines the coarser
    ones), because a hash on fewer, integer-first columns is the cheaper one."""
    names = _level_columns(registry, rollup)
    coarser = [f"any_value({expr}) AS {name}" for expr, name in zip(levels[:-1], names[:-1], strict=True)]
    group = keys + levels[-1:]
    select = keys + coarser + [f"{expr} AS {name}" for expr, name in zip(levels[-1:], names[-1:], strict=True)]
    return f"SELECT {', '.join(select + sums)}", f"GROUP BY {', '.join(group)}"


def _from_facts(registry: Registry, rollup: Rollup, joins: str = "") -> str:
    """SELECT summing the facts into ``rollup``'s rows."""
    keys = [f"f.{c}" for c in _key_columns(registry, rollup)]
    levels = [f"p.{c}" for c in _level_columns(registry, rollup)]
    sums = [f"CAST({expr} AS {typ}) AS {col}" for col, expr, typ in rollup.sums]
    select, group = _select(registry, rollup, keys, levels, sums)
    return f"{select} FROM {rollup.fact} AS f {_period_join(registry, rollup)} {joins}{group}"


def _from_finer(registry: Registry, rollup: Rollup, finer: Rollup, joins: str = "") -> str:
    keys = [f"f.{c}" for c in _key_columns(registry, rollup)]
    levels = [f"f.{c}" for c in _level_columns(registry, rollup)]
    sums = [f"CAST(sum(f.{col}) AS {typ}) AS {col}" for col, _expr, typ in rollup.sums]
    select, group = _select(registry, rollup, keys, levels, sums)
    return f"{select} FROM {finer.table} AS f {joins}{group}"


def build_statements(registry: Registry) -> list[tuple[str, str]]:
    """(label, SQL) creating every rollup afresh from the facts."""
    out = []
    for fact in facts(registry):
        for rollups in chains(registry, fact):
            out.append(
                (
                    f"create {rollups[0].table}",
                    f"CREATE OR REPLACE TABLE {rollups[0].table} AS " + _from_facts(registry, rollups[0]),
                )
            )
            for finer, rollup in zip(rollups, rollups[1:], strict=False):
                out.append(
                    (
                        f"create {rollup.table}",
                        f"CREATE OR REPLACE TABLE {rollup.table} AS " + _from_finer(registry, rollup, finer),
                    )
                )
    return out


def touched_create_statements(registry: Registry) -> list[tuple[str, str]]:
    """(label, SQL) creating each fact's empty table of touched cells (see ``_touched_rollup``)."""
    out = []
    for fact in facts(registry):
        shape = _touched_rollup(registry, fact)
        out.append(
            (
                f"create {shape.table}",
                f"CREATE OR REPLACE TEMP TABLE {shape.table} AS "
                f"SELECT {', '.join(_cells(registry, shape))} FROM {fact} AS f "
                f"{_period_join(registry, shape)} LIMIT 0",
            )
        )
    return out


def touch_statement(registry: Registry, fact: str, condition: str) -> str:
    """SQL recording the rollup cells of the ``fact`` rows (alias ``f``) that match ``condition``."""
    shape = _touched_rollup(registry, fact)
    return (
        f"INSERT INTO {shape.table} SELECT DISTINCT {', '.join(_cells(registry, shape))} "
        f"FROM {fact} AS f {_period_join(registry, shape)} WHERE {condition}"
    )


def refresh_statements(registry: Registry) -> list[tuple[str, str]]:
    """(label, SQL) recomputing the touched cells (see the module docstring)."""
    out = []
    for fact in facts(registry):
        for rollups in chains(registry, fact):
            out.extend(_refresh_chain(registry, rollups))
    return out


def _refresh_chain(registry: Registry, rollups: list[Rollup]) -> list[tuple[str, str]]:
    out = []
    finest, touched = rollups[0], touched_table(rollups[0].fact)
    keys, levels = _key_columns(registry, finest), _level_columns(registry, finest)
    cells = f"(SELECT DISTINCT {', '.join(keys + levels)} FROM {touched}) AS t"
    out.append(
        (
            f"delete {finest.table}",
            f"DELETE FROM {finest.table} AS r USING {cells} WHERE {_on('r', 't', keys + levels)}",
        )
    )
    # Only the facts of the touched cells are summed again (a semi-join on keys and level).
    on = " AND ".join([f"t.{c} = f.{c}" for c in keys] + [f"t.{c} = p.{c}" for c in levels])
    out.append(
        (
            f"insert {finest.table}",
            f"INSERT INTO {finest.table} " + _from_facts(registry, finest, f"SEMI JOIN {cells} ON {on} "),
        )
    )
    touched_keys = f"(SELECT DISTINCT {', '.join(keys)} FROM {touched}) AS t"
    for finer, rollup in zip(rollups, rollups[1:], strict=False):
        out.append(
            (
                f"delete {rollup.table}",
                f"DELETE FROM {rollup.table} AS r USING {touched_keys} WHERE {_on('r', 't', keys)}",
            )
        )
        out.append(
            (
                f"insert {rollup.table}",
                f"INSERT INTO {rollup.table} "
                + _from_finer(registry, rollup, finer, f"SEMI JOIN {touched_keys} ON {_on('t', 'f', keys)} "),
            )
        )
    return out
