#!/usr/bin/env bash
# Toxiproxy, the TCP proxy the fault harness (tests/chaos) puts between the services and
# PostgreSQL / Kafka to add latency and drop connections. Built once with `go install` from the
# Go module proxy into the project's cache; the harness starts and stops its own server.
#
#   deploy/local/toxiproxy.sh install   build it if the cache lacks the pinned version (idempotent)
#   deploy/local/toxiproxy.sh path      print the server binary's path (after install)
set -euo pipefail

TOXIPROXY_VERSION=2.5.0   # the newest tag the Go module proxy serves here (v2.3.0, v2.5.0)
CACHE="${RECOUVRA_CACHE:-${HOME:?HOME must be set}/.cache/recouvra}"
DIR="$CACHE/toxiproxy-$TOXIPROXY_VERSION"
BIN="$DIR/toxiproxy-server"
MODULE=github.com/Shopify/toxiproxy/v2

go_bin() { if command -v go >/dev/null; then command -v go; elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; else return 1; fi; }

installed() {  # the binary's build info names the pinned module version
  [[ -x $BIN ]] && "$(go_bin)" version -m "$BIN" 2>/dev/null |
    grep -Eq "^[[:space:]]+mod[[:space:]]+$MODULE[[:space:]]+v$TOXIPROXY_VERSION([[:space:]]|$)"
}

install() {
  if installed; then return 0; fi
  go_bin >/dev/null || { echo "[toxiproxy] needs the Go toolchain (go) to build" >&2; return 1; }
  echo "[toxiproxy] building $MODULE/cmd/server@v$TOXIPROXY_VERSION into $DIR" >&2
  mkdir -p "$DIR"
  exec 8>"$CACHE/toxiproxy.lock"
  flock -w 600 8
  if installed; then return 0; fi
  GOBIN="$DIR" GOFLAGS=-mod=mod "$(go_bin)" install "$MODULE/cmd/server@v$TOXIPROXY_VERSION" >&2
  mv -f "$DIR/server" "$BIN"
  installed
}

case "${1:-}" in
  install) install ;;
  path) installed && echo "$BIN" ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
