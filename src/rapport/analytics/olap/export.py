"""Export a query straight from DuckDB to CSV or Parquet bytes (DuckDB writes the file)."""

from __future__ import annotations

import os
import tempfile

import duckdb

from rapport.analytics.olap.query import OlapError, QuerySpec, compile_query
from rapport.analytics.olap.registry import DEFAULT_REGISTRY, Registry

FORMATS = {"csv": "(FORMAT csv, HEADER true)", "parquet": "(FORMAT parquet)"}


def export_query(
    con: duckdb.DuckDBPyConnection, spec: QuerySpec, *, fmt: str, registry: Registry = DEFAULT_REGISTRY
) -> bytes:
    if fmt not in FORMATS:
        raise OlapError(f"unknown export format {fmt!r}; use csv or parquet")
    q = compile_query(spec, registry)
    fd, path = tempfile.mkstemp(suffix=f".{fmt}")
    os.close(fd)
    try:
        # A relation keeps the values as bound parameters; DuckDB streams it into the file.
        rel = con.sql(q.sql, params=q.params)
        if fmt == "csv":
            rel.write_csv(path, header=True)
        else:
            rel.write_parquet(path)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)
