#!/usr/bin/env bash
# make demo: starts the simulated RKE cluster (with the test-only stand-ins for the NFS provisioner,
# MetalLB's controller and the GPU device plugin, and a local mirror of the chart repositories),
# shows what apply would create (diff -f), applies the whole platform from one file (apply -f),
# verifies it (verify -f), applies it again to show every section is "unchanged", diffs the file
# (empty) and a one-field change of it, lists the images storage, lb and gpu run (images -f),
# then runs section commands as a user would (through
# kubectl's plugin discovery), and stops the cluster.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TESTBIN=${TESTBIN:-$ROOT/.testbin}
FIXTURES=$(cd "$ROOT/.." && pwd)/shared/fixtures
DIR=$(mktemp -d /tmp/flexigrobots-demo-XXXXXX)
go build -o "$DIR/sim" ./test/cmd/sim
"$DIR/sim" --dir "$DIR/cluster" > "$DIR/sim.out" 2> "$DIR/sim.err" &
SIM=$!
trap 'kill -INT $SIM 2>/dev/null; wait $SIM 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 360); do
  grep -q '^export KUBECONFIG=' "$DIR/sim.out" 2>/dev/null && break
  kill -0 $SIM 2>/dev/null || { cat "$DIR/sim.err"; exit 1; }
  sleep 0.5
done
sleep 0.5
eval "$(cat "$DIR/sim.out")"
[ -n "${CHART_REPO:-}" ] || { echo "demo: the chart mirror needs ../shared/fixtures" >&2; exit 1; }
export PATH="$ROOT/bin:$PATH"
KUBECTL="$TESTBIN/v1.37.2/kubectl"
step() { echo; echo "\$ kubectl flexigrobots $*"; "$KUBECTL" flexigrobots "$@"; }

step version

# The whole platform from one file: no versions in it, each section picks what fits the cluster.
# tls: Let's Encrypt through cert-manager (the test bed's stand-in issues only while the challenge
# path passes Kubeflow's auth); profiles: the Pipelines PodDefault in every profile namespace.
cat > "$DIR/plugins.yaml" <<YAML
apiVersion: flexigrobots.io/v1alpha1
kind: Platform
metadata:
  name: demo
spec:
  storage:
    nfsServer: 127.0.0.1
    nfsPath: /nfsroot/kubeflow_nfs
    smokeTest: true
    chart: {repo: $CHART_REPO}
  lb:
    addresses: [127.240.0.10-127.240.0.20]
    probe: true
    chart: {repo: $CHART_REPO}
  kubeflow:
    manifests: $FIXTURES/kubeflow/manifests-26.03.tar.gz
    remoteBasesMirror: $FIXTURES/kubeflow/remote
    registrationFlow: true
    ingressServiceType: LoadBalancer
  tls:
    domain: kubeflow.example.org
    acme: {email: ops@example.org}
  profiles:
    allProfiles: true
  gpu:
    operator:
      chart: {repo: $CHART_REPO}
    slicing:
      replicas: 4
YAML
echo; echo "\$ cat plugins.yaml"; cat "$DIR/plugins.yaml"
step diff -f "$DIR/plugins.yaml" --only storage,lb || [ $? -eq 1 ]   # exit 1: what apply would create
step apply -f "$DIR/plugins.yaml"
step verify -f "$DIR/plugins.yaml"
step apply -f "$DIR/plugins.yaml"
step diff -f "$DIR/plugins.yaml"   # nothing would change: no output, exit 0
step images -f "$DIR/plugins.yaml" --only storage,lb,gpu   # the images those sections run, and where each is named
sed 's/replicas: 4/replicas: 8/' "$DIR/plugins.yaml" > "$DIR/plugins-8.yaml"
step diff -f "$DIR/plugins-8.yaml" --only gpu || [ $? -eq 1 ]   # exit 1: the time-slicing config

# The sections one by one, as the runbook's commands: nothing left to change.
step storage --nfs-server 127.0.0.1 --nfs-path /nfsroot/kubeflow_nfs --chart-repo "$CHART_REPO"
step storage exports --nfs-path /nfsroot/kubeflow_nfs
step lb --addresses 127.240.0.10-127.240.0.20 --chart-repo "$CHART_REPO"
step tls status
# A user signs up (the profile controller stand-in makes the namespace): the PodDefault follows.
"$KUBECTL" apply -f - <<'YAML'
apiVersion: kubeflow.org/v1
kind: Profile
metadata: {name: demo-user}
spec: {owner: {kind: User, name: demo-user@example.org}}
YAML
sleep 2
step profile poddefault --all-profiles
step gpu slicing --replicas 4
step gpu status
step verify
echo
echo "demo: done (the simulated cluster stops now)"
