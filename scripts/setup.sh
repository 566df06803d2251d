#!/usr/bin/env bash
# Quick start, step 1: install what is missing, build, and run the main job.
#
#   bash scripts/setup.sh              # deps + networks + build + demo (scripts/demo.sh)
#   bash scripts/setup.sh --deps-only  # only the Debian packages and dlib's networks
#   bash scripts/setup.sh --no-demo    # deps + networks + build
#   bash scripts/setup.sh --bench ...  # also what the benchmarks' reference side needs
#                                      # (Debian's python3-torch, python3-opencv)
#   bash scripts/setup.sh --fuzz ...   # also clang 14 for scripts/fuzz.sh
#
# Idempotent: packages already installed are not touched, networks already fetched are
# kept, the build is incremental. Run it as yourself: apt-get runs directly as root, and
# through sudo otherwise (it asks for your password only when a package is missing). The
# networks go to your ~/.cache/faceswap/models (scripts/fetch_models.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

deps_only=0
demo=1
bench=0
fuzz=0
for arg in "$@"; do
  case "$arg" in
    --deps-only) deps_only=1 ;;
    --no-demo) demo=0 ;;
    --bench) bench=1 ;;
    --fuzz) fuzz=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# Debian 12 packages, one per dependency (README.md lists what each is for).
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libopencv-dev
  libdlib-dev libdlib-data
  libblas-dev liblapack-dev  # dlib's CMake file links libblas.so/liblapack.so; libdlib-dev lacks them
  libtorch-dev libgloo-dev libopenblas0-pthread
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libavdevice-dev
  libcli11-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  ffmpeg bzip2
)
# scripts/bench*.sh time PyTorch's Python API (the same LibTorch) and OpenCV's Python
# bindings side by side with faceswap.
((bench)) && packages+=(python3-torch python3-opencv)
# scripts/fuzz.sh builds its harnesses with clang's libFuzzer, ASan and UBSan.
((fuzz)) && packages+=(clang-14 libclang-rt-14-dev)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  as_root=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
      echo "setup.sh: these Debian packages are missing and sudo is not installed; as root, run:" >&2
      echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
      echo "then run scripts/setup.sh again." >&2
      exit 1
    fi
    as_root=(sudo)
    echo "==> installing ${#missing[@]} Debian packages with sudo: ${missing[*]}"
  else
    echo "==> installing ${#missing[@]} Debian packages: ${missing[*]}"
  fi
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "==> all Debian packages present"
fi

# dlib's face-recognition and CNN-detector networks: into the cache of the user who asked
# (also when this script was started with sudo).
if [[ $(id -u) -eq 0 && -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
  sudo -u "$SUDO_USER" -H bash scripts/fetch_models.sh
else
  bash scripts/fetch_models.sh
fi

((deps_only)) && exit 0

echo "==> building (build/)"
cmake --preset release
cmake --build --preset release

if ((demo)); then
  bash scripts/demo.sh
fi
