#include "faceswap/model/checkpoint.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <system_error>
#include <thread>

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

// A reader waits this many times for a save in progress to finish (see LoadCheckpoint).
constexpr int kReadRounds = 5;

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
int64_t ReadArchive(std::istream& in, FaceAutoencoder& net, torch::optim::Optimizer* optimizer,
                    LoadWeights which, FaceAutoencoder* average, bool& has_average) {
  torch::serialize::InputArchive archive;
  archive.load_from(in, torch::kCPU);
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

void WriteArchive(const fs::path& file, const fs::path& shown_as, FaceAutoencoder& net,
                  torch::optim::Optimizer* optimizer, int64_t iteration, FaceAutoencoder* average) {
  const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw OutputError(shown_as, "cannot write weights (" + std::string(std::strerror(errno)) + ")");
  int write_error = 0;
  // LibTorch must never see a failed write: its archive writer then throws again from its
  // destructor, and the process terminates (LibTorch 1.13, on a full disk). So the sink
  // takes every byte, keeps the first error, and the save fails here afterwards.
  const auto sink = [&](const void* data, size_t size) -> size_t {
    for (size_t done = 0; write_error == 0 && done < size;) {
      const ssize_t n = write(fd, static_cast<const char*>(data) + done, size - done);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && errno != EINTR) {
        write_error = errno;
      } else if (n == 0) {
        write_error = ENOSPC;
      }
    }
    return size;
  };
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
    archive.write("iteration", torch::tensor(iteration));
    archive.save_to(sink);
  } catch (const c10::Error& e) {
    close(fd);
    throw OutputError(shown_as, std::string("cannot write weights (") + e.what_without_backtrace() + ")");
  }
  if (close(fd) != 0 && write_error == 0) write_error = errno;
  if (write_error != 0) throw OutputError(shown_as, "cannot write weights (" + core::WriteFailure(write_error) + ")");
}

enum class Attempt { kLoaded, kMissing, kMismatch, kUnreadable };

// Opens `file` once, hashes it and, when the hash is `expected` (or nothing is expected),
// loads the archive from the same open file: a save that renames a newer file into place
// meanwhile cannot pair the hash of one save with the weights of another.
Attempt TryLoad(const fs::path& file, const std::string& expected, FaceAutoencoder& net,
                torch::optim::Optimizer* optimizer, LoadWeights which, FaceAutoencoder* average, LoadedFrom& loaded,
                std::string& problem) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    problem = "missing";
    return Attempt::kMissing;
  }
  if (!expected.empty()) {
    if (HashStream(in) != expected) {
      problem = "damaged (checksum differs from model.json: truncated, corrupted or an interrupted save)";
      return Attempt::kMismatch;
    }
    in.clear();
    in.seekg(0);
  }
  try {
    loaded.file = file;
    loaded.iteration = ReadArchive(in, net, optimizer, which, average, loaded.has_average);
    return Attempt::kLoaded;
  } catch (const std::exception& e) {
    problem = "unreadable (" + std::string(e.what()).substr(0, 200) + ")";
    return Attempt::kUnreadable;
  }
}

// Reads model.json again and takes its record of the save (hash, backups) into `info`,
// leaving the rest as the caller set it. False when it still describes the same save (or
// cannot be read).
bool RefreshSaveRecord(const fs::path& model_dir, ModelInfo& info) {
  try {
    const ModelInfo now = LoadModelInfo(model_dir);
    if (now.weights_hash == info.weights_hash && now.backups.size() == info.backups.size()) return false;
    info.weights_hash = now.weights_hash;
    info.backups = now.backups;
    info.updated = now.updated;
    return true;
  } catch (const Error& e) {
    spdlog::debug("{}", e.what());
    return false;
  }
}

}  // namespace

LibraryVersions ModelLibraryVersions() {
  LibraryVersions versions = core::Versions();
  for (auto& v : Versions()) versions.push_back(v);
  return versions;
}

FaceAutoencoder CreateNetwork(const ModelInfo& info) {
  FaceAutoencoder net(GetPreset(info.preset), static_cast<int>(info.identities.size()), info.occlusion_mask);
  ApplyStage(info, net);
  return net;
}

void SaveCheckpoint(const fs::path& model_dir, FaceAutoencoder& net, torch::optim::Optimizer* optimizer,
                    ModelInfo& info, int keep_backups, FaceAutoencoder* average) {
  // Every new file is written in full before the first rename, so a full disk or a size
  // limit fails the save with the previous one untouched; the renames come in the order
  // readers expect (weights.pt, then model.json), and old backups go only once the new
  // model.json no longer lists them. A kill at any point leaves the last or the previous
  // save loadable.
  core::EnsureDirectory(model_dir / "backups");
  const fs::path weights = model_dir / kWeightsFile;
  core::TemporaryFile tmp(core::TemporaryPathFor(weights));
  WriteArchive(tmp.path(), weights, net, optimizer, info.iteration, average);
  const std::string hash = HashFile(tmp.path());

  ModelInfo next = info;
  // The backup shares the new file's data through a hard link: later saves replace
  // weights.pt by rename, so the linked data is never modified.
  const std::string backup = BackupName(info.iteration);
  const fs::path backup_path = model_dir / backup;
  std::error_code ec;
  fs::remove(backup_path, ec);  // an earlier run's save of this step (that run was resumed from an older one)
  fs::create_hard_link(tmp.path(), backup_path, ec);
  if (ec) fs::copy_file(tmp.path(), backup_path, fs::copy_options::overwrite_existing, ec);
  std::optional<core::TemporaryFile> unfinished_backup;  // deleted unless the save completes
  next.backups.erase(std::remove_if(next.backups.begin(), next.backups.end(),
                                    [&](const Backup& b) { return b.file == backup; }),
                     next.backups.end());
  if (!ec) {
    unfinished_backup.emplace(backup_path);
    next.backups.push_back({backup, info.iteration, hash});
  } else {
    spdlog::warn("{}: cannot keep a backup ({})", backup_path.string(), ec.message());
    fs::remove(backup_path, ec);
  }
  std::vector<Backup> dropped;
  while (static_cast<int>(next.backups.size()) > std::max(1, keep_backups)) {
    dropped.push_back(next.backups.front());
    next.backups.erase(next.backups.begin());
  }
  next.weights_hash = hash;
  next.libraries = ModelLibraryVersions();
  next.updated = UtcNow();

  core::StagedFile description(model_dir / kModelInfoFile, ModelInfoText(next));
  core::CommitFile(tmp.path(), weights);
  tmp.Release();
  description.Commit();
  if (unfinished_backup) unfinished_backup->Release();
  for (const Backup& b : dropped) fs::remove(model_dir / b.file, ec);
  info = std::move(next);
}

void RemoveSaveLeftovers(const fs::path& model_dir, const ModelInfo& info) {
  int removed = core::RemoveStaleTemporaries(model_dir) + core::RemoveStaleTemporaries(model_dir / "backups") +
                core::RemoveStaleTemporaries(model_dir / "previews");
  std::error_code ec;
  for (auto it = fs::directory_iterator(model_dir / "backups", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = "backups/" + it->path().filename().string();
    const bool listed = std::any_of(info.backups.begin(), info.backups.end(), [&](const Backup& b) { return b.file == name; });
    std::error_code ignored;
    if (IsBackupName(name) && !listed && fs::remove(it->path(), ignored)) ++removed;
  }
  if (removed > 0) spdlog::info("{}: removed {} file(s) an interrupted save left behind", model_dir.string(), removed);
}

LoadedFrom LoadCheckpoint(const fs::path& model_dir, FaceAutoencoder& net, torch::optim::Optimizer* optimizer,
                          ModelInfo& info, LoadWeights which, FaceAutoencoder* average) {
  // Readers take no lock, so a trainer may be saving meanwhile. Its save renames the new
  // weights.pt into place just before the new model.json: for a moment weights.pt does not
  // match model.json. So a mismatch is first waited out (model.json read again after 10,
  // 20, 40, 80 ms), and only then taken for damage and answered with the backups.
  bool waited = false;
  auto done = [&](LoadedFrom from, bool backup) {
    from.backup = backup;
    from.waited = waited;
    info.iteration = from.iteration;
    ApplyStage(info, net);
    if (average && from.has_average) ApplyStage(info, *average);
    if (backup) spdlog::warn("{}: using this backup from iteration {}", from.file.string(), from.iteration);
    return from;
  };
  const fs::path weights = model_dir / kWeightsFile;
  for (int pass = 0; pass < 2; ++pass) {
    LoadedFrom from;
    std::string problem;
    Attempt attempt = Attempt::kMismatch;
    for (int round = 0; round < kReadRounds && attempt == Attempt::kMismatch; ++round) {
      if (round > 0) {
        waited = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10 << (round - 1)));
        RefreshSaveRecord(model_dir, info);
      }
      attempt = TryLoad(weights, info.weights_hash, net, optimizer, which, average, from, problem);
    }
    if (attempt == Attempt::kLoaded) return done(from, false);
    spdlog::warn("{}: {}", weights.string(), problem);
    for (auto it = info.backups.rbegin(); it != info.backups.rend(); ++it) {
      const fs::path file = model_dir / it->file;
      if (TryLoad(file, it->hash, net, optimizer, which, average, from, problem) == Attempt::kLoaded) {
        return done(from, true);
      }
      spdlog::warn("{}: {}", file.string(), problem);
    }
    // Every file failed. A save that finished meanwhile may have replaced them: once more
    // with the new model.json, else give up.
    if (!RefreshSaveRecord(model_dir, info)) break;
  }
  throw ModelError(model_dir, "no intact weights left (weights.pt and every backup are missing or damaged)");
}

}  // namespace faceswap::model
