#!/usr/bin/env bash
# Extract throughput (frames/s) on each shared clip with tracking on (default) and off
# (detector on every frame), with the share of frames where a face was found.
#   bash scripts/bench_extract.sh [OPTIONS] [build/src/cli/faceswap] [samples dir]
#   --markdown     one Markdown row per clip: tracking, detect every frame, speed-up
#   --detectors    compare the detectors instead (tracking on): hog, auto (the default), cnn
#   --clip NAME    only this shared clip (person_a, person_b; repeatable; default all)
#   --seconds N    only the first N seconds of each clip (cut by stream copy, no re-encode)
# Not a test: numbers depend on the machine. Uses one worker thread so runs compare.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
markdown=0
detectors=0
clips=()
cut_seconds=""
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --markdown) markdown=1; shift ;;
    --detectors) detectors=1; shift ;;
    --clip) clips+=("$2"); shift 2 ;;
    --seconds) cut_seconds=$2; shift 2 ;;
    *) echo "bench_extract.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
bin="${1:-$root/build/src/cli/faceswap}"
samples="${2:-${FACESWAP_SAMPLES:-$root/../shared/data}}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ ${#clips[@]} -gt 0 ]]; then
  inputs=("${clips[@]/#/$samples/clips/}"); inputs=("${inputs[@]/%/.mp4}")
else
  inputs=("$samples"/clips/*.mp4)
fi

# Prints "frames/s found%" for one extract run.
measure() {
  local clip=$1 mode=$2 flags=() line found rate f n
  case $mode in
    no-tracking) flags=(--no-tracking) ;;
    hog|auto|cnn) flags=(--detector "$mode") ;;
  esac
  line="$("$bin" extract "$clip" -o "$work/$(basename "$clip" .mp4)-$mode" --threads 1 "${flags[@]}" 2>&1 |
          grep 'extract:' | tail -1)"
  # "... faces from F of N frames looked at ... , R frames/s"
  found=$(sed -E 's/.* from ([0-9]+) of ([0-9]+) frames.*/\1 \2/' <<<"$line")
  rate=$(sed -E 's/.* ([0-9.]+) frames\/s.*/\1/' <<<"$line")
  read -r f n <<<"$found"
  echo "$rate $(awk -v f="$f" -v n="$n" 'BEGIN { print 100 * f / n }')"  # awk: bc is not in a base Debian
}

if ((markdown && detectors)); then
  echo "| clip | hog | auto (default) | cnn |"
  echo "| --- | --- | --- | --- |"
elif ((markdown)); then
  echo "| clip | tracking | detect every frame | speed-up |"
  echo "| --- | --- | --- | --- |"
else
  printf '%-26s %-12s %10s %10s\n' clip mode frames/s found
fi
for clip in "${inputs[@]}"; do
  name=$(basename "$clip")
  [[ -f $clip ]] || { echo "bench_extract.sh: missing $clip" >&2; exit 1; }
  if [[ -n $cut_seconds ]]; then
    ffmpeg -nostdin -v error -y -i "$clip" -t "$cut_seconds" -c copy "$work/$name"
    clip="$work/$name"
    name="$name (first ${cut_seconds} s)"
  fi
  if ((detectors)); then
    row="| $name |"
    for d in hog auto cnn; do
      read -r rate found <<<"$(measure "$clip" "$d")"
      if ((markdown)); then
        row+=" $(printf '%s frames/s (face in %.1f%%)' "$rate" "$found") |"
      else
        printf '%-26s %-12s %10s %9.1f%%\n' "$name" "$d" "$rate" "$found"
      fi
    done
    ((markdown)) && echo "$row"
    continue
  fi
  read -r track_rate track_found <<<"$(measure "$clip" tracking)"
  read -r every_rate every_found <<<"$(measure "$clip" no-tracking)"
  if ((markdown)); then
    printf '| %s | %s frames/s (face in %.1f%%) | %s frames/s (%.1f%%) | %.1fx |\n' "$name" "$track_rate" \
      "$track_found" "$every_rate" "$every_found" "$(awk -v a="$track_rate" -v b="$every_rate" 'BEGIN { print a / b }')"
  else
    printf '%-26s %-12s %10s %9.1f%%\n' "$name" tracking "$track_rate" "$track_found"
    printf '%-26s %-12s %10s %9.1f%%\n' "$name" no-tracking "$every_rate" "$every_found"
  fi
done
