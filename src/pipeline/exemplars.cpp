#include "faceswap/pipeline/exemplars.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <system_error>
#include <thread>

#include "faceswap/core/error.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/pipeline/exemplar_cache.h"

namespace fs = std::filesystem;

namespace faceswap::pipeline {
namespace {

bool NearAvoided(const AvoidedFrames& avoid, const fs::path& source, int64_t frame) {
  const auto it = avoid.find(source);
  if (it == avoid.end()) return false;
  const auto next = it->second.lower_bound(frame - kExemplarFrameMargin);
  return next != it->second.end() && *next <= frame + kExemplarFrameMargin;
}

// The crops of one extract folder that train used (every face but the held-out runs, as
// train counts them: sources, then faces, in file order), less those near `avoid`.
void ListTrainingCrops(const fs::path& folder, const AvoidedFrames& avoid, std::vector<fs::path>& out) {
  const face::AlignmentsFile alignments = face::LoadAlignments(folder / face::kAlignmentsFileName);
  int64_t index = 0;
  for (const face::SourceRecord& source : alignments.sources) {
    for (const face::FaceRecord& record : source.faces) {
      if (face::IsHeldOut(index++) || NearAvoided(avoid, source.path, record.frame)) continue;
      out.push_back(folder / record.file);
    }
  }
}

// At most `count` of them, evenly spread, read at `side` px: from the cache when it has them
// (exemplar_cache.h), else decoded by two threads and then cached. When this runs (the first
// face drawn) the stages behind the network wait for it.
std::vector<cv::Mat> ReadSpread(const std::vector<fs::path>& files, size_t count, int side) {
  const size_t n = std::min(count, files.size());
  std::vector<fs::path> chosen(n);
  for (size_t i = 0; i < n; ++i) chosen[i] = files[i * files.size() / n];
  const ExemplarCropCache cache(ExemplarCacheDir(), chosen, side);
  if (std::optional<std::vector<cv::Mat>> cached = cache.Read()) {
    spdlog::debug("exemplar crops from the cache ({})", cache.file().string());
    return std::move(*cached);
  }
  std::vector<cv::Mat> read(n);
  const auto read_range = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      try {
        cv::Mat crop = cv::imread(chosen[i].string(), cv::IMREAD_COLOR);
        if (!crop.empty() && (crop.cols != side || crop.rows != side)) {
          cv::resize(crop, crop, {side, side}, 0, 0, cv::INTER_AREA);
        }
        read[i] = std::move(crop);
      } catch (const cv::Exception&) {
        // An unreadable crop is left out, like one imread returns empty.
      }
    }
  };
  std::thread helper(read_range, n / 2, n);
  read_range(0, n / 2);
  helper.join();
  std::vector<cv::Mat> crops;
  for (cv::Mat& crop : read) {
    if (!crop.empty()) crops.push_back(std::move(crop));
  }
  cache.Write(crops);
  return crops;
}

}  // namespace

DetailMode ParseDetailMode(const std::string& name) {
  if (name == "auto") return DetailMode::kAuto;
  if (name == "exemplars") return DetailMode::kExemplars;
  if (name == "none") return DetailMode::kNone;
  throw UsageError("unknown --detail '" + name + "' (auto, exemplars or none)");
}

bool UseDetail(model::Swapper& swapper, DetailMode mode, const AvoidedFrames& avoid) {
  if (mode == DetailMode::kNone) return false;
  const int side = face::AlignmentsFile{}.crop_size;
  if (mode == DetailMode::kAuto) {
    const std::string unfit = swapper.ExemplarsUnfit(side);
    if (!unfit.empty()) {
      spdlog::debug("--detail auto: no exemplar detail ({})", unfit);
      return false;
    }
  }
  const model::ModelInfo& info = swapper.info();
  std::vector<std::vector<fs::path>> files(info.identities.size());
  std::vector<std::string> missing;
  for (size_t i = 0; i < info.identities.size(); ++i) {
    for (const model::TrainingFaces& t : info.training_faces) {
      if (t.identity != info.identities[i]) continue;
      for (const std::string& folder : t.folders) {
        std::error_code ec;
        if (fs::exists(fs::path(folder) / face::kAlignmentsFileName, ec)) {
          ListTrainingCrops(folder, avoid, files[i]);
        } else {
          missing.push_back(folder + " ('" + info.identities[i] + "')");
        }
      }
    }
  }
  const bool none_found = std::all_of(files.begin(), files.end(), [](const auto& f) { return f.empty(); });
  for (const std::string& folder : missing) {
    spdlog::warn("{}: training faces not found; {}", folder,
                 none_found && mode == DetailMode::kAuto ? "the faces are drawn without exemplar detail (--detail none)"
                                                         : "that identity's faces get no exemplar detail");
  }
  if (none_found && mode == DetailMode::kAuto) {
    if (missing.empty()) spdlog::info("model.json records no training faces: the faces get no exemplar detail");
    return false;
  }
  for (size_t i = 0; i < files.size(); ++i) {
    const size_t count = std::min(kMaxExemplarCrops, files[i].size());
    const std::string name = info.identities[i];
    swapper.SetExemplars(
        static_cast<int>(i),
        [files = std::move(files[i]), count, side, name] {
          const auto start = std::chrono::steady_clock::now();
          std::vector<cv::Mat> crops = ReadSpread(files, count, side);
          spdlog::debug("exemplar detail for '{}': {} crops read in {:.2f} s", name, crops.size(),
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
          return crops;
        },
        side);
    spdlog::info("exemplar detail for '{}': {} training crops", name, count);
  }
  return true;
}

}  // namespace faceswap::pipeline
