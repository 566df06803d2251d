# Shared by bench_convert.sh and bench_live.sh: the model they measure with. Sourced, not run.

# bench_model MODEL BIN SAMPLES WORK: prints MODEL when it holds a model.json; otherwise
# the lite model in WORK/model, trained there the first time from the shared clips (each
# clip's main person, as scripts/demo.sh makes its model, only shorter: 200 steps).
bench_model() {
  local model=$1 bin=$2 samples=$3 work=$4 who
  if [[ -f $model/model.json ]]; then echo "$model"; return; fi
  model=$work/model
  if [[ ! -f $model/model.json ]]; then
    echo "training a lite model for the benchmark (200 steps)..." >&2
    for who in a b; do
      "$bin" -q extract "$samples/clips/person_$who.mp4" -o "$work/faces_$who" --every 3 --face-select largest --by-identity >&2 || return 1
    done
    "$bin" -q train --a "$work/faces_a/person_1" --b "$work/faces_b/person_1" -m "$model" --preset lite --iterations 200 --batch 8 >&2 || return 1
  fi
  echo "$model"
}
