#!/usr/bin/env bash
# Install PostgreSQL from Debian's packages (if missing), start a throwaway cluster on 127.0.0.1:54329, and
# write the URL to .ci/postgres.env for the tests. Idempotent: a server already answering on the port is reused
# (its `facesweep` database created if missing), so running this twice is harmless.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${FACESWEEP_PG_PORT:-54329}
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }

if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  echo "PostgreSQL already running on 127.0.0.1:$port"
else
  pgdata=$(mktemp -d /tmp/facesweep-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres "$pgdata"
  run_pg "$bindir/initdb -D $pgdata -A trust -U postgres >/dev/null"
  # Many test workers x short heartbeats: allow more connections than the default 100.
  run_pg "$bindir/pg_ctl -D $pgdata -l $pgdata/log -o \"-c listen_addresses=127.0.0.1 -p $port -k /tmp -c max_connections=200\" -w start >/dev/null"
  echo "PostgreSQL started on 127.0.0.1:$port (data in $pgdata)"
fi
if ! run_pg "$bindir/psql -h 127.0.0.1 -p $port -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname='facesweep'\"" | grep -q 1; then
  run_pg "$bindir/createdb -h 127.0.0.1 -p $port -U postgres facesweep"
fi
echo "FACESWEEP_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/facesweep" > .ci/postgres.env
