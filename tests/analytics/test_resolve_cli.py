"""``rapport resolve``: column mapping, encodings and every kind of bad input. No database."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from rapport.analytics.resolve.simulate import people


def run(path: Path, tmp_path: Path, *args: str, **options: object) -> tuple[pd.DataFrame, str, str]:
    out, err = io.StringIO(), io.StringIO()
    output = tmp_path / "out.csv"
    call_command("rapport_resolve", str(path), *args, id_column=options.pop("id_column", "ID"),
                 output=str(output), stdout=out, stderr=err, **options)
    return pd.read_csv(output, dtype=str, keep_default_na=False), out.getvalue(), err.getvalue()


def write(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_resolve_maps_synonym_headers_and_writes_clusters_and_pairs(tmp_path: Path):
    # given a simulated file whose headers use other spellings
    frame = people(1_500, seed=4)
    renamed = frame.drop(columns=["entity_id", "corruptions"]).rename(columns={
        "id": "ID", "given_name": "First Name", "surname": "last_name", "email": "E-mail", "phone": "Mobile",
        "street_address": "Address_1", "city": "Suburb", "postcode": "ZIP", "state": "Region",
        "date_of_birth": "DOB", "organisation": "Company"})
    source = tmp_path / "people.csv"
    renamed.to_csv(source, index=False)
    pairs = tmp_path / "pairs.csv"
    # when resolved
    clusters, out, err = run(source, tmp_path, pairs=str(pairs))
    # then every row has a cluster, the duplicates are found, and the pairs file has probabilities
    assert list(clusters.columns) == ["id", "cluster_id", "confidence"]
    assert list(clusters["id"]) == list(frame["id"])
    truth = frame.set_index("id")["entity_id"]
    same_entity = clusters.groupby("cluster_id")["id"].agg(lambda ids: truth[ids].nunique() == 1)
    assert same_entity.mean() > 0.99
    assert clusters["cluster_id"].nunique() < len(clusters)
    assert "given_name='First Name'" in err and "date_of_birth='DOB'" in err and "phone='Mobile'" in err
    assert "organisation='Company'" in err
    assert out.startswith("Resolved 1,500 records into ")
    scored = pd.read_csv(pairs)
    assert {"id_l", "id_r", "probability", "match_weight"} <= set(scored.columns)
    assert scored["probability"].between(0, 1).all()


def test_resolve_refuses_an_empty_file(tmp_path: Path):
    source = tmp_path / "empty.csv"
    source.write_bytes(b"")
    with pytest.raises(CommandError, match="is empty"):
        run(source, tmp_path)
    source.write_text("\n  \n")
    with pytest.raises(CommandError, match="is empty"):
        run(source, tmp_path)


def test_resolve_refuses_a_missing_id_column(tmp_path: Path):
    source = write(tmp_path / "p.csv", [{"key": "1", "surname": "Lee"}])
    with pytest.raises(CommandError, match=r"There is no id column 'ID'; the columns are: key, surname"):
        run(source, tmp_path)


def test_resolve_refuses_a_file_without_person_columns(tmp_path: Path):
    source = write(tmp_path / "p.csv", [{"ID": "1", "colour": "red", "size": "L"}])
    with pytest.raises(CommandError, match="No column of .* names a person field"):
        run(source, tmp_path)


def test_resolve_refuses_empty_and_repeated_ids_and_a_bad_threshold(tmp_path: Path):
    blank = write(tmp_path / "a.csv", [{"ID": "1", "surname": "Lee"}, {"ID": " ", "surname": "Kim"}])
    with pytest.raises(CommandError, match="1 row\\(s\\) have no ID; the first is on line 3"):
        run(blank, tmp_path)
    repeated = write(tmp_path / "b.csv", [{"ID": "1", "surname": "Lee"}, {"ID": "1", "surname": "Kim"}])
    with pytest.raises(CommandError, match="ID must be unique"):
        run(repeated, tmp_path)
    with pytest.raises(CommandError, match="--threshold must be between 0 and 1"):
        run(repeated, tmp_path, threshold=1.0)
    with pytest.raises(CommandError, match="No such file"):
        run(tmp_path / "nope.csv", tmp_path)
    with pytest.raises(CommandError, match="There is no exact column 'tenant'"):
        run(blank, tmp_path, exact_column=["tenant"])


def test_resolve_gives_all_empty_rows_each_their_own_cluster(tmp_path: Path):
    source = write(tmp_path / "p.csv", [{"ID": str(i), "surname": "", "email": ""} for i in range(5)])
    clusters, out, _ = run(source, tmp_path)
    assert clusters["cluster_id"].tolist() == ["0", "1", "2", "3", "4"]
    assert "into 5 clusters" in out


def test_resolve_reads_a_file_that_is_not_utf8_and_says_so(tmp_path: Path):
    # given a Windows-1252 file (é and ë are single bytes, invalid as UTF-8)
    rows = [{"ID": "1", "given_name": "Zoë", "surname": "Pérez", "email": "zoe@example.org", "dob": "1980-03-07"},
            {"ID": "2", "given_name": "Zoe", "surname": "Perez", "email": "zoe@example.org", "dob": "1980-03-07"}]
    source = write(tmp_path / "p.csv", rows, encoding="cp1252")
    clusters, _, err = run(source, tmp_path)
    assert "is not valid UTF-8; read it as Windows-1252" in err
    # then the accented and plain spellings are one person
    assert clusters["cluster_id"].tolist() == ["1", "1"]


def test_resolve_reads_utf8_with_a_byte_order_mark_silently(tmp_path: Path):
    source = tmp_path / "p.csv"
    source.write_bytes("\ufeffID;surname;email\n1;Lee;a@example.org\n".encode())
    clusters, _, err = run(source, tmp_path)
    assert clusters.to_dict("records") == [{"id": "1", "cluster_id": "1", "confidence": "1.0000"}]
    assert "UTF-8" not in err


def test_resolve_handles_a_single_record_and_a_header_only_file(tmp_path: Path):
    single = write(tmp_path / "one.csv", [{"ID": "x", "surname": "Lee", "email": "lee@example.org"}])
    clusters, out, _ = run(single, tmp_path)
    assert clusters["cluster_id"].tolist() == ["x"]
    assert out.startswith("Resolved 1 records into 1 clusters")
    header = tmp_path / "header.csv"
    header.write_text("ID,surname\n")
    clusters, out, _ = run(header, tmp_path)
    assert len(clusters) == 0
    assert out.startswith("Resolved 0 records into 0 clusters")


def test_resolve_puts_identical_records_in_one_cluster(tmp_path: Path):
    row = {"given_name": "Ann", "surname": "Lee", "email": "ann@example.org", "phone": "0412 345 678",
           "date_of_birth": "1990-01-02"}
    source = write(tmp_path / "p.csv", [{"ID": str(i), **row} for i in range(3_000)])
    clusters, _, _ = run(source, tmp_path)
    assert clusters["cluster_id"].unique().tolist() == ["0"]


def test_resolve_caps_a_huge_block_of_one_phone_number_with_a_warning(tmp_path: Path):
    # given 5,000 different people who all give the same switchboard number
    rows = [{"ID": str(i), "given_name": f"Given{i}", "surname": f"Family{i}", "phone": "+61 2 9999 0000",
             "email": f"person{i}@example.org"} for i in range(5_000)]
    source = write(tmp_path / "p.csv", rows)
    clusters, _, err = run(source, tmp_path)
    # then the phone block is skipped with a warning and nobody is merged
    assert "Warning: blocking key 'phone': 1 block(s) holding 5,000 records skipped" in err
    assert clusters["cluster_id"].nunique() == 5_000
