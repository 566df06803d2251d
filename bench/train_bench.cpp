// Training throughput of the C++ trainer: the whole step, augmentation on the loader
// thread included, as `faceswap train` runs it. scripts/bench_train.sh runs this next to
// bench/train_step.py (the same model and step in PyTorch's Python API).
//
// Usage: train_bench PRESET FACES_A FACES_B SECONDS [THREADS [DEVICE [PRECISION [BATCH]]]]
// FACES_* are `faceswap extract` output folders; DEVICE cpu (default) or cuda, PRECISION
// fp32 (default), bf16 or fp16, BATCH per identity (default: the preset's). scripts/
// bench_gpu.sh runs it on a GPU. Prints one JSON line.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "faceswap/core/file_util.h"
#include "faceswap/core/log.h"
#include "faceswap/model/device.h"
#include "faceswap/model/precision.h"
#include "faceswap/train/face_cache.h"
#include "faceswap/train/trainer.h"

namespace fs = std::filesystem;
using namespace faceswap;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s PRESET FACES_A FACES_B SECONDS [THREADS [DEVICE [PRECISION [BATCH]]]]\n",
                 argv[0]);
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
  std::error_code ignored;
  core::RemoveTree(dir, ignored);
  train::TrainOptions options;
  options.model_dir = dir;
  options.preset = preset;
  options.threads = threads;
  options.device = model::ParseDeviceKind(argc > 6 ? argv[6] : "cpu");
  options.precision = model::ParsePrecision(argc > 7 ? argv[7] : "fp32");
  options.batch_size = argc > 8 ? std::atoi(argv[8]) : 0;
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
  std::fflush(stdout);  // the figure is out even if something fails after it
  core::RemoveTree(dir, ignored);
  return 0;
}
