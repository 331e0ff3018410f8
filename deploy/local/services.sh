#!/usr/bin/env bash
# Run every Recouvra service as a local process against the local stack (deploy/local/stack.sh).
#
#   deploy/local/services.sh start   [SERVICE...]  migrate, start, wait until healthy
#   deploy/local/services.sh stop    [SERVICE...]  SIGTERM (graceful shutdown), wait
#   deploy/local/services.sh restart [SERVICE...]  stop, then start
#   deploy/local/services.sh status  [SERVICE...]  one line each; exit 0 only if all are healthy
#
# Without SERVICE, every service. Logs: var/log/<service>.log in the clone (JSON lines); PIDs:
# var/run/<service>.pid (RECOUVRA_VAR_DIR moves var/). A service's gRPC port follows its own
# setting when exported (RECOUVRA_INTAKE_GRPC_PORT, ...); so does its metrics port
# (RECOUVRA_INTAKE_METRICS_PORT, ...; defaults in deploy/local/metrics_ports.sh, scraped by the
# stack's Prometheus).
# gRPC is mutual TLS: `start` makes or renews the local CA and a certificate per service in
# var/tls (deploy/local/certificates.py) and hands each service its own; health checks call in
# with var/tls/operator.crt, the client certificate for people (see the README for grpcurl).
# Each service signs its calls with its own key, var/identity/private/<service>.key.pem, and
# trusts the public keys in var/identity/trusted (made on first start by
# deploy/local/identity_keys.py).
# Each service sends its traces to the stack's Jaeger (OTEL_EXPORTER_OTLP_ENDPOINT, unless
# exported otherwise; OTEL_SERVICE_NAME is the service's name); its query API,
# http://127.0.0.1:16686/api/traces, finds them (docs/operations.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="$ROOT/.venv/bin/python"
VAR="${RECOUVRA_VAR_DIR:-$ROOT/var}"
LOGS="$VAR/log"
RUN="$VAR/run"
TLS="$VAR/tls"
IDENTITY="$VAR/identity"
ALL=(intake scoring matching messaging vault settlement gateway)
# Below the kernel's ephemeral range (32768-60999, what outgoing connections are given): a port
# there can be held by a Kafka client's socket in TIME_WAIT when a service starts again.
declare -A GRPC_PORT=([gateway]=17050 [intake]=17051 [scoring]=17052 [matching]=17053
                      [messaging]=17054 [vault]=17055 [settlement]=17056)
# shellcheck source=deploy/local/metrics_ports.sh
source "$ROOT/deploy/local/metrics_ports.sh"   # METRICS_PORT: where Prometheus scrapes each service
for service in "${ALL[@]}"; do
  setting="RECOUVRA_${service^^}_GRPC_PORT"
  GRPC_PORT[$service]="${!setting:-${GRPC_PORT[$service]}}"
  setting="RECOUVRA_${service^^}_METRICS_PORT"
  METRICS_PORT[$service]="${!setting:-${METRICS_PORT[$service]}}"
done
HTTP_PORT=8000

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -x "$PYTHON" ]] || die "no virtual environment at $ROOT/.venv: run 'make install' first"
eval "$("$ROOT/deploy/local/stack.sh" env)"
export RECOUVRA_ENV="${RECOUVRA_ENV:-development}"
# Settlement's webhook endpoint (pay by link), where the Bridge sandbox posts.
export RECOUVRA_SETTLEMENT_HTTP_PORT="${RECOUVRA_SETTLEMENT_HTTP_PORT:-8056}"
export RECOUVRA_IDENTITY_TRUSTED_KEYS="$IDENTITY/trusted"
# Each caller reaches its peers wherever they listen (a moved port moves its callers too):
# RECOUVRA_<CALLER>_<PEER>_TARGET, unless exported otherwise. The gateway calls everyone; scoring
# asks intake for a business debtor's SIREN (it is not on the bus); messaging asks intake, vault
# and settlement for a letter's facts; settlement asks intake for the debtors' names.
declare -A CALLS=([gateway]="intake scoring matching messaging vault settlement"
                  [scoring]="intake" [messaging]="intake vault settlement" [settlement]="intake")
for caller in "${!CALLS[@]}"; do
  for peer in ${CALLS[$caller]}; do
    setting="RECOUVRA_${caller^^}_${peer^^}_TARGET"
    export "$setting=${!setting:-127.0.0.1:${GRPC_PORT[$peer]}}"
  done
done
export RECOUVRA_IDENTITY_PEOPLE_ISSUERS=gateway

healthy() {  # healthy SERVICE -> exit 0 when its gRPC health check answers SERVING (over mTLS)
  "$PYTHON" - "$1" "${GRPC_PORT[$1]}" "$TLS" <<'PY'
import sys, grpc
from pathlib import Path
from grpc_health.v1 import health_pb2, health_pb2_grpc
from recouvra_shared.tls import TlsMaterial, server_name_options
service, port, tls = sys.argv[1], sys.argv[2], Path(sys.argv[3])
if not (tls / "operator.key").exists():
    sys.exit(1)
operator = TlsMaterial.from_files(tls / "ca.crt", tls / "operator.crt", tls / "operator.key")
with grpc.secure_channel(
    f"127.0.0.1:{port}", operator.channel_credentials(), options=server_name_options(service)
) as channel:
    try:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
    except grpc.RpcError:
        sys.exit(1)
sys.exit(0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1)
PY
}

running() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# The local SANDBOX of Bridge's payment links (settlement's pay by link; development only): it
# posts its signed webhooks to settlement's webhook endpoint. Started with settlement.
SANDBOX=bridge-sandbox
SANDBOX_PORT="${RECOUVRA_BRIDGE_SANDBOX_PORT:-18580}"
start_sandbox() {
  if running "$SANDBOX"; then return; fi
  RECOUVRA_BRIDGE_SANDBOX_PORT="$SANDBOX_PORT" RECOUVRA_BRIDGE_SANDBOX_WEBHOOK_URL="http://127.0.0.1:$RECOUVRA_SETTLEMENT_HTTP_PORT/webhooks/bridge" \
    nohup "$PYTHON" -m settlement.sandbox >>"$LOGS/$SANDBOX.log" 2>&1 &
  echo $! >"$RUN/$SANDBOX.pid"
  log "bridge sandbox: http://127.0.0.1:$SANDBOX_PORT (SANDBOX: no money moves)"
}

start() {
  mkdir -p "$LOGS" "$RUN"
  "$PYTHON" "$ROOT/deploy/local/certificates.py" "$TLS" >&2 \
    || die "could not make the local certificates in $TLS"
  "$PYTHON" "$ROOT/deploy/local/identity_keys.py" "$IDENTITY" "${ALL[@]}"
  for service in "${SERVICES[@]}"; do
    "$PYTHON" -m "$service" migrate >>"$LOGS/$service.log" 2>&1 \
      || die "$service: migration failed, see $LOGS/$service.log"
  done
  [[ " ${SERVICES[*]} " != *" settlement "* ]] || start_sandbox
  for service in "${SERVICES[@]}"; do
    if running "$service"; then log "$service already running (pid $(cat "$RUN/$service.pid"))"; continue; fi
    # Each service connects to Kafka as its own user: it gets its own password and no other.
    local -a unset_foreign=(-u RECOUVRA_KAFKA_ADMIN_PASSWORD)
    for other in "${ALL[@]}"; do
      [[ $other == "$service" ]] || unset_foreign+=(-u "RECOUVRA_${other^^}_KAFKA_PASSWORD")
    done
    RECOUVRA_TLS_CA_FILE="$TLS/ca.crt" RECOUVRA_TLS_CERT_FILE="$TLS/$service.crt" \
      RECOUVRA_TLS_KEY_FILE="$TLS/$service.key" \
      RECOUVRA_IDENTITY_SIGNING_KEY="$IDENTITY/private/$service.key.pem" \
      nohup env "${unset_foreign[@]}" "RECOUVRA_${service^^}_METRICS_PORT=${METRICS_PORT[$service]}" \
      "OTEL_EXPORTER_OTLP_ENDPOINT=${OTEL_EXPORTER_OTLP_ENDPOINT:-$RECOUVRA_OTLP_ENDPOINT}" \
      "OTEL_SERVICE_NAME=$service" "$PYTHON" -m "$service" >>"$LOGS/$service.log" 2>&1 &
    echo $! >"$RUN/$service.pid"
  done
  for service in "${SERVICES[@]}"; do
    local deadline=$((SECONDS + 60))
    until healthy "$service"; do
      running "$service" || die "$service exited, see $LOGS/$service.log"
      ((SECONDS < deadline)) || die "$service not healthy after 60 s, see $LOGS/$service.log"
      sleep 0.5
    done
    log "$service serving (mutual TLS) on 127.0.0.1:${GRPC_PORT[$service]}, metrics on http://127.0.0.1:${METRICS_PORT[$service]}/metrics"
  done
  log "gateway: http://127.0.0.1:$HTTP_PORT (OpenAPI at /openapi.json, docs at /docs)"
  log "logs: $LOGS"
}

stop() {
  if [[ " ${SERVICES[*]} " == *" settlement "* ]] && running "$SANDBOX"; then
    kill -TERM "$(cat "$RUN/$SANDBOX.pid")"; rm -f "$RUN/$SANDBOX.pid"; log "bridge sandbox stopped"
  fi
  for service in "${SERVICES[@]}"; do
    running "$service" || { rm -f "$RUN/$service.pid"; continue; }
    local pid; pid="$(cat "$RUN/$service.pid")"
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then log "$service did not stop in 30 s: SIGKILL"; kill -KILL "$pid"; fi
    rm -f "$RUN/$service.pid"
    log "$service stopped"
  done
}

status() {
  local all=0
  for service in "${SERVICES[@]}"; do
    if healthy "$service"; then printf '%-11s serving  127.0.0.1:%s\n' "$service" "${GRPC_PORT[$service]}"
    else printf '%-11s down\n' "$service"; all=1; fi
  done
  return $all
}

usage="usage: $0 start|stop|restart|status [SERVICE...] (services: ${ALL[*]})"
command="${1:-}"
shift || true
SERVICES=("$@")
if ((${#SERVICES[@]} == 0)); then SERVICES=("${ALL[@]}"); fi
for service in "${SERVICES[@]}"; do
  [[ -n "${GRPC_PORT[$service]:-}" ]] || die "unknown service '$service'; $usage"
done

case "$command" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  *) die "$usage" ;;
esac
