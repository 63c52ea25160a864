#!/usr/bin/env bash
# The store's contract tests run against a real Postgres server. Start the local cluster if it is down.
set -euo pipefail
PGHOST_CHECK=${SIFT_TEST_PG_HOST:-127.0.0.1}
if ! pg_isready -q -h "$PGHOST_CHECK" -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "sift: starting the local Postgres cluster" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >&2 || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST_CHECK" -p 5432 && break; sleep 1; done
fi
pg_isready -h "$PGHOST_CHECK" -p 5432 >&2 || {
  echo "sift: no Postgres server at $PGHOST_CHECK:5432; the store contract tests need one (see README)" >&2
  exit 1
}
