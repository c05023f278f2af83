#!/usr/bin/env bash
# Logical backup benchmark: Lifeboat `backup --type logical` against plain `pg_dump -Fd -j2` to a
# local directory, on the same pgbench database in the same run. Also times the restores.
# Usage (as root): bench/logical.sh [scale=50] [repo-uri]; repo defaults to an embedded S3 server.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SCALE=${1:-50}
REPO=${2:-}
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-bench-XXXX)
PORT=55433
chown postgres "$W"
cleanup() {
  runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -m immediate stop >/dev/null 2>&1 || true
  [[ -n "${S3PID:-}" ]] && kill "$S3PID" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package

# shellcheck source=bench/lib.sh
source bench/lib.sh
secs() { echo "$2 - $1" | bc; }

runuser -u postgres -- "$B/initdb" -D "$W/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
printf "port=$PORT\nunix_socket_directories='%s'\nlisten_addresses='127.0.0.1'\nmax_wal_size=4GB\n" "$W" >> "$W/data/postgresql.conf"
runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -l "$W/log" -w start >/dev/null
C=(-h 127.0.0.1 -p $PORT -U postgres)
"$B/pgbench" "${C[@]}" -i -q -s "$SCALE" postgres 2>/dev/null
DBSIZE=$("$B/psql" "${C[@]}" -Atc "select pg_size_pretty(pg_database_size('postgres'))")
echo "pgbench scale $SCALE, database size $DBSIZE, $(nproc) cores"

if [[ -z "$REPO" ]]; then
  start_s3
  REPO="s3://bench/lifeboat?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true"
fi
L=(--pg-host 127.0.0.1 --pg-port $PORT --pg-user postgres --repo "$REPO" --cluster bench --allow-same-server
   --jobs 2 --spool-directory "$W/spool")

sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
t0=$(now); "$B/pg_dump" "${C[@]}" -d postgres -Fd -j2 -f "$W/dump"; t1=$(now)
PGDUMP=$(secs "$t0" "$t1"); PGDUMP_SIZE=$(du -sb "$W/dump" | cut -f1)

sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
t0=$(now); bin/lifeboat backup "${L[@]}" --type logical --database postgres >"$W/id" 2>"$W/lb.log"; t1=$(now)
LB=$(secs "$t0" "$t1"); ID=$(cat "$W/id")
LB_SIZE=$(bin/lifeboat show "${L[@]}" --json "$ID" 2>/dev/null | python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(o["size"] for o in m["objects"]))')

"$B/psql" "${C[@]}" -qc "create database r1" -c "create database r2"
t0=$(now); "$B/pg_restore" "${C[@]}" -d r1 -j2 "$W/dump"; t1=$(now)
PGRESTORE=$(secs "$t0" "$t1")
t0=$(now); bin/lifeboat restore "${L[@]}" --backup "$ID" --target-database r2 >/dev/null 2>>"$W/lb.log"; t1=$(now)
LBRESTORE=$(secs "$t0" "$t1")

printf "\n%-44s %9s %12s\n" "" "seconds" "bytes"
printf "%-44s %9.2f %12d\n" "pg_dump -Fd -j2 (gzip) to local dir" "$PGDUMP" "$PGDUMP_SIZE"
printf "%-44s %9.2f %12d\n" "lifeboat backup --type logical (zstd) to repo" "$LB" "$LB_SIZE"
printf "%-44s %9.2f\n" "pg_restore -j2 from local dir" "$PGRESTORE"
printf "%-44s %9.2f\n" "lifeboat restore from repo" "$LBRESTORE"
printf "\nratio backup  lifeboat / pg_dump    = %.2f (goal <= 1.20)\n" "$(echo "$LB / $PGDUMP" | bc -l)"
printf "ratio restore lifeboat / pg_restore = %.2f\n" "$(echo "$LBRESTORE / $PGRESTORE" | bc -l)"
printf "ratio size    lifeboat / pg_dump    = %.2f\n" "$(echo "$LB_SIZE / $PGDUMP_SIZE" | bc -l)"
echo "repository: ${REPO%%\?*}"
