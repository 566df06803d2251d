#pragma once
// model.json: what a model folder holds, in a form a person can read.
//
// The weights and optimiser state live next to it in weights.pt (see checkpoint.h);
// model.json is rewritten atomically with every save.

#include <cstdint>
#include <filesystem>
#include <istream>
#include <string>
#include <vector>

#include "faceswap/core/versions.h"

namespace faceswap::model {

inline constexpr int kModelInfoVersion = 1;
inline constexpr const char* kModelInfoFile = "model.json";
inline constexpr const char* kWeightsFile = "weights.pt";

// A saved copy of the weights kept so that a damaged weights.pt is never the only one.
struct Backup {
  std::string file;       // relative to the model folder, e.g. "backups/weights-000500.pt"
  int64_t iteration = 0;
  std::string hash;       // FNV-1a 64 of the file, hex
};

// The extract folders one identity's training faces were read from. Training skipped the
// faces in them that face::IsHeldOut picks; `faceswap eval` measures on those.
struct TrainingFaces {
  std::string identity;
  std::vector<std::string> folders;  // absolute
};

// The mean face-recognition descriptor (face/identity.h) of one identity's training faces:
// convert uses it to swap only that person's faces. Stored as plain numbers here (model
// does not depend on face).
struct IdentityDescriptor {
  std::string identity;
  std::vector<float> mean;  // 128 values
  int64_t faces = 0;        // described faces it is the mean of
};

struct ModelInfo {
  int version = kModelInfoVersion;
  std::string preset;
  int resolution = 0;                    // final resolution of the preset
  std::vector<std::string> identities;   // decoder i draws identities[i]
  int64_t iteration = 0;                 // optimiser steps taken
  int64_t stage_iterations = 0;          // progressive presets: steps per resolution stage
  // Whether the model has an occlusion network (model/occlusion_net.h): models trained with
  // --occluders above 0; model.json files written before it lack the field.
  bool occlusion_mask = false;
  // Alignment the faces were cropped with; convert must crop the same way.
  std::string alignment_template;
  double coverage = 0.0;
  std::string weights_hash;              // FNV-1a 64 of weights.pt, hex; detects corruption
  std::vector<Backup> backups;           // oldest first
  LibraryVersions libraries;             // what wrote the last save
  std::string updated;                   // UTC ISO-8601 time of the last save
  std::vector<TrainingFaces> training_faces;  // as of the last run of train
  std::string holdout_rule;              // face::kHoldoutRule when faces were held out, else empty
  std::vector<IdentityDescriptor> descriptors;  // one per identity, or none (no network at training)
  // The training recipe of the last run (option -> value as text), e.g. "precision": "bf16",
  // "identity_weight": "0.2"; eval warns when its judge also trained the model.
  std::vector<std::pair<std::string, std::string>> recipe;
  std::string RecipeValue(const std::string& key) const;  // "" when absent

  int IdentityIndex(const std::string& name) const;  // -1 when absent
  // The descriptor of each identity in identity order, or empty when any is missing.
  std::vector<std::vector<float>> IdentityMeans() const;
};

// Throws ModelError naming the file: missing, not JSON, wrong version, missing fields.
ModelInfo LoadModelInfo(const std::filesystem::path& model_dir);
// The same from model.json's text; `file` is what the errors name.
ModelInfo ParseModelInfo(const std::string& text, const std::filesystem::path& file);
// Atomic (temp file + rename).
void SaveModelInfo(const std::filesystem::path& model_dir, const ModelInfo& info);
// The text SaveModelInfo writes.
std::string ModelInfoText(const ModelInfo& info);

// A backup's name as model.json records it: "backups/weights-<digits>.pt".
bool IsBackupName(const std::string& file);

// 64-bit FNV-1a hash of a file's bytes as 16 hex digits; InputError when unreadable.
std::string HashFile(const std::filesystem::path& file);
// The same of what is left to read in `in`.
std::string HashStream(std::istream& in);

}  // namespace faceswap::model
