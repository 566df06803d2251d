// Training and convert on a CUDA GPU (label gpu). Each test skips, saying why, where no GPU
// is usable; scripts/build_on_gpu.sh runs them on a lent GPU machine. The faces are the
// shared clips' (e2e_fixtures.h; $FACESWAP_TEST_FACES on a machine that cannot extract).

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "e2e_fixtures.h"
#include "faceswap/core/error.h"
#include "faceswap/face/model_files.h"
#include "faceswap/model/checkpoint.h"
#include "faceswap/model/device.h"
#include "faceswap/model/model_info.h"
#include "faceswap/model/precision.h"
#include "faceswap/train/face_cache.h"
#include "faceswap/train/trainer.h"
#include "network_files.h"
#include "test_support.h"
#include "train_fixtures.h"

namespace fs = std::filesystem;

namespace faceswap::train {
namespace {

#define FACESWAP_REQUIRE_CUDA()                                                        \
  do {                                                                                 \
    const model::CudaStatus cuda_ = model::QueryCuda();                                \
    if (!cuda_.usable()) GTEST_SKIP() << "no usable CUDA GPU: " << cuda_.Describe(); \
  } while (0)

const std::vector<FaceSet>& RealFaces() {
  static const std::vector<FaceSet> faces = test_fixtures::LoadRealFaces();
  return faces;
}

TrainOptions CudaOptions(const fs::path& dir, const std::string& preset, int batch) {
  TrainOptions o = test_fixtures::LiteOptions(dir, RealFaces(), batch);
  o.preset = preset;
  o.device = model::DeviceKind::kCuda;
  return o;
}

bool FiniteWeights(const fs::path& dir) {
  model::ModelInfo info = model::LoadModelInfo(dir);
  model::FaceAutoencoder net = model::CreateNetwork(info);
  model::LoadCheckpoint(dir, net, nullptr, info);  // onto the CPU: a GPU model converts anywhere
  for (const auto& p : net->parameters()) {
    if (!torch::isfinite(p).all().item<bool>()) return false;
  }
  return true;
}

// Same seed, same faces, same augmentation: the first step's loss on the GPU is the CPU's
// up to the GPU's arithmetic (cuDNN convolutions use TF32 by default: ~1e-3 relative).
TEST(Gpu, FirstStepLossMatchesTheCpu) {
  FACESWAP_REQUIRE_CUDA();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  TrainOptions gpu = CudaOptions(test::MakeTempDir("gpu_first_step"), "lite", 8);
  gpu.iterations = 1;
  TrainOptions cpu = gpu;
  cpu.model_dir = test::MakeTempDir("cpu_first_step");
  cpu.device = model::DeviceKind::kCpu;
  const TrainReport on_gpu = Train(gpu, RealFaces()), on_cpu = Train(cpu, RealFaces());
  ASSERT_EQ(on_gpu.first_loss.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(on_gpu.first_loss[i], on_cpu.first_loss[i], 1e-2 * on_cpu.first_loss[i]) << "identity " << i;
  }
}

// Each precision learns on the GPU: the loss falls over 60 steps, nothing non-finite is
// saved, and the model loads on a CPU. fp16 runs with the loss scaler (StepGuard).
class GpuPrecision : public ::testing::TestWithParam<model::Precision> {};

TEST_P(GpuPrecision, TrainsAndSavesAModelTheCpuLoads) {
  FACESWAP_REQUIRE_CUDA();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = test::MakeTempDir("gpu_" + model::ToString(GetParam()));
  TrainOptions o = CudaOptions(dir, "lite", 16);
  o.precision = GetParam();
  o.iterations = 60;
  o.save_every = 30;
  const TrainReport report = Train(o, RealFaces());
  EXPECT_EQ(report.end_iteration, 60);
  EXPECT_LE(report.skipped_steps, 2);
  for (size_t i = 0; i < report.first_loss.size(); ++i) {
    EXPECT_LT(report.last_loss[i], 0.9 * report.first_loss[i]) << "identity " << i;
  }
  EXPECT_TRUE(FiniteWeights(dir));
}

INSTANTIATE_TEST_SUITE_P(Precisions, GpuPrecision,
                         ::testing::Values(model::Precision::kFp32, model::Precision::kBf16, model::Precision::kFp16),
                         [](const auto& info) { return model::ToString(info.param); });

// A run resumed on the GPU: the checkpoint is read onto the CPU, and the weights, their
// average and Adam's moments must all move to the GPU before the next step.
TEST(Gpu, ResumesWhereItStopped) {
  FACESWAP_REQUIRE_CUDA();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = test::MakeTempDir("gpu_resume");
  TrainOptions o = CudaOptions(dir, "lite", 8);
  o.average_decay = 0.99;
  o.iterations = 10;
  Train(o, RealFaces());
  o.iterations = 20;
  const TrainReport report = Train(o, RealFaces());
  EXPECT_TRUE(report.resumed);
  EXPECT_EQ(report.start_iteration, 10);
  EXPECT_EQ(report.end_iteration, 20);
  EXPECT_TRUE(FiniteWeights(dir));
}

// The progressive preset through all its stages (32, 64, 128 px) with its learned mask.
TEST(Gpu, HdGrowsThroughItsStages) {
  FACESWAP_REQUIRE_CUDA();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = test::MakeTempDir("gpu_hd");
  TrainOptions o = CudaOptions(dir, "hd", 8);
  o.precision = model::Precision::kBf16;
  o.stage_iterations = 10;
  o.iterations = 45;
  const TrainReport report = Train(o, RealFaces());
  EXPECT_EQ(report.end_iteration, 45);
  EXPECT_EQ(report.skipped_steps, 0);
  EXPECT_TRUE(FiniteWeights(dir));
}

// The command line's recipe (the weight average, the identity loss where its network is
// present) on the GPU, with the opt-in occlusion network, whose loss once stopped CUDA.
TEST(Gpu, TheDefaultRecipeTrains) {
  FACESWAP_REQUIRE_CUDA();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = test::MakeTempDir("gpu_default_recipe");
  test::RunFaceswap("-q --device cuda train --a " + test::ExtractedFaces("a").string() + " --b " +
                    test::ExtractedFaces("b").string() + " -m " + dir.string() + " --iterations 30 --preview-every 0 --occluders 0.5");
  EXPECT_EQ(model::LoadModelInfo(dir).iteration, 30);
  EXPECT_TRUE(FiniteWeights(dir));
}

// GPU memory taken by this process in 1 GiB blocks until the GPU has none left, then
// `leave` blocks given back: another process finds only that much. The caching allocator
// would keep freed blocks for this process, so it is off here (each ctest test is a process).
class GpuMemoryHog {
 public:
  explicit GpuMemoryHog(int leave) {
    setenv("PYTORCH_NO_CUDA_MEMORY_CACHING", "1", 1);
    try {
      for (;;) blocks_.push_back(torch::empty({int64_t{1} << 30}, torch::dtype(torch::kUInt8).device(torch::kCUDA)));
    } catch (const c10::Error&) {  // without the cache: "CUDA error: out of memory"
    }
    for (int i = 0; i < leave && !blocks_.empty(); ++i) blocks_.pop_back();
  }
  size_t gib() const { return blocks_.size(); }

 private:
  std::vector<torch::Tensor> blocks_;
};

// Out of GPU memory: one clear line that names the batch and suggests a smaller one, the
// device's exit code, and the model folder's last save untouched.
TEST(Gpu, OutOfMemorySuggestsASmallerBatchAndKeepsTheModel) {
  FACESWAP_REQUIRE_CUDA();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = test::MakeTempDir("gpu_oom");
  const std::string faces =
      " --a " + test::ExtractedFaces("a").string() + " --b " + test::ExtractedFaces("b").string();
  const std::string train = "-q train" + faces + " -m " + dir.string() +
                            " --preset original --device cuda --precision fp32 --preview-every 0 --average 0";
  test::RunFaceswap(train + " --batch 4 --iterations 2");
  ASSERT_EQ(model::LoadModelInfo(dir).iteration, 2);

  GpuMemoryHog hog(4);
  ASSERT_GT(hog.gib(), 4u) << "could not fill the GPU";
  const test::CommandResult r = test::RunCommand(test::FaceswapBinary().string() + " " + train +
                                                 " --batch 1024 --iterations 4 2>&1");
  EXPECT_EQ(r.exit_code, static_cast<int>(ExitCode::kDevice)) << r.output;
  EXPECT_NE(r.output.find("out of GPU memory"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("try --batch 512"), std::string::npos) << r.output;
  EXPECT_EQ(model::LoadModelInfo(dir).iteration, 2);
  EXPECT_TRUE(FiniteWeights(dir));
}

// A data-parallel job of one rank, as torchrun would start it on one GPU: NCCL's process
// group joins, trains and saves.
TEST(Gpu, OneRankJobUsesNccl) {
  FACESWAP_REQUIRE_CUDA();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = test::MakeTempDir("gpu_nccl");
  const std::string env = "RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
                          std::to_string(test::FreePort()) + " ";
  const test::CommandResult r = test::RunCommand(
      env + test::FaceswapBinary().string() + " train --a " + test::ExtractedFaces("a").string() + " --b " +
      test::ExtractedFaces("b").string() + " -m " + dir.string() +
      " --preset lite --device cuda --batch 8 --iterations 5 --preview-every 0 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("data parallel on 1 ranks (nccl)"), std::string::npos) << r.output;
  EXPECT_EQ(model::LoadModelInfo(dir).iteration, 5);
}

// convert on the GPU: a model trained there swaps the faces of two seconds of a clip.
TEST(Gpu, ConvertsAClip) {
  FACESWAP_REQUIRE_CUDA();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  FACESWAP_REQUIRE_NETWORK(face::ModelFile::kLandmarks68);
  const fs::path dir = test::MakeTempDir("gpu_convert");
  TrainOptions o = CudaOptions(dir / "model", "lite", 16);
  o.iterations = 50;
  Train(o, RealFaces());
  const fs::path out = dir / "swapped.mp4";
  const test::CommandResult r = test::RunFaceswap("--device cuda convert " + clip.string() + " --end 2 -o " +
                                                  out.string() + " -m " + (dir / "model").string() +
                                                  " --swap-all --detector hog");
  EXPECT_TRUE(fs::is_regular_file(out));
  EXPECT_NE(r.output.find("faces swapped"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace faceswap::train
