#!/usr/bin/env bash
# faceswap live measured from outside, on loopback UDP: a sender (bench/live_latency.py)
# streams a shared clip in real time as MPEG-TS (x264 ultrafast, zerolatency) with a frame
# counter drawn into the top-left corner; faceswap live swaps it and streams it on; a
# receiver reads the counters back. Latency is the wall time from the sender's write of a
# frame to the receiver's read of it, so it includes both loopback encodes and decodes; the
# same sender straight into the same receiver (no faceswap) is run first, alone, to show what
# they add by themselves. Prints a Markdown table, with faceswap's own summary line's numbers.
#
# Usage: scripts/bench_live.sh [OPTIONS] [MODEL]   (default: demo/model, made by
#        scripts/demo.sh; when absent, a lite model of each clip's main person is trained for
#        200 steps first, in $BENCH_DIR)
#   --clip NAME    only this shared clip (person_a, person_b; repeatable; default both)
#   --size WxH     picture size sent: the clip scaled to fit, padded (repeatable; default
#                  640x360 and 1280x720)
#   --seconds N    seconds of video sent per run (default 12; the clip loops if shorter)
#   --warmup S     leave the frames sent in the first S seconds out of the latency, fps and
#                  dropped figures (default 2: the stream's start, probing and the wait for a
#                  key frame; "first out" still shows it)
#   --port P       first UDP port used (default 23400; each clip and size takes three more)
# Logs, the CSV files of frame times and each run's JSON report stay in $BENCH_DIR (default
# /tmp/faceswap-bench-live). Needs ffmpeg and Debian's /usr/bin/python3 with numpy.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/src/cli/faceswap
py=/usr/bin/python3
tool=bench/live_latency.py
samples=${FACESWAP_SAMPLES:-../shared/data}
work=${BENCH_DIR:-/tmp/faceswap-bench-live}
clips=()
sizes=()
send_seconds=12
warmup=2
base_port=23400
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --clip) clips+=("$samples/clips/$2.mp4"); shift 2 ;;
    --size) sizes+=("$2"); shift 2 ;;
    --seconds) send_seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --port) base_port=$2; shift 2 ;;
    *) echo "bench_live.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ ${#clips[@]} -gt 0 ]] || clips=("$samples/clips/person_a.mp4" "$samples/clips/person_b.mp4")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(640x360 1280x720)
for size in "${sizes[@]}"; do
  [[ $size =~ ^[0-9]+x[0-9]+$ ]] || { echo "bench_live.sh: --size $size: expected WxH, e.g. 640x360" >&2; exit 2; }
done
for clip in "${clips[@]}"; do
  [[ -f $clip ]] || { echo "bench_live.sh: no clip $clip (set FACESWAP_SAMPLES?)" >&2; exit 2; }
done
model=${1:-demo/model}
[[ -x $bin ]] || { echo "bench_live.sh: no $bin: build first" >&2; exit 2; }
"$bin" live --help >/dev/null 2>&1 || { echo "bench_live.sh: $bin has no live command: rebuild" >&2; exit 2; }
mkdir -p "$work"

# Whatever this script started in the background is stopped on the way out, and a failure
# says where the logs are.
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  if [[ $status -ne 0 ]]; then echo "bench_live.sh: failed; logs are in $work" >&2; fi
}
trap cleanup EXIT
fail() {  # MESSAGE [LOG]
  echo "bench_live.sh: $1" >&2
  if [[ -n ${2:-} && -f $2 ]]; then echo "--- last lines of $2:" >&2; tail -n 15 "$2" >&2; fi
  exit 1
}

"$py" -c 'import numpy' 2>/dev/null ||
  fail "$py has no numpy: install python3-numpy (or run scripts/setup.sh --bench)"
[[ -x $bin ]] || fail "$bin is missing: build first (scripts/setup.sh)"

source scripts/bench_model_lib.sh
model=$(bench_model "$model" "$bin" "$samples" "$work")

udp_tables=(/proc/net/udp)
[[ -r /proc/net/udp6 ]] && udp_tables+=(/proc/net/udp6)
bound() {  # PORT: whether a UDP socket of this machine is bound to it
  awk -v p=":$(printf %04X "$1")" 'substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' "${udp_tables[@]}"
}
wait_bound() {  # PORT PID LOG SECONDS: until process PID listens on PORT
  local deadline=$((SECONDS + $4))
  until bound "$1"; do
    kill -0 "$2" 2>/dev/null || fail "$(basename "$3" .log) ended before it listened on port $1" "$3"
    ((SECONDS < deadline)) || fail "nothing listened on port $1 after $4 s" "$3"
    sleep 0.1
  done
}
wait_exit() {  # PID SECONDS: sets $status to its exit status; SIGTERM after SECONDS, SIGKILL 5 s later
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1" 2>/dev/null || true
    sleep 5
    kill -KILL "$1" 2>/dev/null || true
  fi
  status=0
  wait "$1" || status=$?
  local keep=() pid  # waited for: its pid may be another process's from now on
  for pid in "${pids[@]}"; do [[ $pid == "$1" ]] || keep+=("$pid"); done
  pids=("${keep[@]}")
}
receive() {  # PORT TAG: starts the receiver; its pid in $rx
  "$py" "$tool" receive --url "udp://127.0.0.1:$1?overrun_nonfatal=1" --csv "$work/$2.received.csv" \
    --log "$work/$2.receive-ffmpeg.log" --idle 60 --start-timeout 900 2>"$work/$2.receive.log" &
  rx=$!
  pids+=("$rx")
  wait_bound "$1" "$rx" "$work/$2.receive.log" 30
}
send() {  # PORT TAG CLIP SIZE
  "$py" "$tool" send --clip "$3" --size "$4" --seconds "$send_seconds" --url "udp://127.0.0.1:$1?pkt_size=1316" \
    --csv "$work/$2.sent.csv" --log "$work/$2.send-ffmpeg.log" 2>"$work/$2.send.log" ||
    fail "the sender failed" "$work/$2.send-ffmpeg.log"
}
stop_receiver() {  # TAG: ends the receiver and writes the run's report
  kill -TERM "$rx" 2>/dev/null || true
  wait_exit "$rx" 10
  "$py" "$tool" report "$work/$1.sent.csv" "$work/$1.received.csv" --warmup "$warmup" >"$work/$1.json"
}
ms() { if [[ $1 == - ]]; then echo -; else printf '%.0f' "$1"; fi; }  # a report's value in whole ms
fields() {  # TAG KEY...: the report's values, space-separated (- for none)
  local tag=$1
  shift
  "$py" "$tool" report "$work/$tag.sent.csv" "$work/$tag.received.csv" --warmup "$warmup" --fields "$(IFS=,; echo "$*")"
}

# faceswap live's summary line (pipeline::DescribeLiveStats).
summary_pattern='live: ([0-9]+) frames in, ([0-9]+) out, ([0-9]+) dropped in ([0-9.]+) s \(([0-9.]+) frames/s out\); latency p50 ([0-9]+) ms, p95 ([0-9]+) ms, max ([0-9]+) ms'

echo "| clip | size | input fps | output fps | frames dropped | latency p50 / p95 / max (ms) | transport only: p50 / p95 (ms) | first frame out (s) | faceswap: frames in / out / dropped | faceswap: fps out | faceswap: latency p50 / p95 / max (ms) | faces swapped |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
run=0
for clip in "${clips[@]}"; do
  name=$(basename "$clip" .mp4)
  for size in "${sizes[@]}"; do
    port=$((base_port + 3 * run))
    run=$((run + 1))
    for p in "$port" $((port + 1)) $((port + 2)); do
      if bound "$p"; then fail "UDP port $p is in use: choose others with --port"; fi
    done

    # The transport alone: the sender straight into the receiver.
    ref=${name}_${size}_transport
    receive "$port" "$ref"
    send "$port" "$ref" "$clip" "$size"
    sleep 1
    stop_receiver "$ref"
    read -r ref_received ref_p50 ref_p95 < <(fields "$ref" received p50_ms p95_ms)
    [[ $ref_received != 0 ]] || fail "the receiver read no frame from the sender alone" "$work/$ref.receive-ffmpeg.log"

    # The sender into faceswap live, faceswap live into the receiver.
    tag=${name}_${size}_live
    in_port=$((port + 1))
    out_port=$((port + 2))
    receive "$out_port" "$tag"
    "$bin" live -m "$model" --threads 2 "udp://127.0.0.1:$in_port?overrun_nonfatal=1" \
      "udp://127.0.0.1:$out_port?pkt_size=1316" >"$work/$tag.live.log" 2>&1 &
    live=$!
    pids+=("$live")
    wait_bound "$in_port" "$live" "$work/$tag.live.log" 600  # listens once its model is loaded
    sleep 1
    send "$in_port" "$tag" "$clip" "$size"
    sleep 2  # the last frames through (faceswap drops what waited over --max-latency, 250 ms)
    kill -INT "$live" 2>/dev/null || true
    wait_exit "$live" 30
    live_status=$status
    stop_receiver "$tag"
    [[ $live_status -eq 0 ]] || fail "faceswap live ended with status $live_status (3: its input stalled or broke)" "$work/$tag.live.log"

    summary=$(grep -oE "$summary_pattern" "$work/$tag.live.log" | tail -1) ||
      fail "no summary line from faceswap live" "$work/$tag.live.log"
    read -r fs_in fs_out fs_dropped _ fs_fps fs_p50 fs_p95 fs_max < <(sed -E "s#$summary_pattern#\1 \2 \3 \4 \5 \6 \7 \8#" <<<"$summary")
    faces=$(sed -nE 's/.*swapped .*: ([0-9]+) faces;.*/\1/p' "$work/$tag.live.log" | tail -1)
    if [[ ${faces:-0} -eq 0 ]]; then
      echo "bench_live.sh: faceswap swapped no face of $name at $size with $model: its latency is not a swap's (see $work/$tag.live.log)" >&2
    fi
    read -r sent _ dropped in_fps out_fps p50 p95 max first < <(fields "$tag" sent received dropped input_fps output_fps p50_ms p95_ms max_ms first_out_s)
    echo "| $name | $size | $in_fps | $out_fps | $dropped of $sent | $(ms "$p50") / $(ms "$p95") / $(ms "$max") |" \
         "$(ms "$ref_p50") / $(ms "$ref_p95") | $first | $fs_in / $fs_out / $fs_dropped | $fs_fps |" \
         "$fs_p50 / $fs_p95 / $fs_max | ${faces:--} |"
  done
done
echo
echo "($(nproc) cores, faceswap --threads 2, model $model; $send_seconds s sent per run at the clip's frame rate," \
     "frames of the first $warmup s left out of all but \"first frame out\" and faceswap's own figures (its whole run);" \
     "transport only: the sender straight into the receiver, run alone before each faceswap run; $(date -u +%F))"
