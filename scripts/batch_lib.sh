# Shared by batch_convert.sh and batch_extract.sh: parse the common options, find the
# binary, list clips, take this machine's share of them, run jobs in parallel with a log
# each, print a summary. Sourced, not run.

# parse_batch_options SCRIPT ARGS...: the options before the positional arguments.
# Sets JOBS, SHARD ("I/N" or empty), DRY_RUN (0/1) and POSITIONAL (the rest, `--` and
# what follows it included). Calls the script's usage() for -h; exits 2 on a bad option.
parse_batch_options() {
  local script=$1
  shift
  JOBS=1 SHARD="" DRY_RUN=0 POSITIONAL=()
  while (($#)); do
    case $1 in
      -h|--help) usage; exit 0 ;;
      -j) (($# >= 2)) || { echo "$script: -j needs a number" >&2; exit 2; }; JOBS=$2; shift 2 ;;
      -j*) JOBS=${1#-j}; shift ;;
      --shard) (($# >= 2)) || { echo "$script: --shard needs I/N" >&2; exit 2; }; SHARD=$2; shift 2 ;;
      --shard=*) SHARD=${1#--shard=}; shift ;;
      -n|--dry-run) DRY_RUN=1; shift ;;
      --) POSITIONAL+=("$@"); break ;;
      -*) echo "$script: unknown option '$1'" >&2; usage >&2; exit 2 ;;
      *) POSITIONAL+=("$@"); break ;;
    esac
  done
  [[ $JOBS =~ ^[1-9][0-9]*$ ]] || { echo "$script: -j needs a positive number" >&2; exit 2; }
}

# resolve_shard SCRIPT: sets SHARD_INDEX (1-based) and SHARD_COUNT from --shard I/N, else
# from a Slurm array job (SLURM_ARRAY_TASK_ID, _COUNT, _MIN, _STEP), else 1 and 1.
resolve_shard() {
  local script=$1
  SHARD_INDEX=1 SHARD_COUNT=1
  if [[ -n $SHARD ]]; then
    [[ $SHARD =~ ^([0-9]+)/([0-9]+)$ ]] || { echo "$script: --shard expects I/N (e.g. 2/4), got '$SHARD'" >&2; exit 2; }
    SHARD_INDEX=$((10#${BASH_REMATCH[1]})) SHARD_COUNT=$((10#${BASH_REMATCH[2]}))
  elif [[ -n ${SLURM_ARRAY_TASK_ID:-} && -n ${SLURM_ARRAY_TASK_COUNT:-} ]]; then
    local id=${SLURM_ARRAY_TASK_ID} min=${SLURM_ARRAY_TASK_MIN:-0} step=${SLURM_ARRAY_TASK_STEP:-1}
    [[ $id$min$step${SLURM_ARRAY_TASK_COUNT} =~ ^[0-9]+$ ]] ||
      { echo "$script: SLURM_ARRAY_TASK_* are not numbers" >&2; exit 2; }
    SHARD_INDEX=$(((id - min) / step + 1)) SHARD_COUNT=$SLURM_ARRAY_TASK_COUNT
  fi
  if ((SHARD_COUNT < 1 || SHARD_INDEX < 1 || SHARD_INDEX > SHARD_COUNT)); then
    echo "$script: shard $SHARD_INDEX/$SHARD_COUNT does not exist (shards are numbered 1..N)" >&2
    exit 2
  fi
}

# take_shard NAME...: prints (one per line) the names of this shard: the I-th, (I+N)-th, ...
# of the sorted list. Every machine that lists the same folder gets a disjoint share, and
# together they cover it.
take_shard() {
  local i=0 name
  for name in "$@"; do
    ((i % SHARD_COUNT == SHARD_INDEX - 1)) && printf '%s\n' "$name"
    i=$((i + 1))
  done
  return 0
}

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

# Video files directly inside a folder, sorted (byte order, whatever the locale: every
# machine of a sharded batch must see the same order), NUL-separated.
list_videos() {
  find "$1" -maxdepth 1 -type f \( -iname '*.mp4' -o -iname '*.mov' -o -iname '*.mkv' -o -iname '*.avi' \
    -o -iname '*.webm' -o -iname '*.m4v' \) -print0 | LC_ALL=C sort -z
}

# select_videos SCRIPT IN_DIR: this shard's videos of IN_DIR. Sets NAMES (file names, in
# order), CLIP[name] (the path) and ALL_VIDEOS (how many the folder has). Exits 2 when
# the folder has none.
declare -A CLIP
select_videos() {
  local script=$1 in_dir=$2 clip name all=()
  while IFS= read -r -d '' clip; do
    name=$(basename "$clip")
    all+=("$name")
    CLIP[$name]=$clip
  done < <(list_videos "$in_dir")
  ((${#all[@]})) || { echo "$script: no videos in $in_dir" >&2; exit 2; }
  ALL_VIDEOS=${#all[@]}
  mapfile -t NAMES < <(take_shard "${all[@]}")
  ((SHARD_COUNT == 1)) || echo "shard $SHARD_INDEX/$SHARD_COUNT: ${#NAMES[@]} of $ALL_VIDEOS videos"
}

# run_batch: the jobs in CMD[...] for NAMES whose STATUS is not "skipped" (all but listed
# with -n), then the summary; returns 1 when any job failed.
run_batch() {
  local name todo=()
  for name in "${NAMES[@]}"; do [[ ${STATUS[$name]:-} == skipped ]] || todo+=("$name"); done
  if ((DRY_RUN)); then
    for name in "${todo[@]}"; do echo "would run  $name: ${CMD[$name]}"; done
    return 0
  fi
  ((${#todo[@]} == 0)) || run_jobs "$JOBS" "${todo[@]}"
  summary "${NAMES[@]}"
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
  ((SHARD_COUNT == 1)) || echo "  shard $SHARD_INDEX/$SHARD_COUNT: $# of $ALL_VIDEOS videos"
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
