#!/usr/bin/env bash
# Local Recouvra dev/test stack without Docker: Apache Kafka (KRaft), PostgreSQL, SeaweedFS (S3),
# Mailpit (SMTP with a web view of every mail), Prometheus and Jaeger (traces), run as plain
# processes on 127.0.0.1.
#
#   deploy/local/stack.sh install   install the servers into the cache (idempotent)
#   deploy/local/stack.sh start [SERVER...]   install if needed, start what is not running, wait until each answers
#   deploy/local/stack.sh stop [SERVER...]    stop (SIGTERM, wait, then SIGKILL)
#   deploy/local/stack.sh status [SERVER...]  up/down per server; exit 0 only if all are up
#   deploy/local/stack.sh env       export lines: eval "$(deploy/local/stack.sh env)"
#   deploy/local/stack.sh reset [SERVER...]   stop, then delete data dirs (keeps cached installs and logs)
#
# Installs are cached in ${RECOUVRA_CACHE:-$HOME/.cache/recouvra}; data dirs, pid files and logs
# live in ${RECOUVRA_STATE:-$HOME/.local/state/recouvra}. Both are outside the clone, so several
# clones on one machine share one cache and one running stack.
# SERVER is kafka, postgres, seaweedfs, mailpit, prometheus or jaeger (default: all six). Mailpit takes SMTP on
# 127.0.0.1:11025 and serves its web UI and API on http://127.0.0.1:18025 (built once with
# `go install github.com/axllent/mailpit@v1.33.1`). A second Kafka beside the shared
# one: RECOUVRA_STATE=<own dir> RECOUVRA_KAFKA_PORT=29092 RECOUVRA_KAFKA_CONTROLLER_PORT=29093
# deploy/local/stack.sh start kafka (RECOUVRA_KAFKA_ADVERTISED_PORT: the port of a TCP proxy in
# front of it, which the broker then tells every client to use); PostgreSQL, Mailpit and Prometheus likewise with
# RECOUVRA_POSTGRES_PORT, RECOUVRA_MAILPIT_SMTP_PORT, RECOUVRA_MAILPIT_HTTP_PORT and
# RECOUVRA_PROMETHEUS_PORT (SeaweedFS: RECOUVRA_S3_PORT and RECOUVRA_WEED_{MASTER,VOLUME,FILER,
# ADMIN}_PORT, each gRPC port 10000 above; Jaeger: RECOUVRA_JAEGER_*_PORT). Prometheus (Debian's package) listens on http://127.0.0.1:19090 and
# scrapes every service's metrics port (deploy/local/metrics_ports.sh). Jaeger (built once from
# the Go module deploy/local/jaeger/, v1.75.0) keeps traces in memory, answers its query API on
# http://127.0.0.1:16686/api/ (no web UI) and takes OTLP/HTTP on 127.0.0.1:14318 (gRPC 14317);
# RECOUVRA_JAEGER_QUERY_PORT and RECOUVRA_JAEGER_OTLP_HTTP_PORT move them.
#
# Kafka speaks only SASL_SSL (SCRAM-SHA-512) with ACLs: one user per service plus `admin`, their
# passwords generated into $RECOUVRA_STATE/kafka/credentials, the CA in $RECOUVRA_STATE/kafka/tls;
# `env` prints them. Starting Kafka provisions the ACLs and topics of deploy/kafka-access.json
# with the clone's .venv (make install).
#
# Each server is one file under deploy/local/stack/ (common.sh holds the shared helpers); this
# script only parses the command line and runs each chosen server's install_, start_, wait_,
# stop_ and status_ functions.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/stack/common.sh
source "$SCRIPT_DIR/stack/common.sh"
for component in kafka postgres seaweedfs mailpit prometheus jaeger; do
  # shellcheck source=/dev/null
  source "$SCRIPT_DIR/stack/$component.sh"
done

# ================================ Commands ======================================================
ALL_SERVERS=(kafka postgres seaweedfs mailpit prometheus jaeger)
STOP_ORDER=(kafka seaweedfs mailpit prometheus jaeger postgres)
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
  # The same order as before the split: Kafka, SeaweedFS, Mailpit, then PostgreSQL.
  local s
  for s in "${STOP_ORDER[@]}"; do if chosen "$s"; then "stop_$s"; fi; done
}

cmd_status() {
  STATUS_FAILED=0
  local s
  for s in "${ALL_SERVERS[@]}"; do if chosen "$s"; then "status_$s"; fi; done
  return $STATUS_FAILED
}

cmd_env() {
  cat <<EOF
export RECOUVRA_KAFKA_BOOTSTRAP=$HOST:$KAFKA_ADVERTISED_PORT
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
export RECOUVRA_PROMETHEUS_URL=http://$HOST:$PROMETHEUS_PORT
export RECOUVRA_JAEGER_URL=http://$HOST:$JAEGER_QUERY_PORT
export RECOUVRA_OTLP_ENDPOINT=http://$HOST:$JAEGER_OTLP_HTTP_PORT
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

usage() { sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; }

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
