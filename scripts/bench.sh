#!/usr/bin/env bash
# Every benchmark in one run, each figure next to a reference measured in the same run (as
# a ratio), written as Markdown: micro_bench (detector, landmarks, alignment, model forward,
# blending, colour transfer), then the whole-command scripts bench_video.sh, bench_extract.sh,
# bench_train.sh, bench_distributed.sh, bench_convert.sh and bench_watermark.sh, shortened (one
# clip, first seconds, short training runs) so that the whole run takes under 10 minutes on 2 cores.
#
# Usage: scripts/bench.sh [-o FILE]     (default FILE: bench-results.md in the current folder)
# Needs the build (cmake --preset release && cmake --build build), the shared sample media
# (../shared/data or $FACESWAP_SAMPLES), ffmpeg, and Debian's /usr/bin/python3 with torch.
set -euo pipefail
usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; }
output=bench-results.md
while getopts "o:h" flag; do
  case $flag in
    o) output=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
[[ $output == /* ]] || output=$PWD/$output
cd "$(dirname "$0")/.."

# How much of each whole-command benchmark to run (their defaults take about 20 minutes).
clip=person_a          # one clip for video, extract and convert
clip_seconds=10        # video, extract and convert: only the clip's first seconds
train_seconds=10       # per preset and side (C++, Python)
train_presets="lite original hd"
# Short runs, 3 repetitions in random order: each figure is the median of its repetitions,
# so one slow moment on a shared machine moves neither a benchmark nor its reference.
micro_flags="--benchmark_min_time=0.1 --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true"
model_steps=20         # the stand-in lite model convert uses (its speed does not depend on training)

fail() { echo "bench.sh: $*" >&2; exit 1; }
samples=${FACESWAP_SAMPLES:-../shared/data}
[[ -f $samples/clips/$clip.mp4 ]] ||
  fail "sample media not found ($samples/clips/$clip.mp4): put shared/data beside the repository or set FACESWAP_SAMPLES"
samples=$(cd "$samples" && pwd)
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || fail "the ffmpeg and ffprobe programs are missing (apt-get install ffmpeg)"
/usr/bin/python3 -c 'import torch' 2>/dev/null || fail "/usr/bin/python3 cannot import torch (bash scripts/setup.sh --bench installs python3-torch)"
for bin in build/src/cli/faceswap build/bench/micro_bench build/bench/video_transcode build/bench/train_bench \
           build/bench/watermark_bench; do
  [[ -x $bin ]] || fail "$bin is not built: cmake --preset release && cmake --build build"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FACESWAP_SAMPLES=$samples
start=$(date +%s)

# Runs one section: its title, the command that reproduces it, then its Markdown (also
# appended to the results). Progress and logs go to stderr.
section() {
  local title=$1 shown=$2 t0
  shift 2
  t0=$(date +%s)
  echo ">> $title" >&2
  {
    printf '## %s\n\n`%s`\n\n' "$title" "$shown"
    "$@"
    printf '\n(%d s)\n\n' "$(($(date +%s) - t0))"
  } | tee -a "$work/results.md"
}

micro() {
  build/bench/micro_bench $micro_flags --markdown "$work/micro.md" >"$work/micro.log" 2>&1 ||
    { cat "$work/micro.log" >&2; fail "micro_bench failed"; }
  cat "$work/micro.md"
}

{
  echo "# faceswap benchmarks"
  echo
  echo "$(date -u '+%F %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)," \
       "$(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), scripts/bench.sh."
  echo "Each figure is next to its reference, measured in the same run."
  echo
} | tee "$work/results.md"

section "Microbenchmarks (ratio = time / reference time)" \
  "build/bench/micro_bench $micro_flags --markdown FILE" micro
section "Video decode + encode vs the ffmpeg program" \
  "scripts/bench_video.sh --markdown --clip $clip --seconds $clip_seconds" \
  bash scripts/bench_video.sh --markdown --clip "$clip" --seconds "$clip_seconds"
section "Extract: tracking vs the detector on every frame (1 thread)" \
  "scripts/bench_extract.sh --markdown --clip $clip --seconds $clip_seconds" \
  bash scripts/bench_extract.sh --markdown --clip "$clip" --seconds "$clip_seconds"
# Their scratch folders (extracted faces, the stand-in model) go under $work: a cold run.
section "Training step: C++ vs PyTorch Python" "scripts/bench_train.sh $train_seconds $train_presets" \
  env BENCH_DIR="$work/train" bash scripts/bench_train.sh "$train_seconds" $train_presets
section "Data-parallel training: 1 rank vs 2 ranks (Gloo)" "scripts/bench_distributed.sh $train_seconds" \
  env BENCH_DIR="$work/train" bash scripts/bench_distributed.sh "$train_seconds"
# convert swaps only the faces of the model's source person, so the stand-in model learns
# each clip's main person (as demo.sh's model does), not every face bench_train.sh found:
# trained on person_a's split-screen strangers too, it swapped none of person_a's faces.
echo ">> a lite model for convert ($model_steps steps on each clip's main person)" >&2
for who in a b; do
  build/src/cli/faceswap -q extract "$samples/clips/person_$who.mp4" -o "$work/people_$who" --every 3 \
    --face-select largest --by-identity
done
build/src/cli/faceswap -q train --a "$work/people_a/person_1" --b "$work/people_b/person_1" -m "$work/model" \
  --preset lite --iterations "$model_steps" --batch 8
section "Convert vs the ffmpeg program's transcode" "scripts/bench_convert.sh --clip $clip --seconds $clip_seconds MODEL" \
  env BENCH_DIR="$work/convert" bash scripts/bench_convert.sh --clip "$clip" --seconds "$clip_seconds" "$work/model"

section "Invisible watermark: cost, PSNR, robustness, false positives" \
  "scripts/bench_watermark.sh --markdown --clip $clip --seconds $clip_seconds" \
  bash scripts/bench_watermark.sh --markdown --clip "$clip" --seconds "$clip_seconds"

echo "Whole run: $(($(date +%s) - start)) s." | tee -a "$work/results.md"
cp "$work/results.md" "$output"
echo "bench.sh: wrote $output" >&2
