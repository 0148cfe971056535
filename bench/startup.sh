#!/usr/bin/env bash
# Start-up benchmark (`make bench-startup`): `kubectl-flexigrobots --help` and `version --client`
# (alone and through `kubectl flexigrobots`) against `kubectl version --client`, with hyperfine when installed (Debian: apt-get install
# hyperfine), else a plain loop. Prints mean, median and fastest times, the ratio of the medians to
# kubectl's (the median resists a busy machine best), user CPU time, the binary size and what package
# initialisation costs (GODEBUG=inittrace=1). No thresholds: figures only.
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

# The plugin alone (what kubectl execs), and once through kubectl's plugin discovery (kubectl's own
# start plus the plugin's): the plugin's folder goes first on PATH for that.
[ "$(basename "$PLUGIN")" = kubectl-flexigrobots ] || { echo "bench/startup.sh: $PLUGIN must be named kubectl-flexigrobots" >&2; exit 2; }
export PATH="$(dirname "$PLUGIN"):$PATH"
names=("kubectl version --client" "kubectl-flexigrobots --help" "kubectl-flexigrobots version --client" "kubectl flexigrobots version --client")
cmds=("$KUBECTL version --client" "$PLUGIN --help" "$PLUGIN version --client" "$KUBECTL flexigrobots version --client")

means=() medians=() mins=() users=() # milliseconds, in the order of cmds
if command -v hyperfine >/dev/null; then
  CSV=$(mktemp)
  hyperfine -N --style basic --warmup 3 --runs "$RUNS" --export-csv "$CSV" \
    -n "${names[0]}" "${cmds[0]}" -n "${names[1]}" "${cmds[1]}" -n "${names[2]}" "${cmds[2]}" \
    -n "${names[3]}" "${cmds[3]}" >&2
  ms() { awk -v s="$1" 'BEGIN{printf "%.1f", s*1000}'; }
  # columns: command,mean,stddev,median,user,system,min,max
  while IFS=, read -r _ mean _ median user _ min _; do
    means+=("$(ms "$mean")") medians+=("$(ms "$median")") mins+=("$(ms "$min")") users+=("$(ms "$user")")
  done < <(tail -n +2 "$CSV")
else
  echo "hyperfine not found: timing $RUNS runs in a loop (less precise)" >&2
  for c in "${cmds[@]}"; do
    read -ra argv <<<"$c"
    for _ in 1 2 3; do "${argv[@]}" >/dev/null 2>&1; done
    times=()
    for ((i = 0; i < RUNS; i++)); do
      t0=$(date +%s%N); "${argv[@]}" >/dev/null 2>&1; t1=$(date +%s%N); times+=($((t1 - t0)))
    done
    read -r mean median min < <(printf '%s\n' "${times[@]}" | sort -n | awk '{t[NR]=$1; s+=$1}
      END {printf "%.1f %.1f %.1f\n", s/NR/1e6, t[int((NR+1)/2)]/1e6, t[1]/1e6}')
    means+=("$mean") medians+=("$median") mins+=("$min") users+=("-")
  done
fi

echo
printf '%-40s %9s %10s %8s %12s %11s\n' "command" "mean ms" "median ms" "min ms" "user CPU ms" "vs kubectl"
for i in "${!names[@]}"; do
  printf '%-40s %9s %10s %8s %12s %10sx\n' "${names[$i]}" "${means[$i]}" "${medians[$i]}" "${mins[$i]}" "${users[$i]}" \
    "$(awk -v a="${medians[$i]}" -v b="${medians[0]}" 'BEGIN{printf "%.2f", a/b}')"
done
size=$(stat -c %s "$PLUGIN" 2>/dev/null || stat -f %z "$PLUGIN")
printf '\nplugin binary: %s (%.1f MB)\n' "$PLUGIN" "$(awk -v s="$size" 'BEGIN{print s/1048576}')"
GODEBUG=inittrace=1 "$PLUGIN" --help 2>&1 >/dev/null | awk '$1 == "init" {ms += $5; n++; if ($5 > 0.5) top = top sprintf("\n  %-60s %6.2f ms", $2, $5)}
  END {printf "package init: %.1f ms over %d packages; above 0.5 ms:%s\n", ms, n, top}'
