"""``rapport analytics clv``: fit a customer lifetime value model to a file and score every customer.

    rapport analytics clv --transactions FILE.csv --customer-column C --date-column D [--amount-column A]
        --period week|day|month [--calibration-end DATE] [--model bgnbd|pnbd|mbgnbd] [--horizon N]
        --output OUT.csv [--json]
    rapport analytics clv --summary FILE.csv [--id-column ID] [--model ...] --output OUT.csv [--json]

A thin adapter around :mod:`rapport.analytics.clv`. It reads the file (UTF-8, else Windows-1252,
else Latin-1), builds the customary summary from transactions (or reads one: ``frequency,
recency, T[, monetary_value]`` plus an id column — ``--id-column``, else the first other column,
else the row number), fits the purchase model and, when there are amounts, the Gamma-Gamma spend
model, prints the parameters under their customary names with standard errors and the total
``log_likelihood`` (``--json``: one JSON object on stdout, nothing else there), and writes one row
per customer: ``id, frequency, recency, T[, monetary_value], p_alive, expected_purchases[,
expected_spend, clv]``. With ``--calibration-end`` the fit uses the purchases up to that date and
also reports predicted vs actual holdout purchases by number of calibration purchases.

``--horizon`` is in periods (default: a year — 365 days, 52 weeks or 12 months). CLV is over
``--clv-months`` (default 12) at a monthly ``--discount-rate`` (default 0.01) of ``--margin`` times
expected spend (default 1: revenue). Bad input (missing columns, unreadable dates or amounts, zero
or negative amounts, future dates, recency > T, nobody buying twice) ends with a one-line error and
exit status 1, never a traceback. It touches no database. This command lives in ``parties`` beside
``rapport resolve`` because there is no ``insights`` app yet.
"""

from __future__ import annotations

import io
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.analytics import clv
from rapport.parties.management.commands.rapport_resolve import read_text

_YEAR = {"day": 365, "week": 52, "month": 12}
_SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class Command(BaseCommand):
    help = "Fit BG/NBD, Pareto/NBD or MBG/NBD (and Gamma-Gamma) to a file and write P(alive), purchases and CLV."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--transactions", help="a CSV of transactions, one row per purchase")
        source.add_argument("--summary", help="a CSV with frequency,recency,T[,monetary_value] per customer")
        parser.add_argument("--customer-column", help="(transactions) the customer id column")
        parser.add_argument("--date-column", help="(transactions) the purchase date column")
        parser.add_argument("--amount-column", help="(transactions) the amount column; without it, no CLV")
        parser.add_argument("--period", choices=clv.PERIODS, default="week", help="time unit (default week)")
        parser.add_argument("--calibration-end", help="(transactions) fit on purchases up to this date")
        parser.add_argument("--observation-end", help="(transactions) end of observation (default: last date)")
        parser.add_argument("--nonpositive-amounts", choices=("error", "drop"), default="error",
                            help="what to do with zero or negative amounts (default: error)")
        parser.add_argument("--id-column", help="(summary) the customer id column")
        parser.add_argument("--model", choices=clv.MODELS, default="bgnbd", help="purchase model (default bgnbd)")
        parser.add_argument("--horizon", type=float, help="periods ahead for expected purchases (default: a year)")
        parser.add_argument("--clv-months", type=int, default=12, help="CLV horizon in months (default 12)")
        parser.add_argument("--discount-rate", type=float, default=0.01, help="monthly discount rate (default 0.01)")
        parser.add_argument("--margin", type=float, default=1.0, help="share of spend that is margin (default 1)")
        parser.add_argument("--output", required=True, help="where to write the per-customer predictions (CSV)")
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            self._run(options, started)
        except clv.ClvInputError as exc:
            raise CommandError(str(exc)) from None
        except clv.FitError as exc:
            raise CommandError(str(exc)) from None

    def _run(self, options: dict[str, Any], started: float) -> None:
        horizon = options["horizon"]
        if horizon is not None and not horizon > 0:
            raise CommandError(f"--horizon must be > 0, not {horizon:g}.")
        if options["clv_months"] < 1:
            raise CommandError(f"--clv-months must be ≥ 1, not {options['clv_months']}.")
        if not options["discount_rate"] > -1:
            raise CommandError(f"--discount-rate must be > -1, not {options['discount_rate']:g}.")
        notes: list[str] = []
        if options["transactions"]:
            summary, period, split = self._from_transactions(options, notes)
        else:
            for name in ("customer_column", "date_column", "amount_column", "calibration_end", "observation_end"):
                if options[name]:
                    raise CommandError(f"--{name.replace('_', '-')} applies to --transactions, not --summary.")
            summary, period, split = self._from_summary(options), options["period"], False
        horizon = float(horizon if horizon is not None else _YEAR[period])
        purchases = clv.fit_purchases(summary, options["model"])
        spend = None
        if "monetary_value" in summary.columns:
            try:
                spend = clv.fit_spend(summary)
                notes.extend(spend.warnings)
            except clv.SummaryError as exc:  # too few repeat buyers for a spend model: predict purchases only
                notes.append(f"No spend model, so no CLV: {exc}")
        scores = clv.score(purchases, spend, summary, horizon=horizon, months=options["clv_months"],
                           discount_rate=options["discount_rate"], periods_per_month=clv.PERIODS_PER_MONTH[period])
        if spend is not None:
            scores["clv"] *= options["margin"]
        table = clv.calibration_table(purchases, summary) if split else None
        out = pd.concat([summary, scores], axis=1).reset_index()
        out = out.rename(columns={out.columns[0]: "id"})
        try:
            out.to_csv(options["output"], index=False, float_format="%.6g")
        except OSError as exc:
            raise CommandError(f"Cannot write {exc.filename or options['output']}: {exc.strerror}") from None
        seconds = time.perf_counter() - started
        if options["json"]:
            self._print_json(purchases, spend, period, horizon, table, notes, options["output"], seconds)
        else:
            self._print_text(purchases, spend, period, horizon, table, notes, options["output"], seconds)

    def _read(self, name: str) -> pd.DataFrame:
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        text, encoding = read_text(path)
        if not text.strip():
            raise CommandError(f"{path} is empty.")
        if encoding != "utf-8-sig":
            label = "Windows-1252" if encoding == "cp1252" else "Latin-1"
            self.stderr.write(f"{path} is not valid UTF-8; read it as {label}.")
        try:
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise CommandError(f"{path} is not a readable CSV file: {exc}") from None

    def _from_transactions(self, options: dict[str, Any], notes: list[str]) -> tuple[pd.DataFrame, str, bool]:
        missing = [f"--{n.replace('_', '-')}" for n in ("customer_column", "date_column") if not options[n]]
        if missing:
            raise CommandError(f"--transactions needs {' and '.join(missing)}.")
        if options["id_column"]:
            raise CommandError("--id-column applies to --summary; use --customer-column with --transactions.")
        frame = self._read(options["transactions"])
        for label, value in (("calibration_end", options["calibration_end"]),
                             ("observation_end", options["observation_end"])):
            if value is not None and pd.isna(pd.to_datetime(value, errors="coerce")):
                raise CommandError(f"--{label.replace('_', '-')} {value!r} is not a date.")
        result = clv.summarize(frame, customer=options["customer_column"], date=options["date_column"],
                               amount=options["amount_column"], period=options["period"],
                               observation_end=options["observation_end"], calibration_end=options["calibration_end"],
                               nonpositive=options["nonpositive_amounts"])
        if result.dropped_after_end:
            notes.append(f"{result.dropped_after_end:,} transaction(s) after the end of observation were left out.")
        if result.dropped_nonpositive:
            notes.append(f"{result.dropped_nonpositive:,} transaction(s) with a zero or negative amount were left out.")
        return result.frame, result.period, result.calibration_end is not None

    def _from_summary(self, options: dict[str, Any]) -> pd.DataFrame:
        frame = self._read(options["summary"])
        id_column = options["id_column"]
        if id_column is not None and id_column not in frame.columns:
            raise CommandError(f"There is no id column {id_column!r}; the columns are: {', '.join(frame.columns)}.")
        if id_column is None:
            others = [c for c in frame.columns if c not in _SUMMARY_COLUMNS]
            id_column = others[0] if others else None
        clv.check_summary(frame, monetary="monetary_value" in frame.columns)
        keep = [c for c in _SUMMARY_COLUMNS if c in frame.columns]
        summary = frame[keep].apply(pd.to_numeric).astype(float)
        summary.index = frame[id_column] if id_column else pd.RangeIndex(1, len(frame) + 1)
        summary.index.name = "id"
        return summary

    def _print_text(self, purchases: clv.PurchaseFit, spend: clv.SpendFit | None, period: str, horizon: float,
                    table: pd.DataFrame | None, notes: list[str], output: str, seconds: float) -> None:
        write = self.stdout.write
        write(f"{purchases.model} fitted to {purchases.n_customers:,} customers "
              f"({purchases.n_patterns:,} distinct histories), time unit: {period}")
        write(f"  {'parameter':<10} {'estimate':>14} {'std. error':>14}")
        for name, value in purchases.params.items():
            write(f"  {name:<10} {value:>14.6g} {purchases.standard_errors[name]:>14.6g}")
        write(f"  log_likelihood {purchases.log_likelihood:.6f}")
        if spend is not None:
            write(f"gamma_gamma fitted to {spend.n_customers:,} repeat buyers; frequency–spend correlation "
                  f"{spend.correlation:.3f}")
            for name, value in spend.params.items():
                write(f"  {name:<10} {value:>14.6g} {spend.standard_errors[name]:>14.6g}")
            write(f"  log_likelihood {spend.log_likelihood:.6f}")
        if table is not None:
            write("Holdout purchases by calibration purchases (actual / predicted):")
            for row in table.itertuples():
                write(f"  {row.label:>3}: {row.customers:>8,} customers  {row.actual:8.3f} / {row.predicted:8.3f}")
        for note in notes:
            self.stderr.write(f"Warning: {note}")
        write(f"Wrote {purchases.n_customers:,} rows (P(alive), expected purchases over {horizon:g} {period}s"
              f"{', CLV' if spend else ''}) to {output} in {seconds:.1f} s.")

    def _print_json(self, purchases: clv.PurchaseFit, spend: clv.SpendFit | None, period: str, horizon: float,
                    table: pd.DataFrame | None, notes: list[str], output: str, seconds: float) -> None:
        body: dict[str, Any] = purchases.as_dict()
        body["standard_errors"] = {k: _finite(v) for k, v in body["standard_errors"].items()}
        body.update(period=period, horizon=horizon, output=output, seconds=round(seconds, 3), warnings=notes)
        if spend is not None:
            body["spend"] = spend.as_dict()
            body["spend"]["standard_errors"] = {k: _finite(v) for k, v in spend.standard_errors.items()}
        else:
            body["spend"] = None
        body["calibration"] = None if table is None else [
            {"frequency": int(r.frequency), "label": r.label, "customers": int(r.customers),
             "actual": float(r.actual), "predicted": float(r.predicted)} for r in table.itertuples()]
        self.stdout.write(json.dumps(body, default=lambda v: float(v) if isinstance(v, np.floating) else str(v)))
