#!/usr/bin/env bash
# The browser the browser tests drive: Debian's Chromium, installed from Debian's packages
# (Playwright's own browser download cannot work here; the tests point Playwright at this one).
#   deploy/local/browser.sh install   install chromium once (root or passwordless sudo)
#   deploy/local/browser.sh path      print the binary the tests launch
set -euo pipefail

CHROMIUM=${RECOUVRA_CHROMIUM:-/usr/bin/chromium}
LOGS=${XDG_STATE_HOME:-$HOME/.local/state}/recouvra/logs

log() { printf '[browser] %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif have sudo && sudo -n true 2>/dev/null; then sudo -n "$@"
  else log "needs root or passwordless sudo to run: $*"; return 1
  fi
}

install() {
  if [[ -x $CHROMIUM ]]; then return 0; fi
  mkdir -p "$LOGS"
  log "installing Debian's chromium (log: $LOGS/install-chromium.log)"
  if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update &&
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
           chromium fonts-dejavu-core; } >>"$LOGS/install-chromium.log" 2>&1; then
    log "apt-get install chromium failed; see $LOGS/install-chromium.log"
    return 1
  fi
  [[ -x $CHROMIUM ]] || { log "chromium installed but $CHROMIUM is missing"; return 1; }
}

case ${1:-} in
  install) install ;;
  path) echo "$CHROMIUM" ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
