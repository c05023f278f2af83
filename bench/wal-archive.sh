#!/usr/bin/env bash
# WAL archiving benchmark, like for like: one cluster under `pgbench -c 4` archives to the same S3
# server over https, in turn with
#   lifeboat wal-push (its launcher, JVM calls and archive-ahead process),
#   pgbackrest archive-push, sync and async (its spool and async process, process-max 2),
# each for SECS seconds of load, in interleaved rounds. Per mode: segments archived and the CPU of
# every process archive_command started (cgroup "tool": launchers, JVMs, pgBackRest's async
# workers...) per archived segment, and the S3 server's. A mode ends when the archiver has caught up
# and every process it started has exited (Lifeboat's archive-ahead process is ended then). The mode
# "lifeboat, archive-ahead running" measures the same after a warm-up burst of WAL that is not
# counted, with the archive-ahead process left running from it: the cost of each further segment
# while WAL keeps arriving (the process lives until 10 minutes without WAL), without its start-up.
# The load: pgbench -c 4 with a checkpoint every second (see load()).
# Usage (as root): bench/wal-archive.sh [seconds=20] [pgbench scale=10]; RUNS=N (3) rounds.
# PROFILE=1: every Lifeboat archive_command call runs under /usr/bin/time, and the table says how many
# calls the launcher answered without a JVM and what the JVM calls cost. MODES="lb" runs only some modes.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SECS=${1:-20}
SCALE=${2:-10}
RUNS=${RUNS:-3}
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-walbench-XXXX); chmod 755 "$W"; chown postgres "$W"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package
command -v pgbackrest >/dev/null || apt-get install -y -qq pgbackrest >/dev/null
cleanup() {
  runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -m immediate stop >/dev/null 2>&1 || true
  bench_cleanup; rm -rf "$W"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init
start_s3_https
lifeboat_yml "$W/s3.yml" bench "s3://bench/wal?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true"
mkdir -p "$W/br/log" "$W/br/lock" "$W/br/spool"
{
  printf '[global]\nlog-path=%s\nlock-path=%s\nspool-path=%s\ncompress-type=zst\ncompress-level=3\nprocess-max=2\narchive-check=n\n' \
    "$W/br/log" "$W/br/lock" "$W/br/spool"
  pgbackrest_s3_lines 1 /pgbr
  printf '[bench]\npg1-path=%s\npg1-port=%s\npg1-socket-path=%s\n' "$W/data" "$PORT" "$W"
} > "$W/br/pgbackrest.conf"
chown -R postgres "$W/br"
BR="pgbackrest --config=$W/br/pgbackrest.conf --stanza=bench"

start_cluster "$W" "$PORT" "/bin/true"   # $W/data, pgbench data of scale $SCALE
C=(-h 127.0.0.1 -p "$PORT" -U postgres)
psql1() { "$B/psql" "${C[@]}" -Atc "$1"; }
runuser -u postgres -- $BR stanza-create >/dev/null

declare -A CMD SEGS TOOL S3CPU
AHEAD=""
CMD[lb]="$W/in-cgroup tool $LB_BIN wal-push --config $W/s3.yml --cluster bench %p"
[[ -n "${PROFILE:-}" ]] && CMD[lb]="$W/in-cgroup tool /usr/bin/time -a -o $W/calls.log -f %%e,%%U,%%S $LB_BIN wal-push --config $W/s3.yml --cluster bench %p"
CMD[brs]="$W/in-cgroup tool $BR --no-archive-async archive-push %p"
CMD[bra]="$W/in-cgroup tool $BR --archive-async archive-push %p"
CMD[lbw]=${CMD[lb]}
declare -A LABEL=([lb]="lifeboat wal-push (S3)" [lbw]="lifeboat, archive-ahead running (S3)"
                  [brs]="pgbackrest archive-push sync (S3)" [bra]="pgbackrest archive-push async (S3)")
read -ra MODES <<<"${MODES:-lb lbw brs bra}"
CALLS=""

switch_wal() { psql1 "select pg_walfile_name(pg_switch_wal())"; }
caught_up() { # waits until the archiver has stored every segment before $1's successor
  local i
  for i in $(seq 1500); do
    [[ "$(psql1 "select coalesce(last_archived_wal, '') from pg_stat_archiver")" < "$1" ]] || return 0
    sleep 0.2
  done
  echo "the archiver did not catch up with $1" >&2; return 1
}
tool_idle() { # every process of group tool has exited; Lifeboat's archive-ahead process (idle by then) is ended
  local i pid
  for i in $(seq 300); do
    [[ -n "$(cat "$CG/tool/cgroup.procs")" ]] || return 0   # (a cgroup file has no size: not -s)
    if (( i > 10 )); then
      for pid in $(cat "$CG/tool/cgroup.procs"); do
        { grep -qa -- "--ahead" "/proc/$pid/cmdline" && kill "$pid"; } 2>/dev/null || true
      done
    fi
    sleep 0.2
  done
}
load() { # pgbench -c 4 for SECS s, with a checkpoint every second: full-page images make the WAL of a busy
  # server (some 15 segments in 15 s here instead of 2), so that per-segment costs are not start-up costs
  "$B/pgbench" "${C[@]}" -n -c 4 -T "$SECS" postgres >/dev/null 2>&1 &
  local p=$!
  while kill -0 "$p" 2>/dev/null; do psql1 "checkpoint" >/dev/null 2>&1 || true; sleep 1; done
  wait "$p"
}
gen=0
for ((r = 1; r <= RUNS; r++)); do
  for m in "${MODES[@]}"; do
    gen=$((gen + 1)); echo "$gen" > "$W/sample.gen"   # the RSS sampler's record of this mode's processes
    psql1 "alter system set archive_command = '${CMD[$m]}'" >/dev/null
    psql1 "select pg_reload_conf()" >/dev/null
    caught_up "$(switch_wal)"
    tool_idle
    if [[ $m == lbw ]]; then # a warm-up burst, not counted: the archive-ahead process it starts stays
      SECS=$(( SECS / 2 + 1 )) load
      caught_up "$(switch_wal)"
      rm -f "$W"/data/pg_wal/.lifeboat/push-*/ahead.log
    fi
    before=$(psql1 "select archived_count from pg_stat_archiver")
    t=$(cg_cpu tool); s=$(cg_cpu s3)
    rm -f "$W/calls.log"
    load
    caught_up "$(switch_wal)"
    tool_idle
    n=$(( $(psql1 "select archived_count from pg_stat_archiver") - before ))
    # (the archive_command's state directory, engine/archive/PushState: .lifeboat/push-ARGS)
    ahead=$(ls "$W"/data/pg_wal/.lifeboat/ahead.log "$W"/data/pg_wal/.lifeboat/push-*/ahead.log 2>/dev/null | head -1 || true)
    if [[ $m == lb* && -n "$ahead" ]]; then # where Lifeboat's CPU went: its archive-ahead process's own account
      AHEAD+="${LABEL[$m]}: $(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); f[kv[1]] = kv[2]} if (f["cpu_total_ms"] > t[f["pid"]]) t[f["pid"]] = f["cpu_total_ms"]; n += f["archived"]; c += f["cpu_ms"]}
                     END {s = 0; for (p in t) s += t[p]; printf "archive-ahead: %d segments, %d ms CPU in its batches, %d ms in all (start-up, JIT, waiting)", n, c, s}' "$ahead")"$'\n'
      rm -f "$ahead"
    fi
    if [[ $m == lb* && -f "$W/calls.log" ]]; then # calls above 300 ms of CPU started a JVM (a launcher that waits for a marker uses a few ms); the others were answered by the launcher
      CALLS+="${LABEL[$m]}: $(awk -F, '/^[0-9.]+,[0-9.]+,[0-9.]+$/ {c = ($2 + $3) * 1000; if (c > 300) {j++; jc += c; jw += $1} else {f++; fc += c}}
                     END {printf "archive_command calls: %d without a JVM (%d ms CPU), %d with one (%d ms CPU, %.1f s wall)", f, fc, j, jc, jw}' "$W/calls.log")"$'\n'
    fi
    note_sample "${LABEL[$m]}" "$W/sample.$gen"
    SEGS[$m]+="$n "
    TOOL[$m]+="$(echo "scale=1; ($(cg_cpu tool) - $t) / 1000000 / $n" | bc) "
    S3CPU[$m]+="$(echo "scale=1; ($(cg_cpu s3) - $s) / 1000000 / $n" | bc) "
  done
done
echo "pgbench -c 4 for $SECS s per mode (scale $SCALE), $RUNS rounds; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "\n%-40s %14s %16s %14s  %s\n" "archive_command (median of $RUNS)" "segs archived" "tool CPU ms/seg" "S3 CPU ms/seg" "tool ms/seg of each run"
for m in "${MODES[@]}"; do
  printf "%-40s %14s %16s %14s  %s\n" "${LABEL[$m]}" "$(median ${SEGS[$m]})" "$(median ${TOOL[$m]})" "$(median ${S3CPU[$m]})" "${TOOL[$m]}"
done
printf '%s' "$AHEAD" "$CALLS"
for m in "${MODES[@]}"; do [[ $m == lb* ]] && echo "${LABEL[$m]}: peak RSS $(peak_rss "${LABEL[$m]}")"; done
rss_verdict
echo
for l in lb lbw; do
  for m in brs bra; do
    [[ " ${MODES[*]} " == *" $m "* && " ${MODES[*]} " == *" $l "* ]] || continue
    printf "%-74s CPU/seg %5.2f   goal <= 1.00 %s\n" "${LABEL[$l]} / ${LABEL[$m]}" \
      "$(echo "scale=4; $(median ${TOOL[$l]}) / $(median ${TOOL[$m]})" | bc)" \
      "$( (( $(echo "$(median ${TOOL[$l]}) <= $(median ${TOOL[$m]})" | bc) )) && echo met || echo MISSED)"
  done
done
