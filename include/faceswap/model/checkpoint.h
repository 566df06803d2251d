#pragma once
// One checkpoint = network weights + optimiser state + step, and the moving average of the
// weights when training keeps one, in weights.pt, described by model.json. `train` writes
// exactly what `convert` loads: convert and eval draw with the average when it is there.
// Includes LibTorch.
//
// Saving never leaves a half-written file under a used name: the archive and the new
// model.json are written in full to temporary files first (a full disk fails there, with
// the previous save untouched); then weights.pt is renamed into place, a hard link of it
// kept in backups/ (the last K), and model.json, which records every file's hash, renamed
// last. Loading hashes and reads each file from one open descriptor, waits out a save in
// progress, and falls back to the newest good backup with a warning: a reader never gets
// a mix of two saves, and a killed save leaves the last or the previous one loadable.

#include <filesystem>
#include <optional>

#include "faceswap/model/autoencoder.h"
#include "faceswap/model/model_info.h"

namespace faceswap::model {

// Builds the network a ModelInfo describes (preset, identity count), at its current stage.
FaceAutoencoder CreateNetwork(const ModelInfo& info);

// Writes net (and optimizer and the weight average, when given) as `info.iteration`,
// updates `info` (hash, backups, versions, time) and saves model.json. Keeps at most
// `keep_backups` backups.
void SaveCheckpoint(const std::filesystem::path& model_dir, FaceAutoencoder& net,
                    torch::optim::Optimizer* optimizer, ModelInfo& info, int keep_backups,
                    FaceAutoencoder* average = nullptr);

struct LoadedFrom {
  std::filesystem::path file;
  int64_t iteration = 0;
  bool backup = false;       // weights.pt was damaged and a backup was used
  bool has_average = false;  // the file holds a weight average
  bool waited = false;       // weights.pt and model.json disagreed at first: a save was under way
};

// What LoadCheckpoint puts into `net`: the live weights (to train on) or the weights to
// draw with (the average when the file has one, else the live weights).
enum class LoadWeights { kLive, kForDrawing };

// Loads the newest intact weights into net (and optimizer, and the weight average into
// `average` when both are given and the file has one). Sets info.iteration to the loaded
// step. Throws ModelError when no intact file is left.
LoadedFrom LoadCheckpoint(const std::filesystem::path& model_dir, FaceAutoencoder& net,
                          torch::optim::Optimizer* optimizer, ModelInfo& info,
                          LoadWeights which = LoadWeights::kLive, FaceAutoencoder* average = nullptr);

// Deletes what saves cut short by a kill left in a model folder: temporary files, and
// backups that model.json (`info`) no longer lists. Only for the folder's one writer
// (train, which holds its core::FolderLock).
void RemoveSaveLeftovers(const std::filesystem::path& model_dir, const ModelInfo& info);

// Library versions written into model.json.
LibraryVersions ModelLibraryVersions();

}  // namespace faceswap::model
