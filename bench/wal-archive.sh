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
cat > "$W/lifeboat.yml" <<EOC
clusters:
  bench:
    repositories:
      - uri: s3://bench/wal?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true
        access-key-id: $LIFEBOAT_S3_ACCESS_KEY_ID
        secret-access-key: $LIFEBOAT_S3_SECRET_ACCESS_KEY
        allow-same-server: true
EOC
chown postgres "$W/lifeboat.yml"; chmod 600 "$W/lifeboat.yml"

pgbackrest_conf bench "$W/br/data" 55472 "$W/br" archive-async=n

start_cluster() { # dir port archive_command
  mkdir -p "$1"; chown postgres "$1"
  runuser -u postgres -- "$B/initdb" -D "$1/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
  cat >> "$1/data/postgresql.conf" <<EOC
port=$2
unix_socket_directories='$1'
listen_addresses='127.0.0.1'
wal_level=replica
archive_mode=on
archive_command='$3'
max_wal_size=4GB
synchronous_commit=off
EOC
  runuser -u postgres -- "$B/pg_ctl" -D "$1/data" -l "$1/log.txt" -w start >/dev/null
  "$B/pgbench" -h 127.0.0.1 -p "$2" -U postgres -i -q -s "$SCALE" postgres 2>/dev/null
}

run_load() { # port label calls-file
  local p=$1
  "$B/psql" -h 127.0.0.1 -p "$p" -U postgres -Atqc "select pg_stat_reset_shared('archiver')" >/dev/null
  [[ -f "$3" ]] && : > "$3"   # count only the calls during the load
  rm -f "${3%/*}/data/pg_wal/.lifeboat/ahead.log"
  local before; before=$("$B/psql" -h 127.0.0.1 -p "$p" -U postgres -Atc "select pg_current_wal_lsn()")
  "$B/pgbench" -h 127.0.0.1 -p "$p" -U postgres -n -c 4 -T "$SECS" postgres >/dev/null 2>&1
  local now; now=$("$B/psql" -h 127.0.0.1 -p "$p" -U postgres -Atc "select pg_walfile_name(pg_current_wal_lsn())")
  local stats; stats=$("$B/psql" -h 127.0.0.1 -p "$p" -U postgres -Atc "select archived_count, failed_count, coalesce(last_archived_wal,'-') from pg_stat_archiver")
  local generated; generated=$("$B/psql" -h 127.0.0.1 -p "$p" -U postgres -Atc "select round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$before')/16777216.0, 1)")
  IFS='|' read -r archived failed last <<<"$stats"
  local behind; behind=$(( 16#${now:16:8} - 16#${last:16:8} + (16#${now:8:8} - 16#${last:8:8}) * 256 - 1 ))
  # Per-segment overhead: every archive_command call ran under /usr/bin/time (wall, user, sys seconds).
  local calls=0 cpu=0 wall=0
  if [[ -s "$3" ]]; then
    read -r calls wall cpu < <(awk -F, '/^[0-9.]+,[0-9.]+,[0-9.]+$/ {n++; w+=$1; c+=$2+$3} END {printf "%d %.2f %.2f\n", n, w, c}' "$3")
  fi
  # Lifeboat's archive-ahead process does most uploads outside archive_command: charge its whole
  # CPU time (start-up and idle polling included) to the archiver too.
  local ahead="${3%/*}/data/pg_wal/.lifeboat/ahead.log" ahead_cpu=0
  if [[ -f "$ahead" ]]; then
    ahead_cpu=$(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); f[kv[1]] = kv[2]} if (f["cpu_total_ms"] > t[f["pid"]]) t[f["pid"]] = f["cpu_total_ms"]}
                     END {s = 0; for (p in t) s += t[p]; printf "%.2f\n", s / 1000}' "$ahead")
    cpu=$(echo "$cpu + $ahead_cpu" | bc)
  fi
  local per="-"
  (( archived > 0 )) && per=$(echo "scale=0; $cpu * 1000 / $archived" | bc)
  printf "%-28s %9s %9s %8s %10s %12s %8s %14s\n" "$2" "$generated" "$archived" "$failed" "$(echo "scale=2; $archived / $SECS" | bc)" "$behind" "$calls" "$per"
  if [[ -f "$ahead" ]]; then
    local batches; batches=$(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); f[kv[1]] = kv[2]} n += f["archived"]; c += f["cpu_ms"]}
                                END {printf "%d segments in batches costing %d ms CPU", n, c}' "$ahead")
    echo "  of that CPU: archive_command calls $(echo "$cpu - $ahead_cpu" | bc) s; archive-ahead process $ahead_cpu s in all ($batches)"
  fi
}

timed() { echo "/usr/bin/time -a -o $1 -f %%e,%%U,%%S"; }  # %% is PostgreSQL's escape for %
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
