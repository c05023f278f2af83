#!/usr/bin/env bash
# Logical backup benchmark: Lifeboat `backup --type logical` and `restore` against plain
# `pg_dump -Fd -j2` / `createdb` + `pg_restore -j2` with a local directory, in the same run, on
# these databases (the plain restore's step creates its database, as Lifeboat's restore does):
#   pgbench   pgbench -i -s SCALE: four tables, one of them nearly all the data; with several
#             scales (SCALE=25,100) one database per scale (pgbench25, pgbench100), their steps
#             interleaved in the same rounds, so that both sizes see the same machine (bench/growth.sh)
#   many      TABLES tables of mixed sizes (most a few rows, every 20th 10,000, every 200th 300,000;
#             every 10th with a second index): where per-object costs show (TABLES=0 leaves it out)
# Lifeboat writes to two kinds of repository: a local directory (file://, the same kind as the plain
# tools' directory: the ratios the goals apply to) and Lifeboat's embedded S3 server (s3proxy) over
# https with a self-signed certificate, as its own process, as every bench script does (bench/lib.sh).
# Before each timed step the server checkpoints and the page cache is dropped; a restored database
# is dropped after its step (its autovacuum would run during the next). RUNS rounds of all steps,
# interleaved; each row is the median, with the CPU seconds of every group of processes (cgroups:
# the tool's, PostgreSQL's, the S3 server's) beside the wall time and the peak RSS of each Lifeboat
# process (goal <= 512 MiB at any size). Ratios against the plain tools of the same run, as the
# ratio of the medians and as "paired" (the median of each round's own ratio: steps of one round run
# back to back), with the goal (backup <= 1.15x pg_dump, restore <= 1.20x createdb + pg_restore,
# judged on the local-directory rows' paired ratio) beside each.
# Usage (as root): bench/logical.sh [scale=50[,scale...]] [tables=2000] [rounds=3]
#   KEEP_LOGS=DIR (with LIFEBOAT_TRACE=1: Lifeboat's stage timings) keeps every step's output.
#   RESULTS=FILE appends "db step wall tool pg s3 dbbytes rss paired" lines (bench/growth.sh).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
IFS=, read -ra SCALES <<< "${1:-50}"
TABLES=${2:-2000}
RUNS=${3:-3}
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-logbench-XXXX); chmod 755 "$W"; chown postgres "$W"
# a free port: other servers may run on this machine
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -m immediate stop >/dev/null 2>&1 || true
  bench_cleanup; rm -rf "$W"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init

runuser -u postgres -- "$B/initdb" -D "$W/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
printf "port=$PORT\nunix_socket_directories='%s'\nlisten_addresses='127.0.0.1'\nmax_wal_size=4GB\n" "$W" >> "$W/data/postgresql.conf"
pg_start "$W/data"
C=(-h 127.0.0.1 -p "$PORT" -U postgres)
psql() { "$B/psql" "${C[@]}" -X -q "$@"; }

DBS=()
if (( ${#SCALES[@]} == 1 )); then DBS=(pgbench); else for s in "${SCALES[@]}"; do DBS+=("pgbench$s"); done; fi
for i in "${!DBS[@]}"; do
  psql -d postgres -c "create database ${DBS[$i]}"
  "$B/pgbench" "${C[@]}" -i -q -s "${SCALES[$i]}" "${DBS[$i]}" 2>/dev/null
done
if (( TABLES > 0 )); then
  DBS+=(many)
  psql -d postgres -c "create database many"
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
fi
psql -d postgres -c "vacuum analyze" >/dev/null
declare -A DBBYTES
for db in "${DBS[@]}"; do DBBYTES[$db]=$(psql -d postgres -Atc "select pg_database_size('$db')"); done
echo "databases: $(for db in "${DBS[@]}"; do printf '%s %s; ' "$db" "$(numfmt --to=iec "${DBBYTES[$db]}")"; done)many = $TABLES tables;"\
" $RUNS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

start_s3_https
# One configuration per database and kind of repository (a cluster each, so that `restore` without
# --backup takes that database's newest backup).
for db in "${DBS[@]}"; do
  lifeboat_yml "$W/$db-s3.yml" "$db" "s3://bench/l?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true" "$PORT"
  lifeboat_yml "$W/$db-fs.yml" "$db" "file://$W/fsrepo" "$PORT"
done
mkdir -p "$W/fsrepo" "$W/spool"
# lb KIND DB COMMAND ARGS...: Lifeboat against that database's repository of that kind
lb() { local kind=$1 db=$2; shift 2; "$LB_BIN" "$@" --config "$W/$db-$kind.yml" --cluster "$db" --spool-directory "$W/spool"; }
# One S3 request first, so that the first timed S3 run does not pay for the server's warm-up.
lb s3 "${DBS[0]}" list >/dev/null 2>&1 || true

# Step functions (DB as argument). Preparation: a checkpoint (run_steps then drops the page cache).
ckpt() { psql -d postgres -c checkpoint; }
prep_dump() { rm -rf "$W/dump-$1"; ckpt; }
dump() { "$B/pg_dump" "${C[@]}" -d "$1" -Fd -j2 -f "$W/dump-$1"; }
plain_restore() { "$B/createdb" "${C[@]}" "${1}_r0" && "$B/pg_restore" "${C[@]}" -d "${1}_r0" -j2 "$W/dump-$1"; }
lb_backup() { lb "$2" "$1" backup --type logical --database "$1" --no-globals; }
lb_restore() { lb "$2" "$1" restore --type logical --database "$1" --target-database "${1}_$2"; }
drop() { psql -d postgres -c "drop database $1"; }
# Repositories keep only the newest backup (the step's restore uses it), so that every round stores the same.
keep_newest() { local d="$W/fsrepo/$1/backups"; [[ $2 == s3 ]] && d="$W/s3/bench/l/$1/backups"
  ls -d "$d"/*/ | sort | head -n -1 | xargs -r rm -rf; }
DUMP="pg_dump -Fd -j2 (local dir)"; PRES="createdb + pg_restore -j2 (local dir)"
LBF="lifeboat backup (local dir)"; LBS="lifeboat backup (S3 https)"
LRF="lifeboat restore (local dir)"; LRS="lifeboat restore (S3 https)"
for db in "${DBS[@]}"; do
  step "$db: $DUMP" "prep_dump $db" "dump $db"
  step "$db: $LBF" ckpt "lb_backup $db fs" "keep_newest $db fs"
  step "$db: $LBS" ckpt "lb_backup $db s3" "keep_newest $db s3"
  step "$db: $PRES" ckpt "plain_restore $db" "drop ${db}_r0"
  step "$db: $LRF" ckpt "lb_restore $db fs" "drop ${db}_fs"
  step "$db: $LRS" ckpt "lb_restore $db s3" "drop ${db}_s3"
done
run_steps
print_steps

# paired A B: the median over the rounds of A's wall time / B's in the same round.
paired() {
  local -a a b r=(); read -ra a <<< "${RUNS_WALL[$1]}"; read -ra b <<< "${RUNS_WALL[$2]}"
  local i; for i in "${!a[@]}"; do r+=("$(echo "scale=4; ${a[$i]} / ${b[$i]}" | bc)"); done
  median "${r[@]}"
}
# pratio LABEL A B GOAL: lib.sh's ratio (of the medians: wall, all processes' CPU) and the paired one;
# the verdict is the paired ratio's.
pratio() {
  local w c p verdict="-"
  w=$(echo "scale=4; $(med_wall "$2") / $(med_wall "$3")" | bc)
  c=$(echo "scale=4; $(med_total "$2") / $(med_total "$3")" | bc)
  p=$(paired "$2" "$3")
  [[ $4 != - ]] && { (( $(echo "$p <= $4" | bc) )) && verdict="met" || verdict="MISSED"; }
  printf "%-62s wall %5.2f  paired %5.2f  CPU %5.2f   goal <= %-5s %s\n" "$1" "$w" "$p" "$c" "$4" "$verdict"
}
echo
echo "stored bytes (last round): $(for db in "${DBS[@]}"; do printf '%s: pg_dump %s, lifeboat %s; ' "$db" \
  "$(du -sb "$W/dump-$db" | cut -f1)" "$(du -sb "$W/s3/bench/l/$db" | cut -f1)"; done)"
echo "largest Lifeboat process: $(max_peak_rss) MiB peak RSS (goal <= 512); load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "ratios (A / B: of the medians' wall time, paired = median of each round's own ratio, CPU = all processes'):"
for db in "${DBS[@]}"; do
  pratio "$db backup:  lifeboat (local dir) / pg_dump -Fd -j2" "$db: $LBF" "$db: $DUMP" 1.15
  pratio "$db backup:  lifeboat (S3 https) / pg_dump -Fd -j2" "$db: $LBS" "$db: $DUMP" -
  pratio "$db restore: lifeboat (local dir) / createdb + pg_restore -j2" "$db: $LRF" "$db: $PRES" 1.20
  pratio "$db restore: lifeboat (S3 https) / createdb + pg_restore -j2" "$db: $LRS" "$db: $PRES" -
done
if [[ -n "${RESULTS:-}" ]]; then
  for name in "${NAMES[@]}"; do
    db=${name%%: *}; peer="$db: $DUMP"; [[ $name == *restore* ]] && peer="$db: $PRES"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$db" "${name#*: }" "$(med_wall "$name")" "$(med_tool "$name")" "$(med_pg "$name")" \
      "$(med_s3 "$name")" "${DBBYTES[$db]}" "$(peak_rss "$name")" "$(paired "$name" "$peer")" >> "$RESULTS"
  done
fi
