#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the test suite.
#
#   scripts/pg_test.sh start    initdb into a fresh directory, start the server on 127.0.0.1,
#                               create the database and print its SQLAlchemy URL (last line)
#   scripts/pg_test.sh stop     stop the server and delete the directory (safe to repeat)
#   scripts/pg_test.sh url      print the URL
#   scripts/pg_test.sh status   exit 0 when the server is running
#
# Environment: PG_TEST_PORT (default 54329), PG_TEST_DIR (default /tmp/redress-pg-$PORT),
# PG_BIN (default /usr/lib/postgresql/15/bin). The server cannot run as root: as root the
# commands run as the `postgres` user (or a dedicated `redress-pg` system user when there is
# none); otherwise as the current user. Durability is switched off: this data is thrown away.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PORT="${PG_TEST_PORT:-54329}"
DIR="${PG_TEST_DIR:-/tmp/redress-pg-$PORT}"
DATA="$DIR/data"
ROLE="redress"
DATABASE="redress_test"
URL="postgresql+psycopg://$ROLE@127.0.0.1:$PORT/$DATABASE"

log() { echo "pg_test: $*" >&2; }

os_user() {
    if id -u postgres >/dev/null 2>&1; then
        echo postgres
    else
        id -u redress-pg >/dev/null 2>&1 || \
            useradd --system --no-create-home --shell /usr/sbin/nologin redress-pg
        echo redress-pg
    fi
}

# Run a PostgreSQL program as the cluster's owner, from a directory it can read.
as_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd "$DIR" && runuser -u "$(os_user)" -- "$@")
    else
        (cd "$DIR" && "$@")
    fi
}

running() {
    [[ -f "$DATA/postmaster.pid" ]] && as_owner "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

stop() {
    if [[ -d "$DATA" ]] && running; then
        log "stopping the server on port $PORT"
        as_owner "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null \
            || as_owner "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null || true
    fi
    if [[ -d "$DIR" ]]; then
        rm -rf "$DIR"
    fi
}

start() {
    if [[ ! -x "$PG_BIN/initdb" ]]; then
        log "PostgreSQL 15 is not installed ($PG_BIN/initdb missing): apt-get install postgresql-15"
        exit 1
    fi
    stop  # a left-over cluster from an interrupted run
    mkdir -p "$DIR"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown "$(os_user)": "$DIR"
    fi
    chmod 700 "$DIR"
    log "initdb in $DATA"
    as_owner "$PG_BIN/initdb" -D "$DATA" -U "$ROLE" -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
    log "starting the server on 127.0.0.1:$PORT"
    if ! as_owner "$PG_BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
        start >/dev/null; then
        cat "$DIR/server.log" >&2 || true
        exit 1
    fi
    as_owner "$PG_BIN/createdb" -h "$DIR" -p "$PORT" -U "$ROLE" "$DATABASE"
    echo "$URL"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url) echo "$URL" ;;
    status) running ;;
    *) echo "usage: $0 start|stop|url|status" >&2; exit 2 ;;
esac
