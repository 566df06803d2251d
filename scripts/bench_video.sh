#!/usr/bin/env bash
# Decode+encode throughput of the video module against the ffmpeg program doing the same
# transcode (libx264 crf 18 preset medium, audio copied) on the same clips, same threads.
#   bash scripts/bench_video.sh [OPTIONS] [THREADS]     (default 0: both let FFmpeg pick)
#   --markdown   print a Markdown table instead of plain columns
#   --clip NAME  only this shared clip (person_a, person_b; repeatable; default both)
#   --seconds N  only the first N seconds of each clip (cut by stream copy, no re-encode)
# Prints each time and the ratio ffmpeg_time / ours (goal: >= 0.9).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bench="${FACESWAP_BENCH_BIN:-$root/build/bench/video_transcode}"
samples="${FACESWAP_SAMPLES:-$root/../shared/data}"
markdown=0
clips=()
cut_seconds=""
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --markdown) markdown=1; shift ;;
    --clip) clips+=("$2"); shift 2 ;;
    --seconds) cut_seconds=$2; shift 2 ;;
    *) echo "bench_video.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ ${#clips[@]} -gt 0 ]] || clips=(person_a person_b)
threads="${1:-0}"
[[ -x "$bench" ]] || { echo "build it first: cmake --build --preset release (missing $bench)" >&2; exit 1; }
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}'; }

if ((markdown)); then
  echo "| clip | ffmpeg program | faceswap module | ffmpeg time / ours |"
  echo "| --- | --- | --- | --- |"
else
  printf '%-14s %10s %10s %8s\n' clip ffmpeg_s ours_s ratio
fi
for clip in "${clips[@]}"; do
  in="$samples/clips/$clip.mp4"
  [[ -f "$in" ]] || { echo "missing $in" >&2; exit 1; }
  label=$clip.mp4
  if [[ -n $cut_seconds ]]; then
    ffmpeg -nostdin -v error -y -i "$in" -t "$cut_seconds" -c copy "$out/first_$clip.mp4"
    in="$out/first_$clip.mp4"
    label="$clip.mp4 (first $cut_seconds s)"
  fi
  ffmpeg_s=$(seconds ffmpeg -nostdin -y -threads "$threads" -i "$in" -c:v libx264 -crf 18 -preset medium \
                 -threads "$threads" -c:a copy "$out/ffmpeg_$clip.mp4")
  ours_s=$(seconds "$bench" "$in" "$out/ours_$clip.mp4" "$threads")
  ratio=$(awk -v f="$ffmpeg_s" -v o="$ours_s" 'BEGIN{print f / o}')
  if ((markdown)); then
    printf '| %s | %.2f s | %.2f s | %.2f |\n' "$label" "$ffmpeg_s" "$ours_s" "$ratio"
  else
    printf '%-14s %10.2f %10.2f %8.2f\n' "$clip" "$ffmpeg_s" "$ours_s" "$ratio"
  fi
done
