#!/usr/bin/env bash
# Quick start, step 1: install what is missing, build, and run the main job.
#
#   bash scripts/setup.sh              # deps + build + demo (scripts/demo.sh)
#   bash scripts/setup.sh --deps-only  # only the Debian packages
#   bash scripts/setup.sh --no-demo    # deps + build
#
# Idempotent: packages already installed are not touched, the build is incremental.
# Needs root for apt-get; as another user it prints the exact sudo line and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

deps_only=0
demo=1
for arg in "$@"; do
  case "$arg" in
    --deps-only) deps_only=1 ;;
    --no-demo) demo=0 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# Debian 12 packages, one per dependency (README.md lists what each is for).
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libopencv-dev libopencv-contrib-dev
  libdlib-dev libdlib-data
  libtorch-dev libopenblas0-pthread
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libcli11-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  ffmpeg
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  cmd="apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: these Debian packages are missing; install them with:" >&2
    echo "  sudo apt-get update && sudo $cmd" >&2
    echo "then run scripts/setup.sh again." >&2
    exit 1
  fi
  echo "==> installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  $cmd
else
  echo "==> all Debian packages present"
fi

((deps_only)) && exit 0

echo "==> building (build/)"
cmake --preset release
cmake --build --preset release

if ((demo)); then
  bash scripts/demo.sh
fi
