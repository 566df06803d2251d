#!/usr/bin/env bash
# Extract the faces of every video in a folder, one extract folder per video.
set -euo pipefail
usage() {
  cat <<'TXT'
Usage: batch_extract.sh [-j JOBS] IN_DIR OUT_DIR [-- EXTRACT_OPTIONS...]

Runs `faceswap extract` on every video directly inside IN_DIR (mp4, mov, mkv, avi, webm,
m4v), writing faces and alignments.json to OUT_DIR/<name>/. Videos whose folder already
holds an alignments.json are skipped. Each file gets a log in OUT_DIR/logs/; a summary is
printed at the end and the exit code is 1 if any file failed.

  -j JOBS   extract this many files at once (default 1)
  -h        this help
Options after `--` go to every `faceswap extract` call (e.g. -- --every 2 --size 256).
The binary is $FACESWAP, else build/src/cli/faceswap, else faceswap on PATH.
TXT
}
[[ ${1:-} == --help ]] && { usage; exit 0; }
jobs=1
while getopts ":j:h" opt; do
  case $opt in
    j) jobs=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
(($# >= 2)) || { usage >&2; exit 2; }
in_dir=$1 out_dir=$2
shift 2
[[ ${1:-} == -- ]] && shift
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "batch_extract.sh: -j needs a positive number" >&2; exit 2; }
[[ -d $in_dir ]] || { echo "batch_extract.sh: $in_dir: not a folder" >&2; exit 2; }

source "$(dirname "$0")/batch_lib.sh"
bin=$(find_faceswap)
mkdir -p "$out_dir/logs"
extra=""
(($# == 0)) || extra=$(printf '%q ' "$@")  # printf with no arguments would print ''
names=()
while IFS= read -r -d '' clip; do
  name=$(basename "$clip")
  names+=("$name")
  OUT[$name]="$out_dir/${name%.*}"
  LOG[$name]="$out_dir/logs/${name%.*}.log"
  if [[ -e ${OUT[$name]}/alignments.json ]]; then
    STATUS[$name]="skipped"
    echo "skip   $name (exists)"
    continue
  fi
  CMD[$name]="$(printf '%q' "$bin") extract $(printf '%q' "$clip") -o $(printf '%q' "${OUT[$name]}") $extra"
done < <(list_videos "$in_dir")
((${#names[@]})) || { echo "batch_extract.sh: no videos in $in_dir" >&2; exit 2; }

todo=()
for name in "${names[@]}"; do [[ ${STATUS[$name]:-} == skipped ]] || todo+=("$name"); done
run_jobs "$jobs" "${todo[@]}"
summary "${names[@]}"
