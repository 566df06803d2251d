#!/usr/bin/env bash
# Quality per hour: trains each training recipe on the shared pair for the same wall-clock
# budget, one after the other, and measures every model with `faceswap eval` on the faces
# training held out. A reference recipe is the first row, measured in the same run: by
# default `lite` (lite's defaults before the sharp preset, spelled out), or --reference.
#
#   bash scripts/bench_quality.sh [--time 20m] [--markdown] [--work DIR] [--reference 'NAME=FLAGS']
#                                 [--recipe 'NAME=FLAGS' ...]
#
#   --time T       training budget per recipe (default 20m)
#   --reference R  the first row, measured in the same run (default: the "lite" recipe
#                  below), e.g. --reference 'default=' for today's defaults, or
#                  --reference 'none=-- --detail none' for them without exemplar detail
#   --recipe R     a recipe to measure after the reference: NAME=TRAIN FLAGS [-- EVAL FLAGS]
#                  (repeatable; without any, the `sharp` preset, the 256 px candidate), e.g.
#                  --recipe 'default=' for today's defaults
#                  --recipe 'none=-- --detail none' (eval flags only: a recipe whose
#                  training flags an earlier one trained with is measured on that model,
#                  the same weights, instead of training again)
#                  --recipe 'ffl=--preset lite --frequency-weight 1'
#                  --recipe 'id=--preset lite --identity-weight 0.2'
#                  --recipe 'lite128=--preset lite128'
#   --work DIR     keep faces and models there (default: a temporary folder); faces
#                  extracted there are reused by the next run
#   --markdown     print the table as Markdown
#
# Both clips are extracted with --face-select largest --by-identity, and each model trains
# on each clip's person_1 (the person with the most faces). Not a test: the numbers depend
# on the machine, and the machine must be otherwise idle (a budget is wall-clock time).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/src/cli/faceswap"
samples="${FACESWAP_SAMPLES:-$root/../shared/data}"
budget=20m
markdown=0
work=""
recipes=()
# The default reference, spelled out so that later defaults do not change it: bf16 where
# the CPU has it, a weight average of 0.999, lr 4e-4, no occluders, evaluated without
# exemplar detail.
reference="lite=--preset lite --precision auto --average 0.999 --lr 4e-4 --occluders 0 -- --detail none"
while [[ $# -gt 0 ]]; do
  case $1 in
    --time) budget=$2; shift 2 ;;
    --markdown) markdown=1; shift ;;
    --work) work=$2; shift 2 ;;
    --recipe) recipes+=("$2"); shift 2 ;;
    --reference) reference=$2; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_quality.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ -x $bin ]] || { echo "bench_quality.sh: $bin not built" >&2; exit 1; }
for clip in person_a person_b; do
  [[ -f $samples/clips/$clip.mp4 ]] || { echo "bench_quality.sh: missing $samples/clips/$clip.mp4" >&2; exit 1; }
done
if [[ -z $work ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

if ((${#recipes[@]} == 0)); then
  recipes=(
    "sharp=--preset sharp"  # the 256 px candidate (detail stage); lite stays the default until it wins here
  )
fi
recipes=("$reference" "${recipes[@]}")

for who in a b; do
  if [[ ! -f $work/faces_$who/person_1/alignments.json ]]; then
    echo "==> extracting person_$who (every frame, largest face, grouped into people)" >&2
    "$bin" -q extract "$samples/clips/person_$who.mp4" -o "$work/faces_$who" --face-select largest --by-identity
  fi
done

rows=()
declare -A trained  # training flags -> the model trained with them in this run
for recipe in "${recipes[@]}"; do
  name=${recipe%%=*}
  spec=" ${recipe#*=} "
  train_spec=${spec%% -- *}
  eval_spec=""
  [[ $spec == *" -- "* ]] && eval_spec=${spec#* -- }
  read -r -a flags <<<"$train_spec"
  read -r -a eval_flags <<<"$eval_spec"
  key="flags: ${flags[*]}"
  if [[ -n ${trained[$key]+set} ]]; then
    model=${trained[$key]}
    echo "==> $name: the model of the same training flags (${flags[*]:-defaults}), eval ${eval_flags[*]}" >&2
  else
    model="$work/models/$name"
    rm -rf "$model"
    echo "==> $name: faceswap train ${flags[*]} --time $budget" >&2
    "$bin" -q train --a "$work/faces_a/person_1" --b "$work/faces_b/person_1" -m "$model" --time "$budget" \
      --preview-every 0 "${flags[@]}"
    trained[$key]=$model
  fi
  "$bin" -q eval -m "$model" --max-faces 0 "${eval_flags[@]}" >/dev/null
  rows+=("$(python3 - "$name" "$model" <<'EOF'
import json, sys
name, model = sys.argv[1], sys.argv[2]
report = json.load(open(model + "/eval.json"))
info = json.load(open(model + "/model.json"))
# The run's faces/s (loss.csv's last rate): a budget is wall-clock time, so a host that
# slowed during one recipe shows here.
last = open(model + "/loss.csv").read().split()[-1].split(",")[-1]
speed = "-" if last == "samples_per_second" else f"{float(last):.0f}"
def cell(key):
    values = [key(d) for d in report["directions"]]
    return " / ".join("-" if v is None else f"{v:.2f}" for v in values)
def cell3(key):
    values = [key(d) for d in report["directions"]]
    return " / ".join("-" if v is None else f"{v:.3f}" for v in values)
print("|".join([
    name, str(info["iteration"]), speed, report.get("detail", "none"),
    cell(lambda d: d["identity"]["target_share"]),
    cell3(lambda d: d["identity"]["distance_to_target"]),
    cell(lambda d: d["pose"]["mean_error_degrees"]),
    cell3(lambda d: d["landmarks"]["mean_error"]),
    cell(lambda d: d["temporal"]["ratio"]),
    cell(lambda d: d["seam"]),
    cell(lambda d: d["sharpness"]),
    cell(lambda d: d["reconstruction"].get("detail_fidelity")),
    cell(lambda d: d.get("occlusion", {}).get("mask_iou")),
    cell(lambda d: d.get("occlusion", {}).get("occluder_psnr_db")),
]))
EOF
)")
done

header="recipe|steps|faces/s|--detail|ID->target a->b / b->a|distance to target|pose error (deg)|landmarks|temporal|seam|sharpness|detail|occlusion IoU|occluder dB"
if ((markdown)); then
  echo "| ${header//|/ | } |"
  echo "|$(sed 's/[^|]*/ --- /g' <<<"$header")|"
  for row in "${rows[@]}"; do echo "| ${row//|/ | } |"; done
else
  { echo "$header"; printf '%s\n' "${rows[@]}"; } | sed 's/|/  |  /g'
fi
echo "(budget $budget per recipe; faces and models in $work)" >&2
