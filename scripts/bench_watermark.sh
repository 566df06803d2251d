#!/usr/bin/env bash
# The invisible watermark: its cost per 1080p frame against cv::cvtColor BGR->YCrCb of the
# same frame (one thread, CPU time, same run), the PSNR of marked against unmarked frames
# (whole frames and their flat areas), the bytes of a marked against an unmarked encode
# (in all and per picture type: I, P, B),
# the robustness table (attack -> share of frames in which `faceswap verify` decodes the
# mark, every frame looked at) and the false positives on the unmarked shared media.
#   bash scripts/bench_watermark.sh [--markdown] [--clip NAME]... [--seconds N] [--strength X]
#   --clip NAME   shared clip to mark (person_a, person_b; repeatable; default both)
#   --seconds N   mark only the first N seconds of each clip (default: the whole clip)
#   --strength X  embedding strength (default: the module's, as convert uses)
# The clips are marked by the module itself (bench/watermark_bench mark) as convert marks them
# (in the luma of the decoded 4:2:0 picture) and encoded like convert encodes (libx264 crf 18);
# the attacks run through the ffmpeg program.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bench="${FACESWAP_BENCH_BIN:-$root/build/bench/watermark_bench}"
faceswap="$root/build/src/cli/faceswap"
samples="${FACESWAP_SAMPLES:-$root/../shared/data}"
markdown=0 seconds=0 strength=0
clips=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --markdown) markdown=1; shift ;;
    --clip) clips+=("$2"); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --strength) strength=$2; shift 2 ;;
    *) echo "bench_watermark.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ ${#clips[@]} -gt 0 ]] || clips=(person_a person_b)
for bin in "$bench" "$faceswap"; do
  [[ -x $bin ]] || { echo "build it first: cmake --build --preset release (missing $bin)" >&2; exit 1; }
done
for program in ffmpeg ffprobe; do
  command -v $program >/dev/null || { echo "bench_watermark.sh: the $program program is missing" >&2; exit 1; }
done
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT

# "decoded sampled" from one verify run over every frame of a file.
decoded_of() {
  local report
  report=$("$faceswap" -q verify --frames 0 "$1" 2>/dev/null || true)
  if [[ $report =~ decodes\ in\ ([0-9]+)\ of\ ([0-9]+)\ sampled ]]; then
    echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
  elif [[ $report =~ found\ in\ ([0-9]+)\ sampled ]]; then
    echo "0 ${BASH_REMATCH[1]}"
  else
    echo "verify failed on $1: $report" >&2; exit 1
  fi
}
percent() { awk -v m="$1" -v u="$2" 'BEGIN{printf "%+.1f%%", 100 * (m / u - 1)}'; }
# Where x264 pays for the mark: the marked against the unmarked encode's packet bytes per
# picture type, in the order B, I, P, e.g. "B +4.6%, I +16.6%, P +15.5%".
bytes_by_type() {
  local sizes=()
  for file in "$@"; do
    sizes+=("$(ffprobe -v error -select_streams v -show_entries frame=pict_type,pkt_size -of csv=p=0 "$file" |
      awk -F, '$2 != "" { s[$2] += $1 } END { for (t in s) print t, s[t] }' | sort)")
  done
  join <(echo "${sizes[0]}") <(echo "${sizes[1]}") |
    awk '{ printf "%s%s %+.1f%%", (NR > 1 ? ", " : ""), $1, 100 * ($2 / $3 - 1) }'
}
share() { awk -v d="$1" -v n="$2" 'BEGIN { printf "%.1f%% (%d/%d)", n ? 100 * d / n : 0, d, n }'; }
# One table row: Markdown cells, or tab-separated columns.
row() {
  if ((markdown)); then
    local line="|" cell
    for cell in "$@"; do line+=" $cell |"; done
    echo "$line"
  else
    local IFS=$'\t'
    echo "$*"
  fi
}

# 1. Cost and invisibility on a 1080p frame.
cost=$(nice -n 19 "$bench" time "$samples/images/obama-1080p.jpg" 200)
value() { sed -n "s/^$1 //p" <<<"$cost"; }
echo "Cost on a 1920x1080 frame (obama-1080p.jpg), one thread, median CPU time of 200 runs:"
echo
row "step" "ms" "ratio to cvtColor BGR->YCrCb"
((markdown)) && echo "| --- | --- | --- |"
row "embed (Embedder::Embed)" "$(value embed_ms)" "$(value embed_over_reference)"
row "cv::cvtColor BGR->YCrCb (reference)" "$(value reference_cvtColor_YCrCb_ms)" "1.00"
row "detect (one frame)" "$(value detect_ms)" "$(awk -v a="$(value detect_ms)" -v b="$(value reference_cvtColor_YCrCb_ms)" 'BEGIN{printf "%.1f", a/b}')"
echo
echo "PSNR of that frame marked against unmarked: $(value psnr_db) dB; over its flat areas alone ($(awk -v s="$(value flat_share)" 'BEGIN{printf "%.0f", 100 * s}')% of the pixels, local standard deviation under 3 grey levels): $(value flat_psnr_db) dB."
echo

# 2. Robustness.
attacks=(
  "default encode (libx264 crf 18)|"
  "re-encoded libx264 crf 28|-c:v libx264 -crf 28"
  "scaled to half size (then libx264 crf 23)|-vf scale=trunc(iw/4)*2:trunc(ih/4)*2 -c:v libx264"
  "10% cropped off each side|-vf crop=trunc(iw*0.4)*2:trunc(ih*0.4)*2 -c:v libx264"
  "metadata stripped (-map_metadata -1)|-map_metadata -1 -c copy"
  "mirrored (hflip, then libx264 crf 23)|-vf hflip -c:v libx264"
  "half size, then crf 28|-vf scale=trunc(iw/4)*2:trunc(ih/4)*2 -c:v libx264 -crf 28"
  "10% cropped, then half size|-vf crop=trunc(iw*0.4)*2:trunc(ih*0.4)*2,scale=trunc(iw/4)*2:trunc(ih/4)*2 -c:v libx264"
)
header=("attack")
for clip in "${clips[@]}"; do header+=("$clip.mp4"); done
psnr_lines=() bits_lines=()
declare -A cells
for clip in "${clips[@]}"; do
  marked="$out/$clip-marked.mp4"
  args=("$samples/clips/$clip.mp4" "$marked" "$seconds")
  [[ $strength == 0 ]] || args+=("$strength")
  psnr_lines+=("$(nice -n 19 "$bench" mark "${args[@]}" | sed "s|^$out/||")")
  # The mark's cost in bits: the same frames encoded the same way without it.
  nice -n 19 "$bench" encode "$samples/clips/$clip.mp4" "$out/$clip-unmarked.mp4" "$seconds" >/dev/null
  marked_bytes=$(stat -c %s "$marked") unmarked_bytes=$(stat -c %s "$out/$clip-unmarked.mp4")
  bits_lines+=("$clip.mp4 at crf 18: $marked_bytes bytes marked, $unmarked_bytes unmarked ($(percent "$marked_bytes" "$unmarked_bytes")); by frame type, $(bytes_by_type "$marked" "$out/$clip-unmarked.mp4")")
  for i in "${!attacks[@]}"; do
    spec=${attacks[$i]#*|}
    file=$marked
    if [[ -n $spec ]]; then
      file="$out/$clip-attack$i.mp4"
      # shellcheck disable=SC2086  # the attack's ffmpeg arguments are words
      nice -n 19 ffmpeg -nostdin -v error -y -i "$marked" $spec -c:a copy "$file"
    fi
    read -r d n < <(decoded_of "$file")
    cells[$clip,$i]=$(share "$d" "$n")
  done
done
echo "Robustness: share of frames in which verify decodes the mark (every frame looked at):"
echo
row "${header[@]}"
if ((markdown)); then printf '| --- '; for _ in "${clips[@]}"; do printf '| --- '; done; echo '|'; fi
for i in "${!attacks[@]}"; do
  line=("${attacks[$i]%%|*}")
  for clip in "${clips[@]}"; do line+=("${cells[$clip,$i]}"); done
  row "${line[@]}"
done
echo
for line in "${psnr_lines[@]}" "${bits_lines[@]}"; do echo "$line"; echo; done

# 3. False positives: every frame of the unmarked clips and every shared photo.
total=0 false=0
for file in "$samples"/clips/person_a.mp4 "$samples"/clips/person_b.mp4 "$samples"/images/*; do
  read -r d n < <(decoded_of "$file")
  total=$((total + n)); false=$((false + d))
done
echo "False positives: the mark decoded in $false of $total frames of the unmarked shared clips and photos."
