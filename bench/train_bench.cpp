// Training throughput of the C++ trainer: the whole step, augmentation on the loader
// thread included, as `faceswap train` runs it. scripts/bench_train.sh runs this next to
// bench/train_step.py (the same model and step in PyTorch's Python API).
//
// Usage: train_bench PRESET FACES_A FACES_B SECONDS [THREADS]
// FACES_* are `faceswap extract` output folders. Prints one JSON line.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "faceswap/core/log.h"
#include "faceswap/train/face_cache.h"
#include "faceswap/train/trainer.h"

namespace fs = std::filesystem;
using namespace faceswap;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s PRESET FACES_A FACES_B SECONDS [THREADS]\n", argv[0]);
    return 2;
  }
  core::SetupLogging(core::Verbosity::kQuiet, std::nullopt);
  const std::string preset = argv[1];
  const double seconds = std::atof(argv[4]);
  const int threads = argc > 5 ? std::atoi(argv[5]) : 0;

  train::FaceCacheOptions cache;
  cache.hold_out = false;
  const auto faces = train::LoadTrainingFaces({{"a", {argv[2]}}, {"b", {argv[3]}}}, cache);

  const fs::path dir = fs::temp_directory_path() / ("faceswap-train-bench-" + preset);
  fs::remove_all(dir);
  train::TrainOptions options;
  options.model_dir = dir;
  options.preset = preset;
  options.threads = threads;
  options.device = model::DeviceKind::kCpu;
  options.save_every = 1000000;
  options.preview_every = 0;
  options.alignment_template = faces[0].alignment_template;
  options.coverage = faces[0].coverage;
  // The Python reference runs progressive presets at their final resolution: grow through
  // the stages during the warm-up (one step each) so the timed run is at full size, fully
  // faded in.
  options.stage_iterations = 1;
  // Warm-up run (allocator, first convolutions), then the timed run resumes from it,
  // as the Python reference skips its first two steps.
  options.iterations = 4;
  train::Train(options, faces);
  options.iterations = 0;
  options.time_budget_seconds = seconds;
  const train::TrainReport report = train::Train(options, faces);
  std::printf("{\"preset\": \"%s\", \"steps\": %lld, \"samples_per_second\": %.3f}\n", preset.c_str(),
              static_cast<long long>(report.end_iteration - report.start_iteration), report.samples_per_second);
  fs::remove_all(dir);
  return 0;
}
