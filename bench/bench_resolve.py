"""Identity resolution: time, peak memory and pairwise accuracy of ``rapport.analytics.resolve``.

    .venv/bin/python bench/bench_resolve.py                       # 100k and 1M records
    .venv/bin/python bench/bench_resolve.py --records 100000      # one size
    .venv/bin/python bench/bench_resolve.py --reference-max 0     # skip the reference library

The data are ``simulate.people(n, seed)`` (labelled, with corruption kinds), cached as Parquet
under ``bench/out/``. Each resolver runs in a child process of its own, so its peak memory is
that child's VmHWM (high-water resident set), not the benchmark's. The baseline is splink
(``bench/requirements.txt``), run in the same way on the same records, with the same threshold
(0.9) and, since splink does no cleaning itself, on the columns our normalisers produced. It
runs up to ``--reference-max`` records (default 100k): at 1M on this 2-core machine a trial run
was still in its EM training after 19 minutes at 10.7 GB resident and was stopped.
Accuracy is pairwise precision / recall / F1 over clusters, overall and per corruption kind.
Figures are printed; nothing is asserted. No Django, no database.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, print_table

OUT = ROOT / "bench" / "out"


def dataset(n: int, seed: int) -> Path:
    path = OUT / f"resolve_people_{n}_{seed}.parquet"
    if not path.exists():
        from rapport.analytics.resolve.simulate import people

        OUT.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        print(f"Generating {n:,} labelled records …", flush=True)
        people(n, seed=seed).to_parquet(path, index=False)
        print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_ours(data: Path, out: Path) -> dict:
    import pandas as pd

    from rapport.analytics.resolve import resolve

    frame = pd.read_parquet(data).drop(columns=["entity_id", "corruptions"])
    started = time.perf_counter()
    result = resolve(frame, threshold=0.9)
    seconds = time.perf_counter() - started
    result.clusters[["id", "cluster_id"]].to_parquet(out, index=False)
    return {
        "seconds": seconds,
        "stages": result.seconds,
        "pairs": result.blocking.candidate_pairs,
        "warnings": list(result.warnings),
        "em_iterations": result.model.iterations if result.model else 0,
    }


def child_splink(data: Path, out: Path) -> dict:
    import logging

    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from rapport.analytics.resolve import normalize as nz

    logging.getLogger("splink").setLevel(logging.WARNING)
    raw = pd.read_parquet(data)
    started = time.perf_counter()
    # Splink compares what it is given: give it the same cleaned columns our resolver compares.
    dayfirst = nz.infer_dayfirst(raw["date_of_birth"].unique()[:100_000])
    frame = pd.DataFrame(
        {
            "id": raw["id"],
            "given_name": nz.apply_unique(raw["given_name"], nz.canonical_given),
            "surname": nz.apply_unique(raw["surname"], nz.surname),
            "email": nz.apply_unique(raw["email"], nz.email),
            "phone": nz.apply_unique(raw["phone"], nz.phone),
            "street": nz.apply_unique(raw["street_address"], nz.street_address),
            "city": nz.apply_unique(raw["city"], nz.city),
            "postcode": nz.apply_unique(raw["postcode"], nz.postcode),
            "dob": nz.apply_unique(raw["date_of_birth"], lambda v: nz.parse_date(v, dayfirst=dayfirst)),
        }
    ).replace("", None)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="id",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.EmailComparison("email"),
            cl.DamerauLevenshteinAtThresholds("phone", [1]),
            cl.JaroWinklerAtThresholds("street", [0.9]),
            cl.ExactMatch("city"),
            cl.ExactMatch("postcode"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("surname", "dob"),
            block_on("given_name", "dob"),
            block_on("dob", "postcode"),
            block_on("street", "postcode"),
            block_on("substr(given_name, 1, 1)", "surname", "postcode"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "dob"), block_on("email")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.9)
    result = clusters.as_pandas_dataframe()[["id", "cluster_id"]]
    seconds = time.perf_counter() - started
    result.assign(cluster_id=result["cluster_id"].astype(str)).to_parquet(out, index=False)
    return {"seconds": seconds}


def run_child(which: str, data: Path) -> tuple[dict, Path] | None:
    out = data.with_name(f"{data.stem}_{which}_clusters.parquet")
    command = [sys.executable, __file__, "--child", which, "--data", str(data), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'bench'}"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        print(f"  {which} failed:\n{done.stderr[-3000:]}", flush=True)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1]), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records", type=int, nargs="+", action="extend", default=None, help="sizes to run (default: 100000 1000000)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--reference-max", type=int, default=100_000, help="largest size the reference library runs on (0: never)"
    )
    parser.add_argument("--child", choices=["ours", "splink"], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        figures = (child_ours if args.child == "ours" else child_splink)(Path(args.data), Path(args.out))
        figures["peak_mb"] = peak_memory_mb()
        print(json.dumps(figures))
        return

    import pandas as pd

    from rapport.analytics.resolve import evaluate

    for n in args.records or [100_000, 1_000_000]:
        data = dataset(n, args.seed)
        truth = pd.read_parquet(data, columns=["id", "entity_id", "corruptions"])
        print(f"\n== {n:,} records (seed {args.seed}; {truth['entity_id'].nunique():,} people) ==", flush=True)
        results = {}
        for which in ("ours", "splink"):
            if which == "splink" and n > args.reference_max:
                print(f"  splink skipped at {n:,} records (--reference-max {args.reference_max:,})")
                continue
            print(f"  running {which} …", flush=True)
            got = run_child(which, data)
            if got is None:
                continue
            figures, out = got
            results[which] = (figures, evaluate(pd.read_parquet(out), truth))
        if not results:
            continue
        rows = []
        for which, (figures, accuracy) in results.items():
            rows.append(
                [
                    which,
                    figures["seconds"],
                    figures["peak_mb"],
                    accuracy.precision,
                    accuracy.recall,
                    accuracy.f1,
                    accuracy.overall.predicted,
                    accuracy.overall.true,
                ]
            )
        print_table(
            ["resolver", "seconds", "peak MB", "precision", "recall", "F1", "pred pairs", "true pairs"],
            [[r[0], r[1], r[2], f"{r[3]:.4f}", f"{r[4]:.4f}", f"{r[5]:.4f}", r[6], r[7]] for r in rows],
        )
        if "ours" in results:
            figures = results["ours"][0]
            stages = ", ".join(f"{k} {v:.1f}" for k, v in figures["stages"].items())
            print(
                f"  ours: {figures['pairs']:,} candidate pairs, EM {figures['em_iterations']} iterations; "
                f"stages (s): {stages}"
            )
            for warning in figures["warnings"]:
                print(f"  ours warning: {warning}")
        if len(results) == 2:
            (ours, acc_ours), (theirs, acc_theirs) = results["ours"], results["splink"]
            print(
                f"  ratio ours/splink: time {ours['seconds'] / theirs['seconds']:.2f}, "
                f"peak memory {ours['peak_mb'] / theirs['peak_mb']:.2f}; "
                f"F1 ours {acc_ours.f1:.4f} vs splink {acc_theirs.f1:.4f} ({acc_ours.f1 - acc_theirs.f1:+.4f})"
            )
        kinds = sorted(results["ours" if "ours" in results else "splink"][1].per_kind)
        headers = ["corruption kind", "true pairs"]
        for which in results:
            headers += [f"{which} P", f"{which} R", f"{which} F1"]
        table = []
        for kind in kinds:
            row: list = [kind, next(iter(results.values()))[1].per_kind[kind].true]
            for _, accuracy in results.values():
                counts = accuracy.per_kind.get(kind)
                row += (
                    [f"{counts.precision:.4f}", f"{counts.recall:.4f}", f"{counts.f1:.4f}"]
                    if counts
                    else ["-", "-", "-"]
                )
            table.append(row)
        print()
        print_table(headers, table)


if __name__ == "__main__":
    main()
