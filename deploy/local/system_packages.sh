#!/usr/bin/env bash
# The Debian libraries the Python packages load at run time, installed once from Debian's packages:
#   - WeasyPrint (settlement's invoices and statements, messaging's letters) needs Pango and a font;
#   - zoneinfo needs tzdata (Europe/Paris for contact hours, business days and statements);
#   - the messaging end-to-end test decodes the e-mail's EPC QR code with zbarimg (zbar-tools).
# With `images`, the tools of `make image` instead (deploy/local/image.sh): buildah, podman,
# runc (crun, podman's default, refuses a hybrid cgroup host) and mmdebstrap.
#   deploy/local/system_packages.sh install [images]   install what is missing (root or passwordless sudo)
#   deploy/local/system_packages.sh check [images]     exit 1 and name what is missing
set -euo pipefail

PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core tzdata zbar-tools)
if [[ ${2:-} == images ]]; then PACKAGES=(buildah podman runc mmdebstrap)
elif [[ -n ${2:-} ]]; then echo "usage: $0 install|check [images]" >&2; exit 2
fi
LOGS=${XDG_STATE_HOME:-$HOME/.local/state}/recouvra/logs

log() { printf '[system] %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

missing() {
  local package
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
      || printf '%s\n' "$package"
  done
}

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif have sudo && sudo -n true 2>/dev/null; then sudo -n "$@"
  else log "needs root or passwordless sudo to run: $*"; return 1
  fi
}

install() {
  have dpkg-query || { log "not a Debian system: install ${PACKAGES[*]} yourself"; return 0; }
  local -a wanted
  mapfile -t wanted < <(missing)
  (( ${#wanted[@]} )) || return 0
  mkdir -p "$LOGS"
  log "installing ${wanted[*]} (log: $LOGS/install-system.log)"
  if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update &&
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
           "${wanted[@]}"; } >>"$LOGS/install-system.log" 2>&1; then
    log "apt-get install failed; see $LOGS/install-system.log"
    return 1
  fi
}

check() {
  local -a wanted
  mapfile -t wanted < <(missing)
  (( ${#wanted[@]} == 0 )) || { log "missing: ${wanted[*]}"; return 1; }
}

case ${1:-} in
  install) install ;;
  check) check ;;
  *) echo "usage: $0 install|check [images]" >&2; exit 2 ;;
esac
