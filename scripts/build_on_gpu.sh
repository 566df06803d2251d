#!/usr/bin/env bash
# Builds faceswap on a machine with a CUDA PyTorch but none of our other libraries (the lent
# GPU machine), from what scripts/device_deps.sh packed into .device/, and runs tests there.
#
#   bash scripts/build_on_gpu.sh                 # build, then the `gpu` tests
#   bash scripts/build_on_gpu.sh -L unit         # ... then also these ctest arguments
#   bash scripts/build_on_gpu.sh --no-tests      # build only
#
# LibTorch is the one inside python3's torch (torch.utils.cmake_prefix_path), else
# $FACESWAP_TORCH_PREFIX, else CMake's default search (a system LibTorch: how this script is
# tried on a bare Debian chroot before a GPU session). NCCL's header comes from the
# nvidia-nccl wheel beside torch. The build goes to build-gpu/; the dependencies unpack to
# $FACESWAP_DEPS_DIR (default /tmp/faceswap-deps) once. Logs and JUnit files go to $OUT
# (default build-gpu/out). Prints `source <file>` for the environment the binaries need.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
deps=${FACESWAP_DEPS_DIR:-/tmp/faceswap-deps}
build=$repo/build-gpu
out=${OUT:-$build/out}
run_tests=1
ctest_extra=()
for arg in "$@"; do
  case "$arg" in
    --no-tests) run_tests=0 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ctest_extra+=("$arg") ;;
  esac
done
mkdir -p "$out"
step() { echo "==> $* ($(date +%H:%M:%S))"; }

[[ -f $repo/.device/deps.tar.xz ]] || { echo "build_on_gpu.sh: no .device/deps.tar.xz (run scripts/device_deps.sh where Debian is)" >&2; exit 1; }
if [[ ! -f $deps/.unpacked || $repo/.device/deps.tar.xz -nt $deps/.unpacked ]]; then
  step "unpacking the dependencies to $deps"
  rm -rf "$deps" && mkdir -p "$deps"
  tar -xJf "$repo/.device/deps.tar.xz" -C "$deps" || exit 1
  # pkg-config files name the prefix they were built in: point them here.
  old=$(cat "$repo/.device/deps.prefix")
  grep -rl --include='*.pc' "$old" "$deps" | xargs -r sed -i "s|$old|$deps|g"
  touch "$deps/.unpacked"
fi
if [[ -f $repo/.device/testdata.tar && ! -f $deps/testdata/.unpacked ]]; then
  mkdir -p "$deps/testdata" && tar -xf "$repo/.device/testdata.tar" -C "$deps/testdata" && touch "$deps/testdata/.unpacked"
fi

env_file=$build/gpu-env.sh
mkdir -p "$build"
{
  echo "export LD_LIBRARY_PATH=$deps/lib:$deps/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
  if [[ -d $deps/testdata ]]; then
    echo "export FACESWAP_SAMPLES=$deps/testdata/data FACESWAP_TEST_FACES=$deps/testdata"
  fi
} > "$env_file"
# shellcheck disable=SC1090
source "$env_file"

torch_prefix=${FACESWAP_TORCH_PREFIX:-}
nccl_root=""
if [[ -z $torch_prefix ]] && python3 -c 'import torch' 2>/dev/null; then
  torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  nccl_root=$(python3 -c 'import os, nvidia.nccl as n; print(os.path.dirname(n.__file__) if n.__file__ else list(n.__path__)[0])' 2>/dev/null)
  python3 -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda, "GPU", torch.cuda.is_available() and torch.cuda.get_device_name(0))'
fi
# Torch's CMake files look for the CUDA toolkit (nvcc) on PATH or under CUDAToolkit_ROOT.
if ! command -v nvcc >/dev/null; then
  for dir in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [[ -x $dir/nvcc ]] && export PATH=$dir:$PATH && break; done
fi
cuda=OFF
[[ -n $torch_prefix ]] && python3 -c 'import torch, sys; sys.exit(0 if torch.version.cuda else 1)' 2>/dev/null && cuda=ON

export PKG_CONFIG_PATH=$deps/lib/pkgconfig
step "configuring (CUDA $cuda, LibTorch ${torch_prefix:-from the system})"
export CMAKE_POLICY_VERSION_MINIMUM=3.5  # CMake 4 and Debian 12's older CMake files
NCCL_ROOT=$nccl_root cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFACESWAP_CUDA=$cuda \
  -DCMAKE_PREFIX_PATH="$deps;$deps/lib/x86_64-linux-gnu/cmake;${torch_prefix}" \
  -DPKG_CONFIG_EXECUTABLE="$deps/bin/pkgconf" -DCMAKE_CUDA_ARCHITECTURES=90 -DTORCH_CUDA_ARCH_LIST=9.0 \
  > "$out/configure.log" 2>&1 || { tail -40 "$out/configure.log"; echo "build_on_gpu.sh: configure failed ($out/configure.log)"; exit 1; }
grep -E "^-- (OpenCV|Found Torch|Found CUDA|Using)|Warning|nccl" "$out/configure.log" | head -20

# The binary, the GPU tests and the benchmark programs first: what a short lease needs most.
step "building faceswap, the GPU tests and the benchmark programs"
cmake --build "$build" --target faceswap gpu_test train_bench video_transcode > "$out/build.log" 2>&1 \
  || { grep -E "error|Error" "$out/build.log" | head -30; echo "build_on_gpu.sh: build failed ($out/build.log)"; exit 1; }
"$build/src/cli/faceswap" info 2>&1 | tee "$out/info.txt" | sed -n '1,40p'

if ((run_tests)); then
  step "running the gpu tests"
  (cd "$build" && ctest -L gpu --output-on-failure --output-junit "$out/gpu-junit.xml" -j1) 2>&1 | tee "$out/gpu-tests.log" | tail -40
  if ((${#ctest_extra[@]})); then
    step "building everything else"
    cmake --build "$build" > "$out/build-all.log" 2>&1 || { grep -E "error" "$out/build-all.log" | head; exit 1; }
    step "ctest ${ctest_extra[*]}"
    (cd "$build" && ctest "${ctest_extra[@]}" --output-junit "$out/junit.xml" -j"$(nproc)") 2>&1 | tee "$out/tests.log" | tail -25
  fi
fi
echo "environment for the binaries: source $env_file"
