// `faceswap extract INPUTS... -o DIR`: fills pipeline::ExtractOptions from the command
// line and runs it; everything else lives in the pipeline and face modules.

#include <spdlog/spdlog.h>

#include <memory>

#include "faceswap/cli/commands.h"
#include "faceswap/core/folder_lock.h"
#include "faceswap/core/log.h"
#include "faceswap/pipeline/extract.h"

namespace faceswap::cli {
namespace {

struct ExtractArgs {
  pipeline::ExtractOptions options;
  std::string face_select = "all";
  std::string detector = "auto";
  bool no_tracking = false;
};

void RunExtract(ExtractArgs& args, const GlobalOptions& global) {
  pipeline::ExtractOptions& o = args.options;
  face::ParseFaceSelection(args.face_select, o.tracker);
  o.detector.kind = face::ParseDetectorKind(args.detector);
  if (args.no_tracking) o.tracking = false;
  o.threads = global.threads;
  o.show_progress = core::CurrentVerbosity() != core::Verbosity::kQuiet;
  // One writer per output folder: a second extract into it stops here (exit 4).
  const core::FolderLock lock(o.output_dir, "faceswap extract", ExitCode::kOutput);
  const pipeline::ExtractStats stats = pipeline::Extract(o);
  spdlog::info("extract: {} faces from {} of {} frames looked at ({} sources done, {} already done) in {:.1f} s, {:.1f} frames/s",
               stats.faces_saved, stats.frames_with_face, stats.frames_processed, stats.sources_done,
               stats.sources_skipped, stats.seconds, stats.FramesPerSecond());
  for (size_t i = 0; i < stats.people.size(); ++i) {
    const face::PersonSummary& p = stats.people[i];
    std::string sources;
    for (const auto& name : p.sources) sources += (sources.empty() ? "" : ", ") + name;
    spdlog::info("person {}: {} face{} in {} track{} ({}){}", p.person + 1, p.faces, p.faces == 1 ? "" : "s", p.tracks,
                 p.tracks == 1 ? "" : "s",
                 sources, i < stats.person_folders.size() ? " -> " + stats.person_folders[i].string() : "");
  }
  if (!stats.person_folders.empty()) {
    spdlog::info("contact sheets: {} and person_N/contact.png; train on a person with --a {}",
                 (o.output_dir / "people.png").string(), stats.person_folders.front().string());
  }
}

}  // namespace

Command AddExtractCommand(CLI::App& app, const GlobalOptions& global) {
  auto args = std::make_shared<ExtractArgs>();
  pipeline::ExtractOptions& o = args->options;
  CLI::App* sub = app.add_subcommand(
      "extract",
      "Find, align and save the faces of clips, images or folders.\n"
      "Writes aligned PNG crops and alignments.json (format in README.md) to the output folder.\n"
      "Running it again skips sources that are already complete there. The faces are grouped\n"
      "into people; --by-identity writes a folder per person to train on.");
  sub->add_option("inputs", o.inputs, "Videos, images or folders of images")->required();
  sub->add_option("-o,--output", o.output_dir, "Folder for face images and alignments.json (created if missing)")->required();
  sub->add_option("--size", o.align.size, "Side of the aligned face images in pixels")
      ->check(CLI::Range(16, 4096))
      ->capture_default_str();
  sub->add_option("--coverage", o.align.coverage,
                  "How much around the face a crop shows: crop side / inner-face side "
                  "(1.0 brows to lips only; 1.5 adds chin, cheeks and forehead)")
      ->check(CLI::Range(0.5, 4.0))
      ->capture_default_str();
  sub->add_option("--every", o.every, "Look at every N-th frame only")->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--min-size", o.detector.min_face_size, "Ignore faces narrower than this many pixels")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--face-select", args->face_select,
                  "Which faces to keep: all, largest (the largest when a track starts), "
                  "or ref:IMAGE (the face most like the one in IMAGE)")
      ->capture_default_str();
  sub->add_option("--redetect-every", o.tracker.redetect_every,
                  "Run the face detector every N frames and track landmarks in between "
                  "(it also runs when tracking fails); 1 detects on every frame")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--detector", args->detector,
                  "Face detector: hog (fast, frontal faces), cnn (finds turned faces, ~10x slower) or auto "
                  "(HOG, and the CNN now and then where HOG finds nothing)")
      ->check(CLI::IsMember({"hog", "cnn", "auto"}))
      ->capture_default_str();
  sub->add_flag("--by-identity", o.by_identity,
                "Group the faces into people (face-recognition network) and write OUTPUT/person_N/ folders, "
                "each a training input with a contact.png, plus OUTPUT/people.png");
  sub->add_flag("--no-tracking", args->no_tracking, "Detect faces on every frame (same as --redetect-every 1)");
  sub->add_flag("--smooth,!--no-smooth", o.tracker.smooth,
                "Smooth the landmarks over time (One-Euro filter): steadier points that trail a moving head "
                "(off by default: the raw fit measured the better swap)");
  sub->add_option("--upsample", o.detector.upsample, "Upsample frames N times before detection to find small faces (slow)")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  sub->add_option("--detect-max-side", o.detector.max_side,
                  "Downscale frames whose longer side exceeds this for detection (0: never)")
      ->capture_default_str();
  sub->add_option("--landmarks", o.detector.landmark_model,
                  "68-point landmark model (default: $FACESWAP_LANDMARK_MODEL or Debian's libdlib-data file)");
  return {sub, [args, &global] { RunExtract(*args, global); }};
}

}  // namespace faceswap::cli
