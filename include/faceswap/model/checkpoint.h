#pragma once
// One checkpoint = network weights + optimiser state + step, in weights.pt, described by
// model.json. `train` writes exactly what `convert` loads. Includes LibTorch.
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

// Writes net (and optimizer, when given) as `info.iteration`, updates `info` (hash,
// backups, versions, time) and saves model.json. Keeps at most `keep_backups` backups.
void SaveCheckpoint(const std::filesystem::path& model_dir, FaceAutoencoder& net,
                    torch::optim::Optimizer* optimizer, ModelInfo& info, int keep_backups);

struct LoadedFrom {
  std::filesystem::path file;
  int64_t iteration = 0;
  bool backup = false;  // weights.pt was damaged and a backup was used
};

// Loads the newest intact weights into net (and optimizer). Sets info.iteration to the
// loaded step. Throws ModelError when no intact file is left.
LoadedFrom LoadCheckpoint(const std::filesystem::path& model_dir, FaceAutoencoder& net,
                          torch::optim::Optimizer* optimizer, ModelInfo& info);

// Library versions written into model.json.
LibraryVersions ModelLibraryVersions();

}  // namespace faceswap::model
