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
