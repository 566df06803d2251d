#!/usr/bin/env bash
# Data-parallel training on this machine's CPU: samples/s of one rank against two ranks
# of `faceswap train --nproc 2` (Gloo on loopback), the threads split so that both use the
# same cores (1 rank x T threads against 2 ranks x T/2), and the time each step of the
# two ranks spends waiting for its gradients' all-reduce and the per-step agreement.
# A rank's own share (1 rank x T/2 threads) is the reference for the scaling, and the
# loss curves of 2 ranks x batch 8 and 1 rank x batch 16 (the same faces, drawn by their
# place in the global batch) are compared over the steps both runs took.
# Prints a Markdown table. Not a test: the figures depend on the machine.
#
# Usage: scripts/bench_distributed.sh [SECONDS_PER_RUN] [THREADS] [ROUNDS]
#   (default 60 s, all cores, 1 round; with several rounds the three runs alternate and
#   each figure is the median of its rounds, which steadies a machine shared with others)
# The lite preset with the default recipe; faces extracted from the shared clips once.
# The NCCL backend needs CUDA GPUs and is not measured here.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
threads=${2:-$(nproc)}
rounds=${3:-1}
((threads >= 2)) || { echo "bench_distributed.sh: needs at least 2 threads to split between 2 ranks" >&2; exit 2; }
samples=${FACESWAP_SAMPLES:-../shared/data}
bin=build/src/cli/faceswap
work=${BENCH_DIR:-/tmp/faceswap-bench-distributed}
[[ -x $bin ]] || { echo "bench_distributed.sh: $bin not built (scripts/setup.sh)" >&2; exit 1; }

mkdir -p "$work"
for who in a b; do
  [[ -f $work/faces_$who/alignments.json ]] ||
    "$bin" -q extract "$samples/clips/person_$who.mp4" -o "$work/faces_$who" --every 3 --face-select largest
done

# run NAME THREADS BATCH [--nproc N]: trains a fresh model for $seconds; prints
# "faces/s step_ms wait_ms share" from the run's log.
run() {
  local name=$1 run_threads=$2 batch=$3
  shift 3
  rm -rf "$work/model_$name"
  "$bin" --threads "$run_threads" train --a "$work/faces_a" --b "$work/faces_b" -m "$work/model_$name" \
    --preset lite --batch "$batch" --time "${seconds}s" --save-every 1000000 --preview-every 0 "$@" \
    >"$work/$name.log" 2>&1 || { echo "bench_distributed.sh: run $name failed, see $work/$name.log" >&2; exit 1; }
  local rate wait="0" step="" share="0"
  rate=$(sed -n 's/.*saved at iteration [0-9]* (\([0-9.]*\) faces\/s).*/\1/p' "$work/$name.log" | tail -1)
  local line
  line=$(grep -o 'all-reduce .*' "$work/$name.log" || true)
  if [[ -n $line ]]; then
    wait=$(sed -n 's/.*: \([0-9.]*\) ms of \([0-9.]*\) ms per step waiting (\([0-9.]*\)%).*/\1/p' <<<"$line")
    step=$(sed -n 's/.*: \([0-9.]*\) ms of \([0-9.]*\) ms per step waiting (\([0-9.]*\)%).*/\2/p' <<<"$line")
    share=$(sed -n 's/.*: \([0-9.]*\) ms of \([0-9.]*\) ms per step waiting (\([0-9.]*\)%).*/\3/p' <<<"$line")
  else
    local steps
    steps=$(($(wc -l <"$work/model_$name/loss.csv") - 1))
    step=$(awk -v s="$seconds" -v n="$steps" 'BEGIN { printf "%.1f", 1000 * s / n }')
  fi
  echo "$rate $step $wait $share"
}

# median VALUES...: the middle value (the lower middle of an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

half=$((threads / 2))
declare -A rate step wait share
configs=(one one_share two_same_global two_same_per_rank)
for ((round = 1; round <= rounds; round++)); do
  for config in "${configs[@]}"; do
    case $config in
      one) result=$(run one "$threads" 16) ;;
      one_share) result=$(run one_share "$half" 16) ;;
      two_same_global) result=$(run two_same_global "$threads" 8 --nproc 2) ;;
      two_same_per_rank) result=$(run two_same_per_rank "$threads" 16 --nproc 2) ;;
    esac
    read -r r s w p <<<"$result"
    rate[$config]+="$r " step[$config]+="$s " wait[$config]+="$w " share[$config]+="$p "
  done
done
for config in "${configs[@]}"; do
  read -r -a values <<<"${rate[$config]}"; rate[$config]=$(median "${values[@]}")
  read -r -a values <<<"${step[$config]}"; step[$config]=$(median "${values[@]}")
  read -r -a values <<<"${wait[$config]}"; wait[$config]=$(median "${values[@]}")
  read -r -a values <<<"${share[$config]}"; share[$config]=$(median "${values[@]}")
done

base=${rate[one]}
echo "| run | ranks x threads | batch per rank (global) | faces/s | vs 1 rank | step ms | all-reduce wait ms per step (share) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
awk -v r="$base" -v s="${step[one]}" -v t="$threads" \
  'BEGIN { printf "| 1 rank | 1 x %d | 16 (16) | %.1f | 1.00 | %s | - |\n", t, r, s }'
awk -v r="${rate[one_share]}" -v b="$base" -v s="${step[one_share]}" -v h="$half" \
  'BEGIN { printf "| 1 rank on the threads of one of the 2 | 1 x %d | 16 (16) | %.1f | %.2f | %s | - |\n", h, r, r / b, s }'
awk -v r="${rate[two_same_global]}" -v b="$base" -v s="${step[two_same_global]}" -v w="${wait[two_same_global]}" \
  -v p="${share[two_same_global]}" -v h="$half" \
  'BEGIN { printf "| 2 ranks, same global batch | 2 x %d | 8 (16) | %.1f | %.2f | %s | %s (%s%%) |\n", h, r, r / b, s, w, p }'
awk -v r="${rate[two_same_per_rank]}" -v b="$base" -v s="${step[two_same_per_rank]}" -v w="${wait[two_same_per_rank]}" \
  -v p="${share[two_same_per_rank]}" -v h="$half" \
  'BEGIN { printf "| 2 ranks, same per-rank batch | 2 x %d | 16 (32) | %.1f | %.2f | %s | %s (%s%%) |\n", h, r, r / b, s, w, p }'

# The loss curves of the last round's two runs with the global batch 16, step by step.
loss_gap=$(awk -F, 'NR == FNR { if (FNR > 1) { a[$1] = $2; b[$1] = $3 } next }
  FNR > 1 && ($1 in a) { n++; for (i = 2; i <= 3; i++) { ref = (i == 2 ? a[$1] : b[$1]);
    d = ($i - ref) / ref; d = d < 0 ? -d : d; if (d > worst) worst = d; if (n == 1 && d > first) first = d } }
  END { printf "%d %.2g %.2g", n, first, worst }' "$work/model_one/loss.csv" "$work/model_two_same_global/loss.csv")
read -r loss_steps loss_first loss_worst <<<"$loss_gap"
echo
awk -v two="${rate[two_same_global]}" -v share="${rate[one_share]}" -v h="$half" \
  'BEGIN { printf "Scaling: 2 ranks x %d threads train %.2fx the faces/s of 1 rank x %d (2.00 would be perfect).\n", h, two / share, h }'
echo "Same faces: 2 ranks x batch 8 against 1 rank x batch 16, loss over the $loss_steps steps both took:" \
  "step 1 differs by $loss_first, the worst step by $loss_worst (relative; only the order of sums differs)."
echo
echo "(lite, default recipe, ${seconds} s per run, median of $rounds round(s), $(nproc) cores, load average" \
  "$(cut -d' ' -f1-3 /proc/loadavg) at the end, $(date -u +%F); faces/s counts every rank's faces; the wait is"
echo " what a step spends blocked on Gloo after backward: the part of the all-reduce that backward did not hide)"
