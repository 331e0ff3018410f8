#!/usr/bin/env bash
# Apply the manifests to a real Kubernetes API server and check what it makes of them
# (`make k8s-check`).
#
#   k8s/apiserver-check.sh          exit 0 when every object is admitted and every Deployment
#                                   becomes Available on fake nodes
#   RECOUVRA_K8S_KEEP=1 ...         keep the work directory (logs, kubeconfig) even on success
#
# 1. Builds once into ${RECOUVRA_CACHE:-~/.cache/recouvra}: kube-apiserver, kube-controller-manager,
#    kube-scheduler and kubectl from the Go module deploy/local/k8s (k8s.io/kubernetes, pinned
#    there), kine (etcd's API over SQLite) and kwok (fake nodes whose pods "run"). No container,
#    no kubelet, no download at run time but the Go module proxy on the first build.
# 2. Starts them as local processes on free ports of 127.0.0.1, with a throwaway CA, serving and
#    client certificates and a service-account key (openssl), in a temporary directory.
# 3. Installs the operators' CRDs vendored in k8s/crds (their versions are in the directory
#    names and k8s/crds/README.md), three kwok nodes in three zones, then applies server-side
#    (kubectl apply --server-side): infra (+ its example Secrets and the trust-manager Bundle),
#    then overlays/dev, checks it, deletes the namespace, then overlays/production (+ its example
#    Secrets) and checks it. "Checks": every rendered object exists as admitted; every Deployment
#    and StatefulSet becomes Available/ready on the kwok nodes (so every pod passed the
#    `restricted` Pod Security admission and was scheduled); every PodDisruptionBudget is seen by
#    the disruption controller and allows a disruption; every HorizontalPodAutoscaler is picked up
#    by its controller (AbleToScale); ScaledObjects, NetworkPolicies and the operators' resources
#    are admitted by their schemas (no operator runs: nothing reconciles them).
# 4. Proves the server refuses what it should (a pod outside the restricted profile, an unknown
#    field in a ScaledObject) so a pass means something; then stops every process it started.
set -euo pipefail

K8S_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$K8S_DIR")"
MODULE="$ROOT/deploy/local/k8s"
CACHE="${RECOUVRA_CACHE:-${HOME:?HOME must be set}/.cache/recouvra}"
BIN="$CACHE/bin"

# One line `require k8s.io/kubernetes vX` or, as go mod tidy writes it, a line of a require block.
KUBERNETES_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3}
  $1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2}' "$MODULE/go.mod" | head -n 1)"
[[ -n $KUBERNETES_VERSION ]] || { echo "no k8s.io/kubernetes in $MODULE/go.mod" >&2; exit 1; }
KINE_MODULE=github.com/k3s-io/kine
KINE_VERSION=v0.17.5
KWOK_MODULE=sigs.k8s.io/kwok/cmd/kwok
KWOK_VERSION=v0.7.0
TIMEOUT="${RECOUVRA_K8S_TIMEOUT:-300s}"

log() { printf '[k8s-check] %s\n' "$*" >&2; }
die() { printf '[k8s-check] FAILED: %s\n' "$*" >&2; exit 1; }
# kubectl wait ARGS..., tried again until RECOUVRA_K8S_TIMEOUT: kubectl fails at once, rather
# than waiting, on an object whose status has no conditions yet (".status.conditions accessor
# error"), as a CRD or a Deployment just created has. The last refusal is printed.
wait_for() {
  local seconds="${TIMEOUT%s}"
  [[ $seconds =~ ^[0-9]+$ ]] || seconds=300
  local deadline=$((SECONDS + seconds))
  until "$KUBECTL" "$@" --timeout 10s >/dev/null 2>"$WORK/wait.err"; do
    if ((SECONDS >= deadline)); then
      cat "$WORK/wait.err" >&2
      return 1
    fi
    sleep 1
  done
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/recouvra-k8s-check.XXXXXX")"
PIDS=()
ok=0
cleanup() {
  local pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ $ok == 1 && ${RECOUVRA_K8S_KEEP:-0} != 1 ]]; then
    rm -rf "$WORK"
  else
    log "work directory kept: $WORK (logs/, kubeconfig)"
  fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# 1. Binaries, built once. Names carry the versions (and the module's hash for the control
#    plane), so a pin change builds anew and several clones share the cache.

# go_install NAME MODULE VERSION [ENV...]: path of a pinned `go install`-ed binary.
go_install() {
  local name=$1 module=$2 version=$3
  shift 3
  local path="$BIN/$name-$version"
  if [[ ! -x $path ]]; then
    command -v go >/dev/null || die "$name $version is not in $BIN and Go is not installed"
    log "building $name $version (go install $module@$version)"
    mkdir -p "$BIN"
    local gobin
    gobin="$(mktemp -d "$BIN/.install.XXXXXX")"
    if ! env "$@" GOBIN="$gobin" GOFLAGS=-buildvcs=false nice -n 19 \
        go install -trimpath -ldflags "-s -w" "$module@$version" >"$WORK/install-$name.log" 2>&1; then
      cat "$WORK/install-$name.log" >&2
      rm -rf "$gobin"
      die "go install $module@$version failed"
    fi
    mv -f "$gobin/${module##*/}" "$path"
    rm -rf "$gobin"
  fi
  printf '%s\n' "$path"
}

# The control plane from deploy/local/k8s: a directory named after the version and the hash of
# go.mod/go.sum, filled once, renamed into place when complete.
control_plane() {
  local hash dir
  hash="$(cat "$MODULE/go.mod" "$MODULE/go.sum" | sha256sum | cut -c1-12)"
  dir="$CACHE/kubernetes-$KUBERNETES_VERSION-$hash"
  if [[ ! -f $dir/.complete ]]; then
    command -v go >/dev/null || die "the control plane is not in $dir and Go is not installed"
    log "building kube-apiserver, kube-controller-manager, kube-scheduler and kubectl" \
      "$KUBERNETES_VERSION into $dir (once; long on a cold cache, see k8s/README.md)"
    mkdir -p "$CACHE"
    local tmp ld="-s -w" pkg
    tmp="$(mktemp -d "$CACHE/.kubernetes.XXXXXX")"
    # What `kubectl version` and the server's /version say (the release's own build sets these).
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitTreeState=clean"
      ld+=" -X $pkg.gitMajor=$(cut -d. -f1 <<<"${KUBERNETES_VERSION#v}")"
      ld+=" -X $pkg.gitMinor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION")"
    done
    if ! (cd "$MODULE" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false nice -n 19 \
        go build -trimpath -ldflags "$ld" -o "$tmp/" \
          k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
          k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl) \
        >"$WORK/build-kubernetes.log" 2>&1; then
      cat "$WORK/build-kubernetes.log" >&2
      rm -rf "$tmp"
      die "building the control plane failed"
    fi
    touch "$tmp/.complete"
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"   # another run may have won the race
  fi
  printf '%s\n' "$dir"
}

started=$SECONDS
CP="$(control_plane)"
KINE="$(go_install kine "$KINE_MODULE" "$KINE_VERSION")"
KWOK="$(go_install kwok "$KWOK_MODULE" "$KWOK_VERSION" CGO_ENABLED=0)"
KUBECTL="$CP/kubectl"
KUSTOMIZE="$("$K8S_DIR/validate.sh" --print-kustomize)"
log "binaries ready in $((SECONDS - started)) s"

# ---------------------------------------------------------------------------------------------
# 2. Certificates, ports, processes.

mkdir -p "$WORK/pki" "$WORK/logs" "$WORK/kine" "$WORK/rendered"
PKI="$WORK/pki"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
KINE_PORT="$(free_port)"
API_PORT="$(free_port)"

(
  cd "$PKI"
  ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
  ec ca.key
  openssl req -x509 -new -key ca.key -days 1 -subj "/CN=recouvra-k8s-check-ca" -out ca.crt
  # sign NAME SUBJECT [EXTENSIONS]
  sign() {
    ec "$1.key"
    openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    printf '%s\n' "${3:-}" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
      -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  }
  sign apiserver "/CN=kube-apiserver" \
    "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  # One administrator identity for the check itself and the components (system:masters).
  sign admin "/O=system:masters/CN=recouvra-k8s-check" "extendedKeyUsage=clientAuth"
  ec service-accounts.key
  openssl pkey -in service-accounts.key -pubout -out service-accounts.pub
)

KUBECONFIG="$WORK/kubeconfig"
export KUBECONFIG
cat >"$KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: check
    cluster: {server: "https://127.0.0.1:$API_PORT", certificate-authority: "$PKI/ca.crt"}
users:
  - name: admin
    user: {client-certificate: "$PKI/admin.crt", client-key: "$PKI/admin.key"}
contexts:
  - name: check
    context: {cluster: check, user: admin}
current-context: check
EOF

# start NAME COMMAND...: run in the background, log to logs/NAME.log, stopped on exit.
start() {
  local name=$1
  shift
  "$@" >"$WORK/logs/$name.log" 2>&1 &
  PIDS+=("$!")
}
alive() {
  local name=$1 pid=$2
  kill -0 "$pid" 2>/dev/null && return 0
  tail -n 30 "$WORK/logs/$name.log" >&2
  die "$name exited"
}

# kine's own defaults for SQLite (WAL, a busy timeout), which it adds only to an empty endpoint.
start kine "$KINE" --listen-address "127.0.0.1:$KINE_PORT" --metrics-bind-address 0 \
  --endpoint "sqlite://$WORK/kine/state.db?_journal_mode=WAL&_busy_timeout=30000&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=20&cache=shared"
start kube-apiserver "$CP/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$KINE_PORT" --storage-backend etcd3 \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
  --cert-dir "$WORK/pki/apiserver-generated" \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
  --client-ca-file "$PKI/ca.crt" --authorization-mode Node,RBAC \
  --service-account-issuer https://kubernetes.default.svc \
  --service-account-key-file "$PKI/service-accounts.pub" \
  --service-account-signing-key-file "$PKI/service-accounts.key" \
  --service-cluster-ip-range 10.96.0.0/16 --allow-privileged=true --profiling=false
api_pid=${PIDS[-1]}
log "waiting for kube-apiserver on 127.0.0.1:$API_PORT (kine on $KINE_PORT)"
for ((i = 0; ; i++)); do
  alive kube-apiserver "$api_pid"
  "$KUBECTL" get --raw /readyz >/dev/null 2>&1 && break
  ((i < 240)) || die "kube-apiserver not ready after 120 s (logs: $WORK/logs)"
  sleep 0.5
done
log "kube-apiserver $("$KUBECTL" version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])') ready"

start kube-controller-manager "$CP/kube-controller-manager" --kubeconfig "$KUBECONFIG" \
  --leader-elect=false --secure-port 0 --use-service-account-credentials=false \
  --service-account-private-key-file "$PKI/service-accounts.key" --root-ca-file "$PKI/ca.crt" \
  --cluster-name recouvra-k8s-check --controllers '*,-nodeipam'
start kube-scheduler "$CP/kube-scheduler" --kubeconfig "$KUBECONFIG" --leader-elect=false \
  --secure-port 0
start kwok "$KWOK" --kubeconfig "$KUBECONFIG" --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --cidr 10.244.0.0/16 --node-ip 10.0.0.1 --node-lease-duration-seconds 40

# ---------------------------------------------------------------------------------------------
# 3. CRDs, nodes, manifests.

APPLY=(apply --server-side --field-manager recouvra-k8s-check --force-conflicts)
log "installing the vendored CRDs"
"$KUBECTL" "${APPLY[@]}" -R -f "$K8S_DIR/crds" >"$WORK/logs/crds.out" \
  || die "CRDs refused (see above)"
wait_for wait crd --all --for condition=Established || die "a CRD was never Established"

log "three kwok nodes in three zones"
for zone in a b c; do
  cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-$zone
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: kwok-$zone
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: zone-$zone
    type: kwok
status:
  allocatable: {cpu: "32", memory: 128Gi, pods: "110"}
  capacity: {cpu: "32", memory: 128Gi, pods: "110"}
EOF
done >"$WORK/rendered/nodes.yaml"
# create, not a server-side apply: that would drop the status (allocatable) of a new Node.
"$KUBECTL" create -f "$WORK/rendered/nodes.yaml" >/dev/null
wait_for wait node --all --for condition=Ready \
  || die "the kwok nodes never became Ready (logs: $WORK/logs/kwok.log)"

# What a cluster's storage would provide: a default StorageClass and volumes for the claims of
# infra's StatefulSet (SeaweedFS, 100Gi); kube-controller-manager binds them.
cat >"$WORK/rendered/storage.yaml" <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
EOF
for volume in 1 2; do
  cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: volume-$volume}
spec:
  storageClassName: standard
  capacity: {storage: 100Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /nowhere/volume-$volume}
EOF
done >>"$WORK/rendered/storage.yaml"
"$KUBECTL" "${APPLY[@]}" -f "$WORK/rendered/storage.yaml" >/dev/null

render() {  # render NAME PATH...: kustomize dirs and plain files into rendered/NAME.yaml
  local name=$1 path out="$WORK/rendered/$1.yaml"
  shift
  : >"$out"
  for path in "$@"; do
    if [[ -d $K8S_DIR/$path ]]; then
      "$KUSTOMIZE" build "$K8S_DIR/$path" >>"$out" || die "kustomize build $path failed"
    else
      cat "$K8S_DIR/$path" >>"$out"
    fi
    printf '\n---\n' >>"$out"
  done
  printf '%s\n' "$out"
}

# apply_and_check NAME NAMESPACE FILE: apply FILE server-side, then check what became of it.
apply_and_check() {
  local name=$1 namespace=$2 file=$3 expected found
  log "$name: applying server-side"
  if ! "$KUBECTL" "${APPLY[@]}" -f "$file" >"$WORK/logs/apply-$name.out" 2>"$WORK/logs/apply-$name.err"; then
    cat "$WORK/logs/apply-$name.err" >&2
    die "$name: the API server refused objects (above)"
  fi
  expected="$(grep -c '^kind:' "$file")"
  found="$("$KUBECTL" get -f "$file" -o name | wc -l)"
  [[ $found == "$expected" ]] || die "$name: $expected objects rendered, $found found on the server"
  log "$name: $found objects admitted ($(grep '^kind:' "$file" | sort | uniq -c | awk '{printf "%s %s, ", $1, $3}' | sed 's/, $//'))"

  local kind
  for kind in deployment statefulset; do
    [[ -n "$("$KUBECTL" -n "$namespace" get "$kind" -o name)" ]] || continue
    if [[ $kind == deployment ]]; then
      wait_for -n "$namespace" wait deployment --all --for condition=Available || { report_pods "$namespace"; die "$name: a Deployment never became Available"; }
    else
      local set
      for set in $("$KUBECTL" -n "$namespace" get statefulset -o name); do
        "$KUBECTL" -n "$namespace" rollout status "$set" --timeout "$TIMEOUT" >/dev/null \
          || { report_pods "$namespace"; die "$name: $set never became ready"; }
      done
    fi
  done
  # Every wanted replica ready, on a kwok node. Retried: an autoscaler may still be raising a
  # count to its minimum (the gateway's, to 3 in production).
  local wanted running
  for ((i = 0; ; i++)); do
    wanted="$("$KUBECTL" -n "$namespace" get deployment,statefulset \
      -o jsonpath='{range .items[*]}{.spec.replicas}{"\n"}{end}' | awk '{s += $1} END {print s + 0}')"
    running="$("$KUBECTL" -n "$namespace" get pods --field-selector status.phase=Running \
      -o jsonpath='{range .items[*]}{.spec.nodeName}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
      | grep -c '^kwok-[a-z]* True$' || true)"
    [[ $running == "$wanted" ]] && break
    ((i < 120)) || { report_pods "$namespace"; die "$name: $wanted replicas wanted, $running ready on kwok nodes"; }
    sleep 1
  done
  log "$name: every Deployment/StatefulSet available, $running pods ready on kwok nodes ($("$KUBECTL" -n "$namespace" get pods -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort | uniq -c | awk '{printf "%s: %s, ", $2, $1}' | sed 's/, $//'))"

  if [[ -n "$("$KUBECTL" -n "$namespace" get pdb -o name)" ]]; then
    wait_for -n "$namespace" wait pdb --all --for condition=DisruptionAllowed || die "$name: a PodDisruptionBudget does not allow a disruption"
    log "$name: every PodDisruptionBudget selects its pods and allows one disruption"
  fi
  if [[ -n "$("$KUBECTL" -n "$namespace" get hpa -o name)" ]]; then
    wait_for -n "$namespace" wait hpa --all --for condition=AbleToScale || die "$name: a HorizontalPodAutoscaler was not taken up by its controller"
    log "$name: every HorizontalPodAutoscaler taken up by its controller (metrics need metrics-server)"
  fi
}

report_pods() {
  "$KUBECTL" -n "$1" get deployment,statefulset,pods -o wide >&2 || true
  "$KUBECTL" -n "$1" get events --sort-by .lastTimestamp 2>/dev/null | tail -n 20 >&2 || true
}

apply_and_check infra recouvra-data \
  "$(render infra infra infra/secrets.example.yaml infra/kafka-ca-bundle.yaml)"
apply_and_check dev recouvra "$(render dev overlays/dev)"
log "dev: deleting namespace recouvra before production"
"$KUBECTL" delete namespace recouvra --wait=true --timeout "$TIMEOUT" >/dev/null \
  || die "namespace recouvra was not deleted"
apply_and_check production recouvra \
  "$(render production overlays/production overlays/production/secrets.example.yaml)"

# ---------------------------------------------------------------------------------------------
# 4. The same server refuses what it should: otherwise a pass above would prove nothing.

refused() {  # refused WHAT YAML: a server-side dry run of YAML must fail
  if "$KUBECTL" "${APPLY[@]}" --dry-run=server -f - <<<"$2" >/dev/null 2>"$WORK/logs/refused.err"; then
    die "the API server admitted $1"
  fi
  log "refused as it should: $1 ($(grep -oE 'violates PodSecurity "[^"]*"|unknown field "[^"]*"|[.a-zA-Z]+: field not declared in schema' "$WORK/logs/refused.err" | head -1))"
}
refused "a pod breaking the restricted Pod Security profile" "
apiVersion: v1
kind: Pod
metadata: {name: unrestricted, namespace: recouvra}
spec:
  containers: [{name: x, image: recouvra}]"
refused "a ScaledObject with an unknown field" "
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: typo, namespace: recouvra}
spec:
  scaleTargetRef: {name: scoring}
  minReplicas: 2
  triggers: [{type: kafka, metadata: {consumerGroup: scoring}}]"

ok=1
log "passed in $((SECONDS - started)) s"
