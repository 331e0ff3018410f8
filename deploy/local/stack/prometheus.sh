# shellcheck shell=bash
# Prometheus from Debian's package, scraping every service `make up` starts (their metrics ports
# are in deploy/local/metrics_ports.sh) and evaluating the rules and alerts of k8s/monitoring/.
# Sourced by deploy/local/stack.sh after common.sh; defines install_, start_, wait_, stop_ and
# status_ functions for the dispatcher.

PROMETHEUS_PORT="${RECOUVRA_PROMETHEUS_PORT:-19090}"
PROMETHEUS_BIN=/usr/bin/prometheus
PROMETHEUS_RULES="$ROOT/k8s/monitoring/prometheus-rules.yml"
# shellcheck source=deploy/local/metrics_ports.sh
source "$SCRIPT_DIR/metrics_ports.sh"

install_prometheus() {
  [[ -x $PROMETHEUS_BIN ]] && have promtool && return 0
  log "prometheus: installing Debian's prometheus package (log: $LOGS/install-prometheus.log)"
  # No recommends: node-exporter and friends are not wanted. Debian's package may enable its own
  # service on port 9090; it is stopped below, ours runs on $PROMETHEUS_PORT with its own data.
  if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update &&
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; } \
         >"$LOGS/install-prometheus.log" 2>&1; then
    log "prometheus: apt-get install prometheus failed (needs root or passwordless sudo); see $LOGS/install-prometheus.log"
    return 1
  fi
  if have systemctl; then as_root systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
  [[ -x $PROMETHEUS_BIN ]] || { log "prometheus: installed but no $PROMETHEUS_BIN"; return 1; }
}

prometheus_probe() { curl -sf --max-time 5 "http://$HOST:$PROMETHEUS_PORT/-/ready" >/dev/null; }

# The configuration, rendered on every start so a new service or port applies; the rules are
# copied beside it so a deleted clone cannot break a running Prometheus.
render_prometheus_config() {
  local pdir=$1 jobs="" service
  for service in gateway intake scoring matching messaging vault settlement; do
    jobs+="  - job_name: $service"$'\n'
    jobs+="    static_configs:"$'\n'
    jobs+="      - targets: [\"$HOST:${METRICS_PORT[$service]}\"]"$'\n'
  done
  cp "$PROMETHEUS_RULES" "$pdir/recouvra-rules.yml"
  python3 - "$SCRIPT_DIR/prometheus/prometheus.yml.tmpl" "$pdir/prometheus.yml" "$HOST" \
    "$PROMETHEUS_PORT" "$pdir/recouvra-rules.yml" "$jobs" <<'PY'
import sys
template, target, host, port, rules, jobs = sys.argv[1:]
text = open(template).read()
for name, value in (("@HOST@", host), ("@PORT@", port), ("@RULES@", rules)):
    text = text.replace(name, value)
open(target, "w").write(text.replace("@SERVICE_JOBS@\n", jobs))
PY
}

start_prometheus() {
  local pdir="$STATE/prometheus"
  if pid_alive "$RUN/prometheus.pid" "$PROMETHEUS_BIN"; then
    log "prometheus: already running (pid $(<"$RUN/prometheus.pid"))"; return 0
  fi
  port_open "$PROMETHEUS_PORT" && { log "prometheus: port $HOST:$PROMETHEUS_PORT is taken by another process"; return 1; }
  mkdir -p "$pdir/data"
  render_prometheus_config "$pdir"
  promtool check config "$pdir/prometheus.yml" >>"$LOGS/prometheus.log" 2>&1 \
    || { log "prometheus: promtool refuses $pdir/prometheus.yml; see $LOGS/prometheus.log"; return 1; }
  log "prometheus: starting on http://$HOST:$PROMETHEUS_PORT (log: $LOGS/prometheus.log)"
  # Two days of local history; the lifecycle API lets `start` reload after a rules change.
  launch prometheus "$pdir" "$PROMETHEUS_BIN" --config.file="$pdir/prometheus.yml" \
    --storage.tsdb.path="$pdir/data" --storage.tsdb.retention.time=2d \
    --web.listen-address="$HOST:$PROMETHEUS_PORT" --web.enable-lifecycle
}

wait_prometheus() {
  wait_ready prometheus "$PROMETHEUS_BIN" prometheus_probe || return 1
  # Already running: pick up the rules and targets of this clone.
  render_prometheus_config "$STATE/prometheus"
  curl -sf -X POST --max-time 10 "http://$HOST:$PROMETHEUS_PORT/-/reload" >/dev/null \
    || { log "prometheus: reloading the configuration failed; see $LOGS/prometheus.log"; return 1; }
  log "prometheus: ready on http://$HOST:$PROMETHEUS_PORT (scraping every service's metrics port)"
}

stop_prometheus() { stop_pid prometheus "$PROMETHEUS_BIN" 30; }
status_prometheus() { report prometheus "$PROMETHEUS_BIN" "$HOST:$PROMETHEUS_PORT" prometheus_probe; }
