# shellcheck shell=bash
# Apache Kafka (KRaft, one node, SASL_SSL with a SCRAM user per service) from Maven Central jars.
# Sourced by deploy/local/stack.sh after common.sh; defines install_, start_, wait_, stop_ and
# status_ functions for the dispatcher.

KAFKA_PORT="${RECOUVRA_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${RECOUVRA_KAFKA_CONTROLLER_PORT:-19093}"
# The port clients are told to connect to (the broker's metadata): the client port itself, unless a
# TCP proxy in front of the broker listens there (the fault harness: toxiproxy on it -> KAFKA_PORT).
KAFKA_ADVERTISED_PORT="${RECOUVRA_KAFKA_ADVERTISED_PORT:-$KAFKA_PORT}"
KAFKA_ADMIN=admin
KAFKA_CATALOGUE="$ROOT/deploy/kafka-access.json"   # the services' users, ACLs and topics
# Kafka's version lives in kafka/pom.xml (the POM that resolves the jars).
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$SCRIPT_DIR/kafka/pom.xml")"
KAFKA_HOME="$CACHE/kafka-$KAFKA_VERSION"

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
      -e "s|@ADVERTISED_PORT@|$KAFKA_ADVERTISED_PORT|g" \
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

# SIGTERM = controlled shutdown.
stop_kafka() { stop_pid kafka kafka.Kafka 60; }
status_kafka() { report kafka kafka.Kafka "$HOST:$KAFKA_PORT" kafka_probe; }
