#!/usr/bin/env bash
# The main job of the quick start: the whole pipeline on the shared sample clips.
#   extract both people -> train a lite model -> swap person_b's clip into person_a
#   -> measure the swap on held-out faces (faceswap eval)
#
# Usage: scripts/demo.sh [WORK_DIR]      (default: demo/ in the repository, git-ignored)
#   DEMO_TRAIN_TIME=10m   how long to train (a lite model is recognisable after ~10 min on 2 cores)
# Re-running resumes the model where it stopped and skips finished extraction.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/src/cli/faceswap
work=${1:-demo}
samples=${FACESWAP_SAMPLES:-../shared/data}
train_time=${DEMO_TRAIN_TIME:-10m}

[[ -x $bin ]] || { echo "demo.sh: $bin not built; run scripts/setup.sh first" >&2; exit 1; }

echo "==> faceswap info"
"$bin" info

if [[ ! -f $samples/clips/person_a.mp4 || ! -f $samples/clips/person_b.mp4 ]]; then
  echo "demo.sh: sample clips not found in $samples (set FACESWAP_SAMPLES); stopping after info"
  exit 0
fi
mkdir -p "$work"

echo "==> extract: faces of both people (every 3rd frame; the largest face per frame), grouped into people"
# Both clips end with someone else (a split screen of two women; a game advertisement with
# a drawn face): --by-identity puts each person in a folder, person_1 having the most faces.
"$bin" extract "$samples/clips/person_a.mp4" -o "$work/faces_a" --every 3 --face-select largest --by-identity
"$bin" extract "$samples/clips/person_b.mp4" -o "$work/faces_b" --every 3 --face-select largest --by-identity

echo "==> train: lite model for $train_time on person_1 of each clip (Ctrl-C saves and stops; re-run to continue)"
# The default recipe: bf16 where the CPU has AVX512-BF16, weight average 0.999 (README).
"$bin" train --a "$work/faces_a/person_1" --b "$work/faces_b/person_1" -m "$work/model" --preset lite --time "$train_time"

echo "==> convert: person_b's clip with her face drawn as person_a"
"$bin" convert "$samples/clips/person_b.mp4" -o "$work/person_b_as_a.mp4" -m "$work/model" --to a --preview 4

echo "==> eval: how good the swaps are, on faces the model did not train on"
"$bin" eval -m "$work/model"

echo
echo "done: $work/person_b_as_a.mp4 (before/after frames in $work/person_b_as_a-preview/,"
echo "      people found in $work/faces_a/people.png and $work/faces_b/people.png,"
echo "      training previews in $work/model/preview.png, quality report in $work/model/eval.json)"
