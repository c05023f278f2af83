# Shared by the bench/ scripts (sourced, with $W set to the run's scratch directory).

now() { date +%s.%N; }

# Starts Lifeboat's embedded S3 server in $W/s3 (bucket "bench"), waits for its endpoint and
# credentials, and exports them (LIFEBOAT_S3_ENDPOINT, ..._ACCESS_KEY_ID, ..._SECRET_ACCESS_KEY).
# Sets S3PID for the caller's cleanup.
start_s3() {
  bin/lifeboat s3-server --dir "$W/s3" --bucket bench --env-file "$W/s3.env" >"$W/s3.log" 2>&1 &
  S3PID=$!
  for _ in $(seq 150); do [[ -s "$W/s3.env" ]] && break; sleep 0.2; done
  # shellcheck disable=SC1091
  source "$W/s3.env"
  export LIFEBOAT_S3_ENDPOINT LIFEBOAT_S3_ACCESS_KEY_ID LIFEBOAT_S3_SECRET_ACCESS_KEY
}

# pgbackrest_conf STANZA PGDATA PORT SOCKETDIR [EXTRA-GLOBAL-LINE...]: writes $W/br/pgbackrest.conf
# for a local repository in $W/br/repo with zstd level 3, as every benchmark compares against,
# and gives $W/br to postgres.
pgbackrest_conf() {
  local stanza=$1 pgdata=$2 port=$3 socket=$4; shift 4
  mkdir -p "$W/br/repo" "$W/br/log" "$W/br/lock"
  {
    printf '[global]\nrepo1-path=%s\nlog-path=%s\nlock-path=%s\ncompress-type=zst\ncompress-level=3\n' \
      "$W/br/repo" "$W/br/log" "$W/br/lock"
    printf '%s\n' "$@"
    printf '[%s]\npg1-path=%s\npg1-port=%s\npg1-socket-path=%s\n' "$stanza" "$pgdata" "$port" "$socket"
  } > "$W/br/pgbackrest.conf"
  chown -R postgres "$W/br"
}

# archiving_cluster MAX_WAL_SIZE: initdb $W/data (as postgres) and start it on $PORT with
# archive_command = lifeboat wal-push ${LB[*]}, and pgBackRest's archive-push ($BR) too when
# HAVE_BR=1, so that both archive every segment; sets C, the psql/pgbench connection options.
archiving_cluster() {
  local archive="$PWD/bin/lifeboat wal-push ${LB[*]} %p"
  [[ $HAVE_BR == 1 ]] && archive="$archive && $BR archive-push %p"
  runuser -u postgres -- "$B/initdb" -D "$W/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
  cat >> "$W/data/postgresql.conf" <<EOC
port=$PORT
unix_socket_directories='$W'
listen_addresses='127.0.0.1'
wal_level=replica
archive_mode=on
archive_command='$archive'
max_wal_size=$1
synchronous_commit=off
EOC
  runuser -u postgres -- "$B/pg_ctl" -D "$W/data" -l "$W/log.txt" -w start >/dev/null
  C=(-h 127.0.0.1 -p "$PORT" -U postgres)
}

# base_backups: a full pgBackRest backup (when installed) and a Lifeboat physical backup of $W/data.
base_backups() {
  [[ $HAVE_BR == 1 ]] && { runuser -u postgres -- $BR stanza-create >/dev/null; runuser -u postgres -- $BR --type=full backup >/dev/null 2>&1; }
  bin/lifeboat backup "${LB[@]}" --type physical >/dev/null 2>&1
}

# ---------------------------------------------------------------------------------------------------
# Like-for-like measurement (issue 15): every tool against one S3 server over https, in its own
# process; the CPU of each group of processes (the tool, PostgreSQL, the S3 server) from cgroups;
# the page cache dropped before each timed step; interleaved rounds and medians; peak RSS of every
# Lifeboat process. A script sets W (scratch directory) and B (PostgreSQL bin), then:
#   bench_init            snapshot of the jar and launcher, cgroups, the RSS sampler (bench_cleanup undoes it)
#   start_s3_https        the S3 server over https (self-signed certificate) in cgroup s3
#   step / run_steps      timed steps, interleaved; print_steps, ratio
# ---------------------------------------------------------------------------------------------------

# bench_init: copies the jar and the launcher (a rebuild during the run must not change what is
# measured), creates the cgroups tool, pg and s3 (cgroup v1 cpuacct, or v2) and starts the sampler.
# LB_BIN is the launcher to call. Needs root.
bench_init() {
  mkdir -p "$W/lb/bin" "$W/lb/target"
  cp bin/lifeboat "$W/lb/bin/"; cp target/lifeboat.jar "$W/lb/target/"; cp -r target/lib "$W/lb/target/"
  chmod -R a+rX "$W/lb"
  LB_BIN="$W/lb/bin/lifeboat"
  "$LB_BIN" --version >/dev/null   # the class-data archive is made here, not inside a timed step
  if [[ -d /sys/fs/cgroup/cpuacct && -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]]; then
    CG=/sys/fs/cgroup/cpuacct/lifeboat-bench-$$; CGV=1
  else
    CG=/sys/fs/cgroup/lifeboat-bench-$$; CGV=2
  fi
  local g
  for g in tool pg s3; do
    mkdir -p "$CG/$g"
    chown postgres "$CG/$g/cgroup.procs"   # restore_command and archive_command run as postgres
  done
  # in-cgroup GROUP COMMAND...: runs COMMAND in that group (also as restore_command/archive_command).
  cat > "$W/in-cgroup" <<EOS
#!/bin/sh
echo \$\$ > "$CG/\$1/cgroup.procs" 2>/dev/null
shift
exec "\$@"
EOS
  chmod 755 "$W/in-cgroup"
  # A PostgreSQL bin directory whose pg_ctl starts the server in group pg: for `lifeboat restore
  # --start` (--bin-dir), so that replay counts as PostgreSQL's CPU, not the tool's.
  mkdir -p "$W/pgbin"
  local f
  for f in "$B"/*; do ln -s "$f" "$W/pgbin/"; done
  rm "$W/pgbin/pg_ctl"
  printf '#!/bin/sh\nexec %s pg %s "$@"\n' "$W/in-cgroup" "$B/pg_ctl" > "$W/pgbin/pg_ctl"
  chmod 755 "$W/pgbin/pg_ctl"
  rss_sampler &
  SAMPLER=$!
}

# cg_cpu GROUP: CPU nanoseconds used by every process that ever ran in the group.
cg_cpu() {
  if [[ $CGV == 1 ]]; then
    cat "$CG/$1/cpuacct.usage"
  else
    awk '$1 == "usage_usec" {print $2 * 1000}' "$CG/$1/cpu.stat"
  fi
}

# pg_start DATA-DIR [pg_ctl options...]: starts a server as postgres in group pg.
pg_start() {
  local d=$1; shift
  "$W/in-cgroup" pg runuser -u postgres -- "$B/pg_ctl" -D "$d" -l "$d/../server.log" -w -t 3600 "$@" start >/dev/null
}

# rss_sampler: every 0.2 s, the peak RSS (VmHWM) of each Lifeboat JVM in groups tool and s3 and the
# CPU ticks of PostgreSQL's walsenders, appended to $W/sample.<generation> when they change.
# step_begin starts a new generation, so each step sees its own processes. Builtins only.
rss_sampler() {
  local gen="" g pid args kind k v hwm u s line
  declare -A seen=()
  while [[ -d "$W" ]]; do
    read -r g 2>/dev/null < "$W/sample.gen" || g=0
    [[ "$g" != "$gen" ]] && { gen=$g; seen=(); }
    for grp in tool s3 pg; do
      mapfile -t pids 2>/dev/null < "$CG/$grp/cgroup.procs" || continue
      for pid in "${pids[@]}"; do
        args=(); mapfile -d '' args 2>/dev/null < "/proc/$pid/cmdline" || continue
        kind=""
        if [[ $grp != pg && " ${args[*]} " == *" -jar "* ]]; then
          local i; for ((i = 0; i < ${#args[@]}; i++)); do [[ ${args[$i]} == *.jar ]] && break; done
          kind=${args[$((i + 1))]:-java}
          [[ " ${args[*]} " == *" --ahead "* && $kind == wal-push ]] && kind="wal-push-ahead"  # one word: the sample lines are split on blanks
          hwm=0
          while read -r k v _; do [[ $k == VmHWM: ]] && { hwm=$v; break; }; done 2>/dev/null < "/proc/$pid/status"
          line="rss $pid $kind $hwm"
        elif [[ $grp == pg && ${args[0]:-} == "postgres: walsender"* ]]; then
          read -r line 2>/dev/null < "/proc/$pid/stat" || continue
          line=${line##*) }; read -r _ _ _ _ _ _ _ _ _ _ _ u s _ <<<"$line"
          line="walsender $pid $((u + s))"
        else
          continue
        fi
        [[ "${seen[$pid]:-}" == "$line" ]] && continue
        seen[$pid]=$line
        echo "$line" >> "$W/sample.$gen"
      done
    done
    read -rt 0.2 <> <(:) || true
  done
}

# Timed steps. step NAME PREPARE COMMAND [AFTER] registers one (functions; COMMAND runs in group tool
# and may write the number of segments it handled to $W/step.segs; AFTER, untimed, checks and
# cleans up, its output kept in $W/after.log). run_steps runs RUNS
# rounds of all steps in order, interleaved, so that a slow minute of the shared machine hits every
# tool alike; before each, PREPARE (untimed), a checkpoint of $C's server if set, and the page cache
# dropped. Per step and run: wall seconds, CPU seconds of groups tool, pg and s3, segments; per step
# the peak RSS of each kind of Lifeboat process over all runs. KEEP_LOGS=DIR keeps each step's output
# there (with LIFEBOAT_TRACE=1, Lifeboat's phase timings).
NAMES=(); PREPS=(); CMDS=(); POSTS=()
declare -A RUNS_WALL RUNS_TOOL RUNS_PG RUNS_S3 RUNS_SEGS RUNS_WS PEAK
step() { NAMES+=("$1"); PREPS+=("$2"); CMDS+=("$3"); POSTS+=("${4:-:}"); }
settle() { sync; echo 3 > /proc/sys/vm/drop_caches; sleep 1; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
secs_ns() { echo "scale=3; $1 / 1000000000" | bc; }
run_steps() {
  local r i name t0 t1 tool pg s3 gen=0
  for ((r = 1; r <= RUNS; r++)); do
    for i in "${!NAMES[@]}"; do
      name=${NAMES[$i]}
      ${PREPS[$i]}
      settle
      gen=$((gen + 1)); echo "$gen" > "$W/sample.gen"
      STEP_SEGS=0
      tool=$(cg_cpu tool); pg=$(cg_cpu pg); s3=$(cg_cpu s3); t0=$(now)
      ( echo "$BASHPID" > "$CG/tool/cgroup.procs"; ${CMDS[$i]} ) >"$W/last.log" 2>&1 \
        || { echo "$name failed:" >&2; tail -5 "$W/last.log" >&2; exit 1; }
      t1=$(now)
      [[ -f "$W/step.segs" ]] && { STEP_SEGS=$(cat "$W/step.segs"); rm -f "$W/step.segs"; }
      [[ -n "${KEEP_LOGS:-}" ]] && { mkdir -p "$KEEP_LOGS"; cp "$W/last.log" "$KEEP_LOGS/${name//[^A-Za-z0-9]/_}.$r.log"; }
      RUNS_WALL[$name]+="$(echo "$t1 - $t0" | bc) "
      RUNS_TOOL[$name]+="$(secs_ns $(( $(cg_cpu tool) - tool ))) "
      RUNS_PG[$name]+="$(secs_ns $(( $(cg_cpu pg) - pg ))) "
      RUNS_S3[$name]+="$(secs_ns $(( $(cg_cpu s3) - s3 ))) "
      RUNS_SEGS[$name]+="$STEP_SEGS "
      read -rt 0.5 <> <(:) || true   # one more sample of processes that just ended
      note_sample "$name" "$W/sample.$gen"
      ${POSTS[$i]} >>"$W/after.log" 2>&1 || { echo "$name: the check after it failed:" >&2; tail -5 "$W/after.log" >&2; exit 1; }
    done
  done
}
# note_sample STEP FILE: keeps the peak RSS per kind of Lifeboat process and the walsender CPU.
note_sample() {
  [[ -f "$2" ]] || { RUNS_WS[$1]+="0 "; return; }
  local kind kb ws
  while read -r kind kb; do
    (( kb > ${PEAK[$1@@$kind]:-0} )) && PEAK[$1@@$kind]=$kb
  done < <(awk '$1 == "rss" {if ($4 > m[$3]) m[$3] = $4} END {for (k in m) print k, m[k]}' "$2")
  ws=$(awk -v hz="$(getconf CLK_TCK)" '$1 == "walsender" {t[$2] = $3} END {s = 0; for (p in t) s += t[p]; printf "%.2f", s / hz}' "$2")
  RUNS_WS[$1]+="$ws "
  rm -f "$2"
}
# Medians of a step: wall, tool, pg, s3, segs, walsender (words of RUNS_*[NAME]).
med_wall() { median ${RUNS_WALL[$1]}; }
med_tool() { median ${RUNS_TOOL[$1]}; }
med_pg() { median ${RUNS_PG[$1]}; }
med_s3() { median ${RUNS_S3[$1]}; }
med_total() { local s=() a b c; read -ra a <<<"${RUNS_TOOL[$1]}"; read -ra b <<<"${RUNS_PG[$1]}"; read -ra c <<<"${RUNS_S3[$1]}"
  local i; for i in "${!a[@]}"; do s+=("$(echo "${a[$i]} + ${b[$i]} + ${c[$i]}" | bc)"); done; median "${s[@]}"; }
# peak_rss STEP: "kind=MiB ..." of the Lifeboat processes the step started (largest over its runs).
peak_rss() {
  local k out=""
  for k in "${!PEAK[@]}"; do [[ $k == "$1@@"* && $k != *"@@s3-server" ]] && out+="${k#*@@}=$(( PEAK[$k] / 1024 ))M "; done
  echo "${out:--}"
}
# max_peak_rss: the largest peak RSS (MiB) of any Lifeboat tool process (not the S3 server) in any step.
max_peak_rss() {
  local k m=0
  for k in "${!PEAK[@]}"; do [[ $k != *"@@s3-server" ]] && (( PEAK[$k] > m )) && m=${PEAK[$k]}; done
  echo $(( m / 1024 ))
}
print_steps() {
  local name
  printf "\n%-50s %8s %8s %8s %8s %8s  %-36s %s\n" "step (median of $RUNS)" "wall s" "CPU tool" "postgres" "S3" "total" "peak RSS (Lifeboat)" "wall of each run"
  for name in "${NAMES[@]}"; do
    printf "%-50s %8.2f %8.2f %8.2f %8.2f %8.2f  %-36s %s\n" "$name" "$(med_wall "$name")" "$(med_tool "$name")" \
      "$(med_pg "$name")" "$(med_s3 "$name")" "$(med_total "$name")" "$(peak_rss "$name")" "$(printf '%.2f ' ${RUNS_WALL[$name]})"
  done
  echo "CPU seconds: tool = every process the tool started (launcher, JVMs, prefetchers, archive-ahead, pgBackRest's"
  echo "workers...); postgres = the server's processes (walsender, startup/replay, checkpointer); S3 = the S3 server"
  local k m=0; for k in "${!PEAK[@]}"; do [[ $k == *"@@s3-server" ]] && (( PEAK[$k] > m )) && m=${PEAK[$k]}; done
  echo "(s3proxy in its own JVM: peak RSS $(( m / 1024 )) MiB)."
  rss_verdict
}
# rss_verdict: the largest Lifeboat process of each kind over all steps, and the goal (issue 15: <= 512 MiB).
rss_verdict() {
  local k kind out="" m
  declare -A top=()
  for k in "${!PEAK[@]}"; do
    kind=${k#*@@}; [[ $kind == s3-server ]] && continue
    (( PEAK[$k] > ${top[$kind]:-0} )) && top[$kind]=${PEAK[$k]}
  done
  for kind in "${!top[@]}"; do out+="$kind=$(( top[$kind] / 1024 ))M "; done
  m=$(max_peak_rss)
  printf "peak RSS of every Lifeboat process (largest per kind): %s-> largest %s MiB, goal <= 512: %s\n" "${out:-none }" "$m" \
    "$( (( m <= 512 )) && echo met || echo MISSED)"
}
# ratio LABEL A B GOAL: A's median against B's (wall and total CPU) with the goal (A/B <= GOAL) beside it.
ratio() {
  local w c verdict
  w=$(echo "scale=4; $(med_wall "$2") / $(med_wall "$3")" | bc)
  c=$(echo "scale=4; $(med_total "$2") / $(med_total "$3")" | bc)
  verdict="-"; [[ $4 != - ]] && { (( $(echo "$w <= $4" | bc) )) && verdict="met" || verdict="MISSED"; }
  printf "%-62s wall %5.2f  CPU %5.2f   goal <= %-5s %s\n" "$1" "$w" "$c" "$4" "$verdict"
}

# bench_cleanup: stops what bench_init and start_s3 started, reports (and ends, by pid) any process
# still in the benchmark's cgroups: none may be left behind.
bench_cleanup() {
  # (each with || true: this runs from an EXIT trap under set -e, where a failed last command would skip the rest)
  [[ -n "${SAMPLER:-}" ]] && { kill "$SAMPLER" 2>/dev/null || true; }
  [[ -n "${S3PID:-}" ]] && { kill "$S3PID" 2>/dev/null || true; wait "$S3PID" 2>/dev/null || true; }
  [[ -n "${CG:-}" && -d "$CG" ]] || return 0
  local g pid left
  for g in tool pg s3; do
    left=$(cat "$CG/$g/cgroup.procs" 2>/dev/null || true)
    for pid in $left; do
      echo "left behind in group $g: $pid $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)" >&2
      kill -9 "$pid" 2>/dev/null || true
    done
  done
  sleep 0.2
  for g in tool pg s3; do rmdir "$CG/$g" 2>/dev/null || true; done
  rmdir "$CG" 2>/dev/null || true
}

# start_s3_https: Lifeboat's embedded S3 server (s3proxy) over https with a self-signed certificate for
# 127.0.0.1, as its own process in group s3. Exports S3_CA (the certificate, PEM) and S3_PORT besides
# the LIFEBOAT_S3_* variables; S3PID for bench_cleanup.
start_s3_https() {
  mkdir -p "$W/tls"
  head -c 18 /dev/urandom | base64 > "$W/tls/pass"
  keytool -genkeypair -alias s3 -keyalg EC -groupname secp256r1 -dname CN=127.0.0.1 -ext san=ip:127.0.0.1 -validity 3 \
    -storetype PKCS12 -keystore "$W/tls/s3.p12" -storepass:file "$W/tls/pass" >/dev/null 2>&1
  keytool -exportcert -rfc -alias s3 -keystore "$W/tls/s3.p12" -storepass:file "$W/tls/pass" -file "$W/tls/ca.pem" >/dev/null 2>&1
  chmod 644 "$W/tls/ca.pem"
  "$W/in-cgroup" s3 "$LB_BIN" s3-server --dir "$W/s3" --bucket bench --env-file "$W/s3.env" \
    --tls-key-store "$W/tls/s3.p12" --tls-password-file "$W/tls/pass" >"$W/s3.log" 2>&1 &
  S3PID=$!
  for _ in $(seq 300); do [[ -s "$W/s3.env" ]] && break; sleep 0.2; done
  # shellcheck disable=SC1091
  source "$W/s3.env"
  export LIFEBOAT_S3_ENDPOINT LIFEBOAT_S3_ACCESS_KEY_ID LIFEBOAT_S3_SECRET_ACCESS_KEY
  S3_CA="$W/tls/ca.pem"; S3_PORT=${LIFEBOAT_S3_ENDPOINT##*:}
}

# lifeboat_yml FILE CLUSTER URI [PG-PORT]: a lifeboat.yml (readable by postgres only) for the https S3
# server or a file:// URI, with the S3 credentials in it; with a port, the server on 127.0.0.1 and
# the bin directory whose pg_ctl starts servers in group pg.
lifeboat_yml() {
  {
    printf 'clusters:\n  %s:\n' "$2"
    [[ -n "${4:-}" ]] && printf '    postgres:\n      host: 127.0.0.1\n      port: %s\n      user: postgres\n      bin-dir: %s\n' "$4" "$W/pgbin"
    printf '    jobs: 2\n    repositories:\n      - uri: %s\n        allow-same-server: true\n' "$3"
    if [[ $3 == s3://* ]]; then
      printf '        ca-file: %s\n        access-key-id: %s\n        secret-access-key: %s\n' "$S3_CA" \
        "$LIFEBOAT_S3_ACCESS_KEY_ID" "$LIFEBOAT_S3_SECRET_ACCESS_KEY"
    fi
  } > "$1"
  chown postgres "$1"; chmod 600 "$1"
}

# pgbackrest_s3_lines N PATH: settings of pgBackRest repository N in the https S3 server (path style,
# the certificate not verified), for pgbackrest_conf's extra lines.
pgbackrest_s3_lines() {
  local r=repo$1
  printf '%s\n' "$r-type=s3" "$r-path=$2" "$r-s3-bucket=bench" "$r-s3-endpoint=127.0.0.1" "$r-storage-port=$S3_PORT" \
    "$r-s3-region=us-east-1" "$r-s3-uri-style=path" "$r-storage-verify-tls=n" \
    "$r-s3-key=$LIFEBOAT_S3_ACCESS_KEY_ID" "$r-s3-key-secret=$LIFEBOAT_S3_SECRET_ACCESS_KEY"
}

# barman_env: the environment Barman's cloud tools (boto3) need for the https S3 server: credentials,
# its certificate as CA bundle, path-style addressing. Written to $W/barman/ (readable by postgres).
barman_env() {
  mkdir -p "$W/barman"
  printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$LIFEBOAT_S3_ACCESS_KEY_ID" \
    "$LIFEBOAT_S3_SECRET_ACCESS_KEY" > "$W/barman/credentials"
  printf '[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n' > "$W/barman/config"
  chown -R postgres "$W/barman"; chmod 600 "$W/barman/credentials"
  BARMAN_ENV=(env "AWS_SHARED_CREDENTIALS_FILE=$W/barman/credentials" "AWS_CONFIG_FILE=$W/barman/config" "AWS_CA_BUNDLE=$S3_CA")
  BARMAN_URL=(--endpoint-url "$LIFEBOAT_S3_ENDPOINT")
}

# start_cluster DIR PORT ARCHIVE_COMMAND [EXTRA-CONF-LINE...]: a cluster in DIR/data on PORT with
# pgbench data of scale $SCALE ($B: the PostgreSQL bin directory); an empty ARCHIVE_COMMAND means
# archive_mode=off (WAL leaves through a replication slot instead).
start_cluster() {
  local dir=$1 port=$2 cmd=$3; shift 3
  mkdir -p "$dir"; chown postgres "$dir"
  set -- "$dir" "$port" "$cmd" "$@"
  runuser -u postgres -- "$B/initdb" -D "$1/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
  cat >> "$1/data/postgresql.conf" <<EOC
port=$2
unix_socket_directories='$1'
listen_addresses='127.0.0.1'
wal_level=replica
archive_mode=$([[ -n "$3" ]] && echo on || echo off)
archive_command='$3'
max_wal_size=4GB
synchronous_commit=off
EOC
  local line; for line in "${@:4}"; do echo "$line" >> "$1/data/postgresql.conf"; done
  runuser -u postgres -- "$B/pg_ctl" -D "$1/data" -l "$1/log.txt" -w start >/dev/null
  "$B/pgbench" -h 127.0.0.1 -p "$2" -U postgres -i -q -s "$SCALE" postgres 2>/dev/null
}

# run_load PORT LABEL CALLS-FILE: pgbench -c 4 for $SECS s, then one table row of what archive_command did.
run_load() {
  local p=$1
  "$B/psql" -h 127.0.0.1 -p "$p" -U postgres -Atqc "select pg_stat_reset_shared('archiver')" >/dev/null
  [[ -f "$3" ]] && : > "$3"   # count only the calls during the load
  rm -f "${3%/*}/data/pg_wal/.lifeboat/ahead.log"
  local before; before=$("$B/psql" -h 127.0.0.1 -p "$p" -U postgres -Atc "select pg_current_wal_lsn()")
  "$B/pgbench" -h 127.0.0.1 -p "$p" -U postgres -n -c 4 -T "$SECS" postgres >/dev/null 2>&1
  local now; now=$("$B/psql" -h 127.0.0.1 -p "$p" -U postgres -Atc "select pg_walfile_name(pg_current_wal_lsn())")
  local stats; stats=$("$B/psql" -h 127.0.0.1 -p "$p" -U postgres -Atc "select archived_count, failed_count, coalesce(last_archived_wal,'-') from pg_stat_archiver")
  local generated; generated=$("$B/psql" -h 127.0.0.1 -p "$p" -U postgres -Atc "select round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$before')/16777216.0, 1)")
  IFS='|' read -r archived failed last <<<"$stats"
  local behind; behind=$(( 16#${now:16:8} - 16#${last:16:8} + (16#${now:8:8} - 16#${last:8:8}) * 256 - 1 ))
  # Per-segment overhead: every archive_command call ran under /usr/bin/time (wall, user, sys seconds).
  local calls=0 cpu=0 wall=0
  if [[ -s "$3" ]]; then
    read -r calls wall cpu < <(awk -F, '/^[0-9.]+,[0-9.]+,[0-9.]+$/ {n++; w+=$1; c+=$2+$3} END {printf "%d %.2f %.2f\n", n, w, c}' "$3")
  fi
  # Lifeboat's archive-ahead process does most uploads outside archive_command: charge its whole
  # CPU time (start-up and idle polling included) to the archiver too.
  local ahead="${3%/*}/data/pg_wal/.lifeboat/ahead.log" ahead_cpu=0
  if [[ -f "$ahead" ]]; then
    ahead_cpu=$(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); f[kv[1]] = kv[2]} if (f["cpu_total_ms"] > t[f["pid"]]) t[f["pid"]] = f["cpu_total_ms"]}
                     END {s = 0; for (p in t) s += t[p]; printf "%.2f\n", s / 1000}' "$ahead")
    cpu=$(echo "$cpu + $ahead_cpu" | bc)
  fi
  local per="-"
  (( archived > 0 )) && per=$(echo "scale=0; $cpu * 1000 / $archived" | bc)
  printf "%-28s %9s %9s %8s %10s %12s %8s %14s\n" "$2" "$generated" "$archived" "$failed" "$(echo "scale=2; $archived / $SECS" | bc)" "$behind" "$calls" "$per"
  if [[ -f "$ahead" ]]; then
    local batches; batches=$(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); f[kv[1]] = kv[2]} n += f["archived"]; c += f["cpu_ms"]}
                                END {printf "%d segments in batches costing %d ms CPU", n, c}' "$ahead")
    echo "  of that CPU: archive_command calls $(echo "$cpu - $ahead_cpu" | bc) s; archive-ahead process $ahead_cpu s in all ($batches)"
  fi
}

timed() { echo "/usr/bin/time -a -o $1 -f %%e,%%U,%%S"; }  # %% is PostgreSQL's escape for %

# walpush_config FILE: a lifeboat.yml with cluster "bench" in the embedded S3 server (start_s3 first),
# readable by the server's user only, for archive_command = lifeboat wal-push.
walpush_config() {
  cat > "$1" <<EOC
clusters:
  bench:
    repositories:
      - uri: s3://bench/wal?endpoint=$LIFEBOAT_S3_ENDPOINT&path-style=true
        access-key-id: $LIFEBOAT_S3_ACCESS_KEY_ID
        secret-access-key: $LIFEBOAT_S3_SECRET_ACCESS_KEY
        allow-same-server: true
EOC
  chown postgres "$1"; chmod 600 "$1"
}
