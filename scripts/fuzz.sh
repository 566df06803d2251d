#!/usr/bin/env bash
# Fuzzing with clang's libFuzzer under ASan + UBSan: builds the harnesses of fuzz/ (the
# `fuzz` preset, build-fuzz/) and runs each for SECONDS, one after another, then prints
# executions, coverage and crashes per harness as a Markdown table.
#
#   bash scripts/fuzz.sh                      # every harness, 300 s each
#   bash scripts/fuzz.sh 30                   # what CI runs
#   bash scripts/fuzz.sh 600 video_reader     # chosen harnesses (duration alignments
#                                             # model_info cli_config video_reader)
#
# Seeds are made at run time in build-fuzz/seeds/: small alignments.json, model.json,
# config files and durations written here, and the first bytes of the shared clips and
# images (../shared/data or $FACESWAP_SAMPLES) plus tiny clips and images cut from them
# with ffmpeg. What a run learns stays in build-fuzz/corpus/ for the next one. A crash, a
# failed check, a hang (-timeout) or an allocation past -rss_limit_mb is saved under
# build-fuzz/crashes/HARNESS/ and the script exits 1. Reproduce it with
# `build-fuzz/fuzz/fuzz_HARNESS FILE`; once fixed, keep the input (only inputs made here or
# by the fuzzer, never bytes of the shared media) in tests/fuzz/regressions/HARNESS/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-300}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2; }
shift || true
all=(duration alignments model_info cli_config video_reader)
harnesses=("$@")
((${#harnesses[@]})) || harnesses=("${all[@]}")
for h in "${harnesses[@]}"; do
  [[ " ${all[*]} " == *" $h "* ]] || { echo "fuzz.sh: no harness '$h' (there are: ${all[*]})" >&2; exit 2; }
done
command -v clang++-14 >/dev/null || { echo "fuzz.sh: clang++-14 is missing (bash scripts/setup.sh --deps-only --fuzz)" >&2; exit 1; }

work=build-fuzz
build_start=$SECONDS
nice -n 19 cmake --preset fuzz >/dev/null
nice -n 19 cmake --build --preset fuzz
build_seconds=$((SECONDS - build_start))

# ---- seeds (made here, every run; never committed) ----------------------------------
seeds=$work/seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{duration,alignments,model_info,cli_config,video_reader}

numbers() {  # numbers N: N small decimals, comma-separated
  local out="" i
  for ((i = 0; i < $1; i++)); do out+="${out:+, }0.0$((i % 10))$((i % 7))"; done
  echo "$out"
}
landmarks() {  # 68 [x, y] points
  local out="" i
  for ((i = 0; i < 68; i++)); do out+="${out:+, }[$((100 + i)).5, $((200 + i % 17)).25]"; done
  echo "$out"
}

for d in 90 90s 10m 1h30m 2h 0.5s 1h2m3s; do printf '%s' "$d" >"$seeds/duration/$d"; done

face="{\"frame\": 3, \"seconds\": 0.1, \"track\": 0, \"score\": 0.93, \"box\": [10.5, 20, 100, 120],
  \"landmarks\": [$(landmarks)], \"to_crop\": [1.2, 0.1, -30.5, -0.1, 1.2, -40.25],
  \"file\": \"clip_1a2b3c4d_000003_0.png\", \"descriptor\": [$(numbers 128)], \"person\": 0}"
cat >"$seeds/alignments/one_face.json" <<EOF
{"version": 1, "crop": {"size": 256, "coverage": 1.5, "template": "dlib-mean-face-17-67"},
 "sources": [{"path": "/data/clip.mp4", "file_size": 5242880, "mtime_ns": 1700000000000000000,
   "every": 1, "complete": true, "frames_read": 4, "warning": "", "faces": [$face]}]}
EOF
cat >"$seeds/alignments/no_faces.json" <<EOF
{"version": 1, "crop": {"size": 64, "coverage": 1.0}, "sources": [{"path": "/p.jpg", "file_size": 1,
 "mtime_ns": 0, "complete": false, "faces": []}]}
EOF

cat >"$seeds/model_info/lite.json" <<EOF
{"version": 1, "preset": "lite", "resolution": 64, "identities": ["a", "b"], "iteration": 20,
 "stage_iterations": 0, "alignment": {"template": "dlib-mean-face-17-67", "coverage": 1.5},
 "weights_hash": "0123456789abcdef",
 "backups": [{"file": "backups/weights-00000010.pt", "iteration": 10, "hash": "fedcba9876543210"}],
 "libraries": {"LibTorch": "1.13.1"}, "updated": "2026-01-01T00:00:00Z",
 "training_faces": [{"identity": "a", "folders": ["/f/a"]}, {"identity": "b", "folders": ["/f/b"]}],
 "holdout_rule": "runs of 4 faces, 1 run in 10",
 "descriptors": [{"identity": "a", "faces": 3, "mean": [$(numbers 128)]},
                 {"identity": "b", "faces": 2, "mean": [$(numbers 128)]}],
 "recipe": {"precision": "fp32", "average": "0.999"}}
EOF
printf '{"version": 1, "preset": "hd", "resolution": 128, "identities": ["x", "y", "z"], "iteration": 0,
 "alignment": {"template": "t", "coverage": 1.0}}' >"$seeds/model_info/minimal.json"

# The first byte picks the subcommand: 0 info, 1 extract, 2 train, 3 convert, 4 eval.
printf '\x00device = "cpu"\nthreads = 2\nverbose = true\n' >"$seeds/cli_config/global.toml"
printf '\x02[train]\na = ["faces_a"]\nb = ["faces_b"]\nmodel = "m"\npreset = "lite"\ntime = "10m"\nbatch = 8\naverage = 0.999\n' \
  >"$seeds/cli_config/train.toml"
printf '\x03; INI style\n[convert]\ninput=clip.mp4\noutput=out.mp4\nmodel=m\ncrf=18\nend=2.5\ndetector=hog\n' \
  >"$seeds/cli_config/convert.ini"
printf '\x01[extract]\ninputs = ["a.mp4", "b/"]\noutput = "faces"\nsize = 256\ncoverage = 1.5\nby-identity = true\n' \
  >"$seeds/cli_config/extract.toml"
printf '\x04[eval]\nmodel = "m"\n' >"$seeds/cli_config/eval.toml"

samples=${FACESWAP_SAMPLES:-../shared/data}
if [[ -d $samples/clips && -d $samples/images ]]; then
  for clip in "$samples"/clips/*.mp4; do
    name=$(basename "$clip" .mp4)
    head -c 131072 "$clip" >"$seeds/video_reader/${name}_head.mp4"  # the index and the first frames
    if command -v ffmpeg >/dev/null; then
      ffmpeg -v error -y -i "$clip" -t 0.3 -vf scale=64:-2 -an -c:v libx264 -g 2 "$seeds/video_reader/${name}_tiny.mp4"
      ffmpeg -v error -y -i "$clip" -t 0.3 -vf scale=48:-2 -c:v mjpeg -c:a pcm_s16le -f avi "$seeds/video_reader/${name}_tiny.avi"
    fi
  done
  for image in "$samples"/images/*; do
    name=$(basename "$image")
    head -c 16384 "$image" >"$seeds/video_reader/head_$name"
    if command -v ffmpeg >/dev/null; then
      ffmpeg -v error -y -i "$image" -vf scale=48:-2 "$seeds/video_reader/tiny_${name%.*}.png"
      ffmpeg -v error -y -i "$image" -vf scale=48:-2 "$seeds/video_reader/tiny_${name%.*}.jpg"
    fi
  done
else
  echo "fuzz.sh: no sample media in $samples (set FACESWAP_SAMPLES): video_reader starts from an empty corpus" >&2
fi

# ---- runs ---------------------------------------------------------------------------
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=0
rows=()
for h in "${harnesses[@]}"; do
  corpus=$work/corpus/$h crashes=$work/crashes/$h log=$work/fuzz-$h.log
  mkdir -p "$corpus" "$crashes"
  flags=(-max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -print_final_stats=1
         -artifact_prefix="$crashes/")
  case $h in
    alignments | model_info) flags+=(-dict=fuzz/json.dict -max_len=65536) ;;
    video_reader) flags+=(-max_len=140000) ;;
    duration) flags+=(-max_len=512) ;;
  esac
  echo "==> fuzz_$h for $seconds s (log: $log)"
  status=ok
  touch "$work/fuzz-$h.started"
  nice -n 19 "$work/fuzz/fuzz_$h" "${flags[@]}" "$corpus" "$seeds/$h" >"$log" 2>&1 || status=CRASH
  final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
  coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  found=$(find "$crashes" -type f -newer "$work/fuzz-$h.started" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
  if [[ $status == CRASH ]]; then
    failed=1
    grep -m 3 -E 'ERROR|SUMMARY|fuzz check failed|runtime error|deadly signal' "$log" | sed 's/^/    /' || true
  fi
  rows+=("| $h | $seconds | $(final_stat number_of_executed_units) | $(final_stat average_exec_per_sec) | ${coverage:-?} | $(find "$corpus" -type f | wc -l) | $status ($found saved) |")
done

echo
echo "Fuzzing, build $build_seconds s (build-fuzz/), then each harness for $seconds s under ASan + UBSan:"
echo
echo "| harness | seconds | executions | per second | coverage (edges) | corpus | result |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
((failed == 0)) || echo "crashes are under $work/crashes/ (see each log)"
exit "$failed"
