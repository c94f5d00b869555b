"""``rapport resolve FILE.csv --id-column ID --output OUT.csv``: find the duplicate people in a CSV file.

A thin adapter around :func:`rapport.analytics.resolve.resolve`: it reads the file (UTF-8 with or
without BOM; otherwise Windows-1252, then Latin-1, and it says so), maps the columns by header
name with the usual synonyms, runs the resolver with a progress bar on stderr, and writes
``id,cluster_id,confidence`` for every input row (and the scored pairs with ``--pairs``). It
touches no database.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from rapport.analytics.resolve import ColumnMap, resolve

# Role -> header spellings, compared after folding case, "_" and "-" to spaces.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "given_name": ("given name", "first name", "firstname", "forename", "givenname", "first"),
    "surname": ("surname", "last name", "lastname", "family name", "familyname", "last"),
    "email": ("email", "e mail", "email address", "mail"),
    "phone": ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "cell"),
    "street_address": ("street address", "address", "address 1", "address1", "address line 1", "street"),
    "city": ("city", "suburb", "town", "locality"),
    "postcode": ("postcode", "post code", "zip", "zip code", "zipcode", "postal code", "postalcode"),
    "state": ("state", "region", "province", "county"),
    "date_of_birth": ("date of birth", "dob", "birth date", "birthdate", "birthday", "date birth"),
    "organisation": ("organisation", "organization", "company", "company name", "employer", "account",
                     "account name", "business"),
}
_STAGES = {"normalise": "Normalising", "collapse": "Collapsing exact copies", "block": "Blocking",
           "compare": "Comparing pairs", "fit": "Fitting the model", "score": "Scoring", "cluster": "Clustering",
           "output": "Assembling"}


def header_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(name).strip().lower()).strip()


def map_columns(headers: list[str]) -> dict[str, str]:
    """Role -> the first header that names it."""
    keyed = {}
    for header in headers:
        keyed.setdefault(header_key(header), header)
    found = {}
    for role, names in SYNONYMS.items():
        for name in names:
            if name in keyed:
                found[role] = keyed[name]
                break
    return found


def read_text(path: Path) -> tuple[str, str]:
    """The file's text and the encoding it was read with (UTF-8 first, then cp1252, then latin-1)."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


class Command(BaseCommand):
    help = "Find records of the same person in a CSV file and write a cluster id for every row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--id-column", required=True, help="the column holding each row's unique id")
        parser.add_argument("--output", required=True, help="where to write id,cluster_id,confidence")
        parser.add_argument("--pairs", default=None, help="also write the scored pairs (CSV) here")
        parser.add_argument("--exact-column", action="append", default=[], metavar="COL",
                            help="a column two records must agree on to be linked (repeatable)")
        parser.add_argument("--threshold", type=float, default=0.9,
                            help="probability at which two records are linked (default 0.9)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        path = Path(options["file"])
        threshold = options["threshold"]
        if not 0.0 < threshold < 1.0:
            raise CommandError(f"--threshold must be between 0 and 1, not {threshold}.")
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        text, encoding = read_text(path)
        if not text.strip():
            raise CommandError(f"{path} is empty.")
        if encoding != "utf-8-sig":
            label = "Windows-1252" if encoding == "cp1252" else "Latin-1"
            self.stderr.write(f"{path} is not valid UTF-8; read it as {label}.")
        frame = self._frame(text, path)
        id_column = self._find(frame, options["id_column"], "id column")
        exact = [self._find(frame, name, "exact column") for name in options["exact_column"]]
        roles = map_columns([c for c in frame.columns if c != id_column])
        if not roles:
            raise CommandError(
                f"No column of {path} names a person field (given name, surname, email, phone, address, city, "
                f"postcode, state, date of birth, company); its columns are: {', '.join(frame.columns)}.")
        ids = frame[id_column].str.strip()
        empty = ids == ""
        if empty.any():
            line = int(empty.to_numpy().argmax()) + 2
            raise CommandError(f"{int(empty.sum()):,} row(s) have no {id_column}; the first is on line {line}.")
        duplicated = ids[ids.duplicated()]
        if len(duplicated):
            sample = ", ".join(repr(v) for v in duplicated.unique()[:3])
            raise CommandError(f"{id_column} must be unique; {len(duplicated):,} repeat(s), e.g. {sample}.")
        frame[id_column] = ids
        self.stderr.write("Columns: " + ", ".join(f"{role}={column!r}" for role, column in roles.items()))
        result = self._resolve(frame, id_column=id_column, roles=roles, exact=exact, threshold=threshold)
        for warning in result.warnings:
            self.stderr.write(f"Warning: {warning}")
        try:
            result.clusters.to_csv(options["output"], index=False, float_format="%.4f")
            if options["pairs"]:
                result.pairs.to_csv(options["pairs"], index=False, float_format="%.6g")
        except OSError as exc:
            raise CommandError(f"Cannot write {exc.filename}: {exc.strerror}") from None
        sizes = result.clusters["cluster_id"].value_counts()
        multi = sizes[sizes > 1]
        candidates = result.blocking.candidate_pairs if result.blocking else 0
        self.stdout.write(
            f"Resolved {len(frame):,} records into {len(sizes):,} clusters ({int(multi.sum()):,} records in "
            f"{len(multi):,} clusters of two or more) from {candidates:,} candidate pairs in "
            f"{time.perf_counter() - started:.1f} s; {len(result.warnings)} warning(s)."
        )

    def _frame(self, text: str, path: Path) -> pd.DataFrame:
        sample = text[:65536]
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
        try:
            frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                                skip_blank_lines=True, engine="c")
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise CommandError(f"{path} is not a readable CSV file: {exc}") from None
        if frame.columns.duplicated().any():
            frame.columns = [f"{c}.{i}" if dup else c for i, (c, dup) in
                             enumerate(zip(frame.columns, frame.columns.duplicated(), strict=True))]
        return frame

    def _find(self, frame: pd.DataFrame, name: str, what: str) -> str:
        for column in frame.columns:
            if header_key(column) == header_key(name):
                return column
        raise CommandError(f"There is no {what} {name!r}; the columns are: {', '.join(map(str, frame.columns))}.")

    def _resolve(self, frame: pd.DataFrame, *, id_column: str, roles: dict[str, str], exact: list[str],
                 threshold: float) -> Any:
        columns = ColumnMap(**{field: roles.get(field) for field in SYNONYMS})
        console = Console(file=getattr(self.stderr, "_out", sys.stderr))
        bar_columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                       TimeElapsedColumn()]
        with Progress(*bar_columns, console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("Normalising", total=1.0)
            stages = list(_STAGES)

            def progress(stage: str, fraction: float) -> None:
                following = stages[min(stages.index(stage) + 1, len(stages) - 1)] if stage in stages else stage
                bar.update(task, completed=fraction, description=_STAGES.get(following, following))

            try:
                return resolve(frame, id_column=id_column, columns=columns, exact_columns=exact,
                               threshold=threshold, progress=progress)
            except (KeyError, ValueError) as exc:
                raise CommandError(str(exc)) from None
