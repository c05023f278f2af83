#!/usr/bin/env bash
# Growth (issue 15 item 5): the physical and logical benchmarks at two sizes (pgbench scales at
# least 4x apart), then seconds per GB of every step at each size, its growth from the small to the
# large size (goal for Lifeboat's steps: at most +10%) and the peak RSS of the Lifeboat processes at
# both (goal: at most 512 MiB at any size).
# Logical: ONE run of bench/logical.sh with both sizes (databases pgbench<small> and pgbench<large>
# in one cluster), their steps interleaved in the same rounds, so that a busier stretch of the
# shared machine hits both sizes alike instead of one of them. Beside Lifeboat's growth the peer's
# (pg_dump, createdb + pg_restore) in the same run, and "vs peer": Lifeboat's growth relative to the
# peer's ((s/GB large / peer's) / (s/GB small / peer's) - 1, from the paired ratios: each round's
# own ratio, medians), which the machine's speed moves least. The verdict is on the absolute growth,
# "vs peer" tells whether a miss is the machine's (the peer grew as much) or Lifeboat's.
# Physical: bench/physical.sh at each size, one after the other (its steps need a cluster of each
# size; its rows still interleave the tools within each size); "vs peer" against the zstd pipe
# (backups) and pgBackRest's restore from S3 (restores) of the same run.
# Usage (as root): bench/growth.sh [small=25] [large=100]
#   OUT=DIR keeps the logs and result files there (a result file already in DIR is not made again);
#   RUNS (physical, 3), ROUNDS (logical, 3), BARMAN (physical, default 0 here) and RANDOMDATA as for
#   physical.sh; LOGICAL=0 / PHYSICAL=0 leave one benchmark out. Run time on 2 cores at 25/100:
#   about 25 min at a load of 2-4.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
SMALL=${1:-25}
LARGE=${2:-100}
(( LARGE >= 4 * SMALL )) || echo "note: $LARGE is less than 4x $SMALL" >&2
OUT=${OUT:-$(mktemp -d /tmp/lifeboat-growth-XXXX)}
mkdir -p "$OUT"
echo "growth $SMALL -> $LARGE, results in $OUT; load at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ ${LOGICAL:-1} == 1 && ! -s "$OUT/logical.tsv" ]]; then
  RESULTS="$OUT/logical.part" bench/logical.sh "$SMALL,$LARGE" 0 "${ROUNDS:-3}" | tee "$OUT/logical.log"
  mv "$OUT/logical.part" "$OUT/logical.tsv"
fi
for size in "$SMALL" "$LARGE"; do
  if [[ ${PHYSICAL:-1} == 1 && ! -s "$OUT/physical.$size.tsv" ]]; then
    BARMAN=${BARMAN:-0} RESULTS="$OUT/physical.$size.part" bench/physical.sh "$size" | tee "$OUT/physical.$size.log"
    mv "$OUT/physical.$size.part" "$OUT/physical.$size.tsv"
  fi
done

heading() { printf "\n%-50s %9s %9s %8s %-6s %9s %9s  %-22s %-22s %s\n" "$1" "s/GB $SMALL" "s/GB $LARGE" "growth" "<=10%" "peer grew" "vs peer" "peak RSS $SMALL" "peak RSS $LARGE" "<=512M"; }
if [[ -s "$OUT/physical.$SMALL.tsv" && -s "$OUT/physical.$LARGE.tsv" ]]; then
  heading "physical (pgbench $SMALL -> $LARGE, two runs; per GB of the cluster)"
  # columns: name wall tool pg s3 bytes rss
  awk -F'\t' '
    FNR == 1 { f++ }
    { if (f == 1) { order[++n] = $1; s1[$1] = $2 / ($6 / 1e9); r1[$1] = $7 } else { s2[$1] = $2 / ($6 / 1e9); r2[$1] = $7 } }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i]; if (!(k in s2)) continue
        g = (s2[k] / s1[k] - 1) * 100; lb = (k ~ /^lifeboat/)
        ref = (k ~ /restore/) ? "pgbackrest restore (S3)" : "pg_basebackup | zstd -T2 -3 (local file)"
        pg = ((ref in s1) && (ref in s2)) ? sprintf("%+8.1f%%", (s2[ref] / s1[ref] - 1) * 100) : "-"
        rel = ((ref in s1) && (ref in s2) && lb) ? sprintf("%+8.1f%%", ((s2[k] / s2[ref]) / (s1[k] / s1[ref]) - 1) * 100) : "-"
        v = lb ? (g <= 10 ? "met" : "MISSED") : "-"
        peak = 0; m = r1[k] " " r2[k]; while (match(m, /[0-9]+M/)) { x = substr(m, RSTART, RLENGTH - 1) + 0; if (x > peak) peak = x; m = substr(m, RSTART + RLENGTH) }
        rv = lb ? (peak <= 512 ? "met" : "MISSED") : ""
        printf "%-50s %9.2f %9.2f %+7.1f%% %-6s %9s %9s  %-22s %-22s %s\n", k, s1[k], s2[k], g, v, pg, rel, (r1[k] == "" ? "-" : r1[k]), (r2[k] == "" ? "-" : r2[k]), rv
      }
    }' "$OUT/physical.$SMALL.tsv" "$OUT/physical.$LARGE.tsv"
fi
if [[ -s "$OUT/logical.tsv" ]]; then
  heading "logical (pgbench $SMALL -> $LARGE, interleaved in one run; per GB of the database)"
  # columns: db step wall tool pg s3 bytes rss paired
  awk -F'\t' -v small="pgbench$SMALL" -v large="pgbench$LARGE" '
    { k = $2; if ($1 == small) { order[++n] = k; s1[k] = $3 / ($7 / 1e9); r1[k] = $8; p1[k] = $9 }
      else if ($1 == large) { s2[k] = $3 / ($7 / 1e9); r2[k] = $8; p2[k] = $9 } }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i]; if (!(k in s2)) continue
        g = (s2[k] / s1[k] - 1) * 100; lb = (k ~ /^lifeboat/)
        ref = (k ~ /restore/) ? "createdb + pg_restore -j2 (local dir)" : "pg_dump -Fd -j2 (local dir)"
        pg = ((ref in s1) && (ref in s2)) ? sprintf("%+8.1f%%", (s2[ref] / s1[ref] - 1) * 100) : "-"
        rel = (lb && p1[k] > 0) ? sprintf("%+8.1f%%", (p2[k] / p1[k] - 1) * 100) : "-"
        v = lb ? (g <= 10 ? "met" : "MISSED") : "-"
        peak = 0; m = r1[k] " " r2[k]; while (match(m, /[0-9]+M/)) { x = substr(m, RSTART, RLENGTH - 1) + 0; if (x > peak) peak = x; m = substr(m, RSTART + RLENGTH) }
        rv = lb ? (peak <= 512 ? "met" : "MISSED") : ""
        printf "%-50s %9.2f %9.2f %+7.1f%% %-6s %9s %9s  %-22s %-22s %s\n", k, s1[k], s2[k], g, v, pg, rel, (r1[k] == "" ? "-" : r1[k]), (r2[k] == "" ? "-" : r2[k]), rv
      }
    }' "$OUT/logical.tsv"
fi
echo
echo "seconds per GB: the median wall time of the step / the size of what it copies (pg_database_size: the"
echo "cluster for physical, the database for logical). growth: Lifeboat's goal (<= +10%). peer grew: the same"
echo "for the step's peer in the same run; vs peer: Lifeboat's growth relative to the peer's (logical: from the"
echo "paired ratios of each round). Results in $OUT; load at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
