#!/usr/bin/env bash
# Growth (issue 15 item 5): bench/physical.sh and bench/logical.sh at two sizes, then seconds per GB
# of every step at each size, its growth from the small to the large size (goal for Lifeboat's steps:
# at most +10%) and the peak RSS of the Lifeboat processes at both (goal: at most 512 MiB at any size).
# The peers' rows are printed too: their growth shows what the machine (cache, disk) does at the larger
# size. Sizes are pgbench scales, at least 4x apart.
# Usage (as root): bench/growth.sh [small=25] [large=100]
#   OUT=DIR keeps the logs and result files there (a size whose result file is already in DIR is not
#   run again); RUNS (physical, 3), ROUNDS (logical, 3), TABLES (logical's second database, 200),
#   BARMAN (1) and RANDOMDATA as for physical.sh; LOGICAL=0 / PHYSICAL=0 leave one benchmark out.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SMALL=${1:-25}
LARGE=${2:-100}
(( LARGE >= 4 * SMALL )) || echo "note: $LARGE is less than 4x $SMALL" >&2
OUT=${OUT:-$(mktemp -d /tmp/lifeboat-growth-XXXX)}
mkdir -p "$OUT"
for size in "$SMALL" "$LARGE"; do
  if [[ ${PHYSICAL:-1} == 1 && ! -s "$OUT/physical.$size.tsv" ]]; then
    RESULTS="$OUT/physical.$size.part" bench/physical.sh "$size" | tee "$OUT/physical.$size.log"
    mv "$OUT/physical.$size.part" "$OUT/physical.$size.tsv"
  fi
  if [[ ${LOGICAL:-1} == 1 && ! -s "$OUT/logical.$size.tsv" ]]; then
    RESULTS="$OUT/logical.$size.part" bench/logical.sh "$size" "${TABLES:-200}" "${ROUNDS:-3}" | tee "$OUT/logical.$size.log"
    mv "$OUT/logical.$size.part" "$OUT/logical.$size.tsv"
  fi
done

# table NAME-COLUMNS SECONDS-COLUMN BYTES-COLUMN RSS-COLUMN SMALL-FILE LARGE-FILE: one row per step.
# "vs peer": the growth of the step's seconds per GB divided by its peer's in the same run (backups:
# the zstd pipe or pg_dump; restores: pgBackRest's from S3 or createdb + pg_restore), which a busier
# machine during one of the two runs does not move as much as the absolute numbers.
table() {
  awk -F'\t' -v nc="$1" -v sc="$2" -v bc="$3" -v rc="$4" '
    function key(   k, i) { k = $1; for (i = 2; i <= nc; i++) k = k " / " $i; return k }
    FNR == 1 { f++ }
    { k = key(); if (f == 1) { order[++n] = k; s1[k] = $sc / ($bc / 1e9); r1[k] = $rc }
      else { s2[k] = $sc / ($bc / 1e9); r2[k] = $rc } }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i]; if (!(k in s2)) continue
        g = (s2[k] / s1[k] - 1) * 100; lb = (k ~ /^lifeboat/ || k ~ / lifeboat /)
        if (nc == 1) ref = (k ~ /restore/) ? "pgbackrest restore (S3)" : "pg_basebackup | zstd -T2 -3 (local file)"
        else { db = k; sub(/ \/ .*/, "", db); ref = db ((k ~ /restore/) ? " / createdb + pg_restore -j2 from a local directory / dir" : " / pg_dump -Fd -j2 to a local directory / dir") }
        rel = ((ref in s1) && (ref in s2)) ? sprintf("%+7.1f%%", ((s2[k] / s2[ref]) / (s1[k] / s1[ref]) - 1) * 100) : "-"
        v = lb ? (g <= 10 ? "met" : "MISSED") : "-"
        peak = 0; m = r1[k] " " r2[k]; while (match(m, /[0-9]+M/)) { x = substr(m, RSTART, RLENGTH - 1) + 0; if (x > peak) peak = x; m = substr(m, RSTART + RLENGTH) }
        rv = lb ? (peak <= 512 ? "met" : "MISSED") : ""
        printf "%-58s %9.2f %9.2f %+7.1f%% %-6s %9s  %-22s %-22s %s\n", k, s1[k], s2[k], g, v, rel, (r1[k] == "" ? "-" : r1[k]), (r2[k] == "" ? "-" : r2[k]), rv
      }
    }' "$5" "$6"
}
heading() { printf "\n%-58s %9s %9s %8s %-6s %9s  %-22s %-22s %s\n" "$1" "s/GB $SMALL" "s/GB $LARGE" "growth" "<=10%" "vs peer" "peak RSS $SMALL" "peak RSS $LARGE" "<=512M"; }
if [[ -s "$OUT/physical.$SMALL.tsv" && -s "$OUT/physical.$LARGE.tsv" ]]; then
  heading "physical (pgbench $SMALL -> $LARGE; per GB of the cluster)"
  table 1 2 6 7 "$OUT/physical.$SMALL.tsv" "$OUT/physical.$LARGE.tsv"
fi
if [[ -s "$OUT/logical.$SMALL.tsv" && -s "$OUT/logical.$LARGE.tsv" ]]; then
  heading "logical (pgbench $SMALL -> $LARGE; per GB of the database)"
  table 3 4 5 6 "$OUT/logical.$SMALL.tsv" "$OUT/logical.$LARGE.tsv"
fi
echo
echo "seconds per GB: the median wall time of the step / the database's size (pg_database_size). The"
echo "growth goal applies to Lifeboat's steps; the peers' rows show what the larger size costs on this machine."
echo "The logical benchmark's second database (TABLES tables) has the same size at both scales. Results in $OUT;"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
