#!/usr/bin/python3
"""End-to-end latency of a live video path, measured from outside: a sender stamps a frame
counter into each picture as a small barcode and streams the clip in real time; a receiver
reads the counters back from what comes out; a report joins the two. For
scripts/bench_live.sh (faceswap live between the two, or nothing: the transport alone).

  bench/live_latency.py send --clip FILE --size WxH --url URL --csv SENT.csv
      [--seconds N] [--fps F] [--crf 20] [--gop FRAMES] [--cell PX] [--tail FRAMES] [--log FILE]
  bench/live_latency.py receive --url URL --csv RECEIVED.csv
      [--idle S] [--start-timeout S] [--cell PX] [--input-options "FFMPEG OPTIONS"] [--log FILE]
  bench/live_latency.py report SENT.csv RECEIVED.csv [--warmup S] [--fields KEY,KEY,...]
  bench/live_latency.py selftest

send: decodes FILE with ffmpeg to WxH (scaled to fit, aspect kept, padded with black), at
its own frame rate (or --fps), looped when --seconds asks for more than it holds; paces the
frames to the wall clock (decoding runs a few frames ahead on a thread), draws the counter,
pipes them into ffmpeg (libx264 ultrafast, zerolatency, crf 20, a key frame every second,
MPEG-TS with PES lengths, flushed per packet) that sends to URL
(udp://127.0.0.1:PORT?pkt_size=1316). SENT.csv: frame,sent (time.time() just before the
frame is written to the encoder). --tail frames without a code follow the last one, to push
out a frame that a decoder holds until the next arrives.
receive: ffmpeg -flags low_delay with a short probe and no H.264 parser (see
RECEIVE_INPUT_OPTIONS) -i URL; only the top-left corner, where the code is, is converted
to bgr24 and piped back; records when each counter value is first seen (frame,received).
Ends when ffmpeg ends, on SIGINT or SIGTERM, after --start-timeout seconds without a first
frame or after --idle seconds without a frame; writes the CSV then.
report: one line of JSON: frames sent, received (distinct counters that were sent), dropped,
input and output frame rates (over the span of the sent / received frames), latency p50,
p95, max, min, mean in ms (received minus sent, per frame; percentiles by nearest rank, as
faceswap's own summary computes them), first_out_s (first frame sent to first frame out).
--warmup leaves out the frames sent in the first S seconds (all but first_out_s). --fields
prints the named values instead, space-separated (- for none).

The code: a grid of CELL x CELL px cells (default 8) one cell in from the top-left corner,
on a black margin of one cell: 8 columns by 4 rows, 80 x 48 px in all at 8 px. Row 0 is a
fixed start pattern, rows 1-2 the 16-bit counter (most significant bit first), row 3 a CRC-8
of the counter xor 0xA5. White is 1. A frame verifies when its start pattern reads back
exactly, black and white differ by 60 grey levels or more, and the CRC matches; the
threshold is halfway between the start pattern's own black and white cells, each cell read
as the mean of its middle half. `selftest` checks it through JPEG at quality 60.

Measured on loopback at 640x360, 30 frames/s (2-core VM, nothing else running): the sender
puts a frame's last datagram out 3-6 ms after its send time; the receiver hands it back
about one frame period (34 ms) after that last datagram; the transport alone comes to
40-50 ms at p50.

Runs with Debian's /usr/bin/python3 (numpy; cv2 only for selftest) and ffmpeg on PATH.
"""
import argparse
import csv
import json
import math
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from fractions import Fraction

import numpy as np

START = (1, 1, 0, 1, 0, 0, 1, 0)
COLUMNS, ROWS = 8, 4
CRC_XOR = 0xA5
MIN_CONTRAST = 60  # grey levels between the start pattern's white and black cells

# The receiver's ffmpeg input options. A short probe (0.1 s) instead of -fflags nobuffer:
# nobuffer throws away the packets read while probing, key frame included, and then
# nothing decodes until the next key frame (a second of frames lost at the start). noparse
# hands each MPEG-TS PES packet (one whole frame from an FFmpeg muxer) to the decoder as it
# is; the H.264 parser would hold every frame until the next one starts (a frame period).
RECEIVE_INPUT_OPTIONS = "-probesize 32768 -analyzeduration 100000 -fflags +noparse+nofillin"


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- barcode

def crc8(data):
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def code_bits(counter):
    counter &= 0xFFFF
    hi, lo = counter >> 8, counter & 0xFF
    check = crc8((hi, lo)) ^ CRC_XOR
    bits = list(START)
    for byte in (hi, lo, check):
        bits += [(byte >> (7 - i)) & 1 for i in range(8)]
    return bits  # ROWS * COLUMNS, row by row


def code_size(cell):
    """Width and height of the corner that the code (with its margin) covers."""
    return (COLUMNS + 2) * cell, (ROWS + 2) * cell


def draw_code(frame, counter, cell):
    """Draws the code into the top-left corner of a H x W x 3 uint8 frame, in place."""
    width, height = code_size(cell)
    frame[:height, :width] = 0
    for k, bit in enumerate(code_bits(counter)):
        if bit:
            y, x = (1 + k // COLUMNS) * cell, (1 + k % COLUMNS) * cell
            frame[y:y + cell, x:x + cell] = 255


def read_code(image, cell):
    """The counter in the top-left corner of a BGR (or grey) image, or None if it does not verify."""
    width, height = code_size(cell)
    if image.shape[0] < height or image.shape[1] < width:
        return None
    grey = image[:height, :width].astype(np.float32)
    if grey.ndim == 3:
        grey = grey.mean(axis=2)
    lo, hi = cell // 4, cell - cell // 4  # the middle of each cell: away from ringing at its edges
    cells = grey[cell:cell * (ROWS + 1), cell:cell * (COLUMNS + 1)].reshape(ROWS, cell, COLUMNS, cell)
    means = cells[:, lo:hi, :, lo:hi].mean(axis=(1, 3)).reshape(-1)
    start = means[:COLUMNS]
    white = np.mean([m for m, b in zip(start, START) if b])
    black = np.mean([m for m, b in zip(start, START) if not b])
    if white - black < MIN_CONTRAST:
        return None
    bits = (means > (white + black) / 2).astype(int).tolist()
    if tuple(bits[:COLUMNS]) != START:
        return None
    data = [int("".join(map(str, bits[(r + 1) * COLUMNS:(r + 2) * COLUMNS])), 2) for r in range(3)]
    hi_byte, lo_byte, check = data
    if crc8((hi_byte, lo_byte)) ^ CRC_XOR != check:
        return None
    return hi_byte << 8 | lo_byte


# ---------------------------------------------------------------- helpers

def parse_size(text):
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: expected WxH, e.g. 640x360")
    if w <= 0 or h <= 0 or w % 2 or h % 2:
        raise argparse.ArgumentTypeError(f"{text}: width and height must be even and above 0")
    return w, h


def clip_frame_rate(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=avg_frame_rate,r_frame_rate", "-of", "default=nw=1", path],
                         check=True, capture_output=True, text=True).stdout
    rates = dict(line.split("=", 1) for line in out.split() if "=" in line)
    for key in ("avg_frame_rate", "r_frame_rate"):
        try:
            rate = Fraction(rates.get(key, "0/0"))
        except (ValueError, ZeroDivisionError):
            continue
        if 0 < rate < 1000:
            return rate
    raise SystemExit(f"live_latency.py: {path}: no frame rate found; give --fps")


def read_exact(stream, buffer):
    """Fills buffer from a raw (unbuffered) stream; False at end of stream before it is full."""
    view = memoryview(buffer)
    got = 0
    while got < len(buffer):
        n = stream.readinto(view[got:])
        if not n:
            return False
        got += n
    return True


def write_all(stream, buffer):
    """Writes all of buffer to a raw (unbuffered) stream, which may take it in parts."""
    view = memoryview(buffer)
    while view:
        view = view[stream.write(view):]


def stop_process(process, grace=3.0):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def open_log(path):
    return open(path, "ab") if path else subprocess.DEVNULL


# ---------------------------------------------------------------- send

def send(args):
    width, height = args.size
    fps = Fraction(args.fps).limit_denominator(1001) if args.fps else clip_frame_rate(args.clip)
    gop = args.gop or max(1, round(fps))
    frame_bytes = width * height * 3
    errors = open_log(args.log)
    fit = (f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
           f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1")
    decode = ["ffmpeg", "-nostdin", "-v", "error"]
    if args.seconds:
        decode += ["-stream_loop", "-1"]
    decode += ["-i", args.clip]
    if args.seconds:
        decode += ["-t", str(args.seconds)]
    decode += ["-an", "-sn", "-dn", "-vf", fit, "-r", str(fps), "-pix_fmt", "bgr24", "-f", "rawvideo", "-"]
    encode = ["ffmpeg", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
              "-s", f"{width}x{height}", "-framerate", str(fps), "-i", "-",
              "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-crf", str(args.crf),
              "-g", str(gop), "-pix_fmt", "yuv420p", "-flush_packets", "1",
              # The PES length lets a demuxer hand a frame on as soon as its last byte is in,
              # instead of at the start of the next one (a frame period later).
              "-omit_video_pes_length", "0", "-f", "mpegts", args.url]
    decoder = subprocess.Popen(decode, stdout=subprocess.PIPE, stderr=errors, bufsize=0)
    encoder = subprocess.Popen(encode, stdin=subprocess.PIPE, stderr=errors, bufsize=0)

    # Decoding runs on its own thread, a few frames ahead, so that its hiccups do not
    # delay a frame's departure.
    frames = queue.Queue(maxsize=8)

    def decode_frames():
        try:
            while True:
                buffer = bytearray(frame_bytes)
                if not read_exact(decoder.stdout, buffer):
                    break
                frames.put(buffer)
        finally:
            frames.put(None)

    threading.Thread(target=decode_frames, daemon=True).start()

    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    sent = []
    late = 0
    period = 1 / float(fps)
    start = None
    problem = None
    try:
        while not stopping:
            buffer = frames.get()
            if buffer is None:
                break
            index = len(sent)
            if index > 0xFFFF:
                problem = "more than 65536 frames: the 16-bit counter would wrap"
                break
            draw_code(np.frombuffer(buffer, np.uint8).reshape(height, width, 3), index, args.cell)
            if start is None:
                start = time.monotonic()
            due = start + index * period
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif wait < -period:
                late += 1
            sent.append((index, time.time()))
            write_all(encoder.stdin, buffer)
            last = buffer
        # A few frames more without a code (its corner blacked out), so that a frame that a
        # decoder holds until the next one arrives is not taken for dropped at the end.
        if sent and not problem:
            blank = np.frombuffer(last, np.uint8).reshape(height, width, 3)
            blank[:code_size(args.cell)[1], :code_size(args.cell)[0]] = 0
            for k in range(1, args.tail + 1):
                if stopping:
                    break
                wait = start + (len(sent) - 1 + k) * period - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                write_all(encoder.stdin, last)
    except BrokenPipeError:
        problem = "the encoder quit (see its log)"
    finally:
        try:
            encoder.stdin.close()
        except BrokenPipeError:
            pass
        stop_process(decoder)
        try:
            encoder_status = encoder.wait(10)
        except subprocess.TimeoutExpired:
            encoder_status = stop_process(encoder)
        with open(args.csv, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(("frame", "sent"))
            out.writerows((i, f"{t:.6f}") for i, t in sent)
    span = sent[-1][1] - sent[0][1] if len(sent) > 1 else 0
    log(f"send: {len(sent)} frames of {width}x{height} at {float(fps):.3f} frames/s in {span:.1f} s "
        f"to {args.url}; {late} frames sent over a frame period late")
    if problem or encoder_status not in (0, None) and not stopping:
        log(f"send: {problem or f'the encoder ended with status {encoder_status}'}")
        return 1
    if not sent:
        log(f"send: no frame decoded from {args.clip}")
        return 1
    return 0


# ---------------------------------------------------------------- receive

def receive(args):
    width, height = code_size(args.cell)
    frame_bytes = width * height * 3
    command = ["ffmpeg", "-nostdin", "-v", "warning"] + args.input_options.split() + [
               "-flags", "low_delay", "-i", args.url, "-an", "-sn", "-dn", "-map", "0:v:0",
               "-vf", f"crop={width}:{height}:0:0", "-fps_mode", "passthrough",
               "-pix_fmt", "bgr24", "-flush_packets", "1", "-f", "rawvideo", "-"]
    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    errors = open_log(args.log)
    decoder = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, bufsize=0)
    fd = decoder.stdout.fileno()
    buffer = bytearray(frame_bytes)
    view = memoryview(buffer)
    got = 0
    first_seen = {}
    frames = unverified = 0
    last_data = started = time.monotonic()
    reason = "ffmpeg ended"
    try:
        while True:
            if stopping:
                reason = "told to stop"
                break
            now = time.monotonic()
            if frames == 0 and now - started > args.start_timeout:
                reason = f"no frame in {args.start_timeout:g} s"
                break
            if frames > 0 and now - last_data > args.idle:
                reason = f"no frame for {args.idle:g} s"
                break
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            n = os.readv(fd, [view[got:]])
            if n == 0:
                break
            got += n
            last_data = time.monotonic()
            if got < frame_bytes:
                continue
            arrived = time.time()
            got = 0
            frames += 1
            counter = read_code(np.frombuffer(buffer, np.uint8).reshape(height, width, 3), args.cell)
            if counter is None:
                unverified += 1
            elif counter not in first_seen:
                first_seen[counter] = arrived
    finally:
        stop_process(decoder)
        with open(args.csv, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(("frame", "received"))
            out.writerows((i, f"{first_seen[i]:.6f}") for i in sorted(first_seen))
    log(f"receive: {frames} frames from {args.url}, {len(first_seen)} distinct counters, "
        f"{unverified} without a readable code; stopped: {reason}")
    return 0


# ---------------------------------------------------------------- report

def read_times(path, column):
    with open(path, newline="") as f:
        return {int(row["frame"]): float(row[column]) for row in csv.DictReader(f)}


def nearest_rank(sorted_values, p):
    return sorted_values[int(math.floor(p * (len(sorted_values) - 1) + 0.5))]


def rate(times):
    if len(times) < 2:
        return None
    span = max(times) - min(times)
    return (len(times) - 1) / span if span > 0 else None


def report(args):
    sent_all = read_times(args.sent, "sent")
    received_all = read_times(args.received, "received")
    first_sent = min(sent_all.values()) if sent_all else None
    matched_all = [i for i in received_all if i in sent_all]
    # Frames sent in the first --warmup seconds are left out of every figure but first_out_s
    # (the stream's start: probing, waiting for the first key frame).
    sent = {i: t for i, t in sent_all.items() if t - first_sent >= args.warmup} if sent_all else {}
    received = {i: t for i, t in received_all.items() if i in sent}
    matched = sorted(received)
    latencies = sorted((received[i] - sent[i]) * 1000 for i in matched)
    arrivals = [received[i] for i in matched]
    result = {
        "sent": len(sent),
        "received": len(matched),
        "dropped": len(sent) - len(matched),
        "unknown": len(received_all) - len(matched_all),  # counters read that were never sent: misreads
        "reordered": sum(1 for a, b in zip(arrivals, arrivals[1:]) if b < a),
        "input_fps": rate(list(sent.values())),
        "output_fps": rate(arrivals),
        "p50_ms": nearest_rank(latencies, 0.50) if latencies else None,
        "p95_ms": nearest_rank(latencies, 0.95) if latencies else None,
        "max_ms": latencies[-1] if latencies else None,
        "min_ms": latencies[0] if latencies else None,
        "mean_ms": sum(latencies) / len(latencies) if latencies else None,
        # From the first frame sent to the first frame that came out (whatever its number).
        "first_out_s": min(received_all[i] for i in matched_all) - first_sent if matched_all else None,
        "warmup_s": args.warmup,
    }
    for key, value in result.items():
        if isinstance(value, float):
            result[key] = round(value, 2 if key.endswith(("fps", "_s")) else 1)
    if args.fields:
        values = []
        for key in args.fields.split(","):
            if key not in result:
                raise SystemExit(f"live_latency.py: no field {key} (there are {', '.join(result)})")
            values.append("-" if result[key] is None else str(result[key]))
        print(" ".join(values))
    else:
        print(json.dumps(result))
    return 0


# ---------------------------------------------------------------- selftest

def selftest(args):
    import cv2
    rng = np.random.default_rng(1)
    failures = 0
    counters = [0, 1, 2, 255, 256, 4660, 32767, 32768, 65534, 65535] + rng.integers(0, 65536, 40).tolist()
    for cell in (8, 10):
        for n, counter in enumerate(counters):
            # A textured background, a quality-60 JPEG round trip, and for some a slight blur.
            frame = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
            frame = cv2.GaussianBlur(frame, (0, 0), 3)
            draw_code(frame, counter, cell)
            ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 60])
            image = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
            if n % 3 == 0:
                image = cv2.GaussianBlur(image, (3, 3), 0.8)
            got = read_code(image, cell)
            if got != counter:
                failures += 1
                log(f"selftest: cell {cell}, counter {counter} read back as {got}")
    # Pictures without a code must not verify.
    false_reads = 0
    trials = 2000
    for _ in range(trials):
        noise = rng.integers(0, 256, (48, 80, 3), dtype=np.uint8)
        if read_code(noise, 8) is not None:
            false_reads += 1
        cells = (rng.integers(0, 2, (6, 10)) * 255).astype(np.uint8)
        blocks = np.repeat(np.repeat(cells, 8, axis=0), 8, axis=1)
        if read_code(np.dstack([blocks] * 3), 8) is not None:
            false_reads += 1  # random black/white cells: the start pattern and CRC should reject ~all
    log(f"selftest: {2 * len(counters) - failures} of {2 * len(counters)} codes read back after JPEG q60; "
        f"{false_reads} of {2 * trials} pictures without a code verified")
    return 1 if failures or false_reads > 2 else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    roles = parser.add_subparsers(dest="role", required=True)

    p = roles.add_parser("send", help="stream a clip in real time with a frame counter drawn in")
    p.add_argument("--clip", required=True, help="video file to send")
    p.add_argument("--size", required=True, type=parse_size, help="picture size, WxH (scaled to fit, padded)")
    p.add_argument("--url", required=True, help="ffmpeg output URL, e.g. udp://127.0.0.1:5000?pkt_size=1316")
    p.add_argument("--csv", required=True, help="where to write frame,sent")
    p.add_argument("--seconds", type=float, default=0, help="send this long (the clip loops); default: the clip once")
    p.add_argument("--fps", type=float, default=0, help="frame rate (default: the clip's)")
    p.add_argument("--crf", type=int, default=20)
    p.add_argument("--gop", type=int, default=0, help="key frame interval in frames (default: one second)")
    p.add_argument("--cell", type=int, default=8, help="barcode cell size in px")
    p.add_argument("--tail", type=int, default=5,
                   help="frames sent after the last counted one, without a code (default 5)")
    p.add_argument("--log", help="append ffmpeg's messages to this file (default: discard)")
    p.set_defaults(run=send)

    p = roles.add_parser("receive", help="read the counters back from a stream")
    p.add_argument("--url", required=True, help="ffmpeg input URL, e.g. udp://127.0.0.1:5001")
    p.add_argument("--csv", required=True, help="where to write frame,received")
    p.add_argument("--idle", type=float, default=5, help="stop after this many seconds without a frame")
    p.add_argument("--start-timeout", type=float, default=120, help="stop if no first frame comes in this many seconds")
    p.add_argument("--cell", type=int, default=8, help="barcode cell size in px")
    p.add_argument("--log", help="append ffmpeg's messages to this file (default: discard)")
    p.add_argument("--input-options", default=RECEIVE_INPUT_OPTIONS,
                   help=f"ffmpeg options before -i (default: %(default)s)")
    p.set_defaults(run=receive)

    p = roles.add_parser("report", help="join the two CSV files: one line of JSON")
    p.add_argument("sent")
    p.add_argument("received")
    p.add_argument("--warmup", type=float, default=0,
                   help="leave out the frames sent in the first this many seconds (default 0)")
    p.add_argument("--fields", help="print these values (comma-separated keys), space-separated, - for none")
    p.set_defaults(run=report)

    p = roles.add_parser("selftest", help="check the barcode against JPEG q60 and against pictures without one")
    p.set_defaults(run=selftest)

    args = parser.parse_args()
    if getattr(args, "cell", 8) < 4:
        parser.error("--cell must be at least 4 px")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
