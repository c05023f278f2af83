#!/usr/bin/env bash
# Physical backup benchmark (default scale 100; RANDOMDATA=N adds N rows of 256 random bytes (incompressible)): Lifeboat physical to S3 (s3proxy) vs pg_basebackup -Ft -z vs
# pg_basebackup | zstd -T2 -3 vs pgBackRest full (zst-3, process-max 2); restores of Lifeboat and pgBackRest.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SCALE=${1:-100}
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package
command -v pgbackrest >/dev/null || apt-get install -y -qq pgbackrest >/dev/null
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-physbench-XXXX); chmod 755 "$W"; chown postgres "$W"
PORT=55491
cleanup() { runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -m immediate stop >/dev/null 2>&1 || true; [[ -n "${S3PID:-}" ]] && kill "$S3PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
now() { date +%s.%N; }
runuser -u postgres -- "$B/initdb" -D "$W/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
printf "port=$PORT\nunix_socket_directories='$W'\nlisten_addresses='127.0.0.1'\nwal_level=replica\nmax_wal_senders=4\nmax_wal_size=4GB\n" >> "$W/data/postgresql.conf"
runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -l "$W/log" -w start >/dev/null
C=(-h 127.0.0.1 -p $PORT -U postgres)
"$B/pgbench" "${C[@]}" -i -q -s "$SCALE" postgres 2>/dev/null
if [[ -n "${RANDOMDATA:-}" ]]; then
  "$B/psql" "${C[@]}" -qc "create table rnd as select g, decode(string_agg(lpad(to_hex((random()*4294967295)::bigint), 8, '0'), ''), 'hex') b from generate_series(1, ${RANDOMDATA}) g, generate_series(1, 64) h group by g"
fi
echo "database: $("$B/psql" "${C[@]}" -Atc "select pg_size_pretty(pg_database_size('postgres'))")"
bin/lifeboat s3-server --dir "$W/s3" --bucket bench --env-file "$W/s3.env" >/dev/null 2>&1 &
S3PID=$!
for _ in $(seq 150); do [[ -s "$W/s3.env" ]] && break; sleep 0.2; done
source "$W/s3.env"; export LIFEBOAT_S3_ACCESS_KEY_ID LIFEBOAT_S3_SECRET_ACCESS_KEY
L=(--pg-host 127.0.0.1 --pg-port $PORT --pg-user postgres --repo "s3://bench/p?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true" --cluster pb --allow-same-server --jobs 2)
res() { printf "%-44s %8.2f s %12s\n" "$1" "$2" "$3"; }
sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(now); "$B/pg_basebackup" "${C[@]}" -D "$W/bbz" -Ft -z -c fast; t1=$(now); BBZ=$(echo "$t1-$t0"|bc); res "pg_basebackup -Ft -z -c fast" $BBZ "$(du -sb $W/bbz|cut -f1)"; rm -rf "$W/bbz"
sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(now); sh -c "$B/pg_basebackup -h 127.0.0.1 -p $PORT -U postgres -D - -Ft -X fetch -c fast | zstd -q -T2 -3 > $W/pipe.zst"; t1=$(now); PIPE=$(echo "$t1-$t0"|bc); res "pg_basebackup -D - -Ft | zstd -T2 -3" $PIPE "$(stat -c %s $W/pipe.zst)"; rm -f "$W/pipe.zst"
sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(now); bin/lifeboat backup "${L[@]}" --type physical >/dev/null 2>&1; t1=$(now); LB=$(echo "$t1-$t0"|bc); res "lifeboat backup --type physical (S3)" $LB "$(du -sb $W/s3 | cut -f1)"
# Like for like with pgBackRest, whose repository below is a local directory: the same backup into a
# local directory repository shows what the S3 server's upload path costs.
mkdir -p "$W/fsrepo"
sync; echo 3 > /proc/sys/vm/drop_caches
LF=("${L[@]}"); LF[7]="file://$W/fsrepo"; LF[9]=pbfs
t0=$(now); bin/lifeboat backup "${LF[@]}" --type physical >/dev/null 2>&1; t1=$(now); LBF=$(echo "$t1-$t0"|bc); res "lifeboat backup --type physical (local dir)" $LBF "$(du -sb $W/fsrepo | cut -f1)"
mkdir -p "$W/br/repo" "$W/br/log" "$W/br/lock"
cat > "$W/br/pgbackrest.conf" <<EOC
[global]
repo1-path=$W/br/repo
log-path=$W/br/log
lock-path=$W/br/lock
process-max=2
compress-type=zst
compress-level=3
start-fast=y
archive-check=n
repo1-retention-full=9
[demo]
pg1-path=$W/data
pg1-port=$PORT
pg1-socket-path=$W
EOC
chown -R postgres "$W/br"
P="runuser -u postgres -- pgbackrest --config=$W/br/pgbackrest.conf --stanza=demo"
$P stanza-create >/dev/null 2>&1
sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(now); $P --type=full backup >/dev/null 2>&1; t1=$(now); BR=$(echo "$t1-$t0"|bc); res "pgbackrest full (zst-3, process-max 2)" $BR "$(du -sb $W/br/repo|cut -f1)"
mkdir -p "$W/r1" "$W/r2"; chown postgres "$W/r1" "$W/r2"
sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(now); bin/lifeboat restore "${L[@]}" --type physical -D "$W/r1/d" --no-verify >/dev/null 2>&1; t1=$(now); LBR=$(echo "$t1-$t0"|bc); res "lifeboat restore --type physical" $LBR ""
mkdir -p "$W/r3"; chown postgres "$W/r3"
sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(now); bin/lifeboat restore "${LF[@]}" --type physical -D "$W/r3/d" --no-verify >/dev/null 2>&1; t1=$(now); LBRF=$(echo "$t1-$t0"|bc); res "lifeboat restore --type physical (local dir)" $LBRF ""
rm -rf "$W/r3" "$W/fsrepo"
sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(now); $P --pg1-path="$W/r2/d" restore >/dev/null 2>&1; t1=$(now); BRR=$(echo "$t1-$t0"|bc); res "pgbackrest restore" $BRR ""
printf "\nlifeboat / pg_basebackup -z = %.2f (goal <= 0.25)\nlifeboat / pgbackrest      = %.2f (goal <= 0.70)\nlifeboat / zstd pipe       = %.2f (goal <= 1.30)\nrestore lifeboat / pgbackrest = %.2f (goal <= 0.70)\n" \
  "$(echo "$LB/$BBZ"|bc -l)" "$(echo "$LB/$BR"|bc -l)" "$(echo "$LB/$PIPE"|bc -l)" "$(echo "$LBR/$BRR"|bc -l)"
printf "like for like (lifeboat's repository a local directory too): backup / pg_basebackup -z = %.2f, / pgbackrest = %.2f, / pipe = %.2f; restore / pgbackrest = %.2f\n" \
  "$(echo "$LBF/$BBZ"|bc -l)" "$(echo "$LBF/$BR"|bc -l)" "$(echo "$LBF/$PIPE"|bc -l)" "$(echo "$LBRF/$BRR"|bc -l)"
