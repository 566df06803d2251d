#!/usr/bin/env bash
# The checks of one GPU lease, in the two calls that carry what scripts/device_deps.sh packed
# (one call carries at most 64 MiB): run there, in the repository root, with $OUT set to the
# folder whose files come back.
#
#   bash scripts/gpu_session.sh first    # carry .device/deps.tar.xz .device/deps.prefix
#                                        #   .device/testdata.tar .device/landmarks.xz.part00
#   bash scripts/gpu_session.sh second   # the next call, at once (the machine must still be
#                                        #   warm): carry .device/landmarks.xz.part01
#                                        #   .device/clip1080.mp4
#
# first: the machine's description, the build (build_on_gpu.sh), the `gpu` tests, the rest
# of the suite's programs built beside them, then bench_gpu.sh train. About 6 minutes on an
# H200 with 16 cores. second: the landmark network joined, bench_gpu.sh convert on the 1080p
# clip, the gpu test that converts, and the unit tests. About 3 minutes. Each writes its
# reports (*.md, *.log, logs.tgz) to $OUT, at most 8 files.
set -uo pipefail
cd "$(dirname "$0")/.."
[[ ${1:-} == first || ${1:-} == second ]] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
out=${OUT:?gpu_session.sh writes its reports to \$OUT}
logs=$PWD/build-gpu/out
keep=/tmp/faceswap-keep
models=${FACESWAP_DEPS_DIR:-/tmp/faceswap-deps}/models
mkdir -p "$logs" "$keep"

case ${1:-} in
  first)
    cp .device/landmarks.xz.part00 "$keep/"
    { nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; head -2 /etc/os-release
      g++ --version | head -1; cmake --version | head -1; echo "cores: $(nproc)"; } > "$out/machine.txt" 2>&1
    cat "$out/machine.txt"
    OUT=$logs timeout 300 bash scripts/build_on_gpu.sh --no-tests > "$out/build.log" 2>&1
    echo "build: exit $?"
    tail -3 "$out/build.log"
    # shellcheck disable=SC1091
    source build-gpu/gpu-env.sh
    (nice timeout 240 cmake --build build-gpu > "$logs/build-all.log" 2>&1; echo "exit $?" >> "$logs/build-all.log") &
    (cd build-gpu && timeout 240 ctest -L gpu --output-on-failure -j1) > "$out/gpu_tests.log" 2>&1
    grep -E "Test +#|tests passed" "$out/gpu_tests.log"
    wait
    echo "rest of the build: $(tail -1 "$logs/build-all.log")"
    timeout 240 bash scripts/bench_gpu.sh train 15 64 > "$out/bench_train.md" 2>&1
    cat "$out/bench_train.md"
    ;;
  second)
    [[ -x build-gpu/src/cli/faceswap && -f $keep/landmarks.xz.part00 ]] ||
      { echo "gpu_session.sh second: a fresh machine (nothing built, no part00): run first again" >&2; exit 3; }
    # shellcheck disable=SC1091
    source build-gpu/gpu-env.sh
    mkdir -p "$models"
    cat "$keep/landmarks.xz.part00" .device/landmarks.xz.part01 | xz -d > "$models/shape_predictor_68_face_landmarks.dat"
    export FACESWAP_MODELS=$models
    timeout 120 bash scripts/bench_gpu.sh convert .device/clip1080.mp4 > "$out/bench_convert.md" 2>&1
    cat "$out/bench_convert.md"
    (cd build-gpu && timeout 90 ctest -R ConvertsAClip --output-on-failure) > "$out/convert_test.log" 2>&1
    grep -E "Test +#|tests passed" "$out/convert_test.log"
    (cd build-gpu && timeout 150 ctest -L unit -j"$(nproc)" --output-on-failure) > "$out/unit_tests.log" 2>&1
    grep -E "tests passed|\*\*\*Failed|Exception" "$out/unit_tests.log" | head -20
    ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
tar -czf "$out/logs.tgz" build-gpu/out /tmp/faceswap-bench-gpu 2>/dev/null
