#!/usr/bin/env bash
# Swap the faces of every video in a folder with one trained model.
set -euo pipefail
usage() {
  cat <<'TXT'
Usage: batch_convert.sh [-j JOBS] IN_DIR OUT_DIR MODEL [-- CONVERT_OPTIONS...]

Runs `faceswap convert` on every video directly inside IN_DIR (mp4, mov, mkv, avi, webm,
m4v), writing OUT_DIR/<name>.<ext>. Outputs that already exist are skipped, so an
interrupted batch can simply be run again. Each file gets a log in OUT_DIR/logs/; a
summary is printed at the end and the exit code is 1 if any file failed.

  -j JOBS   convert this many files at once (default 1; each job uses --threads itself)
  -h        this help
Options after `--` go to every `faceswap convert` call (e.g. -- --to b --crf 20).
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
(($# >= 3)) || { usage >&2; exit 2; }
in_dir=$1 out_dir=$2 model=$3
shift 3
[[ ${1:-} == -- ]] && shift
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "batch_convert.sh: -j needs a positive number" >&2; exit 2; }
[[ -d $in_dir ]] || { echo "batch_convert.sh: $in_dir: not a folder" >&2; exit 2; }
[[ -f $model/model.json ]] || { echo "batch_convert.sh: $model: not a model folder (no model.json)" >&2; exit 2; }

source "$(dirname "$0")/batch_lib.sh"
bin=$(find_faceswap)
mkdir -p "$out_dir/logs"
extra=""
(($# == 0)) || extra=$(printf '%q ' "$@")  # printf with no arguments would print ''
names=()
while IFS= read -r -d '' clip; do
  name=$(basename "$clip")
  names+=("$name")
  OUT[$name]="$out_dir/$name"
  LOG[$name]="$out_dir/logs/${name%.*}.log"
  if [[ -e ${OUT[$name]} ]]; then
    STATUS[$name]="skipped"
    echo "skip   $name (exists)"
    continue
  fi
  CMD[$name]="$(printf '%q' "$bin") convert $(printf '%q' "$clip") -o $(printf '%q' "${OUT[$name]}") -m $(printf '%q' "$model") $extra"
done < <(list_videos "$in_dir")
((${#names[@]})) || { echo "batch_convert.sh: no videos in $in_dir" >&2; exit 2; }

todo=()
for name in "${names[@]}"; do [[ ${STATUS[$name]:-} == skipped ]] || todo+=("$name"); done
run_jobs "$jobs" "${todo[@]}"
summary "${names[@]}"
