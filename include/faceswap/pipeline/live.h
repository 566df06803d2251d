#pragma once
// pipeline::Live: swaps faces in a camera or a stream as it arrives, into one or more
// live outputs (stream URLs, a v4l2loopback virtual camera, files) and optionally a window.
//
//   source (camera / URL / file paced at its own rate) -> faces -> network -> composite
//        -> every output, and the window
//
// The same stages as convert (src/pipeline/stages/), with a real-time policy: the source
// never waits. When a stage falls behind, the oldest frames not yet tracked are dropped
// (frames already past tracking never are), and a frame older than max_latency_seconds
// when tracking would start is dropped too; the network takes whatever frames are queued
// instead of waiting for a full batch. Every swapped frame carries the invisible watermark.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "faceswap/pipeline/swap_options.h"
#include "faceswap/video/reader.h"
#include "faceswap/video/writer.h"

namespace faceswap::pipeline {

struct LiveOptions : SwapOptions {
  std::string input;                 // /dev/videoN, an FFmpeg input URL, or a file
  std::vector<std::string> outputs;  // stream URLs, /dev/videoN (v4l2loopback) or files
  bool realtime = false;             // a file input is played at its own frame rate
  video::ReaderOptions reader;       // stall time, camera size and rate, input format
  video::WriterOptions writer;       // encoder settings of the outputs
  double max_latency_seconds = 0.25; // drop frames that waited longer than this before tracking
  bool window = false;               // also show the swap in a window, with a status line
  void Check() const;                // UsageError
};

struct LiveStats {
  int64_t frames_in = 0;             // frames the source delivered
  int64_t frames_out = 0;            // frames written to the outputs
  int64_t frames_dropped = 0;        // frames dropped to keep up
  int64_t faces_swapped = 0;
  double seconds = 0;                // from the first frame to the end
  // Each output frame's departure (written to every output) against its arrival (decoded
  // from the source), in milliseconds.
  double latency_p50_ms = 0, latency_p95_ms = 0, latency_max_ms = 0;
  std::string filter;                // how faces were chosen, for the log
  std::string input_problem;         // why the input ended, when it did not end cleanly
};

// Runs until the input ends, Ctrl-C (or q / Esc in the window), or the input goes silent
// for reader.stall_seconds (then LiveStats::input_problem says so).
LiveStats Live(const LiveOptions& options);

// The one summary line `faceswap live` prints at the end (scripts parse it).
std::string DescribeLiveStats(const LiveStats& stats);

}  // namespace faceswap::pipeline
