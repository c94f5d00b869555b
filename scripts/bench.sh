#!/usr/bin/env bash
# Benchmarks (not tests): each prints its figures and a ratio to a baseline from the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/pg.sh
# The reference libraries some benchmarks compare against (not needed to run or test the app).
.venv/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
export DATABASE_URL=${RAPPORT_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/rapport_bench}
for bench in ${BENCHES:-bench/bench_*.py}; do
  echo "== $bench"
  .venv/bin/python "$bench"
done
