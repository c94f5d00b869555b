#!/usr/bin/env bash
# Find the local PostgreSQL server, or start it; prints nothing, fails loudly if it cannot.
set -euo pipefail
host=${PGHOST:-127.0.0.1}; port=${PGPORT:-5432}
if pg_isready -q -h "$host" -p "$port" 2>/dev/null; then exit 0; fi
echo "PostgreSQL is not answering on $host:$port; starting it" >&2
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
else
  echo "No PostgreSQL cluster to start (install postgresql, or set RAPPORT_TEST_PG_URL)" >&2; exit 1
fi
for _ in $(seq 1 30); do pg_isready -q -h "$host" -p "$port" && exit 0; sleep 1; done
echo "PostgreSQL did not come up on $host:$port" >&2; exit 1
