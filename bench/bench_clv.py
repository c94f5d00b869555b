"""Customer lifetime value: fit and scoring times of ``rapport.analytics.clv`` against lifetimes.

    .venv/bin/python bench/bench_clv.py                          # 1M; lifetimes: 1M (BG/NBD), 100k (Pareto/NBD)
    .venv/bin/python bench/bench_clv.py --customers 200000       # another size
    .venv/bin/python bench/bench_clv.py --reference-max 1000000  # lifetimes on every row for both models (slow)

The data are ``simulate.bgnbd`` / ``simulate.pnbd`` draws (seeded) with acquisition spread over
78 weeks, rounded to whole weeks (``simulate.discretize``) as a weekly summary of transactions
would be, with Gamma-Gamma spends. Both libraries fit the same rows: ours compresses them to
distinct histories itself; lifetimes gets one row per customer, as its users call it. lifetimes
runs on at most ``--reference-max`` customers per model (default: all of them for BG/NBD, 100k
for Pareto/NBD, whose Nelder–Mead fit on every row is the slow one); when that is a subsample,
ours is timed on the same subsample too, the log-likelihoods are compared there, and the
1M-customer time of lifetimes is printed as an extrapolation (linear in rows: each likelihood
evaluation is one pass over the rows) and labelled as such. Scoring is P(alive), expected
purchases over 52 weeks and 12-month CLV at 1% a month for every customer. Figures are printed;
nothing is asserted. lifetimes is a benchmark/test-only dependency (bench/requirements.txt).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from common import print_table  # also puts src/ on sys.path, so rapport is imported after it, in the functions

TRUTH = {
    "bgnbd": {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5},
    "pnbd": {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0},
}


def dataset(model: str, n: int, seed: int) -> pd.DataFrame:
    from rapport.analytics.clv import simulate

    ages = np.random.default_rng(seed).integers(1, 79, n).astype(float)
    draw = simulate.bgnbd if model == "bgnbd" else simulate.pnbd
    data = simulate.discretize(draw(n, T=ages, seed=seed + 1, **TRUTH[model]))
    data["monetary_value"] = simulate.gamma_gamma_spend(data["frequency"], p=6.0, q=4.0, gamma=15.0, seed=seed + 2)
    return data


def lifetimes_fit(model: str, data: pd.DataFrame) -> tuple[float, float]:
    from lifetimes import BetaGeoFitter, ParetoNBDFitter

    x, t_x, T = (data[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter = (BetaGeoFitter() if model == "bgnbd" else ParetoNBDFitter()).fit(x, t_x, T)
    seconds = time.perf_counter() - started
    params = fitter.params_.to_numpy()
    if model == "pnbd":
        loglik = float(ParetoNBDFitter._conditional_log_likelihood(params, x, t_x, T).sum())
    else:
        loglik = float(-BetaGeoFitter._negative_log_likelihood(np.log(params), x, t_x, T, np.ones(len(x)), 0) * len(x))
    return seconds, loglik


def ours_fit(model: str, data: pd.DataFrame) -> tuple[float, float, int]:
    from rapport.analytics.clv import fit_purchases

    started = time.perf_counter()
    fit = fit_purchases(data, model)
    return time.perf_counter() - started, fit.log_likelihood, fit.n_patterns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--reference-max",
        type=int,
        default=None,
        help="most customers lifetimes fits (default: all for BG/NBD, 100k for Pareto/NBD)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n = args.customers
    rows = []
    ours_fit("bgnbd", dataset("bgnbd", 2_000, args.seed))  # warm-up: first calls of scipy's special functions
    for model in ("bgnbd", "pnbd"):
        data = dataset(model, n, args.seed)
        limit = args.reference_max if args.reference_max is not None else (n if model == "bgnbd" else 100_000)
        ours_s, ours_ll, patterns = ours_fit(model, data)
        print(
            f"{model}: ours on {n:,} customers ({patterns:,} distinct histories): {ours_s:.2f} s, "
            f"log-likelihood {ours_ll:.6f}",
            flush=True,
        )
        if limit <= 0:
            continue
        sub = data if limit >= n else data.sample(n=limit, random_state=args.seed)
        sub_s, sub_ll, _ = (ours_s, ours_ll, patterns) if limit >= n else ours_fit(model, sub)
        ref_s, ref_ll = lifetimes_fit(model, sub)
        extrapolated = ref_s * n / len(sub)
        label = "measured" if len(sub) == n else f"extrapolated ×{n / len(sub):g} from {len(sub):,}"
        print(
            f"{model}: lifetimes on {len(sub):,}: {ref_s:.1f} s, log-likelihood {ref_ll:.6f}; ours on the same "
            f"rows {sub_s:.2f} s, log-likelihood {sub_ll:.6f}",
            flush=True,
        )
        rows.append(
            [
                model,
                f"{len(sub):,}",
                f"{sub_s:.2f}",
                f"{ref_s:.1f}",
                f"{ref_s / sub_s:.0f}×",
                f"{(sub_ll - ref_ll) / abs(ref_ll):.1e}",
                f"{ours_s:.2f}",
                f"{extrapolated:.0f} ({label})",
                f"{extrapolated / ours_s:.0f}×",
            ]
        )
    if rows:
        print_table(
            [
                "model",
                "rows both fit",
                "ours s",
                "lifetimes s",
                "ratio",
                "LL rel. diff (ours−theirs)",
                f"ours s on {n:,}",
                f"lifetimes s on {n:,}",
                f"ratio on {n:,}",
            ],
            rows,
        )
    from rapport.analytics.clv import fit_purchases, fit_spend, score

    data = dataset("bgnbd", n, args.seed)
    purchases, spend = fit_purchases(data, "bgnbd"), fit_spend(data)
    started = time.perf_counter()
    scores = score(purchases, spend, data, horizon=52, months=12, discount_rate=0.01, periods_per_month=4.345)
    seconds = time.perf_counter() - started
    print(
        f"Scoring {len(scores):,} customers (P(alive), expected purchases over 52 weeks, 12-month CLV): "
        f"{seconds:.2f} s; mean CLV {scores['clv'].mean():.2f}; spend/frequency correlation "
        f"{spend.correlation:.3f}"
    )


if __name__ == "__main__":
    main()
