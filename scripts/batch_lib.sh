# Shared by batch_convert.sh and batch_extract.sh: find the binary, list clips, run jobs
# in parallel with a log each, print a summary. Sourced, not run.

# The faceswap binary: $FACESWAP, else the build tree beside this script, else PATH.
find_faceswap() {
  if [[ -n ${FACESWAP:-} ]]; then
    echo "$FACESWAP"
  elif [[ -x "$(dirname "${BASH_SOURCE[0]}")/../build/src/cli/faceswap" ]]; then
    echo "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/src/cli/faceswap"
  elif command -v faceswap >/dev/null; then
    command -v faceswap
  else
    echo "batch: faceswap binary not found (build it with scripts/setup.sh or set FACESWAP)" >&2
    return 1
  fi
}

# Video files directly inside a folder, sorted, NUL-separated.
list_videos() {
  find "$1" -maxdepth 1 -type f \( -iname '*.mp4' -o -iname '*.mov' -o -iname '*.mkv' -o -iname '*.avi' \
    -o -iname '*.webm' -o -iname '*.m4v' \) -print0 | sort -z
}

# run_jobs JOBS NAME... : each NAME has a command in CMD[NAME], a log path in LOG[NAME]
# and an output in OUT[NAME]. Runs up to JOBS at once, fills STATUS[NAME].
declare -A CMD LOG OUT STATUS
run_jobs() {
  local jobs=$1
  shift
  local -A pid_name=()
  local name pid
  for name in "$@"; do
    while (($(jobs -rp | wc -l) >= jobs)); do
      wait -n || true
      reap
    done
    echo "start  $name"
    bash -c "${CMD[$name]}" >"${LOG[$name]}" 2>&1 &
    pid_name[$!]=$name
  done
  while (($(jobs -rp | wc -l) > 0)); do
    wait -n || true
    reap
  done
  reap
}

# Records the exit status of every finished job (pid_name is the caller's local).
reap() {
  local pid
  for pid in "${!pid_name[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      local rc=0
      wait "$pid" || rc=$?
      local name=${pid_name[$pid]}
      unset "pid_name[$pid]"
      if ((rc == 0)); then STATUS[$name]=ok; else STATUS[$name]="failed (exit $rc)"; fi
      echo "${STATUS[$name]%% *}   $name  (log: ${LOG[$name]})"
    fi
  done
}

# Prints the summary; returns 1 when any job failed.
summary() {
  local ok=0 skipped=0 failed=0 name
  echo
  echo "summary:"
  for name in "$@"; do
    case ${STATUS[$name]} in
      ok) ok=$((ok + 1)) ;;
      skipped*) skipped=$((skipped + 1)) ;;
      *) failed=$((failed + 1)); echo "  FAILED  $name: ${STATUS[$name]} (log: ${LOG[$name]})" ;;
    esac
  done
  echo "  $ok done, $skipped skipped (output exists), $failed failed, $# in all"
  ((failed == 0))
}
