#!/usr/bin/env bash
# Swap the faces of every video in a folder with one trained model.
set -euo pipefail
usage() {
  cat <<'TXT'
Usage: batch_convert.sh [-j JOBS] [--shard I/N] [-n] IN_DIR OUT_DIR MODEL [-- CONVERT_OPTIONS...]

Runs `faceswap convert` on every video directly inside IN_DIR (mp4, mov, mkv, avi, webm,
m4v), writing OUT_DIR/<name>.<ext>. Outputs that already exist are skipped, so an
interrupted batch can simply be run again. Each file gets a log in OUT_DIR/logs/; a
summary is printed at the end and the exit code is 1 if any file failed.

  -j JOBS      convert this many files at once (default 1; each job uses --threads itself)
  --shard I/N  take only share I of N (1..N) of the folder's videos: the I-th, (I+N)-th, ...
               in sorted order, so N machines each convert a disjoint share. In a Slurm
               array job the share comes from SLURM_ARRAY_TASK_ID and _COUNT by itself.
  -n           list what this shard would convert, and stop
  -h           this help
Options after `--` go to every `faceswap convert` call (e.g. -- --to b --crf 20).
The binary is $FACESWAP, else build/src/cli/faceswap, else faceswap on PATH.
TXT
}
source "$(dirname "$0")/batch_lib.sh"
parse_batch_options batch_convert.sh "$@"
set -- "${POSITIONAL[@]}"
(($# >= 3)) || { usage >&2; exit 2; }
in_dir=$1 out_dir=$2 model=$3
shift 3
[[ ${1:-} == -- ]] && shift
[[ -d $in_dir ]] || { echo "batch_convert.sh: $in_dir: not a folder" >&2; exit 2; }
[[ -f $model/model.json ]] || { echo "batch_convert.sh: $model: not a model folder (no model.json)" >&2; exit 2; }
resolve_shard batch_convert.sh

bin=$(find_faceswap)
((DRY_RUN)) || mkdir -p "$out_dir/logs"
extra=""
(($# == 0)) || extra=$(printf '%q ' "$@")  # printf with no arguments would print ''
select_videos batch_convert.sh "$in_dir"
for name in "${NAMES[@]}"; do
  OUT[$name]="$out_dir/$name"
  LOG[$name]="$out_dir/logs/${name%.*}.log"
  if [[ -e ${OUT[$name]} ]]; then
    STATUS[$name]="skipped"
    echo "skip   $name (exists)"
    continue
  fi
  CMD[$name]="$(printf '%q' "$bin") convert $(printf '%q' "${CLIP[$name]}") -o $(printf '%q' "${OUT[$name]}") -m $(printf '%q' "$model") $extra"
done
run_batch
