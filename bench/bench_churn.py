"""Churn model: training time, AUC against the oracle, and scoring time with drivers at 1M customers.

    .venv/bin/python bench/bench_churn.py                                  # train 200k, score 1M
    .venv/bin/python bench/bench_churn.py --train 50000 --score 200000     # smaller

The data are ``simulate.customers`` draws (seeded), whose true churn probabilities give the oracle
AUC, the best any model can do on those rows. Training is the whole of ``train``: k-fold
cross-validation of the trees and the linear baseline, calibration, and the final refit. Scoring is
``ChurnModel.score`` on fresh customers — encoding, calibrated probabilities and three drivers each —
against two baselines measured in the same run on the same rows: the trees' bare ``predict_proba``
on the encoded matrix (no drivers), and the linear baseline's. Figures are printed; nothing is
asserted. The target is scoring 1M customers with drivers in at most 60 s.
"""

from __future__ import annotations

import argparse
import time

from common import print_table  # also puts src/ on sys.path, so rapport is imported after it, in the functions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=200_000, help="customers to train on (default 200k)")
    parser.add_argument("--score", type=int, default=1_000_000, help="customers to score (default 1M)")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    args = parser.parse_args()
    from sklearn.metrics import roc_auc_score

    from rapport.analytics import churn
    from rapport.analytics.churn import simulate

    base = simulate.customers(args.train, seed=1)
    frame = base.frame.assign(churned=base.churned)
    started = time.perf_counter()
    fitted = churn.train(frame, target="churned", id_column="customer_id", folds=args.folds)
    train_seconds = time.perf_counter() - started
    oracle = roc_auc_score(base.churned, base.probability)

    fresh = simulate.customers(args.score, seed=2)
    started = time.perf_counter()
    X = fitted.encoder.transform(fresh.frame)
    encode_seconds = time.perf_counter() - started
    started = time.perf_counter()
    fitted.trees.predict_proba(X)
    bare_seconds = time.perf_counter() - started
    started = time.perf_counter()
    fitted.baseline.predict_proba(X)
    linear_seconds = time.perf_counter() - started
    started = time.perf_counter()
    scores = fitted.score(fresh.frame)
    score_seconds = time.perf_counter() - started
    fresh_auc = roc_auc_score(fresh.churned, scores["churn_probability"])
    fresh_oracle = roc_auc_score(fresh.churned, fresh.probability)

    m = fitted.metrics
    print(f"train: {args.train:,} customers, {len(fitted.encoder.columns)} features, {args.folds}-fold CV + refit, "
          f"{fitted.trees.n_iter_} trees")
    print_table(["figure", "value"], [
        ["train seconds (CV + calibration + refit, trees and linear)", f"{train_seconds:.1f}"],
        ["CV AUC trees / linear / oracle", f"{m.auc:.4f} / {m.baseline_auc:.4f} / {oracle:.4f}"],
        ["AUC on the scored customers, model / oracle", f"{fresh_auc:.4f} / {fresh_oracle:.4f}"],
        ["top decile lift (out of fold)", f"{m.top_decile_lift:.2f}"],
    ])
    print(f"score: {args.score:,} customers")
    print_table(["step", "seconds", "ratio to bare predict_proba"], [
        ["score(): encode + calibrated probability + 3 drivers", f"{score_seconds:.1f}",
         f"{score_seconds / bare_seconds:.1f}x"],
        ["  encode only", f"{encode_seconds:.1f}", f"{encode_seconds / bare_seconds:.2f}x"],
        ["trees predict_proba, no drivers (baseline)", f"{bare_seconds:.1f}", "1.00x"],
        ["linear baseline predict_proba", f"{linear_seconds:.2f}", f"{linear_seconds / bare_seconds:.2f}x"],
    ])
    print(f"target: 1M customers scored with drivers in <= 60 s; "
          f"rate {args.score / score_seconds:,.0f} customers/s")


if __name__ == "__main__":
    main()
