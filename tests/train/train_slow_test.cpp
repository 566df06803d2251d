// Training on real faces from the shared clips (label slow).

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <array>
#include <cstdio>
#include <fstream>
#include <thread>

#include "e2e_fixtures.h"
#include "faceswap/core/error.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/model/checkpoint.h"
#include "faceswap/model/model_info.h"
#include "faceswap/model/swapper.h"
#include "faceswap/train/face_cache.h"
#include "faceswap/train/trainer.h"
#include "test_support.h"
#include "train_fixtures.h"

namespace fs = std::filesystem;

namespace faceswap::train {
namespace {

std::vector<FaceSet> RealFaces() { return test_fixtures::LoadRealFaces(); }

TrainOptions LiteOptions(const fs::path& dir, const std::vector<FaceSet>& faces) {
  return test_fixtures::LiteOptions(dir, faces, 8);
}

int CsvRows(const fs::path& csv) {
  std::ifstream in(csv);
  std::string line;
  int rows = -1;  // header
  while (std::getline(in, line)) ++rows;
  return rows;
}

TEST(TrainSlow, HoldsOutRunsOfFacesForEvaluation) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  FaceCacheOptions all;
  all.hold_out = false;
  const auto everything = LoadTrainingFaces({{"a", {test::ExtractedFaces("a")}}}, all);
  const auto training = LoadTrainingFaces({{"a", {test::ExtractedFaces("a")}}}, FaceCacheOptions{});
  const size_t n = everything[0].faces.size();
  EXPECT_GT(n, 150u);  // person_a every 3rd frame: ~208 frames, a face in nearly all
  size_t held_out = 0;
  for (size_t i = 0; i < n; ++i) held_out += face::IsHeldOut(static_cast<int64_t>(i)) ? 1 : 0;
  EXPECT_EQ(held_out, (n / 40) * 4 + (n % 40 > 36 ? n % 40 - 36 : 0));  // runs of 4 in every 40
  EXPECT_EQ(training[0].faces.size(), n - held_out);
  ASSERT_EQ(training[0].folders.size(), 1u);
  // Landmarks were mapped into crop pixels: the eyes lie inside the crop's upper half.
  const auto& f = everything[0].faces[0];
  EXPECT_GT(f.points[36].y, 0);
  EXPECT_LT(f.points[36].y, f.crop.rows / 2.0);
}

// The fixture model (300 steps, batch 8, faces of person_a and person_b) is trained in
// this build by the real `faceswap train`; its loss history is what is checked here.
TEST(TrainSlow, LiteLossDropsByAThirdInAFewHundredSteps) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path model = test::TrainedLiteModel();
  std::ifstream in(model / "loss.csv");
  std::string line;
  std::getline(in, line);
  std::vector<std::array<double, 2>> rows;
  while (std::getline(in, line)) {
    std::array<double, 2> row{};
    ASSERT_EQ(std::sscanf(line.c_str(), "%*d,%lf,%lf", &row[0], &row[1]), 2) << line;
    rows.push_back(row);
  }
  ASSERT_EQ(rows.size(), 300u);
  for (size_t id = 0; id < 2; ++id) {
    double first = 0, last = 0;
    for (size_t i = 0; i < 5; ++i) first += rows[i][id] / 5;                 // noise of single batches
    for (size_t i = rows.size() - 20; i < rows.size(); ++i) last += rows[i][id] / 20;
    std::printf("identity %zu: loss %.4f -> %.4f (%.0f%% lower)\n", id, first, last, 100 * (1 - last / first));
    EXPECT_LE(last, 0.7 * first) << "identity " << id;
  }
  EXPECT_TRUE(fs::exists(model / "preview.png"));
  EXPECT_TRUE(fs::exists(model / "loss.png"));
}

TEST(TrainSlow, ResumeContinuesTheIterationCountAndTheLossCurve) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const auto faces = RealFaces();
  const fs::path dir = test::MakeTempDir("train_resume");
  TrainOptions o = LiteOptions(dir, faces);
  o.batch_size = 4;
  o.iterations = 80;
  o.save_every = 40;
  const TrainReport first = Train(o, faces);
  o.iterations = 120;
  const TrainReport second = Train(o, faces);
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(second.start_iteration, 80);
  EXPECT_EQ(second.end_iteration, 120);
  EXPECT_EQ(CsvRows(dir / "loss.csv"), 120);
  // The curve goes on from where it was, not from an untrained model's loss.
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_LT(second.first_loss[i], 0.5 * (first.first_loss[i] + first.last_loss[i])) << i;
  }
  // Same command once more: already there, nothing to do.
  EXPECT_EQ(Train(o, faces).end_iteration, 120);
  // Another preset or another identity set is refused.
  TrainOptions other = o;
  other.preset = "original";
  EXPECT_THROW(Train(other, faces), ModelError);
  auto renamed = faces;
  renamed[1].identity = "c";
  EXPECT_THROW(Train(o, renamed), ModelError);
}

TEST(TrainSlow, SigintFinishesTheStepSavesAndExitsZero) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path a = test::ExtractedFaces("a"), b = test::ExtractedFaces("b");
  const fs::path dir = test::MakeTempDir("train_sigint");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  // Whatever happens below, the child does not outlive the test.
  struct KillOnExit {
    pid_t pid;
    bool reaped = false;
    ~KillOnExit() {
      if (!reaped) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  } guard{child};
  if (child == 0) {
    const std::string bin = test::FaceswapBinary().string();
    execl(bin.c_str(), bin.c_str(), "-q", "train", "--a", a.c_str(), "--b", b.c_str(), "-m", dir.c_str(),
          "--preset", "lite", "--batch", "4", "--save-every", "100000", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until it is training (loss.csv has rows), then interrupt it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (CsvRows(dir / "loss.csv") < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_GE(CsvRows(dir / "loss.csv"), 3) << "training did not start";
  kill(child, SIGINT);
  int status = 0;
  waitpid(child, &status, 0);
  guard.reaped = true;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  model::Swapper swapper(dir, model::DeviceKind::kCpu);
  EXPECT_GE(swapper.info().iteration, 3);
  EXPECT_EQ(swapper.info().iteration, CsvRows(dir / "loss.csv"));
}

TEST(TrainSlow, CliTrainsFromRawClipsWithATimeBudget) {
  FACESWAP_REQUIRE_SAMPLE(clip_a, "clips/person_a.mp4");
  FACESWAP_REQUIRE_SAMPLE(clip_b, "clips/person_b.mp4");
  const fs::path dir = test::MakeTempDir("train_cli");
  // Two short image folders stand in for clips: extraction into the cache is what is tested.
  const fs::path a = dir / "a", b = dir / "b";
  fs::create_directories(a);
  fs::create_directories(b);
  ASSERT_EQ(test::RunCommand("ffmpeg -v error -i " + clip_a.string() + " -t 1 -vf fps=5 " + (a / "%02d.png").string()).exit_code, 0);
  ASSERT_EQ(test::RunCommand("ffmpeg -v error -i " + clip_b.string() + " -t 1 -vf fps=5 " + (b / "%02d.png").string()).exit_code, 0);
  const fs::path model = dir / "model";
  const auto r = test::RunFaceswap("train --a " + a.string() + " --b " + b.string() + " -m " + model.string() +
                                   " --preset lite --batch 2 --time 4s");
  EXPECT_TRUE(fs::exists(model / "model.json"));
  EXPECT_TRUE(fs::exists(model / "cache" / "a" / "alignments.json"));
  EXPECT_TRUE(fs::exists(model / "preview.png"));
  // Unchanged inputs are not extracted again on the next run.
  const auto stamp = fs::last_write_time(model / "cache" / "a" / "alignments.json");
  test::RunFaceswap("train --a " + a.string() + " --b " + b.string() + " -m " + model.string() +
                    " --preset lite --batch 2 --time 1s");
  EXPECT_EQ(fs::last_write_time(model / "cache" / "a" / "alignments.json"), stamp);
  // A mismatched preset is a model error (exit 5) naming model.json.
  const auto mismatch = test::RunCommand(test::FaceswapBinary().string() + " train --a " + a.string() + " --b " +
                                         b.string() + " -m " + model.string() + " --preset hd --time 1s");
  EXPECT_EQ(mismatch.exit_code, 5) << mismatch.output;
  EXPECT_NE(mismatch.output.find("model.json"), std::string::npos) << mismatch.output;
}

// The sharp preset end to end: a few steps, a save and a resume, 256 px faces from the
// Swapper, and a second of person_b converted with it (size kept, the face changed, marked).
TEST(TrainSlow, SharpPresetTrainsResumesAndConvertsAt256Px) {
  FACESWAP_REQUIRE_SAMPLE(clip_b, "clips/person_b.mp4");
  const auto faces = RealFaces();
  const fs::path dir = test::MakeTempDir("train_sharp");
  TrainOptions o = LiteOptions(dir, faces);
  o.preset = "sharp";
  o.batch_size = 2;
  o.iterations = 6;
  o.save_every = 3;
  const TrainReport first = Train(o, faces);
  EXPECT_EQ(first.end_iteration, 6);
  o.iterations = 8;
  const TrainReport second = Train(o, faces);
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(second.start_iteration, 6);
  EXPECT_EQ(second.end_iteration, 8);
  const cv::Mat preview = cv::imread((dir / "preview.png").string());
  EXPECT_GE(preview.cols, 3 * 256);  // original and both identities, a 256 px cell each
  // Each identity's detail stage trained: its last layer starts at zero (autoencoder.cpp).
  model::ModelInfo info = model::LoadModelInfo(dir);
  model::FaceAutoencoder net = model::CreateNetwork(info);
  model::LoadCheckpoint(dir, net, nullptr, info);
  const auto parameters = net->named_parameters();
  for (const std::string identity : {"0", "1"}) {
    const torch::Tensor* last = parameters.find("detail" + identity + ".rgb.weight");
    ASSERT_NE(last, nullptr) << identity;
    EXPECT_GT(last->abs().max().item<float>(), 0.0f) << identity;
  }

  model::Swapper swapper(dir, model::DeviceKind::kCpu);
  EXPECT_EQ(swapper.resolution(), 256);
  EXPECT_EQ(swapper.info().resolution, 256);
  const auto drawn = swapper.Swap({faces[0].faces[0].crop, faces[0].faces[1].crop}, 1);
  ASSERT_EQ(drawn.size(), 2u);
  EXPECT_EQ(drawn[0].face.size(), cv::Size(256, 256));

  const fs::path out = dir / "swapped.mp4";
  const auto converted = test::RunCommand(test::FaceswapBinary().string() + " -q convert " + clip_b.string() +
                                          " -o " + out.string() + " -m " + dir.string() + " --end 1 --swap-all");
  ASSERT_EQ(converted.exit_code, 0) << converted.output;
  const auto size = test::RunCommand("ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 " +
                                     out.string());
  EXPECT_NE(size.output.find("540,960"), std::string::npos) << size.output;
  const auto verified = test::RunCommand(test::FaceswapBinary().string() + " verify " + out.string());
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

}  // namespace
}  // namespace faceswap::train
