"""Account (company) identity resolution: time and pairwise accuracy of ``resolve_organisations``.

    .venv/bin/python bench/bench_resolve_organisations.py                    # 10k and 50k records
    .venv/bin/python bench/bench_resolve_organisations.py --records 20000    # one size
    .venv/bin/python bench/bench_resolve_organisations.py --per-kind         # and per damage kind

The data are ``simulate_organisations.companies(n, seed)``: labelled companies, a fifth of them
entered again one to three times with realistic damage (typos, legal forms, abbreviations,
reformatted phones and websites, moved offices, missing values), plus branches and namesakes
that must stay apart. The matcher gets no labels. The baseline, measured in the same run, is
exact matching on the normalised name (what a "same name" rule would find). Figures are
printed; nothing is asserted. No Django, no database.
"""

from __future__ import annotations

import argparse
import time

from common import print_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, action="append", help="records per run (repeatable)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-kind", action="store_true", help="also print the figures per damage kind")
    args = parser.parse_args()

    import pandas as pd

    from rapport.analytics.resolve import evaluate
    from rapport.analytics.resolve.org_normalize import company_name
    from rapport.analytics.resolve.organisations import resolve_organisations
    from rapport.analytics.resolve.simulate_organisations import companies, duplicated_share

    rows, kinds = [], []
    for n in args.records or [10_000, 50_000]:
        truth = companies(n, seed=args.seed)
        frame = truth.drop(columns=["entity_id", "corruptions"])
        started = time.perf_counter()
        result = resolve_organisations(frame)
        seconds = time.perf_counter() - started
        ours = evaluate(result.clusters, truth)
        baseline_clusters = pd.DataFrame({"id": truth["id"], "cluster_id": truth["name"].map(company_name)})
        baseline = evaluate(baseline_clusters, truth)
        share = duplicated_share(truth)
        for label, acc, secs in (("resolve_organisations", ours, seconds), ("same normalised name", baseline, None)):
            rows.append(
                [
                    f"{n:,}",
                    f"{share:.0%}",
                    label,
                    "" if secs is None else f"{secs:.1f}",
                    f"{acc.precision:.4f}",
                    f"{acc.recall:.4f}",
                    f"{acc.f1:.4f}",
                    acc.overall.predicted,
                    acc.overall.true,
                ]
            )
        if result.warnings:
            print(f"{n:,} records: " + "; ".join(result.warnings))
        if args.per_kind:
            kinds += [
                [f"{n:,}", kind, f"{c.precision:.4f}", f"{c.recall:.4f}", c.true]
                for kind, c in sorted(ours.per_kind.items())
            ]
    print_table(
        ["records", "duplicated", "matcher", "seconds", "precision", "recall", "F1", "pred pairs", "true pairs"], rows
    )
    if kinds:
        print()
        print_table(["records", "kind", "precision", "recall", "true pairs"], kinds)


if __name__ == "__main__":
    main()
