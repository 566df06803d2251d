#pragma once
// Training faces from whatever the user names: videos, images, folders of either, or
// `faceswap extract` output folders. Raw inputs are extracted once into the model
// folder's cache (cache/<identity>/); extract's own bookkeeping re-extracts a changed
// input and skips an unchanged one.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "faceswap/train/face_set.h"

namespace faceswap::train {

struct IdentitySource {
  std::string name;
  std::vector<std::filesystem::path> inputs;
};

struct FaceCacheOptions {
  std::filesystem::path cache_dir;                     // usually <model>/cache
  int threads = 0;
  std::optional<std::filesystem::path> landmark_model;
  std::string face_select = "all";                     // for raw inputs: all | largest | ref:IMAGE
  // Leave face::IsHeldOut faces out of training, for `faceswap eval`.
  bool hold_out = true;
  int max_side = 256;                                  // crops larger than this are shrunk in memory
};

// One FaceSet per source, in order. InputError when an identity ends up with no faces.
std::vector<FaceSet> LoadTrainingFaces(const std::vector<IdentitySource>& sources, const FaceCacheOptions& options);

// Parses "NAME=PATH" (for --identity). UsageError otherwise.
std::pair<std::string, std::filesystem::path> ParseIdentityArgument(const std::string& text);

}  // namespace faceswap::train
