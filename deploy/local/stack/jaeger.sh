# shellcheck shell=bash
# Jaeger: the local trace viewer (all-in-one, traces in memory), built once from the small Go
# module deploy/local/jaeger/ (`go get -tool github.com/jaegertracing/jaeger/cmd/jaeger@v1.75.0`).
# Sourced by deploy/local/stack.sh after common.sh; defines install_, start_, wait_, stop_ and
# status_ functions for the dispatcher.

# The query API (/api/...) and, at `/`, our own small trace viewer (deploy/local/jaeger/ui/): the
# upstream UI's web assets are an npm build of jaeger-ui, not part of the Go module.
JAEGER_QUERY_PORT="${RECOUVRA_JAEGER_QUERY_PORT:-16686}"
JAEGER_QUERY_GRPC_PORT="${RECOUVRA_JAEGER_QUERY_GRPC_PORT:-16685}"
JAEGER_HEALTH_PORT="${RECOUVRA_JAEGER_HEALTH_PORT:-16687}"
JAEGER_OTLP_HTTP_PORT="${RECOUVRA_JAEGER_OTLP_HTTP_PORT:-14318}"   # where services send spans
JAEGER_OTLP_GRPC_PORT="${RECOUVRA_JAEGER_OTLP_GRPC_PORT:-14317}"
JAEGER_MODULE="$SCRIPT_DIR/jaeger"
# The version pinned in $JAEGER_MODULE/go.mod; the binary's build info must name it.
JAEGER_VERSION=1.75.0
JAEGER_BIN="$CACHE/jaeger-$JAEGER_VERSION/jaeger"

jaeger_installed() {
  [[ -x $JAEGER_BIN ]] && "$(go_bin)" version -m "$JAEGER_BIN" 2>/dev/null |
    grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/jaegertracing/jaeger[[:space:]]+v$JAEGER_VERSION([[:space:]]|$)"
}

install_jaeger() {
  if jaeger_installed; then return 0; fi
  go_bin >/dev/null || { log "jaeger: needs the Go toolchain (go) to build"; return 1; }
  log "jaeger: building github.com/jaegertracing/jaeger/cmd/jaeger@v$JAEGER_VERSION, a few minutes on 2 cores (log: $LOGS/install-jaeger.log)"
  mkdir -p "$(dirname "$JAEGER_BIN")"
  # Built into a temporary name and moved: a build cut short never passes for an installed one.
  (cd "$JAEGER_MODULE" && GOFLAGS=-mod=mod "$(go_bin)" build -o "$JAEGER_BIN.part" \
    github.com/jaegertracing/jaeger/cmd/jaeger) >"$LOGS/install-jaeger.log" 2>&1 || return 1
  mv -f "$JAEGER_BIN.part" "$JAEGER_BIN"
  log "jaeger: installed $JAEGER_BIN"
}

jaeger_probe() { curl -sf --max-time 5 "http://$HOST:$JAEGER_QUERY_PORT/api/services" >/dev/null && port_open "$JAEGER_OTLP_HTTP_PORT"; }

start_jaeger() {
  local wdir="$STATE/jaeger"
  if pid_alive "$RUN/jaeger.pid" "$JAEGER_BIN"; then log "jaeger: already running (pid $(<"$RUN/jaeger.pid"))"; return 0; fi
  port_open "$JAEGER_QUERY_PORT" && { log "jaeger: port $HOST:$JAEGER_QUERY_PORT is taken by another process"; return 1; }
  mkdir -p "$wdir"
  # The configuration is copied beside the data: a deleted clone cannot break a running Jaeger.
  cp "$JAEGER_MODULE/config.yaml" "$wdir/config.yaml"
  rm -rf "$wdir/ui" && cp -R "$JAEGER_MODULE/ui" "$wdir/ui"
  log "jaeger: starting, trace viewer on http://$HOST:$JAEGER_QUERY_PORT/, query API on /api/, OTLP/HTTP on $HOST:$JAEGER_OTLP_HTTP_PORT (log: $LOGS/jaeger.log)"
  JAEGER_HOST=$HOST JAEGER_QUERY_PORT=$JAEGER_QUERY_PORT JAEGER_QUERY_GRPC_PORT=$JAEGER_QUERY_GRPC_PORT \
    JAEGER_HEALTH_PORT=$JAEGER_HEALTH_PORT JAEGER_OTLP_HTTP_PORT=$JAEGER_OTLP_HTTP_PORT \
    JAEGER_OTLP_GRPC_PORT=$JAEGER_OTLP_GRPC_PORT JAEGER_UI_ASSETS=$wdir/ui \
    launch jaeger "$wdir" "$JAEGER_BIN" --config "$wdir/config.yaml"
}

wait_jaeger() {
  wait_ready jaeger "$JAEGER_BIN" jaeger_probe || return 1
  log "jaeger: ready (trace viewer http://$HOST:$JAEGER_QUERY_PORT/, query API http://$HOST:$JAEGER_QUERY_PORT/api/, OTLP/HTTP http://$HOST:$JAEGER_OTLP_HTTP_PORT)"
}

stop_jaeger() { stop_pid jaeger "$JAEGER_BIN" 15; }
status_jaeger() { report jaeger "$JAEGER_BIN" "$HOST:$JAEGER_QUERY_PORT" jaeger_probe; }
