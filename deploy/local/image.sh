#!/usr/bin/env bash
# Build the Recouvra image (deploy/Dockerfile) with buildah, without any container registry: the
# Python base is made here from Debian's packages (mmdebstrap, the machine's apt mirror) and uv
# is the binary `make install` took from PyPI. The Python wheels come from PyPI, the Debian
# packages from the apt mirror; nothing else is downloaded.
#
#   deploy/local/image.sh build    base (once), uv image, then the image; prints its size
#   deploy/local/image.sh base     just the Debian base (rebuilt when IMAGE_BASE_PACKAGES change)
#   deploy/local/image.sh size     the image's size in bytes
#   deploy/local/image.sh podman-args   the `podman run` options this machine needs (see below)
#
# Storage is root's default (/var/lib/containers), shared by buildah and podman. RUN steps use
# `--isolation chroot` (no OCI runtime, no cgroups needed); containers run with runc when it is
# installed, because crun refuses a hybrid cgroup v1/v2 host ("cgroups in hybrid mode not
# supported"), and with the caller's own hard limits on open files and processes, because
# podman's defaults (1048576) exceed what an unprivileged VM allows ("setrlimit RLIMIT_NOFILE:
# Operation not permitted"). docs/operations.md and deploy/local/README.md say more.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
IMAGE="${RECOUVRA_IMAGE:-localhost/recouvra:dev}"
SUITE=bookworm
MIRROR="${RECOUVRA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${RECOUVRA_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# The interpreter (Debian's 3.11, as uv.lock's requires-python wants) and the libraries the
# services load at run time (WeasyPrint: Pango and a font; zoneinfo: tzdata), as the Dockerfile's
# RUNTIME_PACKAGES, so that the runtime stage finds them installed and downloads nothing.
IMAGE_BASE_PACKAGES=(python3.11 ca-certificates tzdata libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
BASE_TAG="$(printf '%s\n' "$SUITE" "$MIRROR" "${IMAGE_BASE_PACKAGES[@]}" | sha256sum | cut -c1-12)"
BASE="localhost/recouvra-debian-python:$SUITE-$BASE_TAG"
UV="${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}"
NICE=(nice -n 10)  # two cores shared: builds yield to the tests and the stack

log() { printf '[image] %s\n' "$*" >&2; }
die() { printf '[image] ERROR: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }

need_tools() {
  local tool
  for tool in buildah podman mmdebstrap; do
    have "$tool" || die "$tool missing: deploy/local/system_packages.sh install images"
  done
  [[ $EUID -eq 0 ]] || die "needs root (buildah's and podman's rootless mode is not set up here)"
}

base() {
  need_tools
  if exists "$BASE"; then log "base $BASE present"; return; fi
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  log "making $BASE with mmdebstrap from $MIRROR (a few minutes, once)"
  local include; include="$(IFS=,; echo "${IMAGE_BASE_PACKAGES[*]}")"
  "${NICE[@]}" mmdebstrap --quiet --variant=minbase --include="$include" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$SUITE" "$WORK/base.tar" \
    "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
    "deb $SECURITY_MIRROR $SUITE-security main" \
    || die "mmdebstrap failed"
  local container
  container="$(buildah from scratch)"
  buildah add --quiet "$container" "$WORK/base.tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd /bin/bash --created-by "deploy/local/image.sh base" \
    --label "org.opencontainers.image.description=Debian $SUITE minbase + ${IMAGE_BASE_PACKAGES[*]}" \
    "$container"
  buildah commit --quiet --rm "$container" "$BASE" >/dev/null
  rm -rf "$WORK"
  log "base $BASE made"
}

uv_image() {  # uv as the ghcr.io/astral-sh/uv image has it (/uv), from the binary PyPI gave us
  [[ -x "$UV" ]] || die "no uv at $UV: run 'make install' first"
  local version; version="$("$UV" --version | awk '{print $2}')"
  UV_IMAGE="localhost/recouvra-uv:$version"
  if exists "$UV_IMAGE"; then return; fi
  local container; container="$(buildah from scratch)"
  buildah copy --quiet --chmod 0755 "$container" "$UV" /uv >/dev/null
  buildah commit --quiet --rm "$container" "$UV_IMAGE" >/dev/null
  log "uv image $UV_IMAGE made"
}

size() { buildah inspect --type image --format '{{.Size}}' "$IMAGE" 2>/dev/null \
           || podman image inspect --format '{{.Size}}' "$IMAGE"; }

build() {
  base
  uv_image
  # A TLS-inspecting proxy between this machine and PyPI: its CA (in the host's bundle) is handed
  # to the build stage as a secret, never written into a layer.
  local -a secret=()
  local bundle="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
  [[ -s "$bundle" ]] && secret=(--secret "id=ca-bundle,src=$bundle")
  local started=$SECONDS previous
  previous="$(buildah inspect --type image --format '{{.FromImageID}}' "$IMAGE" 2>/dev/null || true)"
  log "building $IMAGE on $BASE (buildah --isolation chroot)"
  "${NICE[@]}" buildah bud --isolation chroot --network host --layers --force-rm \
    --build-arg "PYTHON_IMAGE=$BASE" --build-arg "UV_IMAGE=$UV_IMAGE" \
    --build-arg PYTHON=/usr/bin/python3.11 "${secret[@]}" \
    -f "$ROOT/deploy/Dockerfile" -t "$IMAGE" "$ROOT" >&2 \
    || die "buildah bud failed (output above)"
  # The image it replaces holds its own copy of the venv (about 730 MB): removed, so that each
  # code change does not keep one more. Layers still cached for the next build stay.
  local now; now="$(buildah inspect --type image --format '{{.FromImageID}}' "$IMAGE")"
  if [[ -n $previous && $previous != "$now" ]]; then buildah rmi "$previous" >/dev/null 2>&1 || true; fi
  local bytes; bytes="$(size)"
  log "built $IMAGE in $((SECONDS - started)) s"
  printf '%s %s MB (%s bytes, uncompressed)\n' "$IMAGE" "$((bytes / 1000000))" "$bytes"
}

podman_args() {  # one option per line
  if have runc; then echo --runtime=runc; fi
  local nofile; nofile="$(ulimit -Hn)"
  [[ $nofile == unlimited ]] || echo "--ulimit=nofile=$nofile:$nofile"
  # Processes: runc is refused any value above kernel.pid_max (32768 here), even below the hard
  # limit (96369 here): the lower of the two.
  local nproc pid_max; nproc="$(ulimit -Hu)"; pid_max="$(cat /proc/sys/kernel/pid_max)"
  if [[ $nproc == unlimited ]] || (( nproc > pid_max )); then nproc=$pid_max; fi
  echo "--ulimit=nproc=$nproc:$nproc"
}

case "${1:-}" in
  build) build ;;
  base) base ;;
  size) size ;;
  podman-args) podman_args ;;
  *) die "usage: $0 build|base|size|podman-args" ;;
esac
