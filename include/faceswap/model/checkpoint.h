#pragma once
// One checkpoint = network weights + optimiser state + step, and the moving average of the
// weights when training keeps one, in weights.pt, described by model.json. `train` writes
// exactly what `convert` loads: convert and eval draw with the average when it is there.
// Includes LibTorch.
//
// Saving never leaves a half-written file under a used name: the archive is written to a
// temporary file, hashed and renamed; a hard link of it is kept in backups/ (the last K);
// model.json, rewritten atomically last, records every file's hash. Loading checks the
// hash and falls back to the newest good backup with a warning.

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

// Library versions written into model.json.
LibraryVersions ModelLibraryVersions();

}  // namespace faceswap::model
