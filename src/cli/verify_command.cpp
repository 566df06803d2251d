// `faceswap verify FILE...`: does each video or image carry faceswap's invisible watermark?
// Reads a sample of frames spread over each file, detects the mark in each, and lets the
// sampled frames vote. Exit 0 when every file is marked, 10 when one is not (README).

#include <spdlog/spdlog.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "faceswap/cli/commands.h"
#include "faceswap/core/error.h"
#include "faceswap/video/reader.h"
#include "faceswap/watermark/watermark.h"

namespace fs = std::filesystem;

namespace faceswap::cli {
namespace {

// Clips longer than this are sampled by seeking; shorter ones are decoded straight through
// (a seek decodes from the key frame before it, which costs more on short clips).
constexpr int64_t kSeekAbove = 1000;

struct VerifyArguments {
  std::vector<fs::path> inputs;
  int frames = 30;  // sampled frames per file; 0: every frame
};

struct FileVerdict {
  int sampled = 0;
  int decoded = 0;  // sampled frames in which the mark decodes on its own
  std::optional<watermark::Payload> payload;
  watermark::Detection vote;
  double best_confidence = 0;  // of the single frames
  int mirrored = 0;            // sampled frames in which it decodes from the mirror image
  bool marked() const { return payload.has_value(); }
  // The file is a mirror image of a marked one: so says the vote, or most decoded frames.
  bool is_mirrored() const { return vote.found ? vote.mirrored : 2 * mirrored > decoded; }
};

class FileVerifier {
 public:
  void Look(const video::Frame& frame) {
    const watermark::Detection d = detector_.Add(frame.bgr);
    spdlog::debug("frame {}: {}{} (confidence {:.2f}, sync {:.1f}, tile x{:.3f})", frame.index,
                  d.found ? d.payload.Describe() : "no mark", d.mirrored ? ", mirrored" : "", d.confidence,
                  d.sync_score, d.relative_tile);
    ++verdict_.sampled;
    verdict_.best_confidence = std::max(verdict_.best_confidence, d.confidence);
    if (d.found) {
      ++verdict_.decoded;
      verdict_.mirrored += d.mirrored ? 1 : 0;
      ++payloads_[d.payload.Describe()].second;
      payloads_[d.payload.Describe()].first = d.payload;
    }
  }

  FileVerdict Finish() {
    verdict_.vote = detector_.Vote();
    if (verdict_.vote.found) {
      verdict_.payload = verdict_.vote.payload;
    } else {
      int most = 0;
      for (const auto& [text, seen] : payloads_) {
        if (seen.second > most) {
          most = seen.second;
          verdict_.payload = seen.first;
        }
      }
    }
    return verdict_;
  }

 private:
  watermark::Detector detector_;
  FileVerdict verdict_;
  std::map<std::string, std::pair<watermark::Payload, int>> payloads_;
};

FileVerdict VerifyFile(const fs::path& file, int frames) {
  FileVerifier verifier;
  video::Frame frame;
  int64_t count = 0;
  double duration = 0;
  {
    video::Reader reader(file);
    count = reader.info().frame_count;
    duration = reader.info().duration_seconds;
    if (frames > 0 && count > kSeekAbove && duration > 0) {
      // One seek per sample, at the middle of each of `frames` equal stretches.
      for (int k = 0; k < frames; ++k) {
        video::ReaderOptions at;
        at.start_seconds = (k + 0.5) * duration / frames;
        video::Reader sample(file, at);
        if (sample.Next(frame)) verifier.Look(frame);
      }
      return verifier.Finish();
    }
    // Straight through, looking at every stride-th frame (every frame with --frames 0).
    const int64_t stride = frames > 0 && count > frames ? count / frames : 1;
    while (reader.Next(frame)) {
      if ((frame.index - stride / 2) % stride == 0 && frame.index >= stride / 2) verifier.Look(frame);
      if (frames > 0 && frame.index >= stride / 2 + stride * (frames - 1)) break;
    }
    if (reader.broken()) spdlog::warn("{}", reader.break_message());
  }
  return verifier.Finish();
}

void Print(const fs::path& file, const FileVerdict& v) {
  const double share = v.sampled > 0 ? 100.0 * v.decoded / v.sampled : 0.0;
  if (v.marked()) {
    const double confidence = v.vote.found ? v.vote.confidence : v.best_confidence;
    std::printf("%s: marked: %s%s; the mark decodes in %d of %d sampled frames (%.0f%%), confidence %.2f\n",
                file.string().c_str(), v.payload->Describe().c_str(), v.is_mirrored() ? " (in a mirror image)" : "",
                v.decoded, v.sampled, share, confidence);
  } else {
    std::printf("%s: no faceswap watermark found in %d sampled frames (best confidence %.2f)\n",
                file.string().c_str(), v.sampled, std::max(v.best_confidence, v.vote.confidence));
  }
  std::fflush(stdout);
}

void RunVerify(const VerifyArguments& args) {
  if (args.frames < 0) throw UsageError("--frames must be >= 0 (0: every frame)");
  int unreadable = 0, unmarked = 0;
  for (const fs::path& file : args.inputs) {
    try {
      const FileVerdict verdict = VerifyFile(file, args.frames);
      if (verdict.sampled == 0) throw InputError(file, "no frames could be decoded");
      Print(file, verdict);
      unmarked += !verdict.marked();
    } catch (const InputError& e) {
      spdlog::error("{}", e.what());
      ++unreadable;
    }
  }
  const int total = static_cast<int>(args.inputs.size());
  if (unreadable > 0) {
    throw InputError(std::to_string(unreadable) + " of " + std::to_string(total) + " files could not be read");
  }
  if (unmarked > 0) {
    throw Error(ExitCode::kNotMarked,
                std::to_string(unmarked) + " of " + std::to_string(total) + " files carry no faceswap watermark");
  }
}

}  // namespace

Command AddVerifyCommand(CLI::App& app, const GlobalOptions& global) {
  auto args = std::make_shared<VerifyArguments>();
  CLI::App* sub = app.add_subcommand("verify", "Tell whether videos or images carry faceswap's invisible watermark");
  sub->footer(
      "Every frame convert swaps carries an invisible watermark that survives re-encoding,\n"
      "resizing, cropping and the loss of all metadata. verify reads frames spread over each\n"
      "file, detects the mark in each, and prints per file: marked or not, the share of\n"
      "sampled frames in which the mark decodes, the payload (faceswap version, date, model)\n"
      "and a confidence. Exit code 0: every file is marked; 10: a file carries no mark;\n"
      "3: a file cannot be read.");
  sub->add_option("files", args->inputs, "Videos or images to check")->required();
  sub->add_option("--frames", args->frames, "Frames sampled per video (0: every frame)")->capture_default_str();
  (void)global;
  return {sub, [args] { RunVerify(*args); }};
}

}  // namespace faceswap::cli
