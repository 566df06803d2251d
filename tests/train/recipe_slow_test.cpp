// The training recipe's safety nets and options on real faces (label slow): a NaN is
// skipped, repeated NaNs stop the run without harming the last save, the weight average
// is saved, drawn with and resumed, the held-out swaps are watched, precisions a device
// cannot run are refused, and a second train on a model in training is turned away.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <opencv2/imgcodecs.hpp>

#include "e2e_fixtures.h"
#include "faceswap/core/error.h"
#include "faceswap/model/checkpoint.h"
#include "faceswap/model/precision.h"
#include "faceswap/train/face_cache.h"
#include "faceswap/train/trainer.h"
#include "network_files.h"
#include "test_support.h"
#include "train_fixtures.h"

namespace fs = std::filesystem;

namespace faceswap::train {
namespace {

const std::vector<FaceSet>& RealFaces() {
  static const std::vector<FaceSet> faces = test_fixtures::LoadRealFaces();
  return faces;
}

TrainOptions Options(const fs::path& dir) { return test_fixtures::LiteOptions(dir, RealFaces(), 4); }

std::vector<torch::Tensor> Weights(model::FaceAutoencoder& net) {
  std::vector<torch::Tensor> out;
  for (const auto& p : net->parameters()) out.push_back(p.detach().clone());
  return out;
}

bool AllFinite(model::FaceAutoencoder& net) {
  for (const auto& p : net->parameters()) {
    if (!torch::isfinite(p).all().item<bool>()) return false;
  }
  return true;
}

TEST(RecipeSlow, ANanLossIsSkippedAndTrainingGoesOn) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = test::MakeTempDir("recipe_nan_once");
  TrainOptions o = Options(dir);
  o.iterations = 30;
  o.save_every = 10;
  o.nan_at = 12;  // one NaN loss at step 12
  const TrainReport report = Train(o, RealFaces());
  EXPECT_EQ(report.skipped_steps, 1);
  EXPECT_EQ(report.end_iteration, 30);  // the skipped attempt is not a step
  model::ModelInfo info = model::LoadModelInfo(dir);
  model::FaceAutoencoder net = model::CreateNetwork(info);
  model::LoadCheckpoint(dir, net, nullptr, info);
  EXPECT_TRUE(AllFinite(net));
}

TEST(RecipeSlow, RepeatedNanLossesStopAndKeepTheLastSave) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = test::MakeTempDir("recipe_nan_many");
  TrainOptions o = Options(dir);
  o.iterations = 40;
  o.save_every = 10;
  o.nan_at = 25;
  o.nan_steps = 1000;
  EXPECT_THROW(Train(o, RealFaces()), DivergedError);
  model::ModelInfo info = model::LoadModelInfo(dir);
  EXPECT_EQ(info.iteration, 20);  // the last save before the NaNs, intact and loadable
  model::FaceAutoencoder net = model::CreateNetwork(info);
  EXPECT_FALSE(model::LoadCheckpoint(dir, net, nullptr, info).backup);
  EXPECT_TRUE(AllFinite(net));
  // The command line says so with exit code 8.
  const auto r = test::RunCommand(test::FaceswapBinary().string() + " train --a " + test::ExtractedFaces("a").string() +
                                  " --b " + test::ExtractedFaces("b").string() + " -m " + dir.string() +
                                  " --preset lite --batch 4 --iterations 60 --preview-every 0 --debug-nan-at 21 "
                                  "--debug-nan-steps 1000");
  EXPECT_EQ(r.exit_code, 8) << r.output;
  EXPECT_NE(r.output.find("non-finite"), std::string::npos) << r.output;
  EXPECT_EQ(model::LoadModelInfo(dir).iteration, 20);
}

TEST(RecipeSlow, TheWeightAverageIsSavedDrawnWithAndResumed) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = test::MakeTempDir("recipe_average");
  TrainOptions o = Options(dir);
  o.iterations = 30;
  o.save_every = 30;
  o.average_decay = 0.9;
  Train(o, RealFaces());

  model::ModelInfo info = model::LoadModelInfo(dir);
  EXPECT_EQ(info.RecipeValue("average"), "0.9");
  model::FaceAutoencoder live = model::CreateNetwork(info), average = model::CreateNetwork(info),
                         drawing = model::CreateNetwork(info);
  const model::LoadedFrom from =
      model::LoadCheckpoint(dir, live, nullptr, info, model::LoadWeights::kLive, &average);
  ASSERT_TRUE(from.has_average);
  model::LoadCheckpoint(dir, drawing, nullptr, info, model::LoadWeights::kForDrawing);
  const auto w_live = Weights(live), w_average = Weights(average), w_drawing = Weights(drawing);
  double live_vs_average = 0, drawing_vs_average = 0;
  for (size_t i = 0; i < w_live.size(); ++i) {
    live_vs_average += (w_live[i] - w_average[i]).abs().sum().item<double>();
    drawing_vs_average += (w_drawing[i] - w_average[i]).abs().sum().item<double>();
  }
  EXPECT_GT(live_vs_average, 0.0);        // the average lags the live weights
  EXPECT_EQ(drawing_vs_average, 0.0);     // convert and eval draw with the average

  // Resuming carries the average on (it is not restarted from the live weights).
  o.iterations = 31;
  o.save_every = 1000;
  Train(o, RealFaces());
  model::ModelInfo again = model::LoadModelInfo(dir);
  model::FaceAutoencoder live2 = model::CreateNetwork(again), average2 = model::CreateNetwork(again);
  ASSERT_TRUE(model::LoadCheckpoint(dir, live2, nullptr, again, model::LoadWeights::kLive, &average2).has_average);
  const auto w_average2 = Weights(average2), w_live2 = Weights(live2);
  double moved = 0, to_live = 0;
  for (size_t i = 0; i < w_average.size(); ++i) {
    moved += (w_average2[i] - w_average[i]).abs().sum().item<double>();
    to_live += (w_average2[i] - w_live2[i]).abs().sum().item<double>();
  }
  EXPECT_GT(moved, 0.0);
  // One step at decay 0.9 moves the average a tenth of the way: still far from live.
  EXPECT_GT(to_live, 0.5 * live_vs_average);
}

TEST(RecipeSlow, HeldOutSwapsAreWatchedAtEverySave) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  FACESWAP_REQUIRE_NETWORK(face::ModelFile::kFaceRecognition);
  const fs::path dir = test::MakeTempDir("recipe_watch");
  for (const FaceSet& set : RealFaces()) {
    EXPECT_FALSE(set.watched.empty()) << set.identity;
    EXPECT_LE(set.watched.size(), 8u);
  }
  TrainOptions o = Options(dir);
  o.iterations = 20;
  o.save_every = 10;
  Train(o, RealFaces());
  std::ifstream csv(dir / "quality.csv");
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header, "iteration,distance_a->b,target_a->b,sharpness_a->b,distance_b->a,target_b->a,sharpness_b->a");
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 3);  // saves at 10, 20 and the final one
  const cv::Mat chart = cv::imread((dir / "loss.png").string());
  EXPECT_EQ(chart.rows, 320 + 240);  // the loss, and under it the held-out swaps
}

TEST(RecipeSlow, PrecisionsTheDeviceCannotRunAreRefused) {
  EXPECT_THROW(model::CheckPrecision(model::Precision::kFp16, model::DeviceKind::kCpu), DeviceError);
  EXPECT_NO_THROW(model::CheckPrecision(model::Precision::kFp32, model::DeviceKind::kCpu));
  if (model::CpuHasBf16()) {
    EXPECT_NO_THROW(model::CheckPrecision(model::Precision::kBf16, model::DeviceKind::kCpu));
  } else {
    EXPECT_THROW(model::CheckPrecision(model::Precision::kBf16, model::DeviceKind::kCpu), DeviceError);
  }
  const fs::path dir = test::MakeTempDir("recipe_fp16");
  const auto r = test::RunCommand(test::FaceswapBinary().string() + " --device cpu train --a " + dir.string() +
                                  " --b " + dir.string() + " -m " + (dir / "m").string() + " --precision fp16");
  EXPECT_EQ(r.exit_code, 6) << r.output;
  EXPECT_NE(r.output.find("fp16 needs a CUDA GPU"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "m" / "model.json"));
}

TEST(TrainLock, ASecondTrainOnTheSameModelIsRefusedAndTheFirstGoesOn) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = test::MakeTempDir("train_lock");
  const fs::path model = dir / "m";
  const std::string train = test::FaceswapBinary().string() + " -q train --a " + test::ExtractedFaces("a").string() +
                            " --b " + test::ExtractedFaces("b").string() + " -m " + model.string() +
                            " --preset lite --batch 4 --preview-every 0 --save-every 5";
  // The first run, in the background, for a time no test waits out; its pid in a file.
  const fs::path pid_file = dir / "first.pid";
  ASSERT_EQ(std::system(("(" + train + " --time 10m >" + (dir / "first.log").string() + " 2>&1 & echo $! >" +
                         pid_file.string() + ")").c_str()),
            0);
  // Wait until it holds the lock and has saved once.
  for (int i = 0; i < 600 && !fs::exists(model / "weights.pt"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::ifstream pid_in(pid_file);
  long first_pid = 0;
  pid_in >> first_pid;
  ASSERT_GT(first_pid, 0);
  ASSERT_TRUE(fs::exists(model / "weights.pt")) << "the first train never saved";

  const auto second = test::RunCommand(train + " --time 5s");  // would run and exit 0 without the lock
  EXPECT_EQ(second.exit_code, 5) << second.output;
  EXPECT_NE(second.output.find("in use by another faceswap (pid " + std::to_string(first_pid) + ": faceswap train)"),
            std::string::npos)
      << second.output;

  // Ctrl-C on the first: it saves and exits 0, and the model loads.
  ASSERT_EQ(std::system(("kill -INT " + std::to_string(first_pid)).c_str()), 0);
  for (int i = 0; i < 600 && std::system(("kill -0 " + std::to_string(first_pid) + " 2>/dev/null").c_str()) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  model::ModelInfo info = model::LoadModelInfo(model);
  model::FaceAutoencoder net = model::CreateNetwork(info);
  EXPECT_NO_THROW(model::LoadCheckpoint(model, net, nullptr, info));
  // And the folder is free again.
  const auto third = test::RunCommand(train + " --iterations " + std::to_string(info.iteration + 1));
  EXPECT_EQ(third.exit_code, 0) << third.output;
}

}  // namespace
}  // namespace faceswap::train
