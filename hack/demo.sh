#!/usr/bin/env bash
# make demo: starts the simulated cluster, runs every kubectl flexigrobots subcommand against it
# as a user would (through kubectl's plugin discovery), prints the results, and stops the cluster.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DIR=$(mktemp -d /tmp/flexigrobots-demo-XXXXXX)
go build -o "$DIR/sim" ./test/cmd/sim
"$DIR/sim" --dir "$DIR/cluster" > "$DIR/sim.out" 2> "$DIR/sim.err" &
SIM=$!
trap 'kill -INT $SIM 2>/dev/null; wait $SIM 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 240); do grep -q '^export KUBECONFIG=' "$DIR/sim.out" 2>/dev/null && break; kill -0 $SIM || { cat "$DIR/sim.err"; exit 1; }; sleep 0.5; done
eval "$(cat "$DIR/sim.out")"
export PATH="$ROOT/bin:$PATH"
KUBECTL="$TESTBIN/v1.37.2/kubectl"
step() { echo; echo "\$ kubectl flexigrobots $*"; "$KUBECTL" flexigrobots "$@"; }

step version
step version -o json
echo
echo "demo: done (the simulated cluster stops now)"
