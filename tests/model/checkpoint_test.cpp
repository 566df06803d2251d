#include "faceswap/model/checkpoint.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
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
  info.occlusion_mask = true;
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
  ASSERT_TRUE(loaded->has_occlusion());
  EXPECT_TRUE(torch::equal(net->VisibleFace(faces), loaded->VisibleFace(faces)));
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

std::string ReadText(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A lite model with its optimiser in a fresh folder, saved step by step.
struct SavedModel {
  explicit SavedModel(const std::string& name)
      : dir(test::MakeTempDir(name)),
        info(LiteInfo()),
        net(CreateNetwork(info)),
        optimizer(net->parameters(), torch::optim::AdamOptions(1e-3)),
        faces(torch::rand({2, 3, 64, 64})) {}

  // One more step, saved as `iteration`; returns how the saved weights draw `faces`.
  torch::Tensor Save(int64_t iteration) {
    Step(net, optimizer);
    info.iteration = iteration;
    SaveCheckpoint(dir, net, &optimizer, info, 3);
    torch::NoGradGuard no_grad;
    net->eval();
    torch::Tensor drawn = net->Forward(faces, 0).rgb.clone();
    net->train();
    return drawn;
  }

  fs::path dir;
  ModelInfo info;
  FaceAutoencoder net;
  torch::optim::Adam optimizer;
  torch::Tensor faces;
};

torch::Tensor LoadAndDraw(const fs::path& dir, const torch::Tensor& faces, LoadedFrom* from = nullptr) {
  ModelInfo info = LoadModelInfo(dir);
  FaceAutoencoder net = CreateNetwork(info);
  const LoadedFrom loaded = LoadCheckpoint(dir, net, nullptr, info);
  if (from) *from = loaded;
  torch::NoGradGuard no_grad;
  net->eval();
  return net->Forward(faces, 0).rgb;
}

bool HasTemporaries(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (core::IsTemporaryName(e.path())) return true;
  }
  return false;
}

TEST(Checkpoint, ASaveOnAFullDiskFailsClearlyAndKeepsThePreviousSave) {
  SavedModel m("ckpt_full");
  const torch::Tensor first = m.Save(10);
  const std::string description = ReadText(m.dir / kModelInfoFile);
  try {
    test::FileSizeLimit limit(fs::file_size(m.dir / kWeightsFile) / 2);
    m.Save(20);
    FAIL() << "a save past the file size limit succeeded";
  } catch (const OutputError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind((m.dir / kWeightsFile).string() + ": cannot write weights (", 0), 0u) << what;
    EXPECT_NE(what.find("File too large; is the disk full?)"), std::string::npos) << what;
  }
  EXPECT_EQ(ReadText(m.dir / kModelInfoFile), description);
  EXPECT_EQ(m.info.backups.size(), 1u);  // the failed save recorded nothing
  EXPECT_FALSE(HasTemporaries(m.dir));
  LoadedFrom from;
  EXPECT_TRUE(torch::equal(LoadAndDraw(m.dir, m.faces, &from), first));
  EXPECT_EQ(from.iteration, 10);
  EXPECT_FALSE(from.backup);
}

TEST(Checkpoint, KilledBetweenItsTwoRenamesASaveLeavesThePreviousOneLoadable) {
  // The state a kill between "weights.pt renamed" and "model.json renamed" leaves: the
  // new weights.pt (and its unlisted backup) beside the previous model.json.
  SavedModel m("ckpt_between");
  const torch::Tensor first = m.Save(10);
  const std::string description = ReadText(m.dir / kModelInfoFile);
  m.Save(20);
  core::WriteFileAtomically(m.dir / kModelInfoFile, description);

  LoadedFrom from;
  EXPECT_TRUE(torch::equal(LoadAndDraw(m.dir, m.faces, &from), first));
  EXPECT_EQ(from.iteration, 10);
  EXPECT_TRUE(from.backup);
  // The next writer clears the unlisted backup of the save that did not finish.
  RemoveSaveLeftovers(m.dir, LoadModelInfo(m.dir));
  EXPECT_TRUE(fs::exists(m.dir / "backups" / "weights-00000010.pt"));
  EXPECT_FALSE(fs::exists(m.dir / "backups" / "weights-00000020.pt"));
}

TEST(Checkpoint, AReaderWaitsOutASaveInProgressInsteadOfFallingBack) {
  SavedModel m("ckpt_wait");
  m.Save(10);
  const std::string previous = ReadText(m.dir / kModelInfoFile);
  const torch::Tensor second = m.Save(20);
  const std::string current = ReadText(m.dir / kModelInfoFile);
  // The reader reads the previous model.json; the save's model.json lands 30 ms later.
  core::WriteFileAtomically(m.dir / kModelInfoFile, previous);
  ModelInfo seen = LoadModelInfo(m.dir);
  std::thread saver([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    core::WriteFileAtomically(m.dir / kModelInfoFile, current);
  });
  FaceAutoencoder loaded = CreateNetwork(seen);
  const LoadedFrom from = LoadCheckpoint(m.dir, loaded, nullptr, seen);
  saver.join();
  EXPECT_EQ(from.iteration, 20);
  EXPECT_FALSE(from.backup);
  EXPECT_TRUE(from.waited);
  EXPECT_EQ(seen.backups.size(), 2u);  // the record of the save it loaded
  torch::NoGradGuard no_grad;
  loaded->eval();
  EXPECT_TRUE(torch::equal(loaded->Forward(m.faces, 0).rgb, second));
}

TEST(Checkpoint, RemoveSaveLeftoversTakesOnlyTemporariesAndUnlistedBackups) {
  const fs::path dir = test::MakeTempDir("ckpt_leftovers");
  ModelInfo info = LiteInfo();
  FaceAutoencoder net = CreateNetwork(info);
  SaveCheckpoint(dir, net, nullptr, info, 2);
  for (const char* name : {"weights.tmp-4242-0.pt", "model.tmp-4242-1.json", "backups/weights-00000007.pt",
                           "backups/notes.txt", "previews/preview.tmp-4242-2.png", "loss.csv"}) {
    fs::create_directories((dir / name).parent_path());
    std::ofstream(dir / name) << "x";
  }
  RemoveSaveLeftovers(dir, info);
  EXPECT_FALSE(HasTemporaries(dir));
  EXPECT_FALSE(fs::exists(dir / "backups" / "weights-00000007.pt"));
  for (const char* kept : {"backups/notes.txt", "backups/weights-00000000.pt", "loss.csv", "weights.pt", "model.json"}) {
    EXPECT_TRUE(fs::exists(dir / kept)) << kept;
  }
}

TEST(Checkpoint, ModelJsonMayNotNameBackupsOutsideItsFolder) {
  const fs::path dir = test::MakeTempDir("ckpt_backup_names");
  ModelInfo info = LiteInfo();
  info.backups.push_back({"../../victim.txt", 1, "00"});
  std::ofstream(dir / kModelInfoFile) << ModelInfoText(info);
  try {
    LoadModelInfo(dir);
    FAIL() << "a backup outside backups/ was accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("'../../victim.txt' is not a file in backups/"), std::string::npos) << e.what();
  }
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
  // The mask (the redraw's and the occlusion network's), at the drawn face's side.
  ASSERT_EQ(out[0].mask.size(), cv::Size(64, 64));
  EXPECT_EQ(out[0].mask.type(), CV_32FC1);

  // Without masks (convert --mask landmarks) none is drawn.
  swapper.set_masks(false);
  EXPECT_TRUE(swapper.Swap(faces, 1, 2)[0].mask.empty());

  // A model saved before the occlusion network (no occlusion_mask in model.json) still
  // loads and draws, with the mask of its redraw alone.
  const fs::path old_dir = test::MakeTempDir("swapper_old");
  ModelInfo old_info = LiteInfo();
  old_info.occlusion_mask = false;
  FaceAutoencoder old_net = CreateNetwork(old_info);
  SaveCheckpoint(old_dir, old_net, nullptr, old_info, 1);
  std::string text = ModelInfoText(LoadModelInfo(old_dir));
  const size_t field = text.find("\"occlusion_mask\"");
  ASSERT_NE(field, std::string::npos);
  text.erase(field, text.find('\n', field) - field + 1);
  core::WriteFileAtomically(old_dir / kModelInfoFile, text);
  Swapper old_swapper(old_dir, DeviceKind::kCpu);
  const cv::Mat old_mask = old_swapper.Swap(faces, 1, 2)[0].mask;
  ASSERT_EQ(old_mask.size(), cv::Size(64, 64));
  EXPECT_EQ(old_mask.type(), CV_32FC1);
}

}  // namespace
}  // namespace faceswap::model
