// `faceswap convert` (alias `swap`): swap the faces of a clip, image or image folder.

#include <spdlog/spdlog.h>

#include <memory>

#include "composite_arguments.h"
#include "precision_argument.h"
#include "faceswap/cli/commands.h"
#include "faceswap/core/error.h"
#include "faceswap/pipeline/convert.h"

namespace faceswap::cli {
namespace {

struct ConvertArguments {
  pipeline::ConvertOptions options;
  std::optional<double> end;
  std::string only;
  std::string detector = "auto";
  CompositeArguments composite;
  PrecisionArgument precision;
};

void RunConvert(ConvertArguments& args, const GlobalOptions& global) {
  pipeline::ConvertOptions& o = args.options;
  o.reader.end_seconds = args.end;
  if (!args.only.empty()) {
    if (args.only.rfind("ref:", 0) != 0 || args.only.size() == 4) {
      throw UsageError("--only expects ref:IMAGE (a photo of the person whose faces to swap), got '" + args.only + "'");
    }
    o.only_reference = args.only.substr(4);
  }
  o.detector.kind = face::ParseDetectorKind(args.detector);
  o.composite = args.composite.Options();
  o.device = model::ParseDeviceKind(global.device);
  o.precision = args.precision.Resolve(o.device);
  o.threads = global.threads;
  const pipeline::ConvertStats stats = pipeline::Convert(o);
  spdlog::info("{}: {} frames, {} with faces, {} faces swapped in {:.1f} s ({:.1f} frames/s){}", o.output.string(),
               stats.frames, stats.frames_with_faces, stats.faces_swapped, stats.seconds,
               stats.frames / std::max(1e-9, stats.seconds), stats.input_broken ? "; the input was truncated" : "");
  spdlog::info("swapped {}; {} face{} of other people left untouched ({} track{}){}", stats.filter, stats.faces_left,
               stats.faces_left == 1 ? "" : "s", stats.tracks_left, stats.tracks_left == 1 ? "" : "s",
               stats.faces_left > 0 ? " (--swap-all swaps them too)" : "");
  spdlog::debug("stage busy seconds: decode {:.1f}, track {:.1f}, model {:.1f}, blend {:.1f}, encode {:.1f}",
                stats.decode_seconds, stats.track_seconds, stats.model_seconds, stats.blend_seconds,
                stats.encode_seconds);
}

}  // namespace

Command AddConvertCommand(CLI::App& app, const GlobalOptions& global) {
  auto args = std::make_shared<ConvertArguments>();
  pipeline::ConvertOptions& o = args->options;
  CLI::App* sub = app.add_subcommand("convert", "Swap the faces of a clip, image or image folder with a trained model (alias: swap)");
  sub->alias("swap");
  sub->footer(
      "The output keeps the input's frame count, timing and audio; frames without a face pass\n"
      "through unchanged. It is written under a temporary name and renamed when complete, and\n"
      "its metadata marks it as synthetic. Only the faces of the model's source identity are\n"
      "swapped (recognised with dlib's face-recognition network); other people stay as they\n"
      "are. Without --to, the faces are drawn as the identity that is NOT the one they are\n"
      "(for a two-identity model).");
  sub->add_option("input", o.input, "Video, image or folder of images")->required()->check(CLI::ExistingPath);
  sub->add_option("-o,--output", o.output, "Output video (.mp4, .mkv, ...), image file, or folder for image frames")
      ->required();
  sub->add_option("-m,--model", o.model_dir, "Trained model folder")->required();
  sub->add_option("--to", o.to, "Identity to draw the faces as (default: the other one)");
  sub->add_option("--start", o.reader.start_seconds, "Start at this time in seconds");
  sub->add_option("--end", args->end, "Stop at this time in seconds");
  sub->add_flag("--swap-all", o.swap_all, "Swap every face, not only those of the model's source identity");
  sub->add_option("--only", args->only, "ref:IMAGE: swap only the faces of the person in this photo");
  sub->add_option("--detector", args->detector, "Face detector: hog, cnn or auto (HOG, and the CNN where HOG finds nothing)")
      ->check(CLI::IsMember({"hog", "cnn", "auto"}))
      ->capture_default_str();
  sub->add_option("--redetect-every", o.tracker.redetect_every, "Run the full face detector every N frames")
      ->capture_default_str();
  sub->add_option("--landmarks", o.detector.landmark_model, "68-point landmark model");
  args->composite.AddTo(sub);
  sub->add_option("--preview", o.preview, "Also write N before|after PNGs to OUTPUT-preview/")->capture_default_str();
  sub->add_option("--batch", o.batch_size, "Faces per network call")->capture_default_str();
  args->precision.AddTo(sub);
  sub->add_option("--codec", o.writer.codec, "Video encoder (libx264, libx265, libvpx-vp9, h264_nvenc, ...)")
      ->capture_default_str();
  sub->add_option("--crf", o.writer.crf, "Encoder quality (lower is better)")->capture_default_str();
  sub->add_option("--preset", o.writer.preset, "Encoder speed preset")->capture_default_str();
  sub->add_option("--synthetic-tag", o.writer.synthetic_tag, "Metadata comment marking the output as synthetic")
      ->capture_default_str();
  return {sub, [args, &global] { RunConvert(*args, global); }};
}

}  // namespace faceswap::cli
