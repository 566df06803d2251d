#include "faceswap/pipeline/exemplars.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <system_error>

#include "faceswap/face/alignments_file.h"

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

// At most `count` of them, evenly spread, read at `side` px.
std::vector<cv::Mat> ReadSpread(const std::vector<fs::path>& files, size_t count, int side) {
  std::vector<cv::Mat> crops;
  const size_t n = std::min(count, files.size());
  for (size_t i = 0; i < n; ++i) {
    cv::Mat crop = cv::imread(files[i * files.size() / n].string(), cv::IMREAD_COLOR);
    if (crop.empty()) continue;
    if (crop.cols != side || crop.rows != side) cv::resize(crop, crop, {side, side}, 0, 0, cv::INTER_AREA);
    crops.push_back(std::move(crop));
  }
  return crops;
}

}  // namespace

int64_t UseExemplarDetail(model::Swapper& swapper, const AvoidedFrames& avoid) {
  const model::ModelInfo& info = swapper.info();
  const int side = face::AlignmentsFile{}.crop_size;
  int64_t total = 0;
  for (size_t i = 0; i < info.identities.size(); ++i) {
    std::vector<fs::path> files;
    for (const model::TrainingFaces& t : info.training_faces) {
      if (t.identity != info.identities[i]) continue;
      for (const std::string& folder : t.folders) {
        std::error_code ec;
        if (!fs::exists(fs::path(folder) / face::kAlignmentsFileName, ec)) {
          spdlog::warn("{}: training faces of '{}' not found; its faces get no exemplar detail", folder,
                       info.identities[i]);
          continue;
        }
        ListTrainingCrops(folder, avoid, files);
      }
    }
    const std::vector<cv::Mat> crops = ReadSpread(files, kMaxExemplarCrops, side);
    swapper.SetExemplars(static_cast<int>(i), crops, side);
    spdlog::info("exemplar detail for '{}': {} training crops", info.identities[i], crops.size());
    total += static_cast<int64_t>(crops.size());
  }
  return total;
}

}  // namespace faceswap::pipeline
