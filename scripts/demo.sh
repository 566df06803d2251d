#!/usr/bin/env bash
# The main job of the quick start, on the shared sample clips when they are present.
# Usage: scripts/demo.sh [WORK_DIR]   (default: demo/ in the repository, git-ignored)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/src/cli/faceswap
work=${1:-demo}
samples=${FACESWAP_SAMPLES:-../shared/data}

[[ -x $bin ]] || { echo "demo.sh: $bin not built; run scripts/setup.sh first" >&2; exit 1; }

echo "==> faceswap info"
"$bin" info

if [[ ! -d $samples/clips ]]; then
  echo "demo.sh: sample clips not found in $samples (set FACESWAP_SAMPLES); stopping after info"
  exit 0
fi
mkdir -p "$work"
echo "==> the extract/train/convert pipeline on $samples/clips is not built yet (see README: Status)"
