"""``rapport analytics clv`` end to end on small files: transactions and summary forms, text and JSON,
and every kind of bad input ending in a one-line CommandError. No database."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from ._clv_data import DATASETS, cdnow_transactions

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rapport_analytics_clv", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def transactions_file(tmp_path: Path) -> Path:
    tx = cdnow_transactions()
    tx = tx[tx["amount"] > 0].sample(frac=1.0, random_state=1)  # unsorted on purpose
    path = tmp_path / "tx.csv"
    tx.assign(date=tx["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    return path


def test_transactions_to_predictions_with_a_holdout_as_json(transactions_file: Path, tmp_path: Path):
    output = tmp_path / "out.csv"
    out, _ = run("--transactions", str(transactions_file), "--customer-column", "customer", "--date-column", "date",
                 "--amount-column", "amount", "--period", "week", "--calibration-end", "1997-09-30",
                 "--model", "pnbd", "--horizon", "39", "--output", str(output), "--json")
    body = json.loads(out)  # one JSON object, nothing else on stdout
    assert body["model"] == "pnbd"
    assert list(body["params"]) == ["r", "alpha", "s", "beta"]
    assert list(body["standard_errors"]) == ["r", "alpha", "s", "beta"]
    assert body["log_likelihood"] < 0
    assert list(body["spend"]["params"]) == ["p", "q", "gamma"]
    assert "frequency_spend_correlation" in body["spend"]
    assert [row["label"] for row in body["calibration"]][-1] == "7+"
    scores = pd.read_csv(output)
    assert len(scores) == body["n_customers"] == 2349
    assert list(scores.columns[:5]) == ["id", "frequency", "recency", "T", "monetary_value"]
    assert {"p_alive", "expected_purchases", "expected_spend", "clv", "frequency_holdout"} <= set(scores.columns)
    assert scores["p_alive"].between(0, 1).all() and (scores["clv"] >= 0).all()


def test_summary_file_prints_customary_names_standard_errors_and_log_likelihood(tmp_path: Path):
    output = tmp_path / "out.csv"
    out, _ = run("--summary", str(DATASETS / "cdnow_customers_summary.csv"), "--output", str(output))
    assert "bgnbd fitted to 2,357 customers" in out
    for name in ("r", "alpha", "a", "b"):
        assert any(line.split()[:1] == [name] for line in out.splitlines())
    assert "log_likelihood -9582.42556" in out
    scores = pd.read_csv(output)
    assert scores["id"].tolist()[:3] == [1, 2, 3]  # the file's ID column
    assert "clv" not in scores.columns  # no monetary_value, no CLV


def test_mbgnbd_from_a_summary_with_spend_gives_clv(tmp_path: Path):
    summary = pd.read_csv(DATASETS / "cdnow_customers_summary_with_transactions.csv").rename(
        columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    source = tmp_path / "summary.csv"
    summary.to_csv(source, index=False)
    output = tmp_path / "out.csv"
    out, _ = run("--summary", str(source), "--model", "mbgnbd", "--id-column", "ID", "--output", str(output),
                 "--json")
    body = json.loads(out)
    assert body["model"] == "mbgnbd" and body["spend"]["params"]["q"] == pytest.approx(3.74, abs=0.01)
    assert pd.read_csv(output)["clv"].gt(0).all()


def bad(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("content", "extra", "message"), [
    ("c,d,a\n1,2020-01-01,5\n1,2020-02-01,-3\n2,2020-01-05,4\n", [], r"zero or negative a .*rows 2\b"),
    ("c,d,a\n1,2020-01-01,5\n1,2099-02-01,3\n", [], r"dated in the future"),
    ("c,d,a\n1,2020-01-01,5\n2,2020-02-01,3\n", [], r"None of the 2 customers made a repeat purchase"),
    ("c,d,a\n1,yesterday-ish,5\n", [], r"no readable d: rows 1\b"),
    ("c,d,a\n1,2020-01-01,5\n", ["--calibration-end", "soon"], r"--calibration-end 'soon' is not a date"),
])
def test_bad_transactions_end_with_a_clear_error(tmp_path: Path, content: str, extra: list[str], message: str):
    path = bad(tmp_path, "tx.csv", content)
    output = tmp_path / "out.csv"
    with pytest.raises(CommandError, match=message):
        run("--transactions", str(path), "--customer-column", "c", "--date-column", "d", "--amount-column", "a",
            "--output", str(output), *extra)
    assert not output.exists()


def test_bad_summaries_and_options_end_with_a_clear_error(tmp_path: Path):
    output = str(tmp_path / "out.csv")
    recency = bad(tmp_path, "s.csv", "id,frequency,recency,T\nx,2,40,38\ny,1,3,10\n")
    with pytest.raises(CommandError, match=r"recency must not exceed T.*rows 1\b"):
        run("--summary", str(recency), "--output", output)
    with pytest.raises(CommandError, match="No such file"):
        run("--summary", str(tmp_path / "missing.csv"), "--output", output)
    with pytest.raises(CommandError, match="is empty"):
        run("--summary", str(bad(tmp_path, "e.csv", "")), "--output", output)
    with pytest.raises(CommandError, match="no column T"):
        run("--summary", str(bad(tmp_path, "n.csv", "frequency,recency\n1,2\n")), "--output", output)
    with pytest.raises(CommandError, match="--transactions needs --customer-column and --date-column"):
        run("--transactions", str(recency), "--output", output)
    with pytest.raises(CommandError, match="--horizon must be > 0"):
        run("--summary", str(recency), "--horizon", "0", "--output", output)
    with pytest.raises(CommandError, match="--date-column applies to --transactions"):
        run("--summary", str(recency), "--date-column", "d", "--output", output)


def test_rapport_analytics_clv_from_the_shell_exits_1_without_a_traceback(tmp_path: Path):
    # given the real entry point and a summary file with recency > T
    source = bad(tmp_path, "s.csv", "id,frequency,recency,T\nx,2,40,38\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-m", "rapport.cli", "analytics", "clv", "--summary", str(source),  # noqa: S603
                           "--output", str(tmp_path / "o.csv")], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 1
    assert "recency must not exceed T" in done.stderr
    assert "Traceback" not in done.stderr
