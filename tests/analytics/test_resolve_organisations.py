"""The organisation resolver: normalisers, comparison twins, EM, accuracy on simulated companies, edge cases."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from rapport.analytics.resolve import evaluate
from rapport.analytics.resolve import fellegi_sunter as fs
from rapport.analytics.resolve import org_normalize as onz
from rapport.analytics.resolve.matcher import default_matcher
from rapport.analytics.resolve.org_compare import ORG_FIELD_NAMES, ORG_FIELDS, compare_org_records, org_compare_sql
from rapport.analytics.resolve.organisations import (
    OrgColumnMap,
    OrgMatcher,
    normalise_org,
    prepare_orgs,
    resolve_organisations,
)
from rapport.analytics.resolve.simulate_organisations import ORG_KINDS, companies, duplicated_share


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    return companies(6_000, seed=5)


@pytest.fixture(scope="module")
def resolved(simulated: pd.DataFrame):
    return resolve_organisations(simulated.drop(columns=["entity_id", "corruptions"]), threads=1)


# --- normalisers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("The Acme Trading Co. Ltd", "acme trading"),
    ("ACME TRADING COMPANY LIMITED", "acme trading company"),
    ("Smith & Jones GmbH", "smith jones"),
    ("Smith and Jones", "smith jones"),
    ("Société Générale S.A.", "societe generale"),
    ("Müller Mfg. AG", "muller manufacturing"),
    ("Delacroix Intl S.A.R.L.", "delacroix international"),
    ("Pemberton Holdings B.V.", "pemberton holdings"),
    ("Fairbanks Tech Inc.", "fairbanks technology"),
    ("Northcott plc", "northcott"),
    ("Co", "co"),  # a name that is only a legal form keeps it
    ("", ""),
    (None, ""),
    (12.0, "12"),
])
def test_company_names_lose_legal_forms_case_accents_and_punctuation(raw, expected):
    assert onz.company_name(raw) == expected


def test_company_name_is_idempotent_on_every_simulated_name(simulated: pd.DataFrame):
    for name in simulated["name"].unique()[:2000]:
        once = onz.company_name(name)
        assert onz.company_name(once) == once, name


@pytest.mark.parametrize(("raw", "expected"), [
    ("https://www.Acme.co.uk/about", "acme.co.uk"),
    ("shop.acme.co.uk", "acme.co.uk"),
    ("jo@acme.co.uk", "acme.co.uk"),
    ("http://acme.com:8080/x?y", "acme.com"),
    ("www.acme.com.au", "acme.com.au"),
    ("jo@gmail.com", ""),
    ("not a website", ""),
    ("", ""),
])
def test_domains_are_registrable_without_www_or_free_mail(raw, expected):
    assert onz.domain(raw) == expected


def test_identifiers_and_acronyms():
    assert onz.identifier("GB 123 4567 89") == "GB123456789"
    assert onz.identifier("12") == ""
    assert onz.acronym("International Business Machines Corp") == "ibm"
    assert onz.acronym("Acme") == ""


def test_the_domain_comes_from_domain_then_website_then_email():
    frame = pd.DataFrame({"name": ["A", "B", "C"], "domain": ["a.com", "", ""],
                          "website": ["www.x.com", "www.b.com", ""], "email": ["", "", "jo@c.de"]})
    table = prepare_orgs(frame, OrgColumnMap()).to_pandas()
    assert list(table["domain"]) == ["a.com", "b.com", "c.de"]
    assert [normalise_org(r)["domain"] for r in frame.to_dict("records")] == ["a.com", "b.com", "c.de"]


# --- comparison: SQL and Python twins ------------------------------------------------------------


def test_the_python_comparison_equals_the_sql_on_simulated_pairs(simulated: pd.DataFrame):
    frame = simulated.drop(columns=["entity_id", "corruptions"])
    table = prepare_orgs(frame)
    rng = np.random.default_rng(0)
    # pairs within entities (agreements) and random pairs (disagreements)
    same = simulated.reset_index().groupby("entity_id")["index"].agg(list)
    pairs = [(min(g[0], g[1]), max(g[0], g[1])) for g in same if len(g) >= 2]
    pairs += [(int(a), int(b)) for a, b in rng.integers(0, len(frame), size=(3000, 2)) if a < b]
    con = duckdb.connect()
    con.register("recs", table)
    con.register("p", pd.DataFrame(pairs, columns=["l", "r"]))
    sql = con.execute(f"SELECT l, r, {', '.join(ORG_FIELD_NAMES)} FROM ({org_compare_sql(pairs='p')})").fetchdf()
    rows = table.to_pandas().replace({np.nan: None}).to_dict("records")
    mismatches = 0
    for record in sql.itertuples(index=False):
        python = compare_org_records(rows[record.l], rows[record.r])
        mismatches += python != tuple(int(getattr(record, f)) for f in ORG_FIELD_NAMES)
    assert mismatches == 0
    assert len(sql) == len(pairs) > 2000
    # and the test sees each field disagree and agree fully, and missing (every company has a name and city)
    for spec in ORG_FIELDS:
        expected = {0, len(spec.levels) - 1} | (set() if spec.name in ("name", "location") else {-1})
        assert set(sql[spec.name].unique()) >= expected, spec.name


# --- EM ---------------------------------------------------------------------------------------------


def test_em_recovers_the_m_u_and_lambda_it_was_simulated_with():
    # given comparison vectors drawn from known parameters: 2,000 matches among 2,000,000 pairs
    rng = np.random.default_rng(7)
    true_m = [np.array([0.02, 0.03, 0.1, 0.25, 0.6]), np.array([0.1, 0.9]), np.array([0.05, 0.15, 0.8]),
              np.array([0.1, 0.05, 0.15, 0.1, 0.6]), np.array([0.05, 0.95])]
    true_u = [np.array([0.97, 0.02, 0.008, 0.0015, 0.0005]), np.array([0.9995, 0.0005]),
              np.array([0.9990, 0.0008, 0.0002]), np.array([0.90, 0.08, 0.015, 0.004, 0.001]),
              np.array([0.9999, 0.0001])]
    matches, non_matches = 2_000, 2_000_000

    def draw(params, count):
        return np.column_stack([rng.choice(len(p), size=count, p=p) for p in params]).astype(np.int8)

    levels = np.concatenate([draw(true_m, matches), draw(true_u, non_matches)])
    missing = rng.random(levels.shape) < 0.1  # and a tenth of all values missing at random
    levels[missing] = -1
    # when u is measured on random pairs (as the resolver does) and m and λ fitted by EM
    sample = levels[rng.integers(0, len(levels), size=300_000)]
    u = [np.bincount(sample[:, f][sample[:, f] >= 0], minlength=len(p)) + 0.5 for f, p in enumerate(true_u)]
    u = [x / x.sum() for x in u]
    patterns, counts = fs.patterns(levels)
    model = fs.fit(patterns, counts, u=u, total_pairs=len(levels), fields=ORG_FIELD_NAMES)
    # then the fitted parameters are the ones the data came from
    assert model.converged
    assert model.lam == pytest.approx(matches / len(levels), rel=0.1)
    for fitted, truth in zip(model.m, true_m, strict=True):
        assert np.abs(fitted - truth).max() < 0.03
    for measured, truth in zip(model.u, true_u, strict=True):
        assert np.abs(measured - truth).max() < 0.005
    assert all(b >= a - 1e-6 for a, b in zip(model.history, model.history[1:], strict=False))


# --- accuracy ---------------------------------------------------------------------------------------


def test_the_simulator_is_seeded_labelled_and_damaged(simulated: pd.DataFrame):
    assert len(simulated) == 6_000 and simulated["id"].is_unique
    assert companies(6_000, seed=5).equals(simulated)
    assert 0.2 <= duplicated_share(simulated) <= 0.4
    applied = {k for text in simulated["corruptions"] for k in text.split(";") if k}
    assert applied == {*ORG_KINDS, "branch"}


def test_the_matcher_is_accurate_on_simulated_companies_without_labels(simulated: pd.DataFrame, resolved):
    accuracy = evaluate(resolved.clusters, simulated)
    assert accuracy.precision >= 0.99
    assert accuracy.f1 >= 0.97
    assert resolved.model is not None and resolved.model.converged
    assert resolved.warnings == ()
    # branches (same name and website, another office) are not merged into their company
    branch_ids = set(simulated.loc[simulated["corruptions"] == "branch", "id"])
    assert branch_ids
    clusters = resolved.clusters.set_index("id")["cluster_id"]
    sizes = clusters.value_counts()
    entity = simulated.set_index("id")["entity_id"]
    wrongly = [i for i in branch_ids if sizes[clusters[i]] > 1 and
               entity[clusters.index[clusters == clusters[i]]].nunique() > 1]
    assert len(wrongly) <= 0.05 * len(branch_ids)


def test_pairs_carry_levels_and_are_strongest_first(resolved):
    pairs = resolved.pairs
    assert {"id_l", "id_r", "probability", "match_weight", *ORG_FIELD_NAMES} <= set(pairs.columns)
    assert pairs["probability"].is_monotonic_decreasing
    assert (pairs["probability"] >= 0.05).all()


def test_labels_fix_their_pairs(simulated: pd.DataFrame, resolved):
    # (exact copies are collapsed before any pair is scored, so the strongest scored pair is taken)
    top = resolved.pairs[np.isfinite(resolved.pairs["match_weight"])].iloc[0]
    labels = pd.DataFrame({"id_l": [top["id_l"]], "id_r": [top["id_r"]], "match": [False]})
    again = resolve_organisations(simulated.drop(columns=["entity_id", "corruptions"]), labels=labels, threads=1)
    clusters = again.clusters.set_index("id")["cluster_id"]
    assert clusters[top["id_l"]] != clusters[top["id_r"]]
    assert again.model is not None and again.model.labelled_pairs == 1


# --- bad and odd input --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_inputs_resolve_to_themselves(n: int):
    frame = pd.DataFrame({"id": [str(i) for i in range(n)], "name": ["Acme Ltd"] * n})
    result = resolve_organisations(frame)
    assert list(result.clusters["cluster_id"]) == [str(i) for i in range(n)]
    assert len(result.pairs) == 0 and result.model is None


def test_a_frame_without_any_known_column_gives_singletons():
    result = resolve_organisations(pd.DataFrame({"id": ["a", "b", "c"], "other": [1, 2, 3]}))
    assert list(result.clusters["cluster_id"]) == ["a", "b", "c"]


def test_a_million_identical_records_are_one_company_without_pairs_exploding():
    frame = pd.DataFrame({"id": np.arange(1_000_000).astype(str), "name": "Acme Ltd", "phone": "+44 20 7946 0018"})
    result = resolve_organisations(frame, threads=1)
    assert result.collapsed == 999_999
    assert result.cluster_count == 1
    assert (result.pairs["probability"] == 1.0).all()


def test_a_block_over_the_cap_is_skipped_with_a_warning():
    # 300 different companies sharing one switchboard number, and one real duplicate among them
    names = [f"Company {chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{i}" for i in range(300)]
    frame = pd.DataFrame({"id": [str(i) for i in range(302)], "name": [*names, "Hartley Foods Ltd", "Hartley Foods"],
                          "phone": ["+44 20 7946 0018"] * 302, "website": [""] * 300 + ["hartley.co.uk"] * 2})
    result = resolve_organisations(frame, block_cap=100, threads=1)
    assert any("'phone'" in w and "cap 100" in w for w in result.warnings)
    clusters = result.clusters.set_index("id")["cluster_id"]
    assert clusters["300"] == clusters["301"]  # found through the other keys
    assert result.blocking is not None and max(k.pairs for k in result.blocking.keys) < 300 * 299 // 2


def test_bad_arguments_are_refused():
    frame = pd.DataFrame({"id": ["a", "a"], "name": ["x", "y"]})
    with pytest.raises(ValueError, match="duplicate"):
        resolve_organisations(frame)
    with pytest.raises(KeyError, match="no id column"):
        resolve_organisations(frame, id_column="nope")
    with pytest.raises(ValueError, match="threshold"):
        resolve_organisations(frame.assign(id=["a", "b"]), threshold=0)
    with pytest.raises(ValueError):
        companies(-1)


# --- one record at a time ------------------------------------------------------------------------------


def test_the_single_record_matcher_scores_as_the_batch_and_round_trips(simulated: pd.DataFrame, resolved):
    matcher = OrgMatcher.from_resolution(resolved)
    restored = OrgMatcher.from_dict(json.loads(json.dumps(matcher.to_dict())))
    assert restored.to_dict() == matcher.to_dict()
    records = simulated.drop(columns=["entity_id", "corruptions"]).set_index("id", drop=False)
    checked = 0
    for row in resolved.pairs[np.isfinite(resolved.pairs["match_weight"])].head(200).itertuples(index=False):
        left, right = records.loc[row.id_l].to_dict(), records.loc[row.id_r].to_dict()
        (hit,) = restored.score(right, [left], id_column="id")
        assert hit.id == row.id_l
        assert hit.probability == pytest.approx(row.probability, abs=1e-9)
        checked += 1
    assert checked == 200
    assert restored.score({"name": "x"}, []) == []


def test_a_stored_matcher_of_another_kind_is_refused():
    with pytest.raises(ValueError):
        OrgMatcher.from_dict(default_matcher().to_dict())
    with pytest.raises(ValueError):
        OrgMatcher(model=default_matcher().model)
