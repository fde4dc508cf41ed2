#!/usr/bin/env bash
# Install PostgreSQL from Debian's packages (if missing), start a throwaway cluster on 127.0.0.1:54329, and
# write the URL to .ci/postgres.env for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pgdata=$(mktemp -d /tmp/facesweep-pg.XXXXXX)
chown postgres "$pgdata"
port=54329
run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
run_pg "$bindir/initdb -D $pgdata -A trust -U postgres >/dev/null"
run_pg "$bindir/pg_ctl -D $pgdata -l $pgdata/log -o \"-c listen_addresses=127.0.0.1 -p $port -k /tmp\" -w start >/dev/null"
run_pg "$bindir/createdb -h 127.0.0.1 -p $port -U postgres facesweep"
echo "FACESWEEP_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/facesweep" > .ci/postgres.env
echo "PostgreSQL running on 127.0.0.1:$port (data in $pgdata)"
