#!/usr/bin/env bash
# Physical backups at scale, all on the same pgbench database in one run, every repository a local
# directory (Lifeboat file://, pgBackRest repo1-path), zstd level 3, 2 jobs / process-max 2:
#   full:         Lifeboat over the replication protocol (remote, today's default), Lifeboat
#                 --source local, pgBackRest full;
#   incremental:  after changing about 1% of the pages, Lifeboat --source local --incremental
#                 (block-level) and pgBackRest --type=incr (file-level in 2.45, Debian 12's);
#   restore:      Lifeboat of the full backup, of the chain (full + incremental), pgBackRest of its
#                 incremental, into empty directories;
#   delta:        a directory restored from the full backup turned into the incremental's state:
#                 Lifeboat restore --delta, pgBackRest restore --delta (both read and checksum every file);
#                 Lifeboat --delta --trust-unchanged (files unchanged since the restore recorded them are
#                 compared by the backup's CRCs, not read), pgBackRest --delta --force (size and timestamp).
# Usage (as root): bench/incremental.sh [scale=100]
# LOGS=DIR keeps each step's output there (with LIFEBOAT_TRACE=1: when each phase began).
# Every timed step starts with the page cache dropped. The backups run once (each depends on the one
# before); the restores RUNS times (default 3), interleaved, and their medians count. Compare the
# ratios of one run, and run it twice on a busy machine.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SCALE=${1:-100}
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package
command -v pgbackrest >/dev/null || apt-get install -y -qq pgbackrest >/dev/null
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-incrbench-XXXX); chmod 755 "$W"; chown postgres "$W"
PORT=${PORT:-55493}
cleanup() { runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh
settle() { sync; echo 3 > /proc/sys/vm/drop_caches; sleep 1; }
declare -A T TIMES
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
# timed NAME COMMAND...: runs it after dropping the page cache; T[NAME] is the median of its runs so far.
timed() {
  local name=$1 t0 t1; shift
  settle
  t0=$(now)
  "$@" >"$W/last.out" 2>"$W/last.log" || { echo "$name failed:" >&2; tail -n 5 "$W/last.log" >&2; tail -n 5 "$W/last.out" >&2; exit 1; }
  t1=$(now)
  TIMES[$name]+="$(echo "$t1 - $t0" | bc) "
  # shellcheck disable=SC2086
  T[$name]=$(median ${TIMES[$name]})
  [[ -n "${LOGS:-}" ]] && { mkdir -p "$LOGS"; cat "$W/last.log" "$W/last.out" > "$LOGS/${name//[^a-zA-Z0-9]/_}.log"; }
  printf "%-52s %8.2f s\n" "$name" "$(echo "$t1 - $t0" | bc)"
}
size() { du -sb "$1" | cut -f1; }
fresh() { rm -rf "$1"; mkdir -p "$1"; chown postgres "$1"; }

runuser -u postgres -- "$B/initdb" -D "$W/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
# wal_log_hints: page LSNs move with every change (block-level incrementals need it, or data checksums).
printf "port=$PORT\nunix_socket_directories='$W'\nlisten_addresses='127.0.0.1'\nwal_level=replica\nmax_wal_senders=4\nmax_wal_size=4GB\nwal_log_hints=on\n" >> "$W/data/postgresql.conf"
runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -l "$W/log" -w start >/dev/null
C=(-h 127.0.0.1 -p $PORT -U postgres)
"$B/pgbench" "${C[@]}" -i -q -s "$SCALE" postgres 2>/dev/null
"$B/psql" "${C[@]}" -qc "vacuum analyze" -c checkpoint
echo "database: $("$B/psql" "${C[@]}" -Atc "select pg_size_pretty(pg_database_size('postgres'))"), load before: $(cut -d' ' -f1-3 /proc/loadavg)"

CONN=(--pg-host 127.0.0.1 --pg-port $PORT --pg-user postgres --allow-same-server --jobs 2)
REM=("${CONN[@]}" --repo "file://$W/lb" --cluster remote)
LOC=("${CONN[@]}" --repo "file://$W/lb" --cluster local)
pgbackrest_conf demo "$W/data" "$PORT" "$W" process-max=2 start-fast=y archive-check=n repo1-retention-full=9
P=(runuser -u postgres -- pgbackrest "--config=$W/br/pgbackrest.conf" --stanza=demo)
"${P[@]}" stanza-create >/dev/null 2>&1
# No WAL with the backups, on either side (pgBackRest: archive-check=n; Lifeboat: archiving is off).
newest() { ls -d "$1"/*/ | sort | tail -1; }
mkdir -p "$W/lb"

timed "lifeboat full, remote (replication protocol)" bin/lifeboat backup "${REM[@]}" --type physical
timed "lifeboat full, --source local" bin/lifeboat backup "${LOC[@]}" --json --type physical --source local --full
FULL_BLOCKS=$(jq .blocksStored "$W/last.out")
timed "pgbackrest full (process-max 2)" "${P[@]}" --type=full backup
LFULL=$(basename "$(newest "$W/lb/local/backups")"); LFULL_BYTES=$(size "$W/lb/local/backups/$LFULL")
BRFULL=$(basename "$(ls -d "$W"/br/repo/backup/demo/*F | sort | tail -1)"); BRFULL_BYTES=$(size "$W/br/repo/backup/demo/$BRFULL")

# About 1% of the pages: a contiguous 1% of pgbench_accounts updated (its rows move to new pages at
# the end, fillfactor 100) and the same share of pgbench_history appended.
ROWS=$((SCALE * 100000))
"$B/psql" "${C[@]}" -qc "update pgbench_accounts set abalance = abalance + 1 where aid <= $((ROWS / 100))" \
  -c "insert into pgbench_history select 1, 1, aid, 1, now() from pgbench_accounts where aid <= $((ROWS / 100))" -c checkpoint
timed "lifeboat incremental, --source local (block-level)" bin/lifeboat backup "${LOC[@]}" --json --type physical --source local --incremental
cp "$W/last.out" "$W/last.json"
timed "pgbackrest incr (file-level)" "${P[@]}" --type=incr backup
LINC=$(basename "$(newest "$W/lb/local/backups")"); LINC_BYTES=$(size "$W/lb/local/backups/$LINC")
BRINC=$(basename "$(ls -d "$W"/br/repo/backup/demo/*I | sort | tail -1)"); BRINC_BYTES=$(size "$W/br/repo/backup/demo/$BRINC")
INC_BLOCKS=$(jq .blocksStored "$W/last.json")

# Restores repeat (RUNS rounds, default 3, interleaved; the medians count): they start from the same
# state each time. Delta: directories holding the full backup's files (restored untimed), turned into
# the incremental's state.
for _ in $(seq "${RUNS:-3}"); do
  fresh "$W/r"
  timed "lifeboat restore of the full backup" bin/lifeboat restore "${LOC[@]}" --backup "$LFULL" -D "$W/r/full" --no-verify
  timed "lifeboat restore of the chain (full + incremental)" bin/lifeboat restore "${LOC[@]}" --backup "$LINC" -D "$W/r/chain" --no-verify
  timed "pgbackrest restore of its incremental" "${P[@]}" "--pg1-path=$W/r/br" restore
  rm -rf "$W/r/chain" "$W/r/br"
  "${P[@]}" "--pg1-path=$W/r/brdelta" --set="$BRFULL" restore >/dev/null 2>&1
  bin/lifeboat restore "${LOC[@]}" --backup "$LFULL" -D "$W/r/trust" --no-verify >/dev/null 2>&1
  "${P[@]}" "--pg1-path=$W/r/brforce" --set="$BRFULL" restore >/dev/null 2>&1
  timed "lifeboat restore --delta (the full backup files -> the incremental)" bin/lifeboat restore "${LOC[@]}" --backup "$LINC" -D "$W/r/full" --delta --no-verify
  timed "pgbackrest restore --delta (the full backup files -> incr)" "${P[@]}" "--pg1-path=$W/r/brdelta" --delta restore
  timed "lifeboat restore --delta --trust-unchanged (full -> incremental)" bin/lifeboat restore "${LOC[@]}" --backup "$LINC" -D "$W/r/trust" --delta --trust-unchanged --no-verify
  timed "pgbackrest restore --delta --force (size + time; full -> incr)" "${P[@]}" "--pg1-path=$W/r/brforce" --delta --force restore
  rm -rf "$W/r/trust" "$W/r/brforce" "$W/r/brdelta"
done
echo "restore medians:"
for n in "lifeboat restore of the full backup" "lifeboat restore of the chain (full + incremental)" "pgbackrest restore of its incremental" \
         "lifeboat restore --delta (the full backup files -> the incremental)" "pgbackrest restore --delta (the full backup files -> incr)" \
         "lifeboat restore --delta --trust-unchanged (full -> incremental)" "pgbackrest restore --delta --force (size + time; full -> incr)"; do
  # shellcheck disable=SC2086
  printf "  %-50s %8.2f s   (runs: %s)\n" "$n" "${T[$n]}" "$(printf '%.2f ' ${TIMES[$n]})"
done
rm -rf "$W/r"

echo
echo "relation blocks: $FULL_BLOCKS in the full backup, $INC_BLOCKS stored by the incremental ($(echo "scale=1; 100 * $INC_BLOCKS / $FULL_BLOCKS" | bc)%)"
echo "stored bytes: lifeboat full $LFULL_BYTES, incremental $LINC_BYTES; pgbackrest full $BRFULL_BYTES, incr $BRINC_BYTES"
r() { echo "$1 / $2" | bc -l; }
printf "local full / pgbackrest full              = %.2f (goal <= 0.60)\n" "$(r "${T[lifeboat full, --source local]}" "${T[pgbackrest full (process-max 2)]}")"
printf "local full / remote full                  = %.2f\n" "$(r "${T[lifeboat full, --source local]}" "${T[lifeboat full, remote (replication protocol)]}")"
printf "incremental / full, stored bytes          = %.3f (goal <= 0.03; pgbackrest incr / full: %.3f)\n" "$(r "$LINC_BYTES" "$LFULL_BYTES")" "$(r "$BRINC_BYTES" "$BRFULL_BYTES")"
printf "incremental / full, time                  = %.2f (goal <= 0.10; pgbackrest: %.2f)\n" "$(r "${T[lifeboat incremental, --source local (block-level)]}" "${T[lifeboat full, --source local]}")" "$(r "${T[pgbackrest incr (file-level)]}" "${T[pgbackrest full (process-max 2)]}")"
printf "incremental / pgbackrest incr, time       = %.2f\n" "$(r "${T[lifeboat incremental, --source local (block-level)]}" "${T[pgbackrest incr (file-level)]}")"
printf "chain restore / full restore              = %.2f (goal <= 1.10)\n" "$(r "${T[lifeboat restore of the chain (full + incremental)]}" "${T[lifeboat restore of the full backup]}")"
printf "chain restore / pgbackrest restore        = %.2f\n" "$(r "${T[lifeboat restore of the chain (full + incremental)]}" "${T[pgbackrest restore of its incremental]}")"
printf "delta restore / full restore              = %.2f (goal <= 0.15; pgbackrest --delta / its restore: %.2f)\n" "$(r "${T[lifeboat restore --delta (the full backup files -> the incremental)]}" "${T[lifeboat restore of the full backup]}")" "$(r "${T[pgbackrest restore --delta (the full backup files -> incr)]}" "${T[pgbackrest restore of its incremental]}")"
printf "delta --trust-unchanged / full restore    = %.2f (goal <= 0.15; pgbackrest --delta --force / its restore: %.2f)\n" "$(r "${T[lifeboat restore --delta --trust-unchanged (full -> incremental)]}" "${T[lifeboat restore of the full backup]}")" "$(r "${T[pgbackrest restore --delta --force (size + time; full -> incr)]}" "${T[pgbackrest restore of its incremental]}")"
printf "delta --trust-unchanged / pgbr --delta --force = %.2f\n" "$(r "${T[lifeboat restore --delta --trust-unchanged (full -> incremental)]}" "${T[pgbackrest restore --delta --force (size + time; full -> incr)]}")"
printf "delta restore / pgbackrest --delta        = %.2f\n" "$(r "${T[lifeboat restore --delta (the full backup files -> the incremental)]}" "${T[pgbackrest restore --delta (the full backup files -> incr)]}")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
