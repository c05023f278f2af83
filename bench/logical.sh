#!/usr/bin/env bash
# Logical backup benchmark: Lifeboat `backup --type logical` and `restore` against plain
# `pg_dump -Fd -j2` / `createdb` + `pg_restore -j2` with a local directory, in the same run, on two
# databases (the plain restore's step creates its database, as Lifeboat's restore does):
#   pgbench   pgbench -i -s SCALE: four tables, one of them nearly all the data
#   many      TABLES tables of mixed sizes (most a few rows, every 20th 10,000, every 200th 300,000;
#             every 10th with a second index): where per-object costs show
# Lifeboat writes to two kinds of repository: a local directory (file://, the same kind as the plain
# tools' directory: the ratios the goals apply to) and Lifeboat's embedded S3 server (s3proxy on
# this machine, filesystem backend). Before each timed step the server checkpoints and the page
# cache is dropped, and a restored database is dropped after its step (its autovacuum would run
# during the next), so no step pays for the previous one.
# Every Lifeboat step runs under /usr/bin/time: the table prints its peak RSS (the largest of its
# rounds; goal <= 512 MiB at any size), and each row its goal and whether the run met it.
# Usage (as root): bench/logical.sh [scale=50] [tables=2000] [rounds=3]
#   RESULTS=FILE appends "db step repo seconds dbbytes rss-MiB" lines (bench/growth.sh).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SCALE=${1:-50}
TABLES=${2:-2000}
ROUNDS=${3:-3}
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-bench-XXXX)
# a free port: other servers may run on this machine
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chown postgres "$W"
cleanup() {
  runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -m immediate stop >/dev/null 2>&1 || true
  [[ -n "${S3PID:-}" ]] && kill "$S3PID" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package

# The Lifeboat measured is the one built now, copied: a rebuild during the run must not change it
# (nor make the launcher rebuild its class-data archive inside a timed step).
mkdir -p "$W/jar" && cp target/lifeboat.jar "$W/jar/" && cp -r target/lib "$W/jar/"
export LIFEBOAT_JAR="$W/jar/lifeboat.jar"
bin/lifeboat --version >/dev/null

# shellcheck source=bench/lib.sh
source bench/lib.sh
secs() { echo "$2 - $1" | bc; }

runuser -u postgres -- "$B/initdb" -D "$W/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
printf "port=$PORT\nunix_socket_directories='%s'\nlisten_addresses='127.0.0.1'\nmax_wal_size=4GB\n" "$W" >> "$W/data/postgresql.conf"
runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -l "$W/log" -w start >/dev/null
C=(-h 127.0.0.1 -p $PORT -U postgres)
psql() { "$B/psql" "${C[@]}" -X -q "$@"; }

psql -d postgres -c "create database pgbench" -c "create database many"
"$B/pgbench" "${C[@]}" -i -q -s "$SCALE" pgbench 2>/dev/null
psql -d many -v tables="$TABLES" <<'EOF'
SELECT set_config('bench.tables', :'tables', false);
DO $$
DECLARE i int; n int;
BEGIN
  FOR i IN 1..current_setting('bench.tables')::int LOOP
    n := CASE WHEN i % 200 = 0 THEN 300000 WHEN i % 20 = 0 THEN 10000 ELSE i % 50 END;
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, k int NOT NULL, v text, at timestamptz DEFAULT now())', i);
    EXECUTE format('INSERT INTO t%s (id, k, v) SELECT g, g %% 97, md5(g::text) FROM generate_series(1, %s) g', i, n);
    IF i % 10 = 0 THEN
      EXECUTE format('CREATE INDEX ON t%s (k)', i);
    END IF;
  END LOOP;
END $$;
EOF
psql -d postgres -c "vacuum analyze" >/dev/null
size_of() { psql -d postgres -Atc "select pg_size_pretty(pg_database_size('$1'))"; }
echo "pgbench scale $SCALE: $(size_of pgbench); many: $TABLES tables, $(size_of many); $(nproc) cores"

start_s3
mkdir -p "$W/repo"
declare -A REPOS=([file]="file://$W/repo" [s3]="s3://bench/lifeboat?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true")
lb() { # lb KIND COMMAND ARGS...: Lifeboat against the repository of that kind
  local kind=$1; shift
  "${MEASURE[@]}" bin/lifeboat "$@" --pg-host 127.0.0.1 --pg-port $PORT --pg-user postgres --repo "${REPOS[$kind]}" --cluster bench \
    --allow-same-server --jobs 2 --spool-directory "$W/spool"
}
lb_quiet() { lb "$@" >/dev/null 2>>"$W/lb.log"; }
# lb_rss NAME KIND COMMAND...: lb, its peak RSS (KiB, the largest process: the JVM) kept in $W/rss.NAME.
MEASURE=()
lb_rss() { local n=$1; shift; local -a MEASURE=(/usr/bin/time -a -o "$W/rss.$n" -f %M); lb "$@"; }
lb_quiet_rss() { lb_rss "$@" >/dev/null 2>>"$W/lb.log"; }
peak_mib() { [[ -s "$W/rss.$1" ]] && echo "$(( $(sort -n "$W/rss.$1" | tail -1) / 1024 ))M" || echo -; }
quiesce() { psql -d postgres -c checkpoint; sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
# One S3 request first, so that the first timed S3 run does not pay for the server's warm-up.
lb s3 list >/dev/null 2>&1 || true

ROWS=()
# row DB STEP REPO SECONDS BYTES RATIO PAIRED [GOAL RSS]: the verdict compares the paired ratio with the goal.
row() {
  local verdict="" goal=${8:-}
  [[ -n "$goal" ]] && { (( $(echo "$7 <= $goal" | bc) )) && verdict=met || verdict=MISSED; }
  ROWS+=("$(printf "%-8s %-48s %-5s %8.2f %12s %6s %6s  %-8s %-6s %s" "$1" "$2" "$3" "$4" "$5" "$6" "$7" "${goal:+<= $goal}" "$verdict" "${9:-}")")
  [[ -n "${RESULTS:-}" ]] && printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$(dbbytes "$1")" "${9:--}" >> "$RESULTS"
  return 0
}
dbbytes() { psql -d postgres -Atc "select pg_database_size('$1')"; }
ratio() { echo "scale=2; $1 / $2" | bc; }
# paired STEP PEER: the median of the rounds' own ratios (STEP's seconds / PEER's in the same round)
paired() {
  local -a a b r=(); read -ra a <<< "${T[$1]}"; read -ra b <<< "${T[$2]}"
  for i in "${!a[@]}"; do r+=("$(ratio "${a[$i]}" "${b[$i]}")"); done
  median "${r[@]}"
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
timed() { local t0 t1; t0=$(now); "$@"; t1=$(now); secs "$t0" "$t1"; }
# The plain tools' restore into a new database: createdb, then pg_restore -j2.
plain_restore() { "$B/createdb" "${C[@]}" "${1}_r0" && "$B/pg_restore" "${C[@]}" -d "${1}_r0" -j2 "$W/dump-$1"; }

# Each round times every step once, in turn (plain tool, Lifeboat to file, Lifeboat to S3), so that
# a slower stretch of the machine hits all of them; the table shows each step's median.
for db in pgbench many; do
  declare -A T=() ID=()
  for ((r = 1; r <= ROUNDS; r++)); do
    quiesce; rm -rf "$W/dump-$db"
    T[dump]+=" $(timed "$B/pg_dump" "${C[@]}" -d "$db" -Fd -j2 -f "$W/dump-$db")"
    for kind in file s3; do
      quiesce
      t0=$(now); ID[$kind]=$(lb_rss "backup-$db-$kind" "$kind" backup --type logical --database "$db" --no-globals 2>>"$W/lb.log"); t1=$(now)
      T[backup-$kind]+=" $(secs "$t0" "$t1")"
    done
    # Each restored database is dropped right after its step: its autovacuum would slow the next one.
    quiesce
    T[restore]+=" $(timed plain_restore "$db")"
    psql -d postgres -c "drop database ${db}_r0"
    for kind in file s3; do
      quiesce
      T[restore-$kind]+=" $(timed lb_quiet_rss "restore-$db-$kind" "$kind" restore --backup "${ID[$kind]}" --target-database "${db}_$kind")"
      psql -d postgres -c "drop database ${db}_$kind"
    done
  done
  # shellcheck disable=SC2086
  dump=$(median ${T[dump]}); restore=$(median ${T[restore]})
  row "$db" "pg_dump -Fd -j2 to a local directory" "dir" "$dump" "$(du -sb "$W/dump-$db" | cut -f1)" "1.00" "1.00"
  for kind in file s3; do
    stored=$(lb "$kind" show --json "${ID[$kind]}" 2>/dev/null | python3 -c 'import json,sys; print(sum(o["size"] for o in json.load(sys.stdin)["objects"]))')
    # shellcheck disable=SC2086
    s=$(median ${T[backup-$kind]}); row "$db" "lifeboat backup --type logical" "$kind" "$s" "$stored" "$(ratio "$s" "$dump")" "$(paired "backup-$kind" dump)" \
      "$([[ $kind == file ]] && echo 1.15)" "$(peak_mib "backup-$db-$kind")"
  done
  row "$db" "createdb + pg_restore -j2 from a local directory" "dir" "$restore" "" "1.00" "1.00"
  for kind in file s3; do
    # shellcheck disable=SC2086
    s=$(median ${T[restore-$kind]}); row "$db" "lifeboat restore" "$kind" "$s" "" "$(ratio "$s" "$restore")" "$(paired "restore-$kind" restore)" \
      "$([[ $kind == file ]] && echo 1.20)" "$(peak_mib "restore-$db-$kind")"
  done
  for k in "${!T[@]}"; do echo "$db $k:${T[$k]}" >> "$W/rounds"; done
  rm -rf "$W/dump-$db"
done

printf "\n%-8s %-48s %-5s %8s %12s %6s %6s  %-8s %-6s %s\n" "data" "step" "repo" "seconds" "bytes" "ratio" "paired" "goal" "" "peak RSS"
printf "%s\n" "${ROWS[@]}"
echo
echo "repo: dir = the plain tools' local directory; file = a Lifeboat repository in a local directory;"
echo "s3 = Lifeboat's embedded S3 server on this machine. seconds: the median of $ROUNDS rounds; ratio ="
echo "seconds / the plain tool's seconds on the same data in this run; paired = the median of each round's"
echo "own ratio (steps of one round run back to back, so a busy stretch of the machine hits both; goals on"
echo "file: backup <= 1.15, restore <= 1.20, met or MISSED by the paired ratio); peak RSS: the largest Lifeboat"
echo "process of the step over its rounds (goal <= 512 MiB). Load at the end: $(cut -d' ' -f1-3 /proc/loadavg). Every round:"
sort "$W/rounds"
