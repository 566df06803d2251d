#!/usr/bin/env bash
# Decode+encode throughput of the video module against the ffmpeg program doing the same
# transcode (libx264 crf 18 preset medium, audio copied) on the same clips, same threads.
#   bash scripts/bench_video.sh [THREADS]     (default 0: both let FFmpeg pick)
# Prints each time and the ratio ffmpeg_time / ours (goal: >= 0.9).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bench="${FACESWAP_BENCH_BIN:-$root/build/bench/video_transcode}"
samples="${FACESWAP_SAMPLES:-$root/../shared/data}"
threads="${1:-0}"
[[ -x "$bench" ]] || { echo "build it first: cmake --build --preset release (missing $bench)" >&2; exit 1; }
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}'; }

printf '%-14s %10s %10s %8s\n' clip ffmpeg_s ours_s ratio
for clip in person_a person_b; do
  in="$samples/clips/$clip.mp4"
  [[ -f "$in" ]] || { echo "missing $in" >&2; exit 1; }
  ffmpeg_s=$(seconds ffmpeg -nostdin -y -threads "$threads" -i "$in" -c:v libx264 -crf 18 -preset medium \
                 -threads "$threads" -c:a copy "$out/ffmpeg_$clip.mp4")
  ours_s=$(seconds "$bench" "$in" "$out/ours_$clip.mp4" "$threads")
  printf '%-14s %10.2f %10.2f %8.2f\n' "$clip" "$ffmpeg_s" "$ours_s" "$(awk -v f="$ffmpeg_s" -v o="$ours_s" 'BEGIN{print f / o}')"
done
