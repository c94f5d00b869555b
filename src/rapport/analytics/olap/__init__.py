"""A small OLAP engine over a DuckDB star schema (framework-free).

``registry`` names the measures, dimensions and rollups, ``rollups`` writes the SQL that builds
the rollups, ``query`` validates a spec against it and
compiles it into one parameterised DuckDB statement, ``pivot`` and ``export`` shape the result.
"""

from rapport.analytics.olap import rollups
from rapport.analytics.olap.query import OlapError, QuerySpec, compile_query, run_query
from rapport.analytics.olap.registry import DEFAULT_REGISTRY, Dimension, Level, Measure, Registry, Rollup

__all__ = [
    "DEFAULT_REGISTRY",
    "Dimension",
    "Level",
    "Measure",
    "OlapError",
    "QuerySpec",
    "Registry",
    "Rollup",
    "compile_query",
    "rollups",
    "run_query",
]
