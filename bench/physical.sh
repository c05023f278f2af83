#!/usr/bin/env bash
# Physical backup benchmark, all on the same pgbench database in one run:
#   backups:  Lifeboat to S3 (s3proxy) and to a local directory, pg_basebackup -Ft -z,
#             pg_basebackup | zstd -T2 -3, pgBackRest full (zst-3, process-max 2, local repository);
#   restores: Lifeboat from S3 and from the local directory, pgBackRest.
# Usage (as root): bench/physical.sh [scale=100]
#   RUNS=N (default 3): every step runs N times and the median counts (this machine's disk and
#     scheduler make single runs vary by ±30%); all runs are printed.
#   RANDOMDATA=N adds a table of N rows of 256 random bytes: incompressible data, where pgbench's
#     very compressible pages no longer flatter every compressor.
# Every timed step starts from the same state: previous output removed, page cache dropped.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SCALE=${1:-100}
RUNS=${RUNS:-3}
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package
command -v pgbackrest >/dev/null || apt-get install -y -qq pgbackrest >/dev/null
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-physbench-XXXX); chmod 755 "$W"; chown postgres "$W"
PORT=55491
cleanup() { runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -m immediate stop >/dev/null 2>&1 || true; [[ -n "${S3PID:-}" ]] && kill "$S3PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh
settle() { sync; echo 3 > /proc/sys/vm/drop_caches; sleep 1; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
# step NAME PREPARE COMMAND: registers a timed step (PREPARE and COMMAND are functions). run_steps
# runs RUNS rounds of all steps in order, interleaved, so that a slow minute of the machine hits
# every tool alike; before each run, PREPARE (untimed), then the page cache is dropped. T[NAME] is
# the median.
NAMES=(); PREPS=(); CMDS=()
declare -A T TIMES
step() { NAMES+=("$1"); PREPS+=("$2"); CMDS+=("$3"); }
run_steps() {
  local i t0 t1
  for _ in $(seq "$RUNS"); do
    for i in "${!NAMES[@]}"; do
      ${PREPS[$i]}
      settle
      t0=$(now)
      ${CMDS[$i]} >"$W/last.log" 2>&1 || { echo "${NAMES[$i]} failed:" >&2; tail -5 "$W/last.log" >&2; exit 1; }
      t1=$(now)
      TIMES[${NAMES[$i]}]+="$(echo "$t1 - $t0" | bc) "
    done
  done
  for i in "${!NAMES[@]}"; do
    # shellcheck disable=SC2086
    T[${NAMES[$i]}]=$(median ${TIMES[${NAMES[$i]}]})
    # shellcheck disable=SC2086
    printf "%-44s %8.2f s   (runs: %s)\n" "${NAMES[$i]}" "${T[${NAMES[$i]}]}" "$(printf '%.2f ' ${TIMES[${NAMES[$i]}]})"
  done
}

runuser -u postgres -- "$B/initdb" -D "$W/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
printf "port=$PORT\nunix_socket_directories='$W'\nlisten_addresses='127.0.0.1'\nwal_level=replica\nmax_wal_senders=4\nmax_wal_size=4GB\n" >> "$W/data/postgresql.conf"
runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -l "$W/log" -w start >/dev/null
C=(-h 127.0.0.1 -p $PORT -U postgres)
"$B/pgbench" "${C[@]}" -i -q -s "$SCALE" postgres 2>/dev/null
if [[ -n "${RANDOMDATA:-}" ]]; then
  "$B/psql" "${C[@]}" -qc "create table rnd as select g, decode(string_agg(lpad(to_hex((random()*4294967295)::bigint), 8, '0'), ''), 'hex') b from generate_series(1, ${RANDOMDATA}) g, generate_series(1, 64) h group by g"
fi
"$B/psql" "${C[@]}" -qc checkpoint
echo "database: $("$B/psql" "${C[@]}" -Atc "select pg_size_pretty(pg_database_size('postgres'))"), $RUNS runs per step, median counts"
start_s3
LS3=(--pg-host 127.0.0.1 --pg-port $PORT --pg-user postgres --repo "s3://bench/p?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true" --cluster pb --allow-same-server --jobs 2)
# Like for like with pgBackRest, whose repository below is a local directory: the same backup into a
# local directory repository shows what the S3 server's upload path costs.
LFS=(--pg-host 127.0.0.1 --pg-port $PORT --pg-user postgres --repo "file://$W/fsrepo" --cluster pb --allow-same-server --jobs 2)
pgbackrest_conf demo "$W/data" "$PORT" "$W" process-max=2 start-fast=y archive-check=n repo1-retention-full=9
P=(runuser -u postgres -- pgbackrest "--config=$W/br/pgbackrest.conf" --stanza=demo)
"${P[@]}" stanza-create >/dev/null 2>&1

# Each backup starts from an empty target, so that every run stores the same and sizes compare.
no_prep() { :; }
clear_bbz() { rm -rf "$W/bbz"; }
clear_pipe() { rm -f "$W/pipe.zst"; }
clear_s3() { rm -rf "$W/s3/bench/p"; }
clear_fs() { rm -rf "$W/fsrepo"; mkdir -p "$W/fsrepo"; }
target() { rm -rf "$W/r"; mkdir -p "$W/r"; chown postgres "$W/r"; }
bbz() { "$B/pg_basebackup" "${C[@]}" -D "$W/bbz" -Ft -z -c fast; }
pipe() { sh -c "$B/pg_basebackup -h 127.0.0.1 -p $PORT -U postgres -D - -Ft -X fetch -c fast | zstd -q -T2 -3 > $W/pipe.zst"; }
lb_s3() { bin/lifeboat backup "${LS3[@]}" --type physical; }
lb_fs() { bin/lifeboat backup "${LFS[@]}" --type physical; }
br() { "${P[@]}" --type=full backup; }
lr_s3() { bin/lifeboat restore "${LS3[@]}" --type physical -D "$W/r/d" --no-verify; }
lr_fs() { bin/lifeboat restore "${LFS[@]}" --type physical -D "$W/r/d" --no-verify; }
brr() { "${P[@]}" "--pg1-path=$W/r/d" restore; }
LB="lifeboat backup --type physical (S3)"; LBF="lifeboat backup --type physical (local dir)"
BBZ="pg_basebackup -Ft -z -c fast"; PIPE="pg_basebackup -D - -Ft | zstd -T2 -3"; BR="pgbackrest full (zst-3, process-max 2)"
LR="lifeboat restore --type physical (S3)"; LRF="lifeboat restore --type physical (local dir)"; BRR="pgbackrest restore"
step "$BBZ" clear_bbz bbz
step "$PIPE" clear_pipe pipe
step "$LB" clear_s3 lb_s3
step "$LBF" clear_fs lb_fs
step "$BR" no_prep br
# Both restores fsync what they write (pgBackRest each file; Lifeboat each file and directory).
step "$LR" target lr_s3
step "$LRF" target lr_fs
step "$BRR" target brr
run_steps
rm -rf "$W/r"
echo "stored bytes (last run): pg_basebackup -z $(du -sb "$W/bbz" | cut -f1), zstd pipe $(stat -c %s "$W/pipe.zst"), lifeboat S3 $(du -sb "$W/s3/bench/p" | cut -f1), lifeboat local $(du -sb "$W/fsrepo" | cut -f1), pgbackrest $(du -sb "$(ls -d "$W"/br/repo/backup/demo/*F | sort | tail -1)" | cut -f1)"

r() { echo "${T[$1]} / ${T[$2]}" | bc -l; }
printf "\nlifeboat / pg_basebackup -z = %.2f (goal <= 0.25)\nlifeboat / pgbackrest      = %.2f (goal <= 0.70)\nlifeboat / zstd pipe       = %.2f (goal <= 1.30)\nrestore lifeboat / pgbackrest = %.2f (goal <= 0.70)\n" \
  "$(r "$LB" "$BBZ")" "$(r "$LB" "$BR")" "$(r "$LB" "$PIPE")" "$(r "$LR" "$BRR")"
printf "like for like (lifeboat's repository a local directory too): backup / pg_basebackup -z = %.2f, / pgbackrest = %.2f, / pipe = %.2f; restore / pgbackrest = %.2f\n" \
  "$(r "$LBF" "$BBZ")" "$(r "$LBF" "$BR")" "$(r "$LBF" "$PIPE")" "$(r "$LRF" "$BRR")"
