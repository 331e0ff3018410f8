#!/usr/bin/env bash
# Render every kustomization under k8s/ and validate the result strictly, offline (`make lint`).
#
#   k8s/validate.sh            exit 0 when every overlay renders and every resource is valid
#   k8s/validate.sh --print-kustomize   build (once) and print the pinned kustomize's path
#
# 1. kustomize and kubeconform, pinned, are built once with `go install` into
#    ${RECOUVRA_CACHE:-$HOME/.cache/recouvra}/bin.
# 2. The built-in kinds' JSON schemas are built once into the same cache from Kubernetes' own
#    OpenAPI document (k8s/kubernetes_schemas.py; the Go module proxy serves it, GitHub is not
#    needed). The custom resources' schemas (Strimzi, CloudNativePG, cert-manager) are checked in under
#    k8s/schemas/crds.
# 3. Each target is rendered with kustomize and checked with `kubeconform -strict`: unknown
#    fields, wrong types and kinds without a schema all fail.
# If the Kubernetes schemas cannot be built (no Go module proxy), the script says so loudly and
# falls back to rendering only; RECOUVRA_K8S_REQUIRE_SCHEMAS=1 turns that into a failure.
# A warm run (tools and schemas cached) takes about a second.
set -euo pipefail

K8S_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${RECOUVRA_CACHE:-${HOME:?HOME must be set}/.cache/recouvra}"
BIN="$CACHE/bin"

KUSTOMIZE_MODULE=sigs.k8s.io/kustomize/kustomize/v5
KUSTOMIZE_VERSION=v5.8.1        # v5.8.3 needs Go 1.27
KUBECONFORM_MODULE=github.com/yannh/kubeconform/cmd/kubeconform
KUBECONFORM_VERSION=v0.8.0
KUBERNETES_VERSION=v1.32.4      # must match KUBERNETES_VERSION in kubernetes_schemas.py
SCHEMAS="$CACHE/kubeconform-schemas/$KUBERNETES_VERSION-standalone-strict"

# Everything an operator applies: the two overlays (base + network policies) and the infra,
# plus the example Secrets, which are applied by hand and belong to no kustomization, and the
# cluster-scoped trust-manager Bundle.
TARGETS=(overlays/dev overlays/production infra)
EXAMPLES=(infra/secrets.example.yaml overlays/production/secrets.example.yaml)
# Cluster-scoped resources applied as files (a kustomization would give them a namespace).
FILES=(infra/kafka-ca-bundle.yaml)

log() { printf '[k8s] %s\n' "$*" >&2; }
die() { printf '[k8s] ERROR: %s\n' "$*" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# tool NAME MODULE VERSION: path of the pinned binary, built on first use. Versioned file names
# let a pin change without stale binaries, and several clones share one cache.
tool() {
  local name=$1 module=$2 version=$3
  local path="$BIN/$name-$version"
  if [[ ! -x $path ]]; then
    command -v go >/dev/null 2>&1 \
      || die "$name $version is not in $BIN and Go is not installed to build it"
    log "installing $name $version into $BIN (go install $module@$version)"
    mkdir -p "$BIN"
    local gobin
    gobin="$(mktemp -d "$BIN/.install.XXXXXX")"
    if ! GOBIN="$gobin" go install "$module@$version" >"$WORK/install-$name.log" 2>&1; then
      cat "$WORK/install-$name.log" >&2
      rm -rf "$gobin"
      die "go install $module@$version failed"
    fi
    mv -f "$gobin/$name" "$path"
    rm -rf "$gobin"
  fi
  printf '%s\n' "$path"
}

# Build the built-in kinds' schemas into the cache once; the final rename makes it atomic.
ensure_schemas() {
  [[ -f $SCHEMAS/.complete ]] && return 0
  log "building Kubernetes $KUBERNETES_VERSION JSON schemas into $SCHEMAS"
  local modcache="" proxy="${GOPROXY:-}"
  if command -v go >/dev/null 2>&1; then
    modcache="$(go env GOMODCACHE)"
    proxy="$(go env GOPROXY)"
  fi
  mkdir -p "$(dirname "$SCHEMAS")"
  local tmp
  tmp="$(mktemp -d "$(dirname "$SCHEMAS")/.build.XXXXXX")"
  if GOMODCACHE="$modcache" GOPROXY="${proxy:-https://proxy.golang.org}" \
      python3 "$K8S_DIR/kubernetes_schemas.py" core "$tmp" >"$WORK/schemas.log" 2>&1; then
    mv -T "$tmp" "$SCHEMAS" 2>/dev/null || rm -rf "$tmp"   # another run may have won the race
    return 0
  fi
  cat "$WORK/schemas.log" >&2
  rm -rf "$tmp"
  return 1
}

KUSTOMIZE="$(tool kustomize "$KUSTOMIZE_MODULE" "$KUSTOMIZE_VERSION")"
# k8s/apiserver-check.sh renders with the same pinned kustomize.
if [[ ${1:-} == --print-kustomize ]]; then printf '%s\n' "$KUSTOMIZE"; exit 0; fi
KUBECONFORM="$(tool kubeconform "$KUBECONFORM_MODULE" "$KUBECONFORM_VERSION")"

validate=1
if ! ensure_schemas; then
  if [[ ${RECOUVRA_K8S_REQUIRE_SCHEMAS:-0} == 1 ]]; then
    die "no Kubernetes JSON schemas, and RECOUVRA_K8S_REQUIRE_SCHEMAS=1"
  fi
  log "WARNING: no Kubernetes JSON schemas (see above): rendering only, NOT validating"
  validate=0
fi

failed=0
for target in "${TARGETS[@]}" "${EXAMPLES[@]}" "${FILES[@]}"; do
  out="$WORK/${target//\//-}"
  if [[ $target == *.yaml ]]; then
    cp "$K8S_DIR/$target" "$out"
  elif ! "$KUSTOMIZE" build "$K8S_DIR/$target" >"$out" 2>"$WORK/kustomize.err"; then
    log "$target: kustomize build failed"
    cat "$WORK/kustomize.err" >&2
    failed=1
    continue
  fi
  # Bridge's sandbox is for development: a production render must neither run it nor talk to it.
  if [[ $target == overlays/production ]] && grep -qE 'bridge-sandbox|settlement\.sandbox|:18580' "$out"; then
    log "$target: names Bridge's sandbox (development only)"
    failed=1
  fi
  if [[ $validate == 0 ]]; then
    log "$target: rendered $(grep -c '^kind:' "$out") resources"
    continue
  fi
  # No -ignore-missing-schemas: every kind we ship has a schema, and a new kind must bring one.
  if summary="$("$KUBECONFORM" -strict -summary -output text \
      -schema-location "$SCHEMAS/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
      -schema-location "$K8S_DIR/schemas/crds/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
      - <"$out")"; then
    log "$target: ${summary##*Summary: }"
  else
    printf '%s\n' "$summary" >&2
    log "$target: INVALID"
    failed=1
  fi
done

exit "$failed"
