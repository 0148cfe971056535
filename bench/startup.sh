#!/usr/bin/env bash
# Start-up benchmark (`make bench-startup`): `kubectl-flexigrobots --help` and `version --client`
# against `kubectl version --client`, with hyperfine when installed (Debian: apt-get install
# hyperfine), else a plain loop. Prints the mean times, the ratio to kubectl, the stripped binary
# size and what package initialisation costs (GODEBUG=inittrace=1). No thresholds: figures only.
#   PLUGIN_BIN  plugin binary (default bin/kubectl-flexigrobots, `make build`)
#   KUBECTL     kubectl to compare with (default .testbin/v1.37.2/kubectl, `make testbin`)
#   RUNS        runs per command (default 30)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PLUGIN=${PLUGIN_BIN:-$ROOT/bin/kubectl-flexigrobots}
KUBECTL=${KUBECTL:-${TESTBIN:-$ROOT/.testbin}/v1.37.2/kubectl}
RUNS=${RUNS:-30}
for b in "$PLUGIN" "$KUBECTL"; do
  [ -x "$b" ] || { echo "bench/startup.sh: $b missing: run make build and make testbin" >&2; exit 2; }
done
# Neither command may reach a cluster: an empty kubeconfig keeps the runs comparable.
KUBECONFIG=$(mktemp); trap 'rm -f "$KUBECONFIG" "${CSV:-}"' EXIT; export KUBECONFIG

names=("kubectl version --client" "kubectl flexigrobots --help" "kubectl flexigrobots version --client")
cmds=("$KUBECTL version --client" "$PLUGIN --help" "$PLUGIN version --client")

means=() # milliseconds, in the order of cmds
if command -v hyperfine >/dev/null; then
  CSV=$(mktemp)
  hyperfine -N --style basic --warmup 3 --runs "$RUNS" --export-csv "$CSV" \
    -n "${names[0]}" "${cmds[0]}" -n "${names[1]}" "${cmds[1]}" -n "${names[2]}" "${cmds[2]}" >&2
  while IFS=, read -r _ mean _; do means+=("$(awk -v s="$mean" 'BEGIN{printf "%.1f", s*1000}')"); done < <(tail -n +2 "$CSV")
else
  echo "hyperfine not found: timing $RUNS runs in a loop (less precise)" >&2
  for c in "${cmds[@]}"; do
    read -ra argv <<<"$c"
    for _ in 1 2 3; do "${argv[@]}" >/dev/null 2>&1; done
    t0=$(date +%s%N)
    for ((i = 0; i < RUNS; i++)); do "${argv[@]}" >/dev/null 2>&1; done
    t1=$(date +%s%N)
    means+=("$(awk -v d=$((t1 - t0)) -v n="$RUNS" 'BEGIN{printf "%.1f", d/n/1e6}')")
  done
fi

echo
printf '%-40s %10s %12s\n' "command" "mean ms" "vs kubectl"
for i in "${!names[@]}"; do
  printf '%-40s %10s %11sx\n' "${names[$i]}" "${means[$i]}" "$(awk -v a="${means[$i]}" -v b="${means[0]}" 'BEGIN{printf "%.2f", a/b}')"
done
size=$(stat -c %s "$PLUGIN" 2>/dev/null || stat -f %z "$PLUGIN")
printf '\nplugin binary: %s (%.1f MB)\n' "$PLUGIN" "$(awk -v s="$size" 'BEGIN{print s/1048576}')"
GODEBUG=inittrace=1 "$PLUGIN" --help 2>&1 >/dev/null | awk '$1 == "init" {ms += $5; n++; if ($5 > 0.5) top = top sprintf("\n  %-60s %6.2f ms", $2, $5)}
  END {printf "package init: %.1f ms over %d packages; above 0.5 ms:%s\n", ms, n, top}'
