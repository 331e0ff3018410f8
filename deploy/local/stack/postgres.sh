# shellcheck shell=bash
# PostgreSQL from Debian's packages, on a data directory of the stack's own.
# Sourced by deploy/local/stack.sh after common.sh; defines install_, start_, wait_, stop_ and
# status_ functions for the dispatcher.

PG_PORT="${RECOUVRA_POSTGRES_PORT:-15432}"
# off (the dev default, fast) acknowledges a commit before its WAL is written: a crash of the
# server (an `immediate` stop) forgets the last commits it acknowledged. The chaos harness, which
# crashes its own server, sets on.
PG_SYNCHRONOUS_COMMIT="${RECOUVRA_POSTGRES_SYNCHRONOUS_COMMIT:-off}"
PG_SUPERUSER=recouvra
PG_SUPERPASS=recouvra
# One database, owner role and runtime role per service (postgres-init.sql has the same default).
PG_SERVICES=(gateway intake scoring matching messaging vault settlement)
PG_DATA="$STATE/postgres/data"

pg_bindir() {  # newest Debian-packaged server
  local p
  p=$(printf '%s\n' /usr/lib/postgresql/*/bin/postgres | sort -V | tail -n1)
  [[ -x $p ]] && dirname "$p"
}

install_postgres() {
  pg_bindir >/dev/null && return 0
  log "postgres: server binaries not found; installing Debian's postgresql package (log: $LOGS/install-postgres.log)"
  if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update &&
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; } \
         >"$LOGS/install-postgres.log" 2>&1; then
    log "postgres: apt-get install postgresql failed (needs root or passwordless sudo); see $LOGS/install-postgres.log"
    return 1
  fi
  # The package may have created and started Debian's default cluster on port 5432; we don't use it.
  local v
  for v in /etc/postgresql/*/main; do
    [[ -d $v ]] && { as_root pg_ctlcluster "$(basename "$(dirname "$v")")" main stop >/dev/null 2>&1 || true; }
  done
  pg_bindir >/dev/null || { log "postgres: installed but no /usr/lib/postgresql/*/bin/postgres"; return 1; }
}

# PostgreSQL refuses to run as root: as root we run it as the `postgres` OS user.
pg_user() { if [[ $EUID -eq 0 ]]; then echo postgres; else id -un; fi; }
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    # setpriv exec's in place (no extra parent process), so pids stay the server's own.
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else "$@"; fi
}

# As root, the state dir is usually under /root (mode 700), which the postgres user cannot
# traverse. Grant search (x) permission, nothing else, on each ancestor that blocks it.
pg_make_reachable() {
  [[ $EUID -eq 0 ]] || return 0
  local d="" part parts
  IFS=/ read -ra parts <<<"${1#/}"
  for part in "${parts[@]}"; do
    d="$d/$part"
    [[ -d $d ]] || break
    if ! setpriv --reuid=postgres --regid=postgres --init-groups -- test -x "$d"; then
      if have setfacl; then setfacl -m u:postgres:x "$d"; else chmod o+x "$d"; fi
      log "postgres: granted directory search permission on $d so the postgres user can reach its data"
    fi
  done
}

pg_psql() {  # pg_psql DB ARGS...  as superuser over TCP
  PGPASSWORD=$PG_SUPERPASS PGCONNECT_TIMEOUT=5 "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" -d "$1" "${@:2}"
}

pg_probe() {
  "$(pg_bindir)/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 3 && [[ $(pg_psql postgres -At -c 'SELECT 1') == 1 ]]
}

start_postgres() {
  local bindir user pwfile
  bindir=$(pg_bindir) || { log "postgres: not installed"; return 1; }
  user=$(pg_user)
  if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    log "postgres: creating the postgres OS user"
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  if pid_alive "$RUN/postgres.pid" "$bindir/postgres"; then log "postgres: already running (pid $(<"$RUN/postgres.pid"))"; return 0; fi
  port_open "$PG_PORT" && { log "postgres: port $HOST:$PG_PORT is taken by another process (another stack with a different RECOUVRA_STATE? see: ss -ltnp)"; return 1; }
  mkdir -p "$STATE/postgres"
  pg_make_reachable "$STATE/postgres"
  chown "$user" "$STATE/postgres"
  if [[ ! -f $PG_DATA/PG_VERSION ]]; then
    log "postgres: initdb $PG_DATA (superuser $PG_SUPERUSER)"
    rm -rf "$PG_DATA"
    # initdb reads the password from a file; the postgres user must be able to read it.
    pwfile=$(mktemp "$STATE/postgres/.pw.XXXXXX")
    printf '%s\n' "$PG_SUPERPASS" >"$pwfile"; chown "$user" "$pwfile"
    # The bootstrap superuser IS `recouvra`; scram for TCP and the (disabled) socket alike.
    if ! as_pg "$bindir/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" --pwfile="$pwfile" \
        --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 --locale=C >>"$LOGS/postgres.log" 2>&1; then
      rm -f "$pwfile"; log "postgres: initdb failed; see $LOGS/postgres.log"; return 1
    fi
    rm -f "$pwfile"
  elif [[ $(<"$PG_DATA/PG_VERSION") != "$(basename "$(dirname "$bindir")")" ]]; then
    log "postgres: $PG_DATA is from PostgreSQL $(<"$PG_DATA/PG_VERSION") but the server is $bindir; run '$0 reset'"
    return 1
  fi
  log "postgres: starting on $HOST:$PG_PORT (log: $LOGS/postgres.log)"
  # Settings on the command line (not in postgresql.conf) so every start applies the current ones.
  # No Unix socket: everything goes over TCP on 127.0.0.1 with scram. fsync off: throwaway dev data
  # (a process crash keeps what reached the OS; only a machine crash loses it).
  local -a runas=()
  [[ $EUID -eq 0 ]] && runas=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  launch postgres "$STATE/postgres" "${runas[@]}" "$bindir/postgres" -D "$PG_DATA" \
    -c listen_addresses="$HOST" -c port="$PG_PORT" -c unix_socket_directories= \
    -c max_connections=300 -c fsync=off -c synchronous_commit="$PG_SYNCHRONOUS_COMMIT" -c full_page_writes=off \
    -c password_encryption=scram-sha-256 -c logging_collector=off -c log_line_prefix='%m [%p] %q%u@%d '
}

wait_postgres() {
  wait_ready postgres "$(pg_bindir)/postgres" pg_probe || return 1
  # Roles and databases per service (idempotent; also picks up services added later).
  local s services
  services=$(IFS=,; echo "${PG_SERVICES[*]}")
  if ! pg_psql postgres -v services="$services" -v maintenance=true -f "$SCRIPT_DIR/postgres-init.sql" \
      >>"$LOGS/postgres.log" 2>&1; then
    log "postgres: provisioning roles/databases failed; see $LOGS/postgres.log"; return 1
  fi
  # A database made before the owner/runtime split holds tables of the runtime role: hand them
  # to the owner (a no-op once done). `python -m <service> migrate` grants the rows back.
  for s in "${PG_SERVICES[@]}"; do
    if ! pg_psql "$s" -c "REASSIGN OWNED BY \"$s\" TO \"${s}_owner\"" >>"$LOGS/postgres.log" 2>&1; then
      log "postgres: handing $s's tables to ${s}_owner failed; see $LOGS/postgres.log"; return 1
    fi
  done
  log "postgres: ready on $HOST:$PG_PORT"
}

# SIGINT = "fast" shutdown (SIGTERM would be "smart" and wait for every client, e.g. a test's
# leaked pool, to leave).
stop_postgres() {
  local pgpat=/usr/lib/postgresql/
  if [[ ! -f $RUN/postgres.pid && -f $PG_DATA/postmaster.pid ]]; then head -n1 "$PG_DATA/postmaster.pid" >"$RUN/postgres.pid"; fi
  stop_pid postgres "$pgpat" 60 INT
}

status_postgres() {
  if pg_bindir >/dev/null; then report postgres "$(pg_bindir)/postgres" "$HOST:$PG_PORT" pg_probe
  else printf '%-10s down  %-16s (not installed)\n' postgres "$HOST:$PG_PORT"; STATUS_FAILED=1; fi
}
