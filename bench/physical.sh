#!/usr/bin/env bash
# Physical backup and restore, every tool against the same S3 server over https (Lifeboat's
# embedded s3proxy as its own process, self-signed certificate) and each also to a local directory,
# on one database in one run:
#   backups:  Lifeboat (remote mode: one walsender), pgBackRest full (zst-3, process-max 2), Barman's
#             barman-cloud-backup (its default: uncompressed tar), pg_basebackup -Ft -z and the
#             pg_basebackup | zstd -T2 -3 pipe (to a local file);
#   restores: Lifeboat, pgBackRest, barman-cloud-restore.
# Each step runs RUNS times, interleaved with the others, after dropping the page cache; the
# median counts. CPU seconds are counted per group of processes (cgroups): the tool, PostgreSQL
# (its walsender serves pg_basebackup's and Lifeboat's stream) and the S3 server.
# Usage (as root): bench/physical.sh [scale=100]
#   RUNS=N (3); RANDOMDATA=N adds N rows of 256 random bytes (incompressible: about N*300 bytes);
#   BARMAN=0 leaves Barman out; RESULTS=FILE appends "name wall tool pg s3 bytes" lines (bench/growth.sh).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SCALE=${1:-100}
RUNS=${RUNS:-3}
[[ -f target/lifeboat.jar ]] || mvn -B -q -ntp -DskipTests package
command -v pgbackrest >/dev/null || apt-get install -y -qq pgbackrest >/dev/null
[[ ${BARMAN:-1} == 1 ]] && { command -v barman-cloud-backup >/dev/null || apt-get install -y -qq barman-cli-cloud >/dev/null; }
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=$(mktemp -d /tmp/lifeboat-physbench-XXXX); chmod 755 "$W"; chown postgres "$W"
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
printf "port=$PORT\nunix_socket_directories='$W'\nlisten_addresses='127.0.0.1'\nwal_level=replica\nmax_wal_senders=4\nmax_wal_size=4GB\n" >> "$W/data/postgresql.conf"
pg_start "$W/data"
C=(-h 127.0.0.1 -p "$PORT" -U postgres)
"$B/pgbench" "${C[@]}" -i -q -s "$SCALE" postgres 2>/dev/null
if [[ -n "${RANDOMDATA:-}" ]]; then
  "$B/psql" "${C[@]}" -qc "create table rnd as select g, decode(string_agg(lpad(to_hex((random()*4294967295)::bigint), 8, '0'), ''), 'hex') b from generate_series(1, ${RANDOMDATA}) g, generate_series(1, 64) h group by g"
fi
"$B/psql" "${C[@]}" -qc checkpoint
DBBYTES=$("$B/psql" "${C[@]}" -Atc "select sum(pg_database_size(oid)) from pg_database")
echo "cluster: $(numfmt --to=iec "$DBBYTES") (pgbench scale $SCALE${RANDOMDATA:+, $RANDOMDATA random rows}), $RUNS runs per step, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

start_s3_https
lifeboat_yml "$W/s3.yml" pb "s3://bench/p?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true" "$PORT"
lifeboat_yml "$W/fs.yml" pb "file://$W/fsrepo" "$PORT"
LS3=(--config "$W/s3.yml" --cluster pb); LFS=(--config "$W/fs.yml" --cluster pb)
pgbackrest_conf demo "$W/data" "$PORT" "$W" process-max=2 start-fast=y archive-check=n repo1-retention-full=9 \
  repo2-retention-full=9 $(pgbackrest_s3_lines 2 /pgbr)
P=(runuser -u postgres -- pgbackrest "--config=$W/br/pgbackrest.conf" --stanza=demo)
"${P[@]}" stanza-create >/dev/null 2>&1
barman_env
BMC=(runuser -u postgres -- "${BARMAN_ENV[@]}")

# Each backup starts from an empty target, so that every run stores the same and sizes compare.
no_prep() { :; }
clear_bbz() { rm -rf "$W/bbz"; }
clear_pipe() { rm -f "$W/pipe.zst"; }
clear_lb_s3() { rm -rf "$W/s3/bench/p"; }
clear_lb_fs() { rm -rf "$W/fsrepo"; mkdir -p "$W/fsrepo"; }
clear_bm() { rm -rf "$W/s3/bench/barman"; }
target() { rm -rf "$W/r"; mkdir -p "$W/r"; chown postgres "$W/r"; }
bbz() { "$B/pg_basebackup" "${C[@]}" -D "$W/bbz" -Ft -z -c fast; }
pipe() { sh -c "$B/pg_basebackup -h 127.0.0.1 -p $PORT -U postgres -D - -Ft -X fetch -c fast | zstd -q -T2 -3 > $W/pipe.zst"; }
lb_s3() { "$LB_BIN" backup "${LS3[@]}" --type physical; }
lb_fs() { "$LB_BIN" backup "${LFS[@]}" --type physical; }
br_s3() { "${P[@]}" --repo=2 --type=full backup; }
br_fs() { "${P[@]}" --repo=1 --type=full backup; }
bm() { "${BMC[@]}" barman-cloud-backup "${BARMAN_URL[@]}" --immediate-checkpoint -J 2 -h "$W" -p "$PORT" -U postgres -n bench s3://bench/barman pg; }
lr_s3() { "$LB_BIN" restore "${LS3[@]}" --type physical -D "$W/r/d" --no-verify; }
lr_fs() { "$LB_BIN" restore "${LFS[@]}" --type physical -D "$W/r/d" --no-verify; }
brr_s3() { "${P[@]}" --repo=2 "--pg1-path=$W/r/d" restore; }
brr_fs() { "${P[@]}" --repo=1 "--pg1-path=$W/r/d" restore; }
bmr() { "${BMC[@]}" barman-cloud-restore "${BARMAN_URL[@]}" s3://bench/barman pg bench "$W/r/d"; }
BBZ="pg_basebackup -Ft -z -c fast (local file)"; PIPE="pg_basebackup | zstd -T2 -3 (local file)"
LB="lifeboat backup (S3)"; LBF="lifeboat backup (local dir)"
BR="pgbackrest full (S3)"; BRF="pgbackrest full (local dir)"; BM="barman-cloud-backup (S3, uncompressed)"
LR="lifeboat restore (S3)"; LRF="lifeboat restore (local dir)"
BRR="pgbackrest restore (S3)"; BRRF="pgbackrest restore (local dir)"; BMR="barman-cloud-restore (S3)"
step "$BBZ" clear_bbz bbz
step "$PIPE" clear_pipe pipe
step "$LB" clear_lb_s3 lb_s3
step "$LBF" clear_lb_fs lb_fs
step "$BR" no_prep br_s3
step "$BRF" no_prep br_fs
[[ ${BARMAN:-1} == 1 ]] && step "$BM" clear_bm bm
# All restores fsync what they write (pgBackRest each file; Lifeboat each file and directory;
# barman-cloud-restore leaves that to the kernel). Lifeboat's --no-verify skips pg_verifybackup,
# a re-read of the restored files the others do not do (each chunk's SHA-256 is still checked).
step "$LR" target lr_s3
step "$LRF" target lr_fs
step "$BRR" target brr_s3
step "$BRRF" target brr_fs
[[ ${BARMAN:-1} == 1 ]] && step "$BMR" target bmr
run_steps
rm -rf "$W/r"
print_steps
brset=$(ls -d "$W"/br/repo/backup/demo/*F | sort | tail -1)
echo "stored bytes (last run): pg_basebackup -z $(du -sb "$W/bbz" | cut -f1), zstd pipe $(stat -c %s "$W/pipe.zst"),"\
" lifeboat $(du -sb "$W/s3/bench/p" | cut -f1), pgbackrest $(du -sb "$brset" | cut -f1)"\
"$([[ ${BARMAN:-1} == 1 ]] && echo ", barman $(du -sb "$W/s3/bench/barman" | cut -f1)")"
echo "throughput: lifeboat backup $(echo "scale=1; $DBBYTES / $(med_wall "$LB") / 1048576" | bc) MiB/s, restore $(echo "scale=1; $DBBYTES / $(med_wall "$LR") / 1048576" | bc) MiB/s"
echo "largest Lifeboat process: $(max_peak_rss) MiB peak RSS (goal <= 512); load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "ratios (A / B of the medians; wall time and all processes' CPU):"
ratio "backup:  lifeboat / pgbackrest (both S3)" "$LB" "$BR" 0.85
ratio "backup:  lifeboat / pg_basebackup | zstd -T2 pipe" "$LB" "$PIPE" 1.20
ratio "backup:  lifeboat / pgbackrest (both local dir)" "$LBF" "$BRF" -
ratio "backup:  lifeboat / pg_basebackup -z" "$LB" "$BBZ" -
[[ ${BARMAN:-1} == 1 ]] && ratio "backup:  lifeboat / barman-cloud-backup (both S3)" "$LB" "$BM" -
ratio "restore: lifeboat / pgbackrest (both S3)" "$LR" "$BRR" 0.60
ratio "restore: lifeboat / pgbackrest (both local dir)" "$LRF" "$BRRF" -
[[ ${BARMAN:-1} == 1 ]] && ratio "restore: lifeboat / barman-cloud-restore (both S3)" "$LR" "$BMR" -
if [[ -n "${RESULTS:-}" ]]; then
  for name in "${NAMES[@]}"; do
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$(med_wall "$name")" "$(med_tool "$name")" "$(med_pg "$name")" \
      "$(med_s3 "$name")" "$DBBYTES" "$(peak_rss "$name")" >> "$RESULTS"
  done
fi
