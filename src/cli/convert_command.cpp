// `faceswap convert` (alias `swap`): swap the faces of a clip, image or image folder.

#include <spdlog/spdlog.h>

#include <cctype>
#include <filesystem>
#include <memory>
#include <string>

#include "composite_arguments.h"
#include "face_choice_arguments.h"
#include "precision_argument.h"
#include "faceswap/cli/commands.h"
#include "faceswap/core/error.h"
#include "faceswap/pipeline/convert.h"

namespace faceswap::cli {
namespace {

struct ConvertArguments {
  pipeline::ConvertOptions options;
  std::optional<double> end;
  FaceChoiceArguments faces;
  CompositeArguments composite;
  PrecisionArgument precision;
  bool no_watermark = false;
  bool unmarked_acknowledged = false;
};

// The flag that must accompany --no-watermark.
constexpr const char* kUnmarkedAcknowledgement = "--i-understand-unmarked-output";

// Only containers carry the comment tag that, without the watermark, is the one sign left.
bool OutputHasCommentTag(const std::filesystem::path& output) {
  std::string ext = output.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* image : {"", ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}) {
    if (ext == image) return false;
  }
  return !std::filesystem::is_directory(output);
}

// --no-watermark: refused unless acknowledged, and only where the comment tag can say it.
void TurnWatermarkOff(const ConvertArguments& args, pipeline::ConvertOptions& o) {
  if (!args.unmarked_acknowledged) {
    throw UsageError(std::string("--no-watermark leaves nothing in the pictures that tells they are a face swap; "
                                 "add ") + kUnmarkedAcknowledgement + " to confirm (README: Responsible use)");
  }
  if (!OutputHasCommentTag(o.output)) {
    throw UsageError(o.output.string() + ": --no-watermark needs a video output, whose comment tag then says it is "
                     "synthetic; image outputs have no such tag");
  }
  if (o.writer.synthetic_tag.empty()) {
    throw UsageError("--no-watermark with --synthetic-tag \"\" would leave no sign at all that the output is synthetic");
  }
  o.watermark.enabled = false;
  o.writer.synthetic_tag += " (not watermarked: converted with --no-watermark)";
  spdlog::warn("{}: --no-watermark: the frames carry no invisible watermark; only the comment tag, which any "
               "re-encode can drop, says the video is synthetic", o.output.string());
}

void RunConvert(ConvertArguments& args, const GlobalOptions& global) {
  pipeline::ConvertOptions& o = args.options;
  o.reader.end_seconds = args.end;
  args.faces.Apply(o);
  o.composite = args.composite.Options();
  o.detail = pipeline::ParseDetailMode(args.composite.detail);
  if (args.no_watermark) TurnWatermarkOff(args, o);
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
  if (o.watermark.enabled) {
    spdlog::info("the {} frames with a swapped face carry the invisible watermark (check with: faceswap verify {})",
                 stats.frames_with_faces, o.output.string());
  }
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
      "its metadata marks it as synthetic; every frame with a swapped face carries an invisible\n"
      "watermark (faceswap verify reads it). Only the faces of the model's source identity are\n"
      "swapped (recognised with dlib's face-recognition network); other people stay as they\n"
      "are. Without --to, the faces are drawn as the identity that is NOT the one they are\n"
      "(for a two-identity model).");
  sub->add_option("input", o.input, "Video, image or folder of images")->required()->check(CLI::ExistingPath);
  sub->add_option("-o,--output", o.output, "Output video (.mp4, .mkv, ...), image file, or folder for image frames")
      ->required();
  sub->add_option("-m,--model", o.model_dir, "Trained model folder")->required();
  sub->add_option("--start", o.reader.start_seconds, "Start at this time in seconds");
  sub->add_option("--end", args->end, "Stop at this time in seconds");
  args->faces.AddTo(sub, o);
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
  sub->add_option("--watermark-strength", o.watermark.strength,
                  "Invisible watermark amplitude in grey levels (RMS; less near black and white)")
      ->capture_default_str();
  sub->add_flag("--no-watermark", args->no_watermark,
                std::string("Leave the frames unmarked (only with ") + kUnmarkedAcknowledgement + "; video outputs only)");
  sub->add_flag(kUnmarkedAcknowledgement, args->unmarked_acknowledged,
                "Confirm --no-watermark: the output will carry no mark in its pictures");
  return {sub, [args, &global] { RunConvert(*args, global); }};
}

}  // namespace faceswap::cli
