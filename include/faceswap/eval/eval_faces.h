#pragma once
// Which faces `faceswap eval` measures on: faces the model never trained on.
//
// train records in model.json the extract folders each identity's faces came from and
// skips the faces face::IsHeldOut picks. For an identity given no inputs, eval takes the
// held-out faces of those folders. Inputs the user names are used like this:
//   - an extract folder (or a clip extracted into one) that the model trained on: only its
//     held-out faces;
//   - anything else: all its faces; clips, images and image folders are extracted first,
//     into <model>/eval-cache/<identity>/ (reused by the next eval).

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "faceswap/eval/evaluate.h"
#include "faceswap/model/model_info.h"

namespace faceswap::eval {

struct EvalFacesOptions {
  std::filesystem::path model_dir;
  std::map<std::string, std::vector<std::filesystem::path>> inputs;  // by identity name
  // At most this many faces per identity, as whole runs spread over the inputs; 0: all.
  int max_faces = 200;
  std::string face_select = "all";  // for inputs extracted here, as train's --face-select
  int threads = 0;
  std::optional<std::filesystem::path> landmark_model;
  void Check() const;  // UsageError
};

// One IdentityFaces per identity of `info`, in its order. `description` says where the
// faces came from, for the report. UsageError when the model does not record its training
// faces and no inputs were named; InputError when an identity ends up with no faces.
std::vector<IdentityFaces> LoadEvalFaces(const model::ModelInfo& info, const EvalFacesOptions& options,
                                         std::string* description = nullptr);

}  // namespace faceswap::eval
