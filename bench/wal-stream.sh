#!/usr/bin/env bash
# WAL streaming benchmark: under `pgbench -c 4`, the CPU time per stored segment of
#  - lifeboat agent streaming over a replication slot,
#  - lifeboat wal-push as archive_command (its calls and its archive-ahead process),
#  - pgBackRest archive-push as archive_command (archive-async=n),
# each into a local-directory repository (the same kind for all three: S3 over https for
# pgBackRest is not set up in bench/lib.sh yet), zstd level 3 for all; ROUNDS rounds, the three
# interleaved in each, medians with the goal beside them. Then the RPO at a crash (the server stopped
# with -m immediate while markers are committed, restored from the archive: seconds of acknowledged
# commits lost), and in synchronous mode the commit latency against local commits and the RPO.
# Usage (as root): bench/wal-stream.sh [seconds=30] [pgbench scale=20] [flush-interval seconds=10]
# Environment: ROUNDS (default 2); PROFILE=1 records the streaming agent with Java Flight Recorder
# and prints where its CPU went (by thread, and the top frames of its execution samples) after the
# rounds; AGENT_JAVA_OPTS adds JVM options to the streaming agent (experiments).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SECS=${1:-30}
SCALE=${2:-20}
FLUSH=${3:-10}
ROUNDS=${ROUNDS:-2}
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-streambench-XXXX)
chmod 755 "$W"
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package
# A copy of the jar, so that a rebuild during the run does not change what is measured.
mkdir -p "$W/jar" && cp target/lifeboat.jar "$W/jar/" && cp -r target/lib "$W/jar/"
export LIFEBOAT_JAR="$W/jar/lifeboat.jar"
bin/lifeboat --version >/dev/null   # the start-up archive exists before timing
command -v pgbackrest >/dev/null || { apt-get install -y -qq pgbackrest >/dev/null 2>&1 || true; }
AGENTS=()
cleanup() {
  for p in "${AGENTS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "$W"/st "$W"/lb "$W"/br "$W"/sy "$W"/r-*; do
    runuser -u postgres -- "$B/pg_ctl" -D "$d/data" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$W"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh
mkdir -p "$W/repo/st" "$W/repo/wal" "$W/repo/sy"; chown -R postgres "$W/repo"

config() { # file cluster port agent-stream-lines
  cat > "$1" <<EOC
agent:
  http:
    listen: off
clusters:
  $2:
    postgres: {host: 127.0.0.1, port: $3, user: postgres}
    repositories:
      - uri: file://$W/repo/$2
        allow-same-server: true
    agent:
      stream:
$4
EOC
  chown postgres "$1"; chmod 644 "$1"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
start_agent() { # config log [extra JVM options]
  LIFEBOAT_JAVA_OPTS="${3:-}" LIFEBOAT_AGENT_DEBUG=1 bin/lifeboat agent --config "$1" >"$2" 2>&1 &
  AGENT=$!
  AGENTS+=("$AGENT")
  for _ in $(seq 300); do grep -q "streaming WAL from" "$2" && return 0; sleep 0.1; done
  echo "the agent did not start:"; cat "$2"; exit 1
}
psql_() { "$B/psql" -h 127.0.0.1 -p "$1" -U postgres -Atqc "$2"; }
median() { sort -n | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
ratio() { [[ "$1" =~ ^[0-9]+$ && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] && echo "scale=2; $1 / $2" | bc || echo "-"; }

# Commits markers (one row each, autocommit) until the server dies; each acknowledged one goes into
# $W/acked-PORT with the time the commit returned.
markers() { # port
  psql_ "$1" "create table if not exists markers (n int primary key)"
  : > "$W/acked-$1"
  for n in $(seq 1 1000000); do
    psql_ "$1" "insert into markers (n) values ($n)" 2>/dev/null || return 0
    echo "$n $(date +%s.%N)" >> "$W/acked-$1"
  done
}

# crash_and_restore CLUSTER PORT CONFIG: markers for a few seconds, stop -m immediate, the agent
# stores what it has, restore the newest backup to the end of the archive; prints how many
# acknowledged markers were lost and the RPO: the seconds between the oldest lost acknowledgement
# and the crash (0 when none was lost).
crash_and_restore() {
  local c=$1 p=$2 cfg=$3
  markers "$p" & local mk=$!
  sleep 8
  local crash; crash=$(date +%s.%N)
  runuser -u postgres -- "$B/pg_ctl" -D "$W/$c/data" -m immediate stop >/dev/null
  wait "$mk" || true
  sleep 3
  kill "$AGENT"; wait "$AGENT" 2>/dev/null || true
  mkdir -p "$W/r-$c"; chown postgres "$W/r-$c"
  bin/lifeboat restore --config "$cfg" --cluster "$c" --data-directory "$W/r-$c/data" --start --start-timeout 300 \
    --port "$p" >"$W/r-$c.log" 2>&1 || { echo "restore failed: $(tail -3 "$W/r-$c.log")"; return 0; }
  local newest; newest=$(psql_ "$p" "select coalesce(max(n), 0) from markers")
  runuser -u postgres -- "$B/pg_ctl" -D "$W/r-$c/data" -m fast stop >/dev/null 2>&1 || true
  awk -v m="$newest" -v crash="$crash" '$1 > m {lost++; if (first == "") first = $2}
    END {rpo = lost ? crash - first : 0; if (rpo < 0) rpo = 0; printf "%d of %d acknowledged commits lost, RPO %.2f s", lost, NR, rpo}' "$W/acked-$p"
}

# Each load starts after a checkpoint, as every round of the three does: the full-page writes that
# follow make WAL at a rate where segments, not fixed costs, dominate on a busy machine.
# stream_load: pgbench -c 4 for $SECS s against the streamed cluster; prints "segments cpu-ms/seg
# walsender-cpu-ms/seg" (the agent's whole process; the server's walsender beside it).
stream_load() {
  local ws; ws=$(psql_ 55481 "select pid from pg_stat_replication where application_name = 'lifeboat'" | head -1)
  [[ -n "$ws" ]] || ws=$AGENT   # not streaming at the moment: no walsender to charge
  psql_ 55481 "checkpoint"
  local t0 s0 w0; t0=$(cpu_ticks "$AGENT"); s0=$(grep -c "stored 0" "$W/st-agent.log" || true); w0=$(cpu_ticks "$ws")
  "$B/pgbench" -h 127.0.0.1 -p 55481 -U postgres -n -c 4 -T "$SECS" postgres >/dev/null 2>&1
  sleep 3   # what is still in flight
  local t1 s1 w1; t1=$(cpu_ticks "$AGENT"); s1=$(grep -c "stored 0" "$W/st-agent.log" || true); w1=$(cpu_ticks "$ws")
  local segs=$((s1 - s0))
  echo "$segs $(( segs > 0 ? (t1 - t0) * 1000 / HZ / segs : 0 )) $(( segs > 0 ? (w1 - w0) * 1000 / HZ / segs : 0 ))"
}

echo "pgbench -c 4 for $SECS s (scale $SCALE) on $(nproc) cores, $ROUNDS rounds; flush-interval $FLUSH s;"
echo "every repository a local directory (zstd level 3), the same kind for all three"

# The agent, streaming over a slot (archive_mode off); Lifeboat's wal-push and pgBackRest's
# archive-push as archive_command, as bench/wal-archive.sh runs them.
start_cluster "$W/st" 55481 ""
config "$W/st.yml" st 55481 "        flush-interval: ${FLUSH}s"
start_agent "$W/st.yml" "$W/st-agent.log" \
  "$([[ -n "${PROFILE:-}" ]] && echo "-XX:StartFlightRecording=name=bench,settings=profile") ${AGENT_JAVA_OPTS:-}"
bin/lifeboat backup --config "$W/st.yml" --cluster st --type physical >/dev/null 2>&1
cat > "$W/lifeboat.yml" <<EOC
clusters:
  bench:
    repositories:
      - uri: file://$W/repo/wal
        allow-same-server: true
EOC
chown postgres "$W/lifeboat.yml"; chmod 600 "$W/lifeboat.yml"
start_cluster "$W/lb" 55482 "$(timed "$W/lb/calls.txt") $PWD/bin/lifeboat wal-push --config $W/lifeboat.yml --cluster bench %p"
HAVE_BR=0
if command -v pgbackrest >/dev/null; then
  pgbackrest_conf bench "$W/br/data" 55483 "$W/br" archive-async=n
  start_cluster "$W/br" 55483 "$(timed "$W/br/calls.txt") pgbackrest --config=$W/br/pgbackrest.conf --stanza=bench archive-push %p"
  runuser -u postgres -- pgbackrest --config="$W/br/pgbackrest.conf" --stanza=bench stanza-create >/dev/null && HAVE_BR=1
fi

: > "$W/agent.cpu"; : > "$W/idle.cpu"; : > "$W/segs.count"; : > "$W/walpush.cpu"; : > "$W/br.cpu"; : > "$W/walsender.cpu"
printf "  %-28s %9s %9s %8s %10s %12s %8s %14s\n" "archive_command" "WAL segs" "archived" "failed" "segs/s" "segs behind" \
  "calls" "CPU ms/seg"
for round in $(seq "$ROUNDS"); do
  echo "round $round"
  read -r segs per ws < <(stream_load)
  printf "  %-34s %4s segments, %5s ms CPU per segment (the server's walsender: %s ms)\n" "lifeboat agent (stream)" "$segs" "$per" "$ws"
  echo "$per" >> "$W/agent.cpu"; echo "$ws" >> "$W/walsender.cpu"; echo "$segs" >> "$W/segs.count"
  # The agent's fixed cost: its CPU while its cluster is idle, during the other two loads.
  idle_t0=$(cpu_ticks "$AGENT"); idle_s0=$(date +%s)
  psql_ 55482 "checkpoint"
  out=$(run_load 55482 "lifeboat wal-push" "$W/lb/calls.txt")
  echo "$out" | sed 's/^/  /'
  head -1 <<<"$out" | awk '{print $NF}' >> "$W/walpush.cpu"
  if [[ $HAVE_BR == 1 ]]; then
    psql_ 55483 "checkpoint"
    out=$(run_load 55483 "pgbackrest archive-push" "$W/br/calls.txt")
    echo "$out" | sed 's/^/  /'
    head -1 <<<"$out" | awk '{print $NF}' >> "$W/br.cpu"
  fi
  idle=$(( ($(cpu_ticks "$AGENT") - idle_t0) * 1000 / HZ / ($(date +%s) - idle_s0) ))
  echo "  lifeboat agent, idle meanwhile: $idle ms CPU per second"; echo "$idle" >> "$W/idle.cpu"
done
if [[ -n "${PROFILE:-}" ]]; then
  # Where the agent's CPU went: the top frame of each execution sample (Java code only; zstd's native
  # code shows as the JNI method that called it).
  jcmd "$AGENT" JFR.dump name=bench filename="$W/agent.jfr" >/dev/null
  echo "the streaming agent's CPU by thread since it started (PROFILE=1; names cut to 15 characters):"
  for t in /proc/"$AGENT"/task/*; do echo "$(( $(sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}') * 1000 / HZ )) $(cat "$t/comm")"; done |
    sed 's/[0-9]*$//' | awk '{c = $1; $1 = ""; t[$0] += c; all += c} END {for (n in t) if (t[n] >= all / 100) printf "%8d ms %s\n", t[n], n;
      printf "%8d ms  all threads\n", all}' | sort -rn
  echo "the streaming agent's execution samples by top frame (PROFILE=1):"
  jfr print --events jdk.ExecutionSample "$W/agent.jfr" | awk '/stackTrace = \[/ {getline; sub(/^ +/, ""); sub(/ +line:.*/, ""); n[$0]++; t++}
    END {for (f in n) printf "%6.1f%%  %s\n", 100 * n[f] / t, f}' | sort -rn | head -20
fi
runuser -u postgres -- "$B/pg_ctl" -D "$W/lb/data" -m fast stop >/dev/null
[[ $HAVE_BR == 1 ]] && runuser -u postgres -- "$B/pg_ctl" -D "$W/br/data" -m fast stop >/dev/null
A=$(median < "$W/agent.cpu"); L=$(median < "$W/walpush.cpu"); P=$(median < "$W/br.cpu"); S=$(median < "$W/walsender.cpu")
echo "CPU per stored segment, median of $ROUNDS rounds (goal: the agent's <= pgBackRest's archive-push):"
printf "  %-34s %6s ms  %5s x pgBackRest's\n" "lifeboat agent (stream)" "$A" "$(ratio "$A" "$P")"
printf "  %-34s %6s ms  (not counted above: the server's walsender)\n" "  server-side walsender" "$S"
I=$(median < "$W/idle.cpu"); N=$(awk '{s += $1} END {print s + 0}' "$W/segs.count")
printf "  %-34s %6s ms per second (%s ms per segment at this load's rate)\n" "  of that, an idle agent's" "$I" \
  "$(( N > 0 ? I * (SECS + 3) * ROUNDS / N : 0 ))"
printf "  %-34s %6s ms  %5s x pgBackRest's\n" "lifeboat wal-push (archive_command)" "$L" "$(ratio "$L" "$P")"
printf "  %-34s %6s ms\n" "pgbackrest archive-push" "$P"

# RPO at a crash, asynchronous stream.
echo "crash (stream, flush-interval $FLUSH s; goal: RPO <= $FLUSH s): $(crash_and_restore st 55481 "$W/st.yml")"

# Synchronous mode: commit latency and RPO.
SCALE=1 start_cluster "$W/sy" 55484 "" "synchronous_commit=on"
config "$W/sy.yml" sy 55484 "        synchronous: true
        application-name: lifeboat_sync
        flush-interval: ${FLUSH}s"
start_agent "$W/sy.yml" "$W/sy-agent.log"
psql_ 55484 "alter system set synchronous_standby_names = 'lifeboat_sync'" && psql_ 55484 "select pg_reload_conf()" >/dev/null
sleep 1
bin/lifeboat backup --config "$W/sy.yml" --cluster sy --type physical >/dev/null 2>&1
lat() { "$B/pgbench" -h 127.0.0.1 -p 55484 -U postgres -n -c 1 -T 10 -b simple-update postgres 2>/dev/null | awk '/latency average/ {print $4}'; }
sync_ms=$(lat)
local_ms=$(PGOPTIONS='-c synchronous_commit=local' lat)
echo "synchronous commit latency (pgbench -c 1 simple-update): $sync_ms ms with the agent, $local_ms ms local"
echo "  (before the stream stored only the new bytes per commit: 168 ms against 2.9 ms local, into S3)"
echo "crash (synchronous stream; goal: RPO 0): $(crash_and_restore sy 55484 "$W/sy.yml")"
