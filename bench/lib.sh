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
