#!/usr/bin/env bash
# Builds the test-bed binaries from the Go module proxy, each through a throw-away tools module so
# the project's go.mod stays free of k8s.io/kubernetes. Cached by version under $OUT (gitignored):
#   $OUT/v1.37.2/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kwok}
#   $OUT/v1.21.14/{kube-apiserver,kube-controller-manager,kube-scheduler}   (etcd, kwok: shared)
#   $OUT/tools/{helm,krew,validate-krew-manifest}
# usage: hack/testbin.sh [all|v1.37.2|v1.21.14|tools]   (default: all). Idempotent; a second run
# with everything present builds nothing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${TESTBIN:-$ROOT/.testbin}
WORK=${TESTBIN_WORK:-$OUT/.work}
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0
KREW_VERSION=v0.4.3
export GOFLAGS=-buildvcs=false
what=${1:-all}
mkdir -p "$OUT" "$WORK"

log() { echo "testbin: $*" >&2; }

tools_module() { # dir module-name imports...
  local dir=$1 name=$2; shift 2
  mkdir -p "$dir"
  printf 'module %s\n\ngo 1.26\n' "$name" > "$dir/go.mod"
  { echo '//go:build tools'; echo; echo 'package tools'; echo; echo 'import ('
    for i in "$@"; do echo "	_ \"$i\""; done; echo ')'; } > "$dir/tools.go"
}

ldflags_for() { # version -> -X flags as hack/lib/version.sh sets them
  local v=$1 minor
  minor=$(echo "$v" | cut -d. -f2)
  local f=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    f+=" -X $p.buildDate=2026-01-01T00:00:00Z"
  done
  echo "$f"
}

build_common() {
  local B=$OUT/common
  mkdir -p "$B"
  if [ ! -x "$B/etcd-$ETCD_VERSION" ]; then
    log "building etcd $ETCD_VERSION"
    tools_module "$WORK/etcd" testbin/etcd go.etcd.io/etcd/server/v3
    (cd "$WORK/etcd" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "go.etcd.io/etcd/api/v3@$ETCD_VERSION" \
        "go.etcd.io/etcd/client/pkg/v3@$ETCD_VERSION" "go.etcd.io/etcd/client/v3@$ETCD_VERSION" "go.etcd.io/etcd/pkg/v3@$ETCD_VERSION" \
      && go build -o "$B/etcd-$ETCD_VERSION.tmp" go.etcd.io/etcd/server/v3 && mv "$B/etcd-$ETCD_VERSION.tmp" "$B/etcd-$ETCD_VERSION")
  fi
  if [ ! -x "$B/kwok-$KWOK_VERSION" ]; then
    log "building kwok $KWOK_VERSION"
    tools_module "$WORK/kwok" testbin/kwok sigs.k8s.io/kwok/cmd/kwok
    (cd "$WORK/kwok" && go get "sigs.k8s.io/kwok@$KWOK_VERSION" && go mod tidy \
      && go build -o "$B/kwok-$KWOK_VERSION.tmp" sigs.k8s.io/kwok/cmd/kwok && mv "$B/kwok-$KWOK_VERSION.tmp" "$B/kwok-$KWOK_VERSION")
  fi
  # kwok's stage configs ship in its module; keep a copy next to the binary.
  if [ ! -d "$B/kwok-stages-$KWOK_VERSION" ]; then
    local dir
    dir=$(cd "$WORK/kwok" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    mkdir -p "$B/kwok-stages-$KWOK_VERSION.tmp"
    cp -r "$dir/kustomize/stage/." "$B/kwok-stages-$KWOK_VERSION.tmp/"
    chmod -R u+w "$B/kwok-stages-$KWOK_VERSION.tmp"
    mv "$B/kwok-stages-$KWOK_VERSION.tmp" "$B/kwok-stages-$KWOK_VERSION"
  fi
}

link_common() { # version dir
  ln -sf "../common/etcd-$ETCD_VERSION" "$1/etcd"
  ln -sf "../common/kwok-$KWOK_VERSION" "$1/kwok"
  ln -sfn "../common/kwok-stages-$KWOK_VERSION" "$1/kwok-stages"
}

have_control_plane() { [ -x "$1/kube-apiserver" ] && [ -x "$1/kube-controller-manager" ] && [ -x "$1/kube-scheduler" ]; }

build_current() { # v1.37.x: the staging modules are published, so a replace per staging module is enough
  local v=v1.37.2 B=$OUT/v1.37.2
  mkdir -p "$B"
  build_common; link_common "$B"
  have_control_plane "$B" && [ -x "$B/kubectl" ] && return 0
  log "building kube-apiserver, kube-controller-manager, kube-scheduler $v (several minutes cold)"
  local W=$WORK/k8s-$v sv=v0.${v#v1.}
  mkdir -p "$W"
  (cd "$W" && go mod download -json "k8s.io/kubernetes@$v" >/dev/null)
  local mod
  mod=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$v.mod
  { echo "module testbin/k8s"; echo; echo "go 1.26.0"; echo; echo "require k8s.io/kubernetes $v"; echo; echo "replace ("
    grep -E "=> ./staging" "$mod" | awk -v sv="$sv" '{print "\t"$1" => "$1" "sv}'; echo ")"; } > "$W/go.mod"
  tools_module_keep_mod "$W" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  (cd "$W" && go mod tidy)
  local c
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [ -x "$B/$c" ] && continue
    (cd "$W" && go build -ldflags "$(ldflags_for $v)" -o "$B/$c.tmp" "k8s.io/kubernetes/cmd/$c" && mv "$B/$c.tmp" "$B/$c")
  done
}

tools_module_keep_mod() { # dir imports... (go.mod already written)
  local dir=$1; shift
  { echo '//go:build tools'; echo; echo 'package tools'; echo; echo 'import ('
    for i in "$@"; do echo "	_ \"$i\""; done; echo ')'; } > "$dir/tools.go"
}

build_tools() {
  local B=$OUT/tools
  mkdir -p "$B"
  [ -x "$B/helm" ] || { log "building helm $HELM_VERSION"; GOBIN=$B go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"; }
  [ -x "$B/krew" ] || { log "building krew $KREW_VERSION"; GOBIN=$B go install "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION"; }
  [ -x "$B/validate-krew-manifest" ] || GOBIN=$B go install "sigs.k8s.io/krew/cmd/validate-krew-manifest@$KREW_VERSION"
}

case $what in
  v1.37.2) build_current ;;
  v1.21.14) build_common; "$ROOT/hack/testbin-k8s-1.21.sh" "$OUT/v1.21.14" "$WORK/k8s-v1.21.14"; link_common "$OUT/v1.21.14" ;;
  tools) build_tools ;;
  all) build_current; build_tools; build_common; "$ROOT/hack/testbin-k8s-1.21.sh" "$OUT/v1.21.14" "$WORK/k8s-v1.21.14"; link_common "$OUT/v1.21.14" ;;
  *) echo "usage: $0 [all|v1.37.2|v1.21.14|tools]" >&2; exit 2 ;;
esac
