#!/usr/bin/env bash
# The whole suite: lint, layer rules, migrations in step, then pytest on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PYTHONDONTWRITEBYTECODE=1 RAPPORT_DATA_DIR="${RAPPORT_TEST_DATA_DIR:-$(mktemp -d)}"
workers=${RAPPORT_TEST_WORKERS:-2}

echo "== lint (ruff) and layer contracts (import-linter)"
$BIN/ruff check src tests bench
$BIN/lint-imports --no-cache
echo "== migrations match the models"
$BIN/python manage.py makemigrations --check --dry-run >/dev/null

echo "== tests on SQLite"
bash scripts/redis.sh  # the Redis cache backend's round-trip test
$BIN/pytest -n "$workers" "$@"

echo "== tests on PostgreSQL"
bash scripts/pg.sh
pg_url=${RAPPORT_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/rapport}
DATABASE_URL="$pg_url" $BIN/pytest -n "$workers" "$@"

echo "Ran the suite on: SQLite, PostgreSQL ($pg_url)"
