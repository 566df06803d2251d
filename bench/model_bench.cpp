#include "model_bench.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "faceswap/face/align.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/model/checkpoint.h"
#include "faceswap/model/preset.h"
#include "faceswap/model/swapper.h"

namespace fs = std::filesystem;

namespace faceswap::bench {
namespace {

constexpr int kTargetIdentity = 1;

// One preset's untrained model folder, loaded both through the Swapper and as a bare network.
struct PresetModel {
  std::unique_ptr<model::Swapper> swapper;
  model::FaceAutoencoder net{nullptr};
  cv::Mat crop;  // the sample face aligned at the model's resolution, as convert crops it
};

// A fresh model folder as `train` would start it: random weights, final resolution
// (stage_iterations 0 puts progressive presets at their last stage).
fs::path MakeModelFolder(const std::string& preset_name, const fs::path& work_dir) {
  const model::Preset& preset = model::GetPreset(preset_name);
  model::ModelInfo info;
  info.preset = preset.name;
  info.resolution = preset.resolution;
  info.identities = {"a", "b"};
  info.alignment_template = face::AlignmentsFile{}.template_name;
  info.coverage = face::AlignOptions{}.coverage;
  const fs::path dir = work_dir / preset.name;
  torch::manual_seed(0);
  model::FaceAutoencoder net = model::CreateNetwork(info);
  model::SaveCheckpoint(dir, net, nullptr, info, 0);
  return dir;
}

PresetModel& ModelFor(const std::string& preset, const cv::Mat& frame, const face::Landmarks& points,
                      const fs::path& work_dir) {
  static std::map<std::string, PresetModel> models;
  auto found = models.find(preset);
  if (found != models.end()) return found->second;
  const fs::path dir = MakeModelFolder(preset, work_dir);
  PresetModel m;
  m.swapper = std::make_unique<model::Swapper>(dir, model::DeviceKind::kCpu);
  model::ModelInfo info = model::LoadModelInfo(dir);
  m.net = model::CreateNetwork(info);
  model::LoadCheckpoint(dir, m.net, nullptr, info);
  m.net->eval();
  face::AlignOptions align;
  align.size = m.swapper->resolution();
  align.coverage = info.coverage;
  m.crop = face::Align(frame, points, align).crop;
  return models.emplace(preset, std::move(m)).first->second;
}

// --detail exemplars: the lite model's Swap of a 16-face batch drawn at 256 px with detail
// from 400 exemplars (the most convert keeps), next to the same Swap drawn at 64 px. The
// exemplars are the sample face turned by a few degrees each: the search's cost does not
// depend on what the faces show.
void RegisterExemplarBenchmark(const cv::Mat& frame, const face::Landmarks& points, const fs::path& work_dir,
                               ReferenceTable& table) {
  constexpr int kBatch = 16, kExemplars = 400;
  const std::string name = "Swap/lite+exemplars/batch16", reference = "Swap/lite/batch16";
  benchmark::RegisterBenchmark(name.c_str(), [&frame, &points, work_dir, swapper = std::shared_ptr<model::Swapper>(),
                                              crop = cv::Mat()](benchmark::State& state) mutable {
    if (!swapper) {
      const fs::path dir = work_dir / "lite";
      if (!fs::exists(dir / "model.json")) MakeModelFolder("lite", work_dir);
      swapper = std::make_shared<model::Swapper>(dir, model::DeviceKind::kCpu);
      const face::AlignedFace aligned = face::Align(frame, points, face::AlignOptions{});
      std::vector<cv::Mat> exemplars;
      const cv::Point2f centre(aligned.crop.cols / 2.0f, aligned.crop.rows / 2.0f);
      for (int i = 0; i < kExemplars; ++i) {
        cv::Mat turned;
        cv::warpAffine(aligned.crop, turned, cv::getRotationMatrix2D(centre, (i % 21 - 10) * 0.5, 1.0),
                       aligned.crop.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
        exemplars.push_back(turned);
      }
      swapper->SetExemplars(kTargetIdentity, [exemplars] { return exemplars; }, aligned.crop.cols);
      crop = aligned.crop;
      swapper->Swap(std::vector<cv::Mat>(kBatch, crop), kTargetIdentity, kBatch);  // warm-up
    }
    const std::vector<cv::Mat> crops(kBatch, crop);
    for (auto _ : state) benchmark::DoNotOptimize(swapper->Swap(crops, kTargetIdentity, kBatch));
    state.SetItemsProcessed(state.iterations() * kBatch);
  })->UseRealTime()->Unit(benchmark::kMillisecond);
  table.Pair(name, reference);
}

}  // namespace

void RegisterModelBenchmarks(const cv::Mat& frame, const face::Landmarks& points, const fs::path& work_dir,
                             ReferenceTable& table) {
  for (const model::Preset& preset : model::AllPresets()) {
    for (const int batch : {1, 16}) {
      const std::string suffix = preset.name + "/batch" + std::to_string(batch);
      const std::string name = "Swap/" + suffix;
      const std::string reference = "Reference/torch_forward/" + suffix;
      const std::string preset_name = preset.name;
      // Both make their model on first use and run one untimed warm-up pass (allocator).
      benchmark::RegisterBenchmark(name.c_str(), [&frame, &points, work_dir, preset_name, batch,
                                                  warmed = false](benchmark::State& state) mutable {
        PresetModel& m = ModelFor(preset_name, frame, points, work_dir);
        const std::vector<cv::Mat> crops(static_cast<size_t>(batch), m.crop);
        if (!warmed) m.swapper->Swap(crops, kTargetIdentity, batch);
        warmed = true;
        for (auto _ : state) benchmark::DoNotOptimize(m.swapper->Swap(crops, kTargetIdentity, batch));
        state.SetItemsProcessed(state.iterations() * batch);
      })->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(reference.c_str(), [&frame, &points, work_dir, preset_name, batch,
                                                       warmed = false](benchmark::State& state) mutable {
        PresetModel& m = ModelFor(preset_name, frame, points, work_dir);
        torch::NoGradGuard no_grad;
        const int side = m.swapper->resolution();
        const torch::Tensor input = torch::rand({batch, 3, side, side});
        if (!warmed) m.net->Forward(input, kTargetIdentity);
        warmed = true;
        for (auto _ : state) benchmark::DoNotOptimize(m.net->Forward(input, kTargetIdentity).rgb.data_ptr());
        state.SetItemsProcessed(state.iterations() * batch);
      })->UseRealTime()->Unit(benchmark::kMillisecond);
      table.Pair(name, reference);
    }
  }
  RegisterExemplarBenchmark(frame, points, work_dir, table);
}

}  // namespace faceswap::bench
