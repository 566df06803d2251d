// `faceswap live`: swap the faces of a camera or a stream as it arrives.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "composite_arguments.h"
#include "face_choice_arguments.h"
#include "precision_argument.h"
#include "faceswap/cli/commands.h"
#include "faceswap/core/error.h"
#include "faceswap/pipeline/live.h"

namespace faceswap::cli {
namespace {

struct LiveArguments {
  pipeline::LiveOptions options;
  std::vector<std::string> addresses;  // INPUT OUTPUT...
  double max_latency_ms = 250;
  FaceChoiceArguments faces;
  CompositeArguments composite;
  PrecisionArgument precision;
};

void RunLive(LiveArguments& args, const GlobalOptions& global) {
  pipeline::LiveOptions& o = args.options;
  if (args.addresses.size() < 2) throw UsageError("live needs an INPUT and at least one OUTPUT");
  o.input = args.addresses.front();
  o.outputs.assign(args.addresses.begin() + 1, args.addresses.end());
  o.max_latency_seconds = args.max_latency_ms / 1000.0;
  args.faces.Apply(o);
  o.composite = args.composite.Options();
  o.detail = pipeline::ParseDetailMode(args.composite.detail);
  o.device = model::ParseDeviceKind(global.device);
  o.precision = args.precision.Resolve(o.device);
  o.threads = global.threads;
  const pipeline::LiveStats stats = pipeline::Live(o);
  spdlog::info("{}", pipeline::DescribeLiveStats(stats));
  spdlog::info("swapped {}: {} faces; every frame with a swapped face carries the invisible watermark", stats.filter,
               stats.faces_swapped);
  if (!stats.input_problem.empty()) throw InputError(stats.input_problem);
}

}  // namespace

Command AddLiveCommand(CLI::App& app, const GlobalOptions& global) {
  auto args = std::make_shared<LiveArguments>();
  pipeline::LiveOptions& o = args->options;
  CLI::App* sub = app.add_subcommand("live", "Swap the faces of a camera or a stream in real time");
  sub->footer(
      "INPUT: a camera (/dev/video0), any FFmpeg input URL (udp://, srt://, rtmp://, http://,\n"
      "an X11 screen grab with --format x11grab), or a file (--realtime plays it at its own\n"
      "pace, as a stand-in for a camera). OUTPUT, one or more: a stream URL (udp:// and srt://\n"
      "carry MPEG-TS, rtmp:// FLV), a v4l2loopback virtual camera (/dev/videoN) that video-call\n"
      "programs see, or a file. Frames are never queued without bound: when the machine falls\n"
      "behind, the oldest frames not yet tracked are dropped, and frames that waited longer\n"
      "than --max-latency are dropped before tracking; the status line and the final summary\n"
      "say how many. Ctrl-C (or q in the window) ends cleanly. Every frame with a swapped face\n"
      "carries the invisible watermark.\n"
      "Example: faceswap live -m model udp://127.0.0.1:5000 udp://127.0.0.1:5001?pkt_size=1316");
  sub->add_option("addresses", args->addresses, "INPUT OUTPUT...: where frames come from, then where they go")
      ->required()
      ->expected(2, -1);
  sub->add_option("-m,--model", o.model_dir, "Trained model folder")->required();
  args->faces.AddTo(sub, o);
  sub->add_flag("--realtime", o.realtime, "Play a file input at its own frame rate (as a camera would deliver it)");
  sub->add_option("--format", o.reader.format, "Force the input format or device (v4l2, x11grab, mpegts, ...)");
  sub->add_option("--size", o.reader.video_size, "Picture size to ask of a camera, e.g. 640x360");
  sub->add_option("--fps", o.reader.framerate, "Frame rate to ask of a camera, e.g. 30");
  sub->add_option("--stall", o.reader.stall_seconds, "End when the input sends nothing for this many seconds")
      ->capture_default_str();
  sub->add_option("--max-latency", args->max_latency_ms, "Drop frames that waited longer than this (ms) before tracking")
      ->capture_default_str();
  sub->add_flag("--window", o.window, "Also show the swap in a window with fps, latency and faces (q quits)");
  args->composite.AddTo(sub);
  o.batch_size = 4;  // a batch waits for nobody in live: at most what is queued
  sub->add_option("--batch", o.batch_size, "Faces per network call, at most")->capture_default_str();
  args->precision.AddTo(sub);
  o.writer.preset = "veryfast";
  o.writer.crf = 20;
  sub->add_option("--codec", o.writer.codec, "Video encoder of stream and file outputs")->capture_default_str();
  sub->add_option("--crf", o.writer.crf, "Encoder quality (lower is better)")->capture_default_str();
  sub->add_option("--preset", o.writer.preset, "Encoder speed preset")->capture_default_str();
  sub->add_option("--output-format", o.writer.format, "Force the output container (mpegts, flv, ...)");
  sub->add_option("--watermark-strength", o.watermark.strength,
                  "Invisible watermark amplitude in grey levels (RMS; less near black and white)")
      ->capture_default_str();
  return {sub, [args, &global] { RunLive(*args, global); }};
}

}  // namespace faceswap::cli
