#!/usr/bin/env bash
# Extract the faces of every video in a folder, one extract folder per video.
set -euo pipefail
usage() {
  cat <<'TXT'
Usage: batch_extract.sh [-j JOBS] [--shard I/N] [-n] IN_DIR OUT_DIR [-- EXTRACT_OPTIONS...]

Runs `faceswap extract` on every video directly inside IN_DIR (mp4, mov, mkv, avi, webm,
m4v), writing faces and alignments.json to OUT_DIR/<name>/. Videos whose folder already
holds an alignments.json are skipped. Each file gets a log in OUT_DIR/logs/; a summary is
printed at the end and the exit code is 1 if any file failed.

  -j JOBS      extract this many files at once (default 1)
  --shard I/N  take only share I of N (1..N) of the folder's videos: the I-th, (I+N)-th, ...
               in sorted order, so N machines each extract a disjoint share. In a Slurm
               array job the share comes from SLURM_ARRAY_TASK_ID and _COUNT by itself.
  -n           list what this shard would extract, and stop
  -h           this help
Options after `--` go to every `faceswap extract` call (e.g. -- --every 2 --size 256).
The binary is $FACESWAP, else build/src/cli/faceswap, else faceswap on PATH.
TXT
}
source "$(dirname "$0")/batch_lib.sh"
parse_batch_options batch_extract.sh "$@"
set -- "${POSITIONAL[@]}"
(($# >= 2)) || { usage >&2; exit 2; }
in_dir=$1 out_dir=$2
shift 2
[[ ${1:-} == -- ]] && shift
[[ -d $in_dir ]] || { echo "batch_extract.sh: $in_dir: not a folder" >&2; exit 2; }
resolve_shard batch_extract.sh

bin=$(find_faceswap)
((DRY_RUN)) || mkdir -p "$out_dir/logs"
extra=""
(($# == 0)) || extra=$(printf '%q ' "$@")  # printf with no arguments would print ''
select_videos batch_extract.sh "$in_dir"
for name in "${NAMES[@]}"; do
  OUT[$name]="$out_dir/${name%.*}"
  LOG[$name]="$out_dir/logs/${name%.*}.log"
  if [[ -e ${OUT[$name]}/alignments.json ]]; then
    STATUS[$name]="skipped"
    echo "skip   $name (exists)"
    continue
  fi
  CMD[$name]="$(printf '%q' "$bin") extract $(printf '%q' "${CLIP[$name]}") -o $(printf '%q' "${OUT[$name]}") $extra"
done
run_batch
