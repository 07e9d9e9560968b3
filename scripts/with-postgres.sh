#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server, exported as LANDFLOW_TEST_PG_URL.
#   scripts/with-postgres.sh pytest -q
# Uses the machine's PostgreSQL binaries (initdb/pg_ctl); installs Debian's `postgresql` package
# where they are absent. initdb and postgres refuse to run as root, so as root the cluster belongs
# to the `postgres` user. fsync is off: this server holds only test data.
set -euo pipefail

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

BIN=$(find_bin || true)
if [ -z "$BIN" ]; then
  echo "PostgreSQL not found: installing Debian's postgresql package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  BIN=$(find_bin)
fi

PORT=${LANDFLOW_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
DIR=$(mktemp -d /tmp/landflow-pg.XXXXXX)
AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$DIR"
  AS=(runuser -u postgres --)
fi

stop() {
  "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap stop EXIT

"${AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start -o \
  "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
   -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB" >/dev/null
"${AS[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres landflow_test

export LANDFLOW_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/landflow_test"
export LANDFLOW_TEST_PG_BIN="$BIN"
export LANDFLOW_TEST_PG_DATA="$DIR/data"
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on port $PORT" >&2
set +e
"$@"
status=$?
exit $status
