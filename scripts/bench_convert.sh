#!/usr/bin/env bash
# faceswap convert throughput next to the ffmpeg program's plain transcode of the same
# clip (crf 18, preset medium, audio copied), in the same run, with the busy time of
# each convert stage. Prints a Markdown table.
#
# Usage: scripts/bench_convert.sh [OPTIONS] [MODEL]   (default: demo/model, made by
#        scripts/demo.sh; when absent, a lite model of each clip's main person is trained for
#        200 steps first, in /tmp)
#   --clip NAME   only this shared clip (person_a, person_b; repeatable; default both)
#   --seconds N   only the first N seconds of each clip (cut by stream copy, no re-encode)
#   --repeat N    time each clip's pair of runs N times (ffmpeg, then convert) and report the
#                 run with the median ratio (default 3: this VM's speed wanders by 10-20%)
#   --flags "F"   more convert options, e.g. --flags "--mask landmarks" to time convert
#                 without the masks of what covers the face
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/src/cli/faceswap
samples=${FACESWAP_SAMPLES:-../shared/data}
work=${BENCH_DIR:-/tmp/faceswap-bench-convert}
clips=()
cut_seconds=""
repeat=3
flags=()
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --clip) clips+=("$samples/clips/$2.mp4"); shift 2 ;;
    --seconds) cut_seconds=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --flags) read -r -a flags <<<"$2"; shift 2 ;;
    *) echo "bench_convert.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ ${#clips[@]} -gt 0 ]] || clips=("$samples/clips/person_a.mp4" "$samples/clips/person_b.mp4")
model=${1:-demo/model}
mkdir -p "$work"

source scripts/bench_model_lib.sh
model=$(bench_model "$model" "$bin" "$samples" "$work")

seconds() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.2f", (e - s) / 1e9 }'; }
echo "| clip | frames | ffmpeg transcode | faceswap convert | ratio (convert/ffmpeg fps) | busy s: decode / track / model / blend / encode | busy share of the wall time |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for clip in "${clips[@]}"; do
  name=$(basename "$clip")
  label=$name
  if [[ -n $cut_seconds ]]; then
    ffmpeg -nostdin -v error -y -i "$clip" -t "$cut_seconds" -c copy "$work/first${cut_seconds}s_$name"
    clip="$work/first${cut_seconds}s_$name"
    label="$name (first ${cut_seconds} s)"
  fi
  frames=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$clip")
  runs=()
  for ((r = 0; r < repeat; r++)); do
    t0=$(date +%s%N)
    ffmpeg -v error -y -i "$clip" -c:v libx264 -crf 18 -preset medium -c:a copy "$work/plain_$name"
    t1=$(date +%s%N)
    "$bin" -v convert "$clip" -o "$work/swapped_$name" -m "$model" "${flags[@]}" 2>"$work/convert_${name}_$r.log"
    t2=$(date +%s%N)
    runs+=("$(awk -v a="$(seconds "$t0" "$t1")" -v b="$(seconds "$t1" "$t2")" 'BEGIN{printf "%.4f %s %s", a/b, a, b}') $r")
  done
  # A convert that swapped nothing (a model that knows nobody in the clip) is not a measure
  # of convert: say so instead of printing its speed.
  swapped=$(sed -nE 's/.* ([0-9]+) faces swapped in .*/\1/p' "$work/convert_${name}_0.log" | tail -1)
  if [[ -z $swapped || $swapped -eq 0 ]]; then
    echo "bench_convert.sh: convert swapped no face of $name with $model (see $work/convert_${name}_0.log)" >&2
    exit 1
  fi
  read -r _ ff fs median_run < <(printf '%s\n' "${runs[@]}" | sort -n | sed -n "$(((repeat + 1) / 2))p")
  cp "$work/convert_${name}_$median_run.log" "$work/convert_$name.log"
  all_ratios=$(printf '%s\n' "${runs[@]}" | awk '{printf "%s%.2f", (NR > 1 ? ", " : ""), $1}')
  stages=$(grep -o 'decode [0-9.]*, track [0-9.]*, model [0-9.]*, blend [0-9.]*, encode [0-9.]*' "$work/convert_$name.log" |
           sed 's/[a-z][a-z]* //g; s/, / \/ /g')
  # Each stage's busy time over the wall time: the stage nearest 100% (blending: its
  # workers together) is the one the others wait for.
  shares=$(tr -d ' ' <<<"$stages" | awk -F/ -v w="$fs" '{ printf "%d%% / %d%% / %d%% / %d%% / %d%%", 100*$1/w, 100*$2/w, 100*$3/w, 100*$4/w, 100*$5/w }')
  echo "| $label | $frames | ${ff} s ($(awk -v f="$frames" -v s="$ff" 'BEGIN{printf "%.1f", f/s}') fps) |" \
       "${fs} s ($(awk -v f="$frames" -v s="$fs" 'BEGIN{printf "%.1f", f/s}') fps) |" \
       "$(awk -v a="$ff" -v b="$fs" 'BEGIN{printf "%.2f", a/b}') (runs: $all_ratios) | $stages | $shares |"
done
echo
echo "($(nproc) cores, model $model${flags[*]:+, convert ${flags[*]}}, median of $repeat runs, $(date -u +%F))"
