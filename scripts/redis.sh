#!/usr/bin/env bash
# Find the local Redis server, or start it (the cache tests round-trip through it); prints nothing,
# fails loudly if it cannot. RAPPORT_TEST_REDIS_URL points the tests at another server instead.
set -euo pipefail
[ -n "${RAPPORT_TEST_REDIS_URL:-}" ] && exit 0
host=127.0.0.1; port=6379
if redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then exit 0; fi
echo "Redis is not answering on $host:$port; starting it" >&2
command -v redis-server >/dev/null || { echo "No redis-server (apt-get install redis-server)" >&2; exit 1; }
redis-server --bind "$host" --port "$port" --daemonize yes --save "" --appendonly no >/dev/null
for _ in $(seq 1 30); do redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 && exit 0; sleep 1; done
echo "Redis did not come up on $host:$port" >&2; exit 1
