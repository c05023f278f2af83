#!/usr/bin/env bash
# WAL streaming benchmark: under `pgbench -c 4`, the CPU time per stored segment of
#  - lifeboat agent streaming over a replication slot (to an S3 server),
#  - lifeboat wal-push as archive_command (to the same S3 server),
#  - pgBackRest archive-push (to a local repository),
# all in one run on one machine; then the RPO at a crash (the server stopped with -m immediate
# while markers are committed, restored from the archive: seconds of acknowledged commits lost),
# and in synchronous mode the commit latency against local commits and the RPO (0 expected).
# Usage (as root): bench/wal-stream.sh [seconds=30] [pgbench scale=20] [flush-interval seconds=10]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SECS=${1:-30}
SCALE=${2:-20}
FLUSH=${3:-10}
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-streambench-XXXX)
chmod 755 "$W"
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package
bin/lifeboat --version >/dev/null   # the start-up archive exists before timing
command -v pgbackrest >/dev/null || { apt-get install -y -qq pgbackrest >/dev/null 2>&1 || true; }
AGENTS=()
cleanup() {
  for p in "${AGENTS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "$W"/st "$W"/lb "$W"/br "$W"/sy "$W"/r-*; do
    runuser -u postgres -- "$B/pg_ctl" -D "$d/data" -m immediate stop >/dev/null 2>&1 || true
  done
  [[ -n "${S3PID:-}" ]] && kill "$S3PID" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh
start_s3

config() { # file cluster port agent-stream-lines
  cat > "$1" <<EOC
agent:
  http:
    listen: off
clusters:
  $2:
    postgres: {host: 127.0.0.1, port: $3, user: postgres}
    repositories:
      - uri: s3://bench/$2?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true
        access-key-id: $LIFEBOAT_S3_ACCESS_KEY_ID
        secret-access-key: $LIFEBOAT_S3_SECRET_ACCESS_KEY
        allow-same-server: true
    agent:
      stream:
$4
EOC
  chown postgres "$1"; chmod 644 "$1"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
start_agent() { # config log
  LIFEBOAT_AGENT_DEBUG=1 bin/lifeboat agent --config "$1" >"$2" 2>&1 &
  AGENT=$!
  AGENTS+=("$AGENT")
  for _ in $(seq 300); do grep -q "streaming WAL from" "$2" && return 0; sleep 0.1; done
  echo "the agent did not start:"; cat "$2"; exit 1
}
psql_() { "$B/psql" -h 127.0.0.1 -p "$1" -U postgres -Atqc "$2"; }

# Commits markers (one row each, autocommit) until the server dies; each acknowledged one goes into
# $W/acked-PORT with the time the commit returned.
markers() { # port
  psql_ "$1" "create table if not exists markers (n int primary key)"
  : > "$W/acked-$1"
  for n in $(seq 1 1000000); do
    psql_ "$1" "insert into markers (n) values ($n)" 2>/dev/null || return 0
    echo "$n $(date +%s.%N)" >> "$W/acked-$1"
  done
}

# crash_and_restore CLUSTER PORT CONFIG: markers for a few seconds, stop -m immediate, the agent
# stores what it has, restore the newest backup to the end of the archive; prints how many
# acknowledged markers were lost and the RPO: the seconds between the oldest lost acknowledgement
# and the crash (0 when none was lost).
crash_and_restore() {
  local c=$1 p=$2 cfg=$3
  markers "$p" & local mk=$!
  sleep 8
  local crash; crash=$(date +%s.%N)
  runuser -u postgres -- "$B/pg_ctl" -D "$W/$c/data" -m immediate stop >/dev/null
  wait "$mk" || true
  sleep 3
  kill "$AGENT"; wait "$AGENT" 2>/dev/null || true
  mkdir -p "$W/r-$c"; chown postgres "$W/r-$c"
  bin/lifeboat restore --config "$cfg" --cluster "$c" --data-directory "$W/r-$c/data" --start --start-timeout 300 \
    --port "$p" >"$W/r-$c.log" 2>&1 || { echo "restore failed: $(tail -3 "$W/r-$c.log")"; return 0; }
  local newest; newest=$(psql_ "$p" "select coalesce(max(n), 0) from markers")
  runuser -u postgres -- "$B/pg_ctl" -D "$W/r-$c/data" -m fast stop >/dev/null 2>&1 || true
  awk -v m="$newest" -v crash="$crash" '$1 > m {lost++; if (first == "") first = $2}
    END {rpo = lost ? crash - first : 0; if (rpo < 0) rpo = 0; printf "%d of %d acknowledged commits lost, RPO %.2f s", lost, NR, rpo}' "$W/acked-$p"
}

echo "pgbench -c 4 for $SECS s (scale $SCALE) on $(nproc) cores; flush-interval $FLUSH s"
printf "%-34s %10s %14s\n" "how WAL leaves the server" "segments" "CPU ms/seg"

# 1. The agent, streaming over a slot (archive_mode off).
start_cluster "$W/st" 55481 ""
config "$W/st.yml" st 55481 "        flush-interval: ${FLUSH}s"
start_agent "$W/st.yml" "$W/st-agent.log"
bin/lifeboat backup --config "$W/st.yml" --cluster st --type physical >/dev/null 2>&1
t0=$(cpu_ticks "$AGENT"); s0=$(grep -c "stored 0" "$W/st-agent.log" || true)
"$B/pgbench" -h 127.0.0.1 -p 55481 -U postgres -n -c 4 -T "$SECS" postgres >/dev/null 2>&1
sleep 3   # what is still in flight
t1=$(cpu_ticks "$AGENT"); s1=$(grep -c "stored 0" "$W/st-agent.log" || true)
hz=$(getconf CLK_TCK)
segs=$((s1 - s0))
printf "%-34s %10s %14s\n" "lifeboat agent (stream, S3)" "$segs" "$(( segs > 0 ? (t1 - t0) * 1000 / hz / segs : 0 ))"

# 2. and 3. archive_command: Lifeboat's wal-push (S3) and pgBackRest's archive-push, as bench/wal-archive.sh runs them.
walpush_config "$W/lifeboat.yml"
pgbackrest_conf bench "$W/br/data" 55483 "$W/br" archive-async=n
start_cluster "$W/lb" 55482 "$(timed "$W/lb/calls.txt") $PWD/bin/lifeboat wal-push --config $W/lifeboat.yml --cluster bench %p"
printf "%-28s %9s %9s %8s %10s %12s %8s %14s\n" "archive_command" "WAL segs" "archived" "failed" "segs/s" "segs behind" "calls" "CPU ms/seg"
run_load 55482 "lifeboat wal-push (S3)" "$W/lb/calls.txt"
runuser -u postgres -- "$B/pg_ctl" -D "$W/lb/data" -m fast stop >/dev/null
if command -v pgbackrest >/dev/null; then
  start_cluster "$W/br" 55483 "$(timed "$W/br/calls.txt") pgbackrest --config=$W/br/pgbackrest.conf --stanza=bench archive-push %p"
  runuser -u postgres -- pgbackrest --config="$W/br/pgbackrest.conf" --stanza=bench stanza-create >/dev/null
  run_load 55483 "pgbackrest archive-push" "$W/br/calls.txt"
  runuser -u postgres -- "$B/pg_ctl" -D "$W/br/data" -m fast stop >/dev/null
fi

# 4. RPO at a crash, asynchronous stream.
echo "crash (stream, flush-interval $FLUSH s): $(crash_and_restore st 55481 "$W/st.yml")"

# 5. Synchronous mode: commit latency and RPO.
SCALE=1 start_cluster "$W/sy" 55484 "" "synchronous_commit=on"
config "$W/sy.yml" sy 55484 "        synchronous: true
        application-name: lifeboat_sync
        flush-interval: ${FLUSH}s"
start_agent "$W/sy.yml" "$W/sy-agent.log"
psql_ 55484 "alter system set synchronous_standby_names = 'lifeboat_sync'" && psql_ 55484 "select pg_reload_conf()" >/dev/null
sleep 1
bin/lifeboat backup --config "$W/sy.yml" --cluster sy --type physical >/dev/null 2>&1
lat() { "$B/pgbench" -h 127.0.0.1 -p 55484 -U postgres -n -c 1 -T 10 -b simple-update postgres 2>/dev/null | awk '/latency average/ {print $4}'; }
sync_ms=$(lat)
local_ms=$(PGOPTIONS='-c synchronous_commit=local' lat)
echo "synchronous commit latency (pgbench -c 1 simple-update): $sync_ms ms with the agent, $local_ms ms local"
echo "crash (synchronous stream): $(crash_and_restore sy 55484 "$W/sy.yml")"
