#!/usr/bin/env bash
# Recovery benchmark: how fast archived WAL is replayed. One cluster archives every segment both to
# Lifeboat (S3 server) and to pgBackRest (local repository); after a base backup of each, pgbench
# writes for a while. Then each tool restores its backup and replays the whole archive (restore_command
# = lifeboat wal-fetch / pgbackrest archive-get); Lifeboat once as shipped (prefetch, answered by the
# launcher) and once with every call through the JVM (LIFEBOAT_NO_FAST_PATH=1).
# Usage (as root): bench/wal-recovery.sh [seconds of pgbench=40] [pgbench scale=10]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SECS=${1:-40}
SCALE=${2:-10}
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-recbench-XXXX)
chmod 755 "$W"; chown postgres "$W"
PORT=55481
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package
bin/lifeboat --version >/dev/null
command -v pgbackrest >/dev/null || { apt-get install -y -qq pgbackrest >/dev/null 2>&1 || true; }
HAVE_BR=0; command -v pgbackrest >/dev/null && HAVE_BR=1
cleanup() {
  for d in "$W"/data "$W"/r-*/data; do runuser -u postgres -- "$B/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true; done
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
    postgres:
      host: 127.0.0.1
      port: $PORT
      user: postgres
    repositories:
      - uri: s3://bench/rec?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true
        access-key-id: $LIFEBOAT_S3_ACCESS_KEY_ID
        secret-access-key: $LIFEBOAT_S3_SECRET_ACCESS_KEY
        allow-same-server: true
EOC
chown postgres "$W/lifeboat.yml"; chmod 600 "$W/lifeboat.yml"
LB=(--config "$W/lifeboat.yml" --cluster bench)

pgbackrest_conf bench "$W/data" "$PORT" "$W" process-max=2 start-fast=y
BR="pgbackrest --config=$W/br/pgbackrest.conf --stanza=bench"

archiving_cluster 4GB
"$B/pgbench" "${C[@]}" -i -q -s "$SCALE" postgres 2>/dev/null
base_backups
first=$("$B/psql" "${C[@]}" -Atc "select pg_walfile_name(pg_current_wal_lsn())")
"$B/pgbench" "${C[@]}" -n -c 4 -T "$SECS" postgres >/dev/null 2>&1
rows=$("$B/psql" "${C[@]}" -Atc "select sum(abalance) from pgbench_accounts")
last=$("$B/psql" "${C[@]}" -Atc "select pg_walfile_name(pg_switch_wal())")
for _ in $(seq 600); do
  [[ "$("$B/psql" "${C[@]}" -Atc "select coalesce(last_archived_wal,'') from pg_stat_archiver")" < "$last" ]] || break
  sleep 0.2
done
segs=$(( 16#${last:16:8} - 16#${first:16:8} + 1 ))
runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -m immediate stop >/dev/null
echo "pgbench -c 4 for $SECS s (scale $SCALE) after the base backup: $segs WAL segments to replay; $(nproc) cores"
printf "%-52s %10s %12s\n" "restore + replay of the whole archive" "seconds" "data check"

# The prefetcher alone: one `wal-prefetch` downloading the 16 segments after the first, verified.
mkdir -p "$W/pf/pg_wal"
t0=$(now); bin/lifeboat wal-prefetch "${LB[@]}" --ahead 16 "$first" "$W/pf/pg_wal" >/dev/null 2>&1 || true; t1=$(now)
got=$(ls "$W/pf/pg_wal/.lifeboat/prefetch" | grep -c '^[0-9A-F]\{24\}$' || true)
printf "%-52s %10.2f %12s\n" "lifeboat wal-prefetch alone ($got segments)" "$(echo "$t1 - $t0" | bc)" ""
t0=$(now); for f in $(ls "$W/pf/pg_wal/.lifeboat/prefetch" | grep '^[0-9A-F]\{24\}$' | head -4); do LIFEBOAT_NO_FAST_PATH=1 bin/lifeboat wal-fetch "${LB[@]}" "$f" "$W/pf/pg_wal/X" >/dev/null 2>&1 || true; done; t1=$(now)
printf "%-52s %10.2f %12s\n" "lifeboat wal-fetch through the JVM, per segment" "$(echo "($t1 - $t0) / 4" | bc -l)" ""
for _ in $(seq 100); do pgrep -f "wal-prefetch.*$W/pf" >/dev/null || break; sleep 0.2; done  # the calls start prefetchers
rm -rf "$W/pf"

check() { # port → the checksum of the data the load changed, compared with the original
  local got; got=$("$B/psql" -h 127.0.0.1 -p "$1" -U postgres -Atc "select sum(abalance) from pgbench_accounts")
  [[ "$got" == "$rows" ]] && echo "identical" || echo "DIFFERENT"
}
lifeboat_run() { # label, env
  local d="$W/r-$2"; mkdir -p "$d"; chown postgres "$d"
  sync; echo 3 > /proc/sys/vm/drop_caches
  local t0; t0=$(now)
  env $3 bin/lifeboat restore "${LB[@]}" --type physical -D "$d/data" --start --port $((PORT + 1)) >/dev/null 2>"$d/err" \
    || { echo "lifeboat restore failed: $(tail -3 "$d/err")"; return; }
  local t1; t1=$(now)
  printf "%-52s %10.2f %12s\n" "$1" "$(echo "$t1 - $t0" | bc)" "$(check $((PORT + 1)))"
  runuser -u postgres -- "$B/pg_ctl" -D "$d/data" -m immediate stop >/dev/null 2>&1 || true
  if [[ -n "${KEEP_LOGS:-}" ]]; then mkdir -p "$KEEP_LOGS/$2"; find "$d" -name '*.log' -exec cp {} "$KEEP_LOGS/$2/" \; ; cp "$d/err" "$KEEP_LOGS/$2/"; fi
  rm -rf "$d"
}
lifeboat_run "lifeboat (prefetch, launcher answers)" fast "LIFEBOAT_X=1"
lifeboat_run "lifeboat (every wal-fetch a JVM)" jvm "LIFEBOAT_NO_FAST_PATH=1"
if [[ $HAVE_BR == 1 ]]; then
  d="$W/r-br"; mkdir -p "$d"; chown postgres "$d"
  sync; echo 3 > /proc/sys/vm/drop_caches
  t0=$(now)
  runuser -u postgres -- $BR --pg1-path="$d/data" restore >/dev/null 2>&1
  printf "port=%d\n" $((PORT + 2)) >> "$d/data/postgresql.auto.conf"
  runuser -u postgres -- "$B/pg_ctl" -D "$d/data" -l "$d/log" -w -t 3600 start >/dev/null
  until [[ "$("$B/psql" -h 127.0.0.1 -p $((PORT + 2)) -U postgres -Atc "select pg_is_in_recovery()" 2>/dev/null)" == "f" ]]; do sleep 0.1; done
  t1=$(now)
  printf "%-52s %10.2f %12s\n" "pgbackrest restore + archive-get (local repository)" "$(echo "$t1 - $t0" | bc)" "$(check $((PORT + 2)))"
fi
