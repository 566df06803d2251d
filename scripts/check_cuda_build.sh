#!/usr/bin/env bash
# Builds faceswap against Debian 13 (trixie)'s LibTorch 2.x in a trixie chroot, without
# installing anything on this Debian 12 host. Needs root (debootstrap, chroot, mounts).
#
#   sudo bash scripts/check_cuda_build.sh            # same as --cuda
#   sudo bash scripts/check_cuda_build.sh --cuda     # CUDA LibTorch 2.6: build every target, run nothing
#   sudo bash scripts/check_cuda_build.sh --cpu2x    # CPU LibTorch 2.x: build every target, run ctest
#   sudo bash scripts/check_cuda_build.sh --cpu2x -L unit   # extra arguments go to ctest
#   sudo bash scripts/check_cuda_build.sh --fresh ...  # empty the build folder first (ccache
#                                                      # keeps it quick): counts every warning
#
# --cuda compiles and links the whole project and its tests with -DFACESWAP_CUDA=ON against
# trixie's libtorch-cuda-dev (CUDA 12.4, NCCL 2.22). Nothing runs on a GPU, and Debian has
# no cuDNN, so links use -Wl,--allow-shlib-undefined (every symbol faceswap's own code
# uses is still checked). --cpu2x builds with trixie's CPU libtorch-dev and runs the whole
# suite but the `gpu` label. The two LibTorch packages conflict, so each mode has its own
# chroot under $FACESWAP_CHROOT_CACHE (default /var/cache/faceswap): trixie-cuda (about 9 GB)
# and trixie-cpu2x. They are kept and reused, with their build folders and ccache, so a
# second run only rebuilds what changed. Delete the folder to start over.
#
# The work tree is bind-mounted at /src/<name>, ../shared next to it (sample media) and
# your ~/.cache/faceswap (dlib networks, scripts/fetch_models.sh) at /root/.cache/faceswap.
# Set FACESWAP_CPU_LOCK=/some/file to run the build and the tests under `flock` on it.
# FACESWAP_DEBIAN_MIRROR picks the Debian mirror (default http://deb.debian.org/debian).
set -euo pipefail

mode=cuda
fresh=0
ctest_args=()
while (($#)); do
  case "$1" in
    --cuda) mode=cuda ;;
    --cpu2x) mode=cpu2x ;;
    --fresh) fresh=1 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ctest_args+=("$1") ;;
  esac
  shift
done

if [[ $(id -u) -ne 0 ]]; then
  echo "check_cuda_build.sh: needs root (debootstrap, chroot and bind mounts): run it with sudo" >&2
  exit 1
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
name=$(basename "$repo")
cache=${FACESWAP_CHROOT_CACHE:-/var/cache/faceswap}
root=$cache/trixie-$mode
mirror=${FACESWAP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
user_home=$HOME
if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then user_home=$(getent passwd "$SUDO_USER" | cut -d: -f6); fi
models_cache=$user_home/.cache/faceswap
lock=()
[[ -n ${FACESWAP_CPU_LOCK:-} ]] && lock=(flock "$FACESWAP_CPU_LOCK")

step_start=0
step() { step_start=$(date +%s); echo "==> $*"; }
took() { echo "    ($(($(date +%s) - step_start)) s)"; }

# 1. The chroot: Debian 12's debootstrap (unpacked, not installed) makes a minimal trixie.
if [[ ! -f $root/.faceswap-base ]]; then
  step "making a trixie chroot in $root (debootstrap, about 2 minutes)"
  mkdir -p "$cache/debootstrap"
  if [[ ! -x $cache/debootstrap/usr/sbin/debootstrap ]]; then
    (cd "$cache/debootstrap" && apt-get download -q debootstrap 2>/dev/null && dpkg -x debootstrap_*.deb . && rm debootstrap_*.deb)
  fi
  rm -rf "$root.tmp"
  DEBOOTSTRAP_DIR=$cache/debootstrap/usr/share/debootstrap "$cache/debootstrap/usr/sbin/debootstrap" \
    --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    trixie "$root.tmp" "$mirror" > "$cache/debootstrap-$mode.log" 2>&1 \
    || { echo "check_cuda_build.sh: debootstrap failed, see $cache/debootstrap-$mode.log" >&2; exit 1; }
  rm -rf "$root"
  mv "$root.tmp" "$root"
  # libtorch-cuda-dev and nvidia-cuda-toolkit are in contrib and non-free.
  cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror trixie main contrib non-free non-free-firmware
EOF
  rm -f "$root/etc/apt/sources.list.d/debian.sources"
  touch "$root/.faceswap-base"
  took
fi

# 2. Mounts, undone on any exit.
mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bind() {  # bind <host path> <path in chroot> [ro]
  mkdir -p "$root$2"
  mount --bind "$1" "$root$2"
  mounted+=("$root$2")
  if [[ ${3:-} == ro ]]; then mount -o remount,bind,ro "$root$2"; fi
}
mkdir -p "$root/proc"
mount -t proc proc "$root/proc"; mounted+=("$root/proc")
bind /dev /dev
bind /dev/pts /dev/pts
bind "$repo" "/src/$name"
[[ -d $repo/../shared ]] && bind "$(cd "$repo/../shared" && pwd)" /src/shared ro
[[ -d $models_cache ]] && bind "$models_cache" /root/.cache/faceswap ro
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
  LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"; }

# 3. Packages: the project's dependencies (scripts/setup.sh's list) and this mode's LibTorch.
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libopencv-dev libdlib-dev libdlib-data libblas-dev liblapack-dev libopenblas0-pthread
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libavdevice-dev
  libcli11-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev ffmpeg bzip2
)
if [[ $mode == cuda ]]; then
  # libgloo-dev conflicts with the CUDA LibTorch; libgloo-cuda-dev is its build of Gloo.
  packages+=(libtorch-cuda-dev libgloo-cuda-dev libnccl-dev nvidia-cuda-toolkit nvidia-cuda-dev)
else
  packages+=(libtorch-dev libgloo-dev)
fi
want="${packages[*]}"
if [[ ! -f $root/.faceswap-packages || $(cat "$root/.faceswap-packages") != "$want" ]]; then
  step "installing ${#packages[@]} packages and their dependencies in the chroot"
  # nvidia-cudnn would download cuDNN from NVIDIA at install time; say no up front.
  echo 'nvidia-cudnn nvidia-cudnn/question select I Decline' | in_root debconf-set-selections
  in_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}"
  in_root apt-get clean
  echo "$want" > "$root/.faceswap-packages"
  took
fi
torch_version=$(in_root dpkg-query -W -f='${Version}' "$([[ $mode == cuda ]] && echo libtorch-cuda-dev || echo libtorch-dev)")
echo "==> LibTorch $torch_version ($mode), $(in_root sh -c 'g++ --version | head -1'), $(in_root sh -c 'cmake --version | head -1')"

# 4. Configure and build every target, in a build folder inside the chroot.
build=/root/build-$mode
cmake_args=(-S "/src/$name" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
  # Tests are listed when ctest runs, not after each link: a CUDA build's test programs
  # cannot start here (no GPU driver, no cuDNN).
  -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST)
if [[ $mode == cuda ]]; then
  cmake_args+=(-DFACESWAP_CUDA=ON
    -DCMAKE_EXE_LINKER_FLAGS=-Wl,--allow-shlib-undefined
    -DCMAKE_SHARED_LINKER_FLAGS=-Wl,--allow-shlib-undefined)
fi
((fresh)) && rm -rf "$root$build"
step "configuring $build"
in_root cmake "${cmake_args[@]}" > "$root$build.configure.log" 2>&1 \
  || { cat "$root$build.configure.log"; echo "check_cuda_build.sh: configuration failed" >&2; exit 1; }
# LibTorch's own CMake files warn about Debian's packaging (kineto, nvrtc's hash, nvtx3).
grep -E '^-- (OpenCV|Using ccache)' "$root$build.configure.log" || true
grep -A1 '^CMake Warning' "$root$build.configure.log" | grep -vE '^(CMake Warning|--$)' | sed 's/^ */    cmake warning: /' || true
took

step "building every target (-j2; log: $root$build.build.log)"
set +e
"${lock[@]}" chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 \
  cmake --build "$build" -j2 -- -k 0 > "$root$build.build.log" 2>&1
rc=$?
set -e
targets=$(in_root sh -c "ninja -C $build -t targets all | grep -cE '^[^ :]+: (CXX_EXECUTABLE_LINKER|CXX_STATIC_LIBRARY_LINKER|CXX_SHARED_LIBRARY_LINKER)'")
errors=$(grep -c ' error: ' "$root$build.build.log" || true)
warnings=$(grep -c ' warning: ' "$root$build.build.log" || true)
took
echo "    $targets targets (libraries and programs), $errors errors, $warnings warnings"
if ((warnings)); then
  echo "    warnings by kind:"
  grep -oE 'warning: .*\[-W[^]]+\]' "$root$build.build.log" | grep -oE '\[-W[^]]+\]' | sort | uniq -c | sort -rn | sed 's/^/     /'
fi
if ((rc)); then
  grep -E 'error:|FAILED:|undefined reference' "$root$build.build.log" | head -40
  echo "check_cuda_build.sh: the $mode build failed (log: $root$build.build.log)" >&2
  exit 1
fi

if [[ $mode == cuda ]]; then
  echo "==> every target compiled and linked against CUDA LibTorch $torch_version (nothing was run: no GPU)"
  exit 0
fi

# 5. --cpu2x: the whole suite, as CI runs it (every label but gpu).
step "running ctest in $build"
set +e
"${lock[@]}" chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 \
  sh -c "cd $build && ctest -LE gpu -j2 --output-on-failure ${ctest_args[*]}" 2>&1 | tee "$root$build.ctest.log"
rc=${PIPESTATUS[0]}
set -e
took
exit "$rc"
