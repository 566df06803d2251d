#include "faceswap/model/checkpoint.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <system_error>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/core/versions.h"
#include "faceswap/model/device.h"

namespace fs = std::filesystem;

namespace faceswap::model {
namespace {

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string BackupName(int64_t iteration) {
  char name[48];
  std::snprintf(name, sizeof name, "backups/weights-%08lld.pt", static_cast<long long>(iteration));
  return name;
}

void ApplyStage(const ModelInfo& info, FaceAutoencoder& net) {
  const Stage stage = StageAt(net->preset(), info.iteration, info.stage_iterations);
  net->SetStage(stage.resolution, stage.alpha);
}

// Reads one archive into net/optimizer/average; returns the stored iteration. Throws
// c10::Error (or std::exception) on a damaged file.
int64_t ReadArchive(const fs::path& file, FaceAutoencoder& net, torch::optim::Optimizer* optimizer,
                    LoadWeights which, FaceAutoencoder* average, bool& has_average) {
  torch::serialize::InputArchive archive;
  archive.load_from(file.string(), torch::kCPU);
  torch::Tensor iteration;
  archive.read("iteration", iteration);
  torch::NoGradGuard no_grad;
  torch::serialize::InputArchive averaged;
  has_average = archive.try_read("average", averaged);
  {
    torch::serialize::InputArchive weights;
    if (which == LoadWeights::kForDrawing && has_average) {
      net->load(averaged);
    } else {
      archive.read("network", weights);
      net->load(weights);
    }
  }
  if (average && has_average && which == LoadWeights::kLive) (*average)->load(averaged);
  if (optimizer) {
    torch::serialize::InputArchive state;
    if (archive.try_read("optimizer", state)) optimizer->load(state);
  }
  return iteration.item<int64_t>();
}

}  // namespace

LibraryVersions ModelLibraryVersions() {
  LibraryVersions versions = core::Versions();
  for (auto& v : Versions()) versions.push_back(v);
  return versions;
}

FaceAutoencoder CreateNetwork(const ModelInfo& info) {
  FaceAutoencoder net(GetPreset(info.preset), static_cast<int>(info.identities.size()));
  ApplyStage(info, net);
  return net;
}

void SaveCheckpoint(const fs::path& model_dir, FaceAutoencoder& net, torch::optim::Optimizer* optimizer,
                    ModelInfo& info, int keep_backups, FaceAutoencoder* average) {
  core::EnsureDirectory(model_dir / "backups");
  const fs::path weights = model_dir / kWeightsFile;
  core::TemporaryFile tmp(core::TemporaryPathFor(weights));
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive network;
    net->save(network);
    archive.write("network", network);
    if (average) {
      torch::serialize::OutputArchive averaged;
      (*average)->save(averaged);
      archive.write("average", averaged);
    }
    if (optimizer) {
      torch::serialize::OutputArchive state;
      optimizer->save(state);
      archive.write("optimizer", state);
    }
    archive.write("iteration", torch::tensor(static_cast<int64_t>(info.iteration)));
    archive.save_to(tmp.path().string());
  } catch (const c10::Error& e) {
    throw OutputError(weights, std::string("cannot write weights (") + e.what_without_backtrace() + ")");
  }
  const std::string hash = HashFile(tmp.path());
  core::CommitFile(tmp.path(), weights);
  tmp.Release();

  // The backup shares the file's data through a hard link: later saves replace weights.pt
  // by rename, so the linked data is never modified.
  const std::string backup = BackupName(info.iteration);
  std::error_code ec;
  fs::remove(model_dir / backup, ec);
  fs::create_hard_link(weights, model_dir / backup, ec);
  if (ec) fs::copy_file(weights, model_dir / backup, fs::copy_options::overwrite_existing, ec);
  if (!ec) {
    info.backups.erase(std::remove_if(info.backups.begin(), info.backups.end(),
                                      [&](const Backup& b) { return b.file == backup; }),
                       info.backups.end());
    info.backups.push_back({backup, info.iteration, hash});
  } else {
    spdlog::warn("{}: cannot keep a backup ({})", (model_dir / backup).string(), ec.message());
  }
  while (static_cast<int>(info.backups.size()) > std::max(1, keep_backups)) {
    fs::remove(model_dir / info.backups.front().file, ec);
    info.backups.erase(info.backups.begin());
  }

  info.weights_hash = hash;
  info.libraries = ModelLibraryVersions();
  info.updated = UtcNow();
  SaveModelInfo(model_dir, info);
}

LoadedFrom LoadCheckpoint(const fs::path& model_dir, FaceAutoencoder& net, torch::optim::Optimizer* optimizer,
                          ModelInfo& info, LoadWeights which, FaceAutoencoder* average) {
  struct Candidate {
    fs::path file;
    std::string hash;
    bool backup;
  };
  std::vector<Candidate> candidates = {{model_dir / kWeightsFile, info.weights_hash, false}};
  for (auto it = info.backups.rbegin(); it != info.backups.rend(); ++it) {
    candidates.push_back({model_dir / it->file, it->hash, true});
  }
  for (const Candidate& c : candidates) {
    std::error_code ec;
    if (!fs::is_regular_file(c.file, ec)) {
      spdlog::warn("{}: missing", c.file.string());
      continue;
    }
    if (!c.hash.empty() && HashFile(c.file) != c.hash) {
      spdlog::warn("{}: damaged (checksum differs from model.json: truncated, corrupted or an interrupted save)",
                   c.file.string());
      continue;
    }
    try {
      bool has_average = false;
      const int64_t iteration = ReadArchive(c.file, net, optimizer, which, average, has_average);
      info.iteration = iteration;
      ApplyStage(info, net);
      if (average && has_average) ApplyStage(info, *average);
      if (c.backup) spdlog::warn("{}: using this backup from iteration {}", c.file.string(), iteration);
      return {c.file, iteration, c.backup, has_average};
    } catch (const std::exception& e) {
      spdlog::warn("{}: unreadable ({})", c.file.string(), std::string(e.what()).substr(0, 200));
    }
  }
  throw ModelError(model_dir, "no intact weights left (weights.pt and every backup are missing or damaged)");
}

}  // namespace faceswap::model
