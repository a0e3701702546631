#!/usr/bin/env bash
# Atlas — scripts
# SPDX-License-Identifier: Apache-2.0
#
# Usage: scripts/with-postgres.sh COMMAND [ARG...]
#
# Starts a throwaway PostgreSQL 15 cluster (trust auth, 127.0.0.1 on a free port plus a unix socket
# in its temporary directory), creates database atlas_test, runs COMMAND with
#   ATLAS_TEST_POSTGRES_URL      postgres://postgres@127.0.0.1:PORT/atlas_test
#   ATLAS_TEST_POSTGRES_DATA     the cluster's data directory
#   ATLAS_TEST_POSTGRES_CTL      a pg_ctl command line for that cluster (append start|stop|restart …)
#   ATLAS_TEST_POSTGRES_RESTART_URL  a second cluster's database, for tests that restart its server
#   ATLAS_TEST_POSTGRES_RESTART  a shell command that restarts that second server and waits until it accepts connections
#   ATLAS_TEST_POSTGRES_RESTART_STOP / _START  shell commands that stop / start that second server
#   ATLAS_TEST_POSTGRES_RESTART_LOCK  a file that tests stopping or restarting it hold locked with flock(2)
# then stops the cluster and deletes its directory, also when COMMAND fails or the script is
# interrupted. Exits with COMMAND's status. Installs PostgreSQL with apt-get when it is missing.
# Runs as root (the server itself runs as the `postgres` user, since it refuses root) or as any
# other user (the server then runs as that user).
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 64
fi

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
    echo "with-postgres: PostgreSQL 15 not found in $PG_BIN; installing it" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "with-postgres: run as root to install PostgreSQL, or set PG_BIN" >&2
        exit 69
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q postgresql >&2
    if [ ! -x "$PG_BIN/initdb" ]; then
        PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    fi
    if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
        echo "with-postgres: PostgreSQL server binaries are still missing after apt-get" >&2
        exit 69
    fi
fi

# The server refuses to run as root: as root, run its tools as `postgres`.
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    AS_PG=(runuser -u postgres --)
    PG_OWNER=postgres
else
    AS_PG=()
    PG_OWNER="$(id -un)"
fi

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/atlas-pg.XXXXXX")"
chmod 700 "$WORK_DIR"
chown "$PG_OWNER" "$WORK_DIR"

cleanup() {
    local status=$?
    trap - EXIT INT TERM HUP
    for data in "$WORK_DIR"/main "$WORK_DIR"/restartable; do
        if [ -f "$data/postmaster.pid" ]; then
            "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
        fi
    done
    rm -rf "$WORK_DIR"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    else
        # Bash fallback: a random high port that nothing answers on.
        local port
        while :; do
            port=$((20000 + RANDOM % 40000))
            if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                echo "$port"
                return
            fi
        done
    fi
}

# start_cluster NAME: initdb + start on a free port; sets CLUSTER_PORT, CLUSTER_DATA and CLUSTER_CTL.
start_cluster() {
    local name="$1" data="$WORK_DIR/$1" log="$WORK_DIR/$1.log" socket_dir="$WORK_DIR/$1-socket"
    mkdir -p "$socket_dir" && chown "$PG_OWNER" "$socket_dir"
    "${AS_PG[@]}" "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$WORK_DIR/$name-initdb.log" 2>&1 || {
        cat "$WORK_DIR/$name-initdb.log" >&2
        exit 1
    }
    # Durability settings are off: this cluster lives for one test run. Connection limits leave
    # room for pool tests that open many connections at once.
    local started=0 port options
    for attempt in 1 2 3 4 5; do
        port="$(free_port)"
        options="-c listen_addresses=127.0.0.1 -p $port -k $socket_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        if "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$data" -o "$options" -l "$log" -w -t 60 start >/dev/null 2>&1; then
            started=1
            break
        fi
        echo "with-postgres: start of $name on port $port failed (attempt $attempt)" >&2
    done
    if [ "$started" -ne 1 ]; then
        cat "$log" >&2 || true
        exit 1
    fi
    "${AS_PG[@]}" "$PG_BIN/psql" -X -q -h "$socket_dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE atlas_test" >/dev/null
    CLUSTER_PORT="$port"
    CLUSTER_DATA="$data"
    printf -v CLUSTER_CTL '%q ' "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$data" -l "$log"
    printf -v CLUSTER_START '%q ' "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$data" -l "$log" -o "$options" -w -t 60 start
}

# The main cluster serves every suite; a second one exists only to be restarted, so the restart
# test never pulls connections from under suites running in parallel with it.
start_cluster main
PORT="$CLUSTER_PORT"
DATA_DIR="$CLUSTER_DATA"
export ATLAS_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PORT/atlas_test"
export ATLAS_TEST_POSTGRES_DATA="$DATA_DIR"
export ATLAS_TEST_POSTGRES_CTL="$CLUSTER_CTL"
start_cluster restartable
export ATLAS_TEST_POSTGRES_RESTART_URL="postgres://postgres@127.0.0.1:$CLUSTER_PORT/atlas_test"
export ATLAS_TEST_POSTGRES_RESTART="$CLUSTER_CTL -m fast -w -t 60 restart >/dev/null"
export ATLAS_TEST_POSTGRES_RESTART_STOP="$CLUSTER_CTL -m fast -w -t 60 stop >/dev/null"
export ATLAS_TEST_POSTGRES_RESTART_START="$CLUSTER_START >/dev/null"
# Tests that stop or restart the second cluster hold this file locked (flock) while they do.
export ATLAS_TEST_POSTGRES_RESTART_LOCK="$WORK_DIR/restartable.lock"
touch "$ATLAS_TEST_POSTGRES_RESTART_LOCK"
echo "with-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (data $DATA_DIR)" >&2

# The command runs in the background so a signal to this script is handled at once (bash defers
# traps while a foreground child runs); the signal is passed on to the command before cleanup.
set +e
"$@" <&0 &
CHILD=$!
trap 'kill -INT "$CHILD" 2>/dev/null; wait "$CHILD"; exit 130' INT
trap 'kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD"; exit 143' TERM
trap 'kill -HUP "$CHILD" 2>/dev/null; wait "$CHILD"; exit 129' HUP
wait "$CHILD"
status=$?
set -e
exit "$status"
