#!/usr/bin/env bash
# Training samples/s of faceswap's C++ trainer next to the same model and step written in
# PyTorch's Python API (Debian's python3-torch: the same LibTorch), in the same run, on
# faces extracted from the shared clips. Prints a Markdown table.
#
# Usage: scripts/bench_train.sh [SECONDS_PER_RUN] [PRESETS...]   (default 60; lite original hd)
# Needs: the build (scripts/setup.sh), /usr/bin/python3 with python3-torch and python3-opencv.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
presets=("${@:-lite original hd}")
read -r -a presets <<<"${presets[*]}"
samples=${FACESWAP_SAMPLES:-../shared/data}
bin=build/src/cli/faceswap
bench=build/bench/train_bench
threads=$(nproc)
work=${BENCH_DIR:-/tmp/faceswap-bench-train}

for p in python3-torch python3-opencv; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    { echo "bench_train.sh: needs Debian's $p (bash scripts/setup.sh --bench installs it)" >&2; exit 1; }
done
[[ -x $bench ]] || { echo "bench_train.sh: $bench not built" >&2; exit 1; }

mkdir -p "$work"
for who in a b; do
  "$bin" -q extract "$samples/clips/person_$who.mp4" -o "$work/faces_$who" --every 3
done

echo "| preset | C++ faceswap (samples/s) | PyTorch Python (samples/s) | ratio C++/Python |"
echo "| --- | --- | --- | --- |"
for preset in "${presets[@]}"; do
  cpp=$("$bench" "$preset" "$work/faces_a" "$work/faces_b" "$seconds" "$threads" | tail -1)
  py=$(/usr/bin/python3 bench/train_step.py "$preset" "$work/faces_a" "$work/faces_b" --seconds "$seconds" \
       --threads "$threads" | tail -1)
  c=$(echo "$cpp" | sed 's/.*"samples_per_second": \([0-9.]*\).*/\1/')
  p=$(echo "$py" | sed 's/.*"samples_per_second": \([0-9.]*\).*/\1/')
  awk -v n="$preset" -v a="$c" -v b="$p" 'BEGIN { printf "| %s | %.2f | %.2f | %.2f |\n", n, a, b, a / b }'
done
echo
echo "($threads threads, ${seconds}s per run, $(nproc) cores, $(date -u +%F))"
