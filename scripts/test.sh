#!/usr/bin/env bash
# Quick start, step 2: the whole test suite (what CI runs through .ci/run).
#
#   bash scripts/test.sh            # deps if missing, build, every test but GPU-only ones
#   bash scripts/test.sh -L unit    # extra arguments go to ctest (here: only 'unit' tests)
#
# Sample media is read from ../shared/data or $FACESWAP_SAMPLES; tests that need it skip
# with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --deps-only
cmake --preset release
cmake --build --preset release
exec ctest --preset release "$@"
