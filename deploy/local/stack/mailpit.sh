# shellcheck shell=bash
# Mailpit: SMTP with a web view of every mail, built once with `go install`.
# Sourced by deploy/local/stack.sh after common.sh; defines install_, start_, wait_, stop_ and
# status_ functions for the dispatcher.

MAILPIT_SMTP_PORT="${RECOUVRA_MAILPIT_SMTP_PORT:-11025}"
MAILPIT_HTTP_PORT="${RECOUVRA_MAILPIT_HTTP_PORT:-18025}"
# Mailpit is built from source by the Go toolchain (the module proxy serves it); MailHog fails to
# build with current Go.
MAILPIT_VERSION=1.33.1
MAILPIT_BIN="$CACHE/mailpit-$MAILPIT_VERSION/mailpit"

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

stop_mailpit() { stop_pid mailpit "$MAILPIT_BIN" 15; }
status_mailpit() { report mailpit "$MAILPIT_BIN" "$HOST:$MAILPIT_SMTP_PORT" mailpit_probe; }
