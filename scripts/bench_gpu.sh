#!/usr/bin/env bash
# On a GPU machine, after scripts/build_on_gpu.sh: training samples/s of faceswap's C++
# trainer next to the same model and step in PyTorch's Python API (bench/train_step.py) on
# the same GPU, each run's achieved TFLOP/s against the GPU's bf16 matrix rate measured in
# the same run, and convert's frames/s on a 1080p clip next to a plain transcode of it
# (bench/video_transcode: FFmpeg's libx264, crf 18, preset medium, the same libraries).
# Prints Markdown tables.
#
#   bash scripts/bench_gpu.sh train [SECONDS] [BATCH] [PRESETS...]  # default 15 s, batch 64,
#                                                                   # original hd lite128
#   bash scripts/bench_gpu.sh convert CLIP                          # needs the landmark network
#
# Both sides run in bf16 autocast with their loaders augmenting on the CPU as in training;
# the C++ loader uses the CPU's threads on a GPU, the Python one its single thread.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build-gpu
# shellcheck disable=SC1091
source "$build/gpu-env.sh"
faces=${FACESWAP_TEST_FACES:?build_on_gpu.sh sets FACESWAP_TEST_FACES (extracted faces)}
work=${BENCH_DIR:-/tmp/faceswap-bench-gpu}
mkdir -p "$work"
mode=${1:-train}
shift || true

json_field() { sed -n "s/.*\"$1\": \([0-9.e+-]*\).*/\1/p"; }

if [[ $mode == train ]]; then
  seconds=${1:-15}
  batch=${2:-64}
  shift 2 || true
  presets=("${@:-original hd lite128}")
  read -r -a presets <<<"${presets[*]}"
  peak=$(python3 - <<'EOF'
import torch
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
b = torch.randn_like(a)
for _ in range(3):
    a @ b
start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
torch.cuda.synchronize()
start.record()
for _ in range(20):
    a @ b
end.record()
torch.cuda.synchronize()
print(f"{2 * 8192 ** 3 * 20 / (start.elapsed_time(end) / 1000) / 1e12:.0f}")
EOF
)
  gpu=$(python3 -c 'import torch; print(torch.cuda.get_device_name(0))')
  echo "GPU: $gpu; bf16 8192^3 matrix product: $peak TFLOP/s (mean of 20 after 3 warm-ups)"
  echo
  echo "| preset (batch $batch per identity, bf16) | C++ faceswap (faces/s) | PyTorch Python (faces/s) | ratio C++/Python | GFLOP per face (fwd+bwd) | C++ TFLOP/s (% of matrix rate) | Python TFLOP/s |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  for preset in "${presets[@]}"; do
    cpp=$("$build/bench/train_bench" "$preset" "$faces/faces_a" "$faces/faces_b" "$seconds" "$(nproc)" cuda bf16 "$batch" \
          2>"$work/cpp_$preset.log" | tail -1)
    py=$(python3 "$repo/bench/train_step.py" "$preset" "$faces/faces_a" "$faces/faces_b" --seconds "$seconds" \
         --device cuda --precision bf16 --batch "$batch" 2>"$work/py_$preset.log" | tail -1)
    c=$(json_field samples_per_second <<<"$cpp")
    p=$(json_field samples_per_second <<<"$py")
    f=$(json_field flops_per_sample <<<"$py")
    if [[ -z $c || -z $p ]]; then
      echo "| $preset | ${c:-failed (see $work/cpp_$preset.log)} | ${p:-failed (see $work/py_$preset.log)} | | | | |"
      continue
    fi
    awk -v n="$preset" -v a="$c" -v b="$p" -v f="${f:-0}" -v peak="$peak" 'BEGIN {
      printf "| %s | %.0f | %.0f | %.2f | %.2f | %.1f (%.1f%%) | %.1f |\n", n, a, b, a / b, f / 1e9,
             a * f / 1e12, 100 * a * f / 1e12 / peak, b * f / 1e12 }'
  done
  echo
  echo "($(nproc) CPU threads, ${seconds} s per run after warm-up, $(date -u +%F))"
elif [[ $mode == convert ]]; then
  clip=${1:?bench_gpu.sh convert CLIP}
  model=$work/convert_model
  if [[ ! -f $model/model.json ]]; then
    "$build/src/cli/faceswap" -q --device cuda train --a "$faces/faces_a" --b "$faces/faces_b" -m "$model" \
      --preset lite --iterations 300 --batch 16 --preview-every 0 || exit 1
  fi
  frames=$(python3 -c "import cv2,sys; print(int(cv2.VideoCapture(sys.argv[1]).get(cv2.CAP_PROP_FRAME_COUNT)))" "$clip")
  size=$(python3 -c "import cv2,sys; c=cv2.VideoCapture(sys.argv[1]); print(f'{int(c.get(3))}x{int(c.get(4))}')" "$clip")
  t0=$(date +%s%N)
  "$build/bench/video_transcode" "$clip" "$work/plain.mp4" > "$work/transcode.log" 2>&1 || { cat "$work/transcode.log"; exit 1; }
  t1=$(date +%s%N)
  "$build/src/cli/faceswap" -v --device cuda convert "$clip" -o "$work/swapped.mp4" -m "$model" --swap-all \
    --detector hog > "$work/convert.log" 2>&1 || { tail -5 "$work/convert.log"; exit 1; }
  t2=$(date +%s%N)
  swapped=$(sed -nE 's/.* ([0-9]+) faces swapped in .*/\1/p' "$work/convert.log" | tail -1)
  stages=$(grep -o 'decode [0-9.]*, track [0-9.]*, model [0-9.]*, blend [0-9.]*, encode [0-9.]*' "$work/convert.log" | tail -1)
  echo "| clip | frames | transcode (libx264 crf 18 medium) | faceswap convert (CUDA) | ratio convert/transcode | faces swapped | busy s |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  awk -v n="$(basename "$clip") ($size)" -v f="$frames" -v a="$(((t1 - t0) / 1000000))" -v b="$(((t2 - t1) / 1000000))" \
      -v s="${swapped:-?}" -v st="$stages" 'BEGIN {
    printf "| %s | %d | %.2f s (%.1f fps) | %.2f s (%.1f fps) | %.2f | %s | %s |\n", n, f, a / 1000, f * 1000 / a,
           b / 1000, f * 1000 / b, a / b, s, st }'
else
  echo "bench_gpu.sh: unknown mode '$mode' (train or convert)" >&2
  exit 2
fi
