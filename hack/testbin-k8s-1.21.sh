#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kube-scheduler v1.21.14 with the current Go from
# the Go module proxy alone. 1.21 did not commit its generated OpenAPI definitions, so they are
# generated here with the kube-openapi generator 1.21 pins, and the API-rule report is compared with
# upstream's exception list. One pin is raised: github.com/modern-go/reflect2 v1.0.1 -> v1.0.2
# (v1.0.1 uses the pre-go1.18 runtime map iterator and the apiserver crashes encoding maps).
# usage: hack/testbin-k8s-1.21.sh OUTDIR WORKDIR. Does nothing when OUTDIR already has the binaries.
set -euo pipefail
OUT=$1; W=$2
KV=v1.21.14; SV=v0.21.14
CMDS="kube-apiserver kube-controller-manager kube-scheduler"
if [ -x "$OUT/kube-apiserver" ] && [ -x "$OUT/kube-controller-manager" ] && [ -x "$OUT/kube-scheduler" ]; then exit 0; fi
echo "testbin: building $CMDS $KV (several minutes cold)" >&2
# Published staging modules of 1.21 (sample-cli-plugin is not on the proxy and sample-controller
# is not in the checksum database; neither carries openapi-gen tags).
STAGING="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
 cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
 csi-translation-lib kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl
 kubelet legacy-cloud-providers metrics mount-utils sample-apiserver"
export GOFLAGS=-buildvcs=false
mkdir -p "$W" "$OUT"
cd "$W"

# A writable copy of the kubernetes module: the generated file is written into it.
src=$(go mod download -json "k8s.io/kubernetes@$KV" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
if [ ! -f "$W/kubernetes/go.mod" ]; then
  rm -rf "$W/kubernetes.tmp"; cp -r "$src" "$W/kubernetes.tmp"; chmod -R u+w "$W/kubernetes.tmp"; mv "$W/kubernetes.tmp" "$W/kubernetes"
fi
modcache=$(go env GOMODCACHE)
for m in $STAGING; do echo "k8s.io/$m@$SV"; done | xargs go mod download

# Packages tagged +k8s:openapi-gen, found the way 1.21's Makefile.generated_files does for KUBE.
tagged() { # dir import-prefix
  (cd "$1" && find -H . \( -name '_*' -o -name '.[^.]*' -o -path ./vendor -o -path ./staging \) -prune \
      -o -type f -name '*.go' -print \
    | { xargs grep -l '^// *+k8s:' || true; } | { xargs -r grep -l '+k8s:openapi-gen=' || true; } \
    | sed 's|/[^/]*$||; s|^\.||' | sort -u | sed "s|^|$2|")
}
{
  tagged "$W/kubernetes" k8s.io/kubernetes
  for m in $STAGING; do
    case $m in code-generator|sample-apiserver) continue ;; esac
    tagged "$modcache/k8s.io/$m@$SV" "k8s.io/$m"
  done
} | LC_ALL=C sort -u > "$W/openapi-packages.txt"

# Wrapper module: 1.21's own replaces, with staging paths turned into published versions.
mkdir -p "$W/build"; cd "$W/build"
{
  printf 'module testbin/k8s121\n\ngo 1.26\n\nrequire k8s.io/kubernetes %s\n\nreplace k8s.io/kubernetes => ../kubernetes\n\nreplace (\n' "$KV"
  sed -n '/^replace (/,/^)/p' "$W/kubernetes/go.mod" | sed '1d;$d' \
    | sed -E "s#=> \./staging/src/(k8s\.io/[^ ]+)\$#=> \1 $SV#" \
    | sed -E 's#^(\tgithub.com/modern-go/reflect2 => github.com/modern-go/reflect2) v1\.0\.1$#\1 v1.0.2#'
  echo ")"
} > go.mod
{ printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kube-openapi/cmd/openapi-gen"\n'
  for c in $CMDS; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done; echo ')'; } > tools.go
{ printf '//go:build tools\n\npackage tools\n\nimport (\n'; sed 's/.*/\t_ "&"/' "$W/openapi-packages.txt"; echo ')'; } > openapi_deps.go
go mod tidy

gen=$W/kubernetes/pkg/generated/openapi/zz_generated.openapi.go
if ! grep -q 'func GetOpenAPIDefinitions' "$gen" 2>/dev/null; then
  go build -o "$W/openapi-gen" k8s.io/kube-openapi/cmd/openapi-gen
  rm -rf "$W/openapi-out"; mkdir -p "$W/openapi-out"
  # gotypesalias=0: the pinned gengo predates *types.Alias.
  GODEBUG=gotypesalias=0 "$W/openapi-gen" --logtostderr -v 1 \
    -i "$(paste -sd, "$W/openapi-packages.txt")" \
    -p k8s.io/kubernetes/pkg/generated/openapi -O zz_generated.openapi \
    -h "$W/kubernetes/hack/boilerplate/boilerplate.generatego.txt" \
    -o "$W/openapi-out" -r "$W/openapi-out/violations.report" > "$W/openapi-gen.log" 2>&1
  diff "$W/openapi-out/violations.report" "$W/kubernetes/api/api-rules/violation_exceptions.list" >&2 \
    || { echo "testbin: openapi API-rule report differs from upstream's exception list" >&2; exit 1; }
  cp "$W/openapi-out/k8s.io/kubernetes/pkg/generated/openapi/zz_generated.openapi.go" "$gen"
fi

ld="-checklinkname=0"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $p.gitVersion=$KV -X $p.gitMajor=1 -X $p.gitMinor=21 -X $p.gitTreeState=clean -X $p.buildDate=2022-06-15T00:00:00Z"
done
for c in $CMDS; do
  go build -ldflags "$ld" -o "$OUT/$c.tmp" "k8s.io/kubernetes/cmd/$c"
  mv "$OUT/$c.tmp" "$OUT/$c"
done
