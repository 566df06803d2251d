#!/usr/bin/env bash
# Extract throughput (frames/s) on each shared clip with tracking on (default) and off
# (detector on every frame), with the share of frames where a face was found.
#   bash scripts/bench_extract.sh [build/src/cli/faceswap] [samples dir]
# Not a test: numbers depend on the machine. Uses one worker thread so runs compare.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/src/cli/faceswap}"
samples="${2:-${FACESWAP_SAMPLES:-$root/../shared/data}}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '%-26s %-12s %10s %10s\n' clip mode frames/s found
for clip in "$samples"/clips/*.mp4; do
  for mode in tracking no-tracking; do
    flags=(); [[ $mode == no-tracking ]] && flags=(--no-tracking)
    out="$work/$(basename "$clip" .mp4)-$mode"
    line="$("$bin" extract "$clip" -o "$out" --threads 1 "${flags[@]}" 2>&1 | grep 'extract:' | tail -1)"
    # "... faces from F of N frames looked at ... , R frames/s"
    found=$(sed -E 's/.* from ([0-9]+) of ([0-9]+) frames.*/\1 \2/' <<<"$line")
    rate=$(sed -E 's/.* ([0-9.]+) frames\/s.*/\1/' <<<"$line")
    read -r f n <<<"$found"
    printf '%-26s %-12s %10s %9.1f%%\n' "$(basename "$clip")" "$mode" "$rate" "$(echo "100*$f/$n" | bc -l)"
  done
done
