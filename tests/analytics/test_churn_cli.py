"""``rapport analytics churn`` end to end on small CSV files: out-of-fold and --score outputs, text and
JSON, and bad input ending in a one-line CommandError (exit 1 from the shell). No database."""

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

from rapport.analytics.churn import simulate

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rapport_analytics_churn", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("churn")
    train = simulate.customers(2_500, seed=21)
    labelled = train.frame.assign(status=pd.Series(train.churned).map({1: "left", 0: "stayed"}))
    labelled.to_csv(folder / "train.csv", index=False)
    simulate.customers(400, seed=22).frame.to_csv(folder / "score.csv", index=False)
    return folder / "train.csv", folder / "score.csv"


def test_scores_another_file_with_drivers_and_prints_one_json_object(files: tuple[Path, Path], tmp_path: Path):
    train, score = files
    output = tmp_path / "scores.csv"
    model = tmp_path / "model.pkl"
    out, _ = run("--input", str(train), "--target", "status", "--positive", "left", "--id-column", "customer_id",
                 "--score", str(score), "--folds", "3", "--save-model", str(model), "--output", str(output), "--json")
    body = json.loads(out)
    assert body["positive"] == "left" and body["rows"] == 2_500 and body["scored_rows"] == 400
    assert body["auc"] > body["baseline_auc"] - 0.05 and 0.7 < body["auc"] < 0.95
    assert len(body["lift"]) == 10 and body["top_decile_lift"] == body["lift"][0]["lift"]
    assert {"name": "plan", "kind": "categorical"} in body["features"]
    assert {"name": "signup_date", "kind": "date"} in body["features"]
    scores = pd.read_csv(output, keep_default_na=False)
    assert list(scores.columns) == ["id", "churn_probability", "driver_1", "driver_2", "driver_3"]
    assert list(scores["id"]) == list(range(1, 401))
    assert scores["churn_probability"].between(0, 1).all()
    assert scores["driver_1"].str.match(r"^[+-][a-z_]+$").all()
    assert model.stat().st_size > 0


def test_without_score_writes_out_of_fold_scores_for_the_input_and_prints_text(files: tuple[Path, Path],
                                                                                 tmp_path: Path):
    train, _ = files
    output = tmp_path / "oof.csv"
    out, _ = run("--input", str(train), "--target", "status", "--positive", "left", "--folds", "3",
                 "--time-column", "signup_date", "--no-drivers", "--output", str(output))
    assert "Cross-validated (3 folds) AUC: trees" in out and "Time split (trained before" in out
    assert "Top decile lift" in out and "dropped customer_id: an identifier" in out
    scores = pd.read_csv(output)
    assert list(scores.columns) == ["id", "churn_probability"] and len(scores) == 2_500


def bad(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_bad_input_ends_with_a_clear_error(files: tuple[Path, Path], tmp_path: Path):
    train, _ = files
    output = str(tmp_path / "o.csv")
    with pytest.raises(CommandError, match="no target column 'churn'"):
        run("--input", str(train), "--target", "churn", "--output", output)
    with pytest.raises(CommandError, match="no 'yes' in the target 'status'; its values are: stayed, left"):
        run("--input", str(train), "--target", "status", "--positive", "yes", "--output", output)
    with pytest.raises(CommandError, match="No such file"):
        run("--input", str(tmp_path / "nope.csv"), "--target", "x", "--output", output)
    with pytest.raises(CommandError, match="is empty"):
        run("--input", bad(tmp_path, "e.csv", ""), "--target", "x", "--output", output)
    one_class = "a,t\n" + "".join(f"{i},0\n" for i in range(30))
    with pytest.raises(CommandError, match="one class only"):
        run("--input", bad(tmp_path, "one.csv", one_class), "--target", "t", "--output", output)
    garbage = "a,t\n" + "".join(f"{'x' if i == 3 else i},{i % 2}\n" for i in range(40))
    with pytest.raises(CommandError, match=r"'a' holds numbers but 1 value\(s\) are not: row 5 \('x'\)"):
        run("--input", bad(tmp_path, "g.csv", garbage), "--target", "t", "--output", output)
    with pytest.raises(CommandError, match="--folds must be at least 2"):
        run("--input", str(train), "--target", "status", "--folds", "1", "--output", output)
    with pytest.raises(CommandError, match="lacks column"):
        run("--input", str(train), "--target", "status", "--folds", "2", "--output", output,
            "--score", bad(tmp_path, "s.csv", "recency_days\n3\n"))


def test_rapport_analytics_churn_from_the_shell_exits_1_without_a_traceback(tmp_path: Path):
    source = bad(tmp_path, "t.csv", "a,t\n" + "".join(f"{i},1\n" for i in range(30)))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-m", "rapport.cli", "analytics", "churn", "--input", source,  # noqa: S603
                           "--target", "t", "--output", str(tmp_path / "o.csv")],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 1
    assert "one class only" in done.stderr and "Traceback" not in done.stderr
