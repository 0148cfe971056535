#!/usr/bin/env bash
# Builds the test-bed binaries from the Go module proxy, each through a throw-away tools module so
# the project's go.mod stays free of k8s.io/kubernetes. Cached by version under $OUT (gitignored):
#   $OUT/v1.37.2/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kwok}
#   $OUT/v1.21.14/{kube-apiserver,kube-controller-manager,kube-scheduler}   (etcd, kwok: shared)
#   $OUT/<minor>/{etcd,kube-apiserver}   apiserver-only beds, one per version in APISERVER_VERSIONS
#   $OUT/tools/{helm,krew,validate-krew-manifest}
# usage: hack/testbin.sh [all|v1.37.2|v1.21.14|tools|apiserver [VERSION...]]   (default: all).
# `apiserver` alone builds every version in APISERVER_VERSIONS. Idempotent; a second run with
# everything present builds nothing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${TESTBIN:-$ROOT/.testbin}
WORK=${TESTBIN_WORK:-$OUT/.work}
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0
KREW_VERSION=v0.4.3
# Extra minors served as kube-apiserver + etcd only (no controllers, scheduler or kwok): the
# bounds of the Kubeflow and gpu-operator releases. `all` builds them; set APISERVER_VERSIONS to
# build fewer (empty: none; their tests then skip). Each costs 5-7 minutes cold on 2 cores, so
# three: 1.29 (Kubeflow v1.9.1, gpu-operator v25.3.4; v1.5.0 and 26.03 refused), 1.32 (Kubeflow
# v1.10.2's target, gpu-operator v26.3.3; 26.03 refused below Knative's 1.33 floor) and 1.33
# (RKE2's range: Kubeflow v1.10.2, 26.03's floor, gpu-operator v26.7.0).
APISERVER_VERSIONS=${APISERVER_VERSIONS-v1.29.15 v1.32.13 v1.33.13}
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

build_common() { build_etcd; build_kwok; }

build_etcd() {
  local B=$OUT/common
  mkdir -p "$B"
  if [ ! -x "$B/etcd-$ETCD_VERSION" ]; then
    log "building etcd $ETCD_VERSION"
    tools_module "$WORK/etcd" testbin/etcd go.etcd.io/etcd/server/v3
    (cd "$WORK/etcd" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "go.etcd.io/etcd/api/v3@$ETCD_VERSION" \
        "go.etcd.io/etcd/client/pkg/v3@$ETCD_VERSION" "go.etcd.io/etcd/client/v3@$ETCD_VERSION" "go.etcd.io/etcd/pkg/v3@$ETCD_VERSION" \
      && go build -o "$B/etcd-$ETCD_VERSION.tmp" go.etcd.io/etcd/server/v3 && mv "$B/etcd-$ETCD_VERSION.tmp" "$B/etcd-$ETCD_VERSION")
  fi
}

build_kwok() {
  local B=$OUT/common
  mkdir -p "$B"
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

k8s_module() { # version dir cmds...: a wrapper module on k8s.io/kubernetes@version with each staging
  # module replaced by its published v0.x release (enough from 1.2x on, where all are published)
  local v=$1 W=$2 sv=v0.${1#v1.} mod c; shift 2
  mkdir -p "$W"
  (cd "$W" && go mod download -json "k8s.io/kubernetes@$v" >/dev/null)
  mod=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$v.mod
  { echo "module testbin/k8s"; echo; echo "go 1.26.0"; echo; echo "require k8s.io/kubernetes $v"; echo; echo "replace ("
    grep -E "=> ./staging" "$mod" | awk -v sv="$sv" '{print "\t"$1" => "$1" "sv}'; echo ")"; } > "$W/go.mod"
  local imports=()
  for c in "$@"; do imports+=("k8s.io/kubernetes/cmd/$c"); done
  tools_module_keep_mod "$W" "${imports[@]}"
  (cd "$W" && go mod tidy)
}

build_current() { # v1.37.x: the staging modules are published, so a replace per staging module is enough
  local v=v1.37.2 B=$OUT/v1.37.2
  mkdir -p "$B"
  build_common; link_common "$B"
  have_control_plane "$B" && [ -x "$B/kubectl" ] && return 0
  log "building kube-apiserver, kube-controller-manager, kube-scheduler $v (several minutes cold)"
  local W=$WORK/k8s-$v c
  k8s_module "$v" "$W" kube-apiserver kube-controller-manager kube-scheduler kubectl
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [ -x "$B/$c" ] && continue
    (cd "$W" && go build -ldflags "$(ldflags_for $v)" -o "$B/$c.tmp" "k8s.io/kubernetes/cmd/$c" && mv "$B/$c.tmp" "$B/$c")
  done
}

build_apiserver() { # version: kube-apiserver alone (+ the shared etcd) for an apiserver-only bed
  local v=$1 B=$OUT/$1
  case $v in v1.[0-9][0-9].[0-9]*) ;; *) echo "testbin: apiserver: bad version '$v' (want v1.MINOR.PATCH)" >&2; exit 2 ;; esac
  mkdir -p "$B"
  build_etcd; ln -sf "../common/etcd-$ETCD_VERSION" "$B/etcd"
  [ -x "$B/kube-apiserver" ] && return 0
  log "building kube-apiserver $v for an apiserver-only bed (minutes cold)"
  local W=$WORK/k8s-$v-apiserver
  k8s_module "$v" "$W" kube-apiserver
  # providerless: without the in-tree cloud providers (the bed sets none), a quarter less to compile
  # up to 1.30, nothing to drop later. -s -w: no symbol table or DWARF, a shorter link.
  (cd "$W" && go build -tags providerless -trimpath -ldflags "$(ldflags_for $v) -s -w" -o "$B/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver \
    && mv "$B/kube-apiserver.tmp" "$B/kube-apiserver")
}

build_apiservers() { # versions... (none: APISERVER_VERSIONS)
  local v
  [ $# -gt 0 ] || set -- $APISERVER_VERSIONS
  for v in "$@"; do build_apiserver "$v"; done
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
  apiserver) shift; build_apiservers "$@" ;;
  all) build_current; build_tools; build_common; "$ROOT/hack/testbin-k8s-1.21.sh" "$OUT/v1.21.14" "$WORK/k8s-v1.21.14"; link_common "$OUT/v1.21.14"
    build_apiservers ;;
  *) echo "usage: $0 [all|v1.37.2|v1.21.14|tools|apiserver [VERSION...]]" >&2; exit 2 ;;
esac
