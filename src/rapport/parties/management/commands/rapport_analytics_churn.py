"""``rapport analytics churn``: train a churn model on a customer file and score customers.

    rapport analytics churn --input FILE.csv --target COLUMN [--id-column ID] [--positive VALUE]
        [--score OTHER.csv] [--time-column C] [--calibration isotonic|sigmoid] [--folds K]
        [--max-categories N] [--no-drivers] [--save-model M.pkl] --output SCORES.csv [--json]

A thin adapter around :mod:`rapport.analytics.churn`. It reads the files (UTF-8, else Windows-1252,
else Latin-1) as text, infers every column's type (numbers, yes/no, categories, dates as days before
the latest training date; identifiers, constants and empty columns are dropped and said so), trains
gradient-boosted trees and a linear baseline, and prints the cross-validated AUC of both, the Brier
score and the lift by decile (``--json``: one JSON object on stdout, nothing else there). With
``--time-column`` it also reports the AUC of training on the earliest 80% of rows and validating on
the rest. It writes ``id,churn_probability,driver_1,driver_2,driver_3`` for every row of ``--score``,
or, without it, the out-of-fold probability of every training row (drivers from the final model).
The id is ``--id-column``, else the row number. Bad input ends with a one-line error and exit
status 1, never a traceback. It touches no database; it lives in ``parties`` beside ``rapport
analytics clv`` because there is no ``insights`` app yet.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rapport.analytics import churn
from rapport.parties.management.commands.rapport_resolve import read_text


class Command(BaseCommand):
    help = "Train a churn model on a CSV file (gradient-boosted trees vs a linear baseline) and score customers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", required=True, help="the training CSV, one row per customer")
        parser.add_argument("--target", required=True, help="the column saying whether the customer churned")
        parser.add_argument("--id-column", help="the customer id column (default: the row number)")
        parser.add_argument("--positive", help="the target value that means churn (default: 1/true/yes, "
                                               "else the rarer value)")
        parser.add_argument("--score", help="a CSV of customers to score (default: out-of-fold scores of --input)")
        parser.add_argument("--time-column", help="a date column: also validate on the latest 20%% of rows")
        parser.add_argument("--calibration", choices=churn.CALIBRATIONS, default="isotonic",
                            help="probability calibration (default isotonic)")
        parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
        parser.add_argument("--max-categories", type=int, default=50,
                            help="distinct values kept per category column (default 50)")
        parser.add_argument("--no-drivers", action="store_true", help="write probabilities only")
        parser.add_argument("--save-model", help="also write the trained model here (a pickle: trusted use only)")
        parser.add_argument("--output", required=True, help="where to write the scores (CSV)")
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            self._run(options, started)
        except churn.ChurnInputError as exc:
            raise CommandError(str(exc)) from None

    def _run(self, options: dict[str, Any], started: float) -> None:
        if options["folds"] < 2:
            raise CommandError(f"--folds must be at least 2, not {options['folds']}.")
        if options["max_categories"] < 2:
            raise CommandError(f"--max-categories must be at least 2, not {options['max_categories']}.")
        frame = self._read(options["input"])
        id_column = options["id_column"]
        if options["time_column"] and options["time_column"] == options["target"]:
            raise CommandError("--time-column and --target must be different columns.")
        fitted = churn.train(frame, target=options["target"], positive=options["positive"], id_column=id_column,
                             time_column=options["time_column"], folds=options["folds"],
                             calibration=options["calibration"], max_categories=options["max_categories"])
        drivers = 0 if options["no_drivers"] else 3
        if options["score"]:
            scoring = self._read(options["score"])
            if id_column and id_column not in scoring.columns:
                raise CommandError(f"{options['score']} has no id column {id_column!r}.")
            scores = fitted.score(scoring, drivers=drivers)
        else:
            scoring = frame
            scores = fitted.score(frame, drivers=drivers)
            scores["churn_probability"] = fitted.oof
        ids = scoring[id_column].to_numpy() if id_column else range(1, len(scoring) + 1)
        scores.insert(0, "id", ids)
        try:
            scores.to_csv(options["output"], index=False, float_format="%.6g")
        except OSError as exc:
            raise CommandError(f"Cannot write {exc.filename or options['output']}: {exc.strerror}") from None
        if options["save_model"]:
            try:
                fitted.save(options["save_model"])
            except OSError as exc:
                raise CommandError(f"Cannot write {exc.filename or options['save_model']}: {exc.strerror}") from None
        seconds = time.perf_counter() - started
        if options["json"]:
            self._print_json(fitted, len(scores), options["output"], seconds)
        else:
            self._print_text(fitted, len(scores), options["output"], seconds, bool(options["score"]))

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

    def _print_text(self, fitted: churn.ChurnModel, rows: int, output: str, seconds: float, scored: bool) -> None:
        write, m = self.stdout.write, fitted.metrics
        kinds = ", ".join(f"{c.name} ({c.kind})" for c in fitted.encoder.columns)
        write(f"Trained on {m.rows:,} customers, {m.positives:,} churned ({fitted.target} = {fitted.positive!r}).")
        write(f"Features: {kinds}")
        for d in fitted.encoder.dropped:
            write(f"  dropped {d.name}: {d.reason}")
        write(f"Cross-validated ({m.folds} folds) AUC: trees {m.auc:.4f}, linear baseline {m.baseline_auc:.4f}")
        write(f"Brier score: trees {m.brier:.4f}, linear baseline {m.baseline_brier:.4f}")
        if m.time_auc is not None:
            write(f"Time split ({m.time_split}) AUC: trees {m.time_auc:.4f}, linear baseline {m.time_baseline_auc:.4f}")
        write(f"Top decile lift: {m.top_decile_lift:.2f}")
        write(f"  {'decile':>6} {'customers':>10} {'predicted':>10} {'observed':>10} {'lift':>6}")
        for r in m.lift.itertuples():
            write(f"  {r.decile:>6} {r.customers:>10,} {r.mean_predicted:>10.4f} {r.observed_rate:>10.4f} "
                  f"{r.lift:>6.2f}")
        what = "scored customers" if scored else "out-of-fold scores"
        write(f"Wrote {rows:,} {what} to {output} in {seconds:.1f} s.")

    def _print_json(self, fitted: churn.ChurnModel, rows: int, output: str, seconds: float) -> None:
        body: dict[str, Any] = fitted.metrics.as_dict()
        body.update(target=fitted.target, positive=fitted.positive,
                    features=[{"name": c.name, "kind": c.kind} for c in fitted.encoder.columns],
                    dropped=[{"name": d.name, "reason": d.reason} for d in fitted.encoder.dropped],
                    scored_rows=rows, output=output, seconds=round(seconds, 3))
        self.stdout.write(json.dumps(body))
