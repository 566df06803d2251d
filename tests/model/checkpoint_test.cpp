#include "faceswap/model/checkpoint.h"

#include <gtest/gtest.h>

#include <fstream>

#include "faceswap/core/error.h"
#include "faceswap/model/swapper.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace faceswap::model {
namespace {

ModelInfo LiteInfo() {
  ModelInfo info;
  info.preset = "lite";
  info.resolution = 64;
  info.identities = {"a", "b"};
  info.alignment_template = "test";
  info.coverage = 1.0;
  return info;
}

// One optimiser step so that weights and Adam state are not the initial ones.
void Step(FaceAutoencoder& net, torch::optim::Adam& optimizer) {
  optimizer.zero_grad();
  const torch::Tensor faces = torch::rand({2, 3, 64, 64});
  (net->Forward(faces, 0).rgb - faces).abs().mean().backward();
  optimizer.step();
}

TEST(Checkpoint, SaveThenLoadGivesBitIdenticalOutputsAndState) {
  const fs::path dir = test::MakeTempDir("ckpt_roundtrip");
  ModelInfo info = LiteInfo();
  FaceAutoencoder net = CreateNetwork(info);
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(1e-3));
  Step(net, optimizer);
  info.iteration = 1;
  SaveCheckpoint(dir, net, &optimizer, info, 3);

  ModelInfo loaded_info = LoadModelInfo(dir);
  EXPECT_EQ(loaded_info.iteration, 1);
  EXPECT_EQ(loaded_info.weights_hash, HashFile(dir / kWeightsFile));
  FaceAutoencoder loaded = CreateNetwork(loaded_info);
  torch::optim::Adam loaded_optimizer(loaded->parameters(), torch::optim::AdamOptions(1e-3));
  const LoadedFrom from = LoadCheckpoint(dir, loaded, &loaded_optimizer, loaded_info);
  EXPECT_FALSE(from.backup);

  net->eval();
  loaded->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor faces = torch::rand({3, 3, 64, 64});
  for (int id = 0; id < 2; ++id) {
    EXPECT_TRUE(torch::equal(net->Forward(faces, id).rgb, loaded->Forward(faces, id).rgb)) << id;
  }
  // The optimiser resumes too: one more identical step gives identical weights.
  net->train();
  loaded->train();
  {
    torch::manual_seed(7);
    torch::AutoGradMode grad(true);
    Step(net, optimizer);
    torch::manual_seed(7);
    Step(loaded, loaded_optimizer);
  }
  const auto a = net->parameters(), b = loaded->parameters();
  for (size_t i = 0; i < a.size(); ++i) ASSERT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
}

TEST(Checkpoint, TruncatedWeightsFallBackToTheNewestGoodBackup) {
  const fs::path dir = test::MakeTempDir("ckpt_truncated");
  ModelInfo info = LiteInfo();
  FaceAutoencoder net = CreateNetwork(info);
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(1e-3));
  for (int64_t it : {10, 20, 30}) {
    Step(net, optimizer);
    info.iteration = it;
    SaveCheckpoint(dir, net, &optimizer, info, 2);
  }
  ASSERT_EQ(info.backups.size(), 2u);  // 20 and 30; 10 pruned
  EXPECT_FALSE(fs::exists(dir / "backups" / "weights-00000010.pt"));

  // Truncate weights.pt in place (its backup is a hard link to the same data, so replace
  // the file rather than writing through the link).
  const auto size = fs::file_size(dir / kWeightsFile);
  {
    std::ifstream in(dir / kWeightsFile, std::ios::binary);
    std::string bytes(size / 2, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    fs::remove(dir / kWeightsFile);
    std::ofstream(dir / kWeightsFile, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ModelInfo loaded_info = LoadModelInfo(dir);
  FaceAutoencoder loaded = CreateNetwork(loaded_info);
  const LoadedFrom from = LoadCheckpoint(dir, loaded, nullptr, loaded_info);
  EXPECT_TRUE(from.backup);
  EXPECT_EQ(from.iteration, 30);  // the backup of the last save holds the same weights
  torch::NoGradGuard no_grad;
  net->eval();
  loaded->eval();
  const torch::Tensor faces = torch::rand({1, 3, 64, 64});
  EXPECT_TRUE(torch::equal(net->Forward(faces, 1).rgb, loaded->Forward(faces, 1).rgb));

  // With every file damaged the error is a ModelError naming the folder.
  for (const auto& b : loaded_info.backups) fs::remove(dir / b.file);
  try {
    LoadCheckpoint(dir, loaded, nullptr, loaded_info);
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.string()), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, ModelInfoErrorsNameTheFile) {
  const fs::path dir = test::MakeTempDir("ckpt_info");
  EXPECT_THROW(LoadModelInfo(dir), ModelError);
  std::ofstream(dir / kModelInfoFile) << "{not json";
  try {
    LoadModelInfo(dir);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("model.json"), std::string::npos) << e.what();
  }
  std::ofstream(dir / kModelInfoFile) << R"({"version": 99})";
  EXPECT_THROW(LoadModelInfo(dir), ModelError);
}

TEST(Swapper, LoadsWhatTrainingSavedAndDrawsTheChosenIdentity) {
  const fs::path dir = test::MakeTempDir("swapper");
  ModelInfo info = LiteInfo();
  FaceAutoencoder net = CreateNetwork(info);
  SaveCheckpoint(dir, net, nullptr, info, 1);
  Swapper swapper(dir, DeviceKind::kCpu);
  EXPECT_EQ(swapper.resolution(), 64);
  EXPECT_EQ(swapper.DefaultTarget(0), 1);
  EXPECT_EQ(swapper.IdentityIndex("b"), 1);
  EXPECT_THROW(swapper.IdentityIndex("c"), UsageError);
  std::vector<cv::Mat> faces(3, cv::Mat(128, 128, CV_8UC3, cv::Scalar(40, 90, 200)));
  const auto out = swapper.Swap(faces, 1, 2);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].face.size(), cv::Size(64, 64));
  EXPECT_EQ(out[0].face.type(), CV_8UC3);
  EXPECT_TRUE(out[0].mask.empty());  // lite has no learned mask
}

}  // namespace
}  // namespace faceswap::model
