#!/usr/bin/env bash
# What `verify` costs on archived WAL. One cluster archives every segment to Lifeboat (a local
# directory and the embedded S3 server) and to pgBackRest (local repository); after a physical backup
# of each, bulk inserts write SEGMENTS segments. Then, in the same run: `lifeboat verify` (every
# archived copy read, decoded and checked against its SHA-256), `lifeboat verify --wal-sample 0`
# (the listing and continuity only: what reading the WAL adds), and `pgbackrest verify` (which reads
# and checks its archive the same way), each with a cold page cache.
# Usage (as root): bench/verify-wal.sh [segments=300]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SEGMENTS=${1:-300}
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-verifybench-XXXX)
chmod 755 "$W"; chown postgres "$W"
PORT=55491
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package
bin/lifeboat --version >/dev/null
command -v pgbackrest >/dev/null || { apt-get install -y -qq pgbackrest >/dev/null 2>&1 || true; }
HAVE_BR=0; command -v pgbackrest >/dev/null && HAVE_BR=1
cleanup() {
  runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -m immediate stop >/dev/null 2>&1 || true
  [[ -n "${S3PID:-}" ]] && kill "$S3PID" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh

start_s3
mkdir -p "$W/repo/bench/wal"; chown -R postgres "$W/repo"
cat > "$W/lifeboat.yml" <<EOC
clusters:
  bench:
    postgres:
      host: 127.0.0.1
      port: $PORT
      user: postgres
    repositories:
      - name: local
        uri: file://$W/repo
        allow-same-server: true
      - name: s3
        uri: s3://bench/verify?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true
        access-key-id: $LIFEBOAT_S3_ACCESS_KEY_ID
        secret-access-key: $LIFEBOAT_S3_SECRET_ACCESS_KEY
        allow-same-server: true
EOC
chown postgres "$W/lifeboat.yml"; chmod 600 "$W/lifeboat.yml"
LB=(--config "$W/lifeboat.yml" --cluster bench)

pgbackrest_conf bench "$W/data" "$PORT" "$W" process-max=2 start-fast=y
BR="pgbackrest --config=$W/br/pgbackrest.conf --stanza=bench"
archiving_cluster 1GB
base_backups
"$B/psql" "${C[@]}" -Atqc "create table t (i int, v text)"
first=$("$B/psql" "${C[@]}" -Atc "select pg_walfile_name(pg_current_wal_lsn())")
# Bulk inserts of md5 text (about half compressible, like much real WAL) until SEGMENTS segments are written.
segno() { echo $(( 16#${1:8:8} * 256 + 16#${1:16:8} )); }   # 16 MiB segments: 256 per log
while :; do
  now=$("$B/psql" "${C[@]}" -Atc "select pg_walfile_name(pg_current_wal_lsn())")
  (( $(segno "$now") - $(segno "$first") >= SEGMENTS )) && break
  "$B/psql" "${C[@]}" -Atqc "insert into t select g, md5(g::text) || md5((g+1)::text) from generate_series(1, 300000) g; truncate t"
done
last=$("$B/psql" "${C[@]}" -Atc "select pg_walfile_name(pg_switch_wal())")
for _ in $(seq 3000); do
  [[ "$("$B/psql" "${C[@]}" -Atc "select coalesce(last_archived_wal,'') from pg_stat_archiver")" < "$last" ]] || break
  sleep 0.2
done
runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -m fast stop >/dev/null
copies=$(find "$W/repo/bench/wal" -type f | wc -l)
echo "$copies archived WAL copies per Lifeboat repository ($(du -sh "$W/repo/bench/wal" | cut -f1) stored), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
# CPU seconds (user + sys, children included) beside the wall time: on a shared machine the wall time
# says as much about the neighbours as about the tools.
printf "%-62s %8s %8s %6s\n" "verify" "wall s" "CPU s" "exit"
timed() { # label command...
  local label=$1; shift
  sync; echo 3 > /proc/sys/vm/drop_caches
  local rc=0
  /usr/bin/time -f "%e %U %S" -o "$W/time" "$@" >"$W/out" 2>&1 || rc=$?
  read -r wall user sys < <(tail -1 "$W/time")
  printf "%-62s %8.2f %8.2f %6s\n" "$label" "$wall" "$(echo "$user + $sys" | bc)" "$rc"
}
cat > "$W/local.yml" <<EOC
clusters:
  bench:
    repositories:
      - uri: file://$W/repo
        allow-same-server: true
EOC
timed "lifeboat verify, local repository (every WAL copy read)" bin/lifeboat verify --config "$W/local.yml"
grep "archived WAL" "$W/out" | head -2
timed "lifeboat verify --wal-sample 0, local (listing only)" bin/lifeboat verify --config "$W/local.yml" --wal-sample 0
timed "lifeboat verify --wal-sample 50, local" bin/lifeboat verify --config "$W/local.yml" --wal-sample 50
timed "lifeboat verify, local + S3 repositories (each read)" bin/lifeboat verify "${LB[@]}"
grep "archived WAL" "$W/out" | head -2
if [[ $HAVE_BR == 1 ]]; then
  timed "pgbackrest verify (local repository)" runuser -u postgres -- $BR verify
fi
