"""Shared helpers of the benchmarks: timing, a table printer, and a PostgreSQL with demo data.

Benchmarks print figures; they assert nothing. ``demo_database`` makes sure a PostgreSQL
database exists, is migrated and holds the demo data set at the requested size, and records
what it loaded in a small marker table (``bench_dataset``) so a second run starts at once. The
marker is trusted only while the row counts still match it: another benchmark that truncates
the party tables makes the next run reload instead of measuring an empty database.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/rapport_bench"
MARKER_DDL = """
CREATE TABLE IF NOT EXISTS bench_dataset (
    name text PRIMARY KEY, accounts bigint NOT NULL, contacts bigint NOT NULL, interactions bigint NOT NULL,
    seed integer NOT NULL, seconds double precision NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Timing:
    p50: float  # milliseconds
    p95: float
    mean: float
    runs: int


def measure(fn: Callable[[], Any], runs: int = 100, warmup: int = 5) -> Timing:
    """p50/p95/mean wall time of ``fn()`` in milliseconds over ``runs`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    p95 = samples[min(len(samples) - 1, max(0, round(0.95 * len(samples)) - 1))]
    return Timing(p50=statistics.median(samples), p95=p95, mean=statistics.fmean(samples), runs=runs)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain fixed-width table; numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))] if rows else []

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if numeric and numeric[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    print(line(list(headers)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print(line(row))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def database_url(suffix: str = "") -> str:
    """``DATABASE_URL`` (or the default), its database name extended by ``suffix``."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if suffix:
        parsed = urlparse(url)
        url = parsed._replace(path=parsed.path.rstrip("/") + suffix).geturl()
    return url


def django_setup(url: str) -> None:
    """Create the database if missing, point Django at it, set up and migrate."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def demo_database(*, url: str, accounts: int, contacts: int, interactions: int, seed: int = 42) -> float | None:
    """Make sure ``url`` holds the demo data at this size; load it (with ``--reset``) if not.

    Returns the load time in seconds, or ``None`` when the data were already there.
    """
    django_setup(url)
    from django.core.management import call_command
    from django.db import connection

    from rapport.activities.models import Interaction
    from rapport.parties.models import Account, Contact

    wanted = (accounts, contacts, interactions, seed)
    with connection.cursor() as cursor:
        cursor.execute(MARKER_DDL)
        cursor.execute("SELECT accounts, contacts, interactions, seed FROM bench_dataset WHERE name = 'demo'")
        marker = cursor.fetchone()
    present = (Account.objects.count(), Contact.objects.count(), Interaction.objects.count(), seed)
    if marker is not None and tuple(marker) == wanted and present == wanted:
        return None
    print(
        f"Loading demo data: {accounts:,} accounts, {contacts:,} contacts, {interactions:,} interactions …", flush=True
    )
    started = time.perf_counter()
    call_command("demo", accounts=accounts, contacts=contacts, interactions=interactions, seed=seed, reset=True)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_dataset (name, accounts, contacts, interactions, seed, seconds) "
            "VALUES ('demo', %s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET accounts = EXCLUDED.accounts, "
            "contacts = EXCLUDED.contacts, interactions = EXCLUDED.interactions, seed = EXCLUDED.seed, "
            "seconds = EXCLUDED.seconds, loaded_at = now()",
            [accounts, contacts, interactions, seed, seconds],
        )
    return seconds
