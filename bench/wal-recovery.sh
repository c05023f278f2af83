#!/usr/bin/env bash
# Recovery benchmark: restore a base backup and replay the archived WAL after it, each tool from the
# same S3 server over https (and from a local directory), timed until the server is promoted:
#   lifeboat restore --start (its prefetcher runs from the restore; restore_command answered by the
#     launcher), and once with every restore_command call through the JVM (LIFEBOAT_NO_FAST_PATH=1);
#   pgbackrest restore, then the server with archive-get async (archive-get-queue-max, its default
#     128 MiB queue) and sync;
#   barman-cloud-restore, then barman-cloud-wal-restore.
# One cluster archives every segment to all of them (archive_command pushes to each in turn). For
# each size, a base backup of every tool, then pgbench -c 4 until that many segments were written
# after it: the larger size's backups are taken first, so that its restores replay both stretches.
# Every restored server's data is compared with the original's (sum of pgbench balances).
# Usage (as root): bench/wal-recovery.sh [segments=13[,120...]] [pgbench scale=10]
#   RUNS=N (3) interleaved rounds; BARMAN=0 leaves Barman out (its WAL archiving is slow to set up).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
IFS=, read -ra SIZES <<<"${1:-13}"
SCALE=${2:-10}
RUNS=${RUNS:-3}
mapfile -t SIZES < <(printf '%s\n' "${SIZES[@]}" | sort -rn)
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-recbench-XXXX); chmod 755 "$W"; chown postgres "$W"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package
command -v pgbackrest >/dev/null || apt-get install -y -qq pgbackrest >/dev/null
[[ ${BARMAN:-1} == 1 ]] && { command -v barman-cloud-backup >/dev/null || apt-get install -y -qq barman-cli-cloud >/dev/null; }
cleanup() {
  local rc=$?
  (( rc == 0 )) || { echo "--- failed ($rc); the end of the server logs:" >&2; tail -n 15 "$W"/log.txt "$W"/r/server.log >&2 2>/dev/null || true; }
  for d in "$W"/data "$W"/r/d; do runuser -u postgres -- "$B/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true; done
  bench_cleanup; rm -rf "$W"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init
start_s3_https

lifeboat_yml "$W/s3.yml" bench "s3://bench/rec?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true" "$PORT"
lifeboat_yml "$W/fs.yml" bench "file://$W/fsrepo" "$PORT"
mkdir -p "$W/fsrepo/bench/wal"; chown -R postgres "$W/fsrepo"
LS3=(--config "$W/s3.yml" --cluster bench); LFS=(--config "$W/fs.yml" --cluster bench)
pgbackrest_conf bench "$W/data" "$PORT" "$W" process-max=2 start-fast=y archive-check=n repo1-retention-full=9 \
  repo2-retention-full=9 $(pgbackrest_s3_lines 2 /pgbr)
BR="pgbackrest --config=$W/br/pgbackrest.conf --stanza=bench"
barman_env
BM=(runuser -u postgres -- "${BARMAN_ENV[@]}")
# restore_command and the processes it starts count as the tool's CPU; lifeboat restore writes the
# launcher it is told (lifeboat.launcher) into restore_command.
printf '#!/bin/sh\nexec %s tool %s "$@"\n' "$W/in-cgroup" "$LB_BIN" > "$W/lb-tool"; chmod 755 "$W/lb-tool"
export LIFEBOAT_JAVA_OPTS="-Dlifeboat.launcher=$W/lb-tool"

# Lifeboat archives into both of its repositories with one wal-push (a cluster with two repositories: write
# to all). Two wal-push calls with different configurations would not do: the launcher answers a second
# call for a file from the marker the first left in pg_wal/.lifeboat.
cp -p "$W/s3.yml" "$W/both.yml"; printf '      - uri: file://%s\n        allow-same-server: true\n' "$W/fsrepo" >> "$W/both.yml"
archive="$LB_BIN wal-push --config $W/both.yml --cluster bench %p && $BR --no-archive-async archive-push %p"
# Barman's WAL archiving (a Python start per segment, 1-2 s each here) only from the backup for the
# smallest size on (the flag file), and its steps only at sizes up to BARMAN_MAX (20).
BARMAN_MAX=${BARMAN_MAX:-20}
[[ ${BARMAN:-1} == 1 ]] && archive="$archive && { test ! -f $W/barman.on || ${BARMAN_ENV[*]} barman-cloud-wal-archive ${BARMAN_URL[*]} s3://bench/barman pg %p; }"
start_cluster "$W" "$PORT" "$archive"   # $W/data, pgbench data of scale $SCALE
C=(-h 127.0.0.1 -p "$PORT" -U postgres)
psql1() { "$B/psql" "${C[@]}" -Atc "$1"; }
runuser -u postgres -- $BR stanza-create >/dev/null 2>&1
lb_backup() { # the id of a new physical backup, or the error
  "$LB_BIN" backup "$@" --type physical --json 2>"$W/backup.err" > "$W/backup.json" || { cat "$W/backup.err" "$W/backup.json" >&2; return 1; }
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' < "$W/backup.json"
}
segno() { echo $(( 16#${1:8:8} * 256 + 16#${1:16:8} )); }
declare -A LB_ID LBF_ID BR_SET BRF_SET FIRST
for ((k = 0; k < ${#SIZES[@]}; k++)); do
  n=${SIZES[$k]}
  FIRST[$n]=$(psql1 "select pg_walfile_name(pg_current_wal_lsn())")
  LB_ID[$n]=$(lb_backup "${LS3[@]}")
  LBF_ID[$n]=$(lb_backup "${LFS[@]}")
  runuser -u postgres -- $BR --repo=2 --type=full backup >/dev/null
  runuser -u postgres -- $BR --repo=1 --type=full backup >/dev/null
  BR_SET[$n]=$(runuser -u postgres -- $BR --repo=2 --output=json info | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][-1]["label"])')
  BRF_SET[$n]=$(runuser -u postgres -- $BR --repo=1 --output=json info | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["backup"][-1]["label"])')
  [[ ${BARMAN:-1} == 1 ]] && (( n <= BARMAN_MAX )) && touch "$W/barman.on" && "${BM[@]}" barman-cloud-backup "${BARMAN_URL[@]}" --immediate-checkpoint -h "$W" -p "$PORT" -U postgres -n "s$n" s3://bench/barman pg
  # WAL until the next size's backups (or the end) is n segments after these
  next=${SIZES[$((k + 1))]:-0}
  want=$(( $(segno "${FIRST[$n]}") + n - next ))
  # pgbench -c 4, and while far from the goal, a tenth of the accounts updated at once (about 1.5
  # segments at scale 10): pgbench alone would take many minutes per 100 segments on this machine
  while (( $(segno "$(psql1 "select pg_walfile_name(pg_current_wal_lsn())")") < want )); do
    "$B/pgbench" "${C[@]}" -n -c 4 -T 1 postgres >/dev/null 2>&1
    (( $(segno "$(psql1 "select pg_walfile_name(pg_current_wal_lsn())")") + 3 < want )) && \
      psql1 "update pgbench_accounts set abalance = abalance + 1 where aid % 10 = $((RANDOM % 10))" >/dev/null
  done
done
ROWS=$(psql1 "select sum(abalance) from pgbench_accounts")
LAST=$(psql1 "select pg_walfile_name(pg_switch_wal())")
for _ in $(seq 3000); do
  [[ "$(psql1 "select coalesce(last_archived_wal,'') from pg_stat_archiver")" < "$LAST" ]] || break
  sleep 0.2
done
runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -m fast stop >/dev/null
echo "pgbench scale $SCALE, archive up to $LAST; $RUNS rounds; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

D="$W/r/d"
target() { rm -rf "$W/r"; mkdir -p "$W/r"; chown postgres "$W/r"; }
# After each: the restored data must equal the original's; then the server is stopped and removed.
check() {
  local got; got=$("$B/psql" -h 127.0.0.1 -p "$RPORT" -U postgres -Atc "select sum(abalance) from pgbench_accounts")
  [[ "$got" == "$ROWS" ]] || { echo "restored data differs: $got, not $ROWS"; return 1; }
  [[ "$("$B/psql" -h 127.0.0.1 -p "$RPORT" -U postgres -Atc "select pg_is_in_recovery()")" == f ]]
  [[ -n "${KEEP_LOGS:-}" ]] && find "$W/r" -name '*.log' -exec cp {} "$KEEP_LOGS/server.$(date +%s%N).log" \;
  runuser -u postgres -- "$B/pg_ctl" -D "$D" -m immediate stop >/dev/null
  rm -rf "$W/r"
}
promoted() { # waits until the server on RPORT has finished recovery; fails if it stopped
  until [[ "$("$B/psql" -h 127.0.0.1 -p "$RPORT" -U postgres -Atc "select pg_is_in_recovery()" 2>/dev/null)" == "f" ]]; do
    [[ -f "$D/postmaster.pid" ]] || { echo "the restored server stopped:"; tail -5 "$W/r/server.log"; return 1; }
    sleep 0.05
  done
}
segs() { echo $(( $(segno "$LAST") - $(segno "${FIRST[$1]}") + 1 )) > "$W/step.segs"; }
lb() { # lb REPO-ARGS... -- N: lifeboat restore of the backup for size N, started, recovered
  local n=${*: -1}; segs "$n"
  "$LB_BIN" restore "${@:1:$#-1}" --type physical -D "$D" --no-verify --start --port "$RPORT"
}
br() { # br REPO SET ASYNC
  "$W/in-cgroup" tool runuser -u postgres -- $BR "--repo=$1" "--set=$2" "--pg1-path=$D" restore >/dev/null || return 1
  local get="$W/in-cgroup tool $BR --repo=$1 --pg1-path=$D"
  [[ $3 == async ]] && get="$get --archive-async --spool-path=$W/br/spool"
  printf "restore_command = '%s archive-get %%f \"%%p\"'\nport = %d\narchive_mode = off\n" "$get" "$RPORT" >> "$D/postgresql.auto.conf"
  rm -rf "$W/br/spool"
  pg_start "$D" || return 1
  promoted
}
bm() { # bm N
  "${BM[@]}" barman-cloud-restore "${BARMAN_URL[@]}" s3://bench/barman pg "s$1" "$D"
  printf "restore_command = '%s tool %s barman-cloud-wal-restore %s s3://bench/barman pg %%f %%p'\nport = %d\narchive_mode = off\n" \
    "$W/in-cgroup" "${BARMAN_ENV[*]}" "${BARMAN_URL[*]}" "$RPORT" >> "$D/postgresql.auto.conf"
  touch "$D/recovery.signal"; chown postgres "$D/recovery.signal"
  pg_start "$D" || return 1
  promoted
}
for n in "${SIZES[@]}"; do
  eval "lb_s3_$n() { lb \"\${LS3[@]}\" --backup ${LB_ID[$n]} $n; }"
  eval "lb_fs_$n() { lb \"\${LFS[@]}\" --backup ${LBF_ID[$n]} $n; }"
  eval "lb_jvm_$n() { LIFEBOAT_NO_FAST_PATH=1 lb \"\${LS3[@]}\" --backup ${LB_ID[$n]} $n; }"
  eval "br_async_$n() { segs $n; br 2 ${BR_SET[$n]} async; }"
  eval "br_sync_$n() { segs $n; br 2 ${BR_SET[$n]} sync; }"
  eval "br_fs_$n() { segs $n; br 1 ${BRF_SET[$n]} async; }"
  eval "bm_$n() { segs $n; bm $n; }"
  label="$n segs:"
  step "$label lifeboat restore --start (S3)" target "lb_s3_$n" check
  step "$label lifeboat restore --start (local dir)" target "lb_fs_$n" check
  (( n <= 20 )) && step "$label lifeboat, every wal-fetch a JVM (S3)" target "lb_jvm_$n" check
  step "$label pgbackrest restore + archive-get async (S3)" target "br_async_$n" check
  step "$label pgbackrest restore + archive-get sync (S3)" target "br_sync_$n" check
  step "$label pgbackrest restore + archive-get async (local)" target "br_fs_$n" check
  [[ ${BARMAN:-1} == 1 ]] && (( n <= BARMAN_MAX )) && step "$label barman-cloud-restore + wal-restore (S3)" target "bm_$n" check
done
run_steps
print_steps
echo "segments replayed: $(for n in "${SIZES[@]}"; do printf '%s ' "$(( $(segno "$LAST") - $(segno "${FIRST[$n]}") + 1 ))"; done)(each restored copy's data checked against the original)"
echo "largest Lifeboat process: $(max_peak_rss) MiB peak RSS (goal <= 512)"
echo
echo "ratios (A / B of the medians; wall time and all processes' CPU):"
for n in "${SIZES[@]}"; do
  ratio "$n segs: lifeboat / pgbackrest async (both S3)" "$n segs: lifeboat restore --start (S3)" "$n segs: pgbackrest restore + archive-get async (S3)" 0.80
  ratio "$n segs: lifeboat / pgbackrest sync (both S3)" "$n segs: lifeboat restore --start (S3)" "$n segs: pgbackrest restore + archive-get sync (S3)" -
  ratio "$n segs: lifeboat / pgbackrest (both local dir)" "$n segs: lifeboat restore --start (local dir)" "$n segs: pgbackrest restore + archive-get async (local)" -
  [[ ${BARMAN:-1} == 1 ]] && (( n <= BARMAN_MAX )) && ratio "$n segs: lifeboat / barman (both S3)" "$n segs: lifeboat restore --start (S3)" "$n segs: barman-cloud-restore + wal-restore (S3)" -
  (( n <= 20 )) && ratio "$n segs: lifeboat prefetch / every wal-fetch a JVM" "$n segs: lifeboat restore --start (S3)" "$n segs: lifeboat, every wal-fetch a JVM (S3)" -
done
true
