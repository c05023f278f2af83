#!/usr/bin/env bash
# WAL archiving benchmark: sustained archiving under `pgbench -c 4` writes with archive_command =
# lifeboat wal-push (to an S3 server), then the same with pgBackRest archive-push (to a local repo),
# in one run on one machine. Reports segments archived per second, whether the archiver fell behind
# (pg_stat_archiver), the CPU time used per archived segment (every archive_command call timed, plus
# Lifeboat's archive-ahead process), and the cost of one wal-push process start.
# Usage (as root): bench/wal-archive.sh [seconds=30] [pgbench scale=20]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SECS=${1:-30}
SCALE=${2:-20}
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-walbench-XXXX)
chmod 755 "$W"
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package
bin/lifeboat --version >/dev/null   # make sure the start-up archive exists before timing
command -v pgbackrest >/dev/null || { apt-get install -y -qq pgbackrest >/dev/null 2>&1 || true; }
cleanup() {
  for d in "$W"/lb "$W"/br; do runuser -u postgres -- "$B/pg_ctl" -D "$d/data" -m immediate stop >/dev/null 2>&1 || true; done
  [[ -n "${S3PID:-}" ]] && kill "$S3PID" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
source bench/lib.sh
start_s3
walpush_config "$W/lifeboat.yml"

pgbackrest_conf bench "$W/br/data" 55472 "$W/br" archive-async=n

start_cluster "$W/lb" 55471 "$(timed "$W/lb/calls.txt") $PWD/bin/lifeboat wal-push --config $W/lifeboat.yml --cluster bench %p"
HAVE_BR=0
if command -v pgbackrest >/dev/null; then
  start_cluster "$W/br" 55472 "$(timed "$W/br/calls.txt") pgbackrest --config=$W/br/pgbackrest.conf --stanza=bench archive-push %p"
  runuser -u postgres -- pgbackrest --config="$W/br/pgbackrest.conf" --stanza=bench stanza-create >/dev/null && HAVE_BR=1
fi
echo "pgbench -c 4 for $SECS s (scale $SCALE) on $(nproc) cores; archiver lag measured when the load stops"
printf "%-28s %9s %9s %8s %10s %12s %8s %14s\n" "archive_command" "WAL segs" "archived" "failed" "segs/s" "segs behind" "calls" "CPU ms/seg"
run_load 55471 "lifeboat wal-push (S3)" "$W/lb/calls.txt"
[[ $HAVE_BR == 1 ]] && run_load 55472 "pgbackrest archive-push" "$W/br/calls.txt"

# One process start: push a segment that is already archived (no upload, just start + check).
seg=$(ls "$W/lb/data/pg_wal" | grep -E '^[0-9A-F]{24}$' | head -1)
if [[ -n "$seg" ]]; then
  cd "$W/lb/data"
  s=$(date +%s%N); for i in 1 2 3 4 5; do runuser -u postgres -- env LIFEBOAT_NO_FAST_PATH=1 LIFEBOAT_ARCHIVE_AHEAD=off "$OLDPWD/bin/lifeboat" wal-push --config "$W/lifeboat.yml" --cluster bench "pg_wal/$seg" >/dev/null 2>&1 || true; done; e=$(date +%s%N)
  echo "lifeboat wal-push, one JVM call (already archived): $(( (e - s) / 5000000 )) ms"
  if [[ -f "pg_wal/.lifeboat/archived/$seg" ]]; then
    s=$(date +%s%N); for i in 1 2 3 4 5; do runuser -u postgres -- "$OLDPWD/bin/lifeboat" wal-push --config "$W/lifeboat.yml" --cluster bench "pg_wal/$seg" >/dev/null 2>&1 || true; done; e=$(date +%s%N)
    echo "lifeboat wal-push, one call answered by the launcher (stored ahead): $(( (e - s) / 5000000 )) ms"
  fi
  if [[ $HAVE_BR == 1 ]]; then
    cd "$W/br/data"; seg2=$(ls pg_wal | grep -E '^[0-9A-F]{24}$' | head -1)
    s=$(date +%s%N); for i in 1 2 3 4 5; do runuser -u postgres -- pgbackrest --config="$W/br/pgbackrest.conf" --stanza=bench archive-push "pg_wal/$seg2" >/dev/null 2>&1 || true; done; e=$(date +%s%N)
    echo "pgbackrest archive-push, one call (already archived): $(( (e - s) / 5000000 )) ms"
  fi
fi
