#pragma once
// Every network file faceswap reads but does not ship, found in one place.
//
//   68-point landmarks       Debian's libdlib-data (/usr/share/dlib)
//   face recognition ResNet  \ dlib's CC0 models tarball in Debian's dlib *source* package,
//   CNN face detector        / fetched by scripts/fetch_models.sh into ModelCacheDir()
//
// A file is looked for at an explicit path (a command-line option), then at its
// environment variable (if it has one), then in ModelCacheDir() and /usr/share/dlib.
// A missing or damaged file gives one error line that says how to get it.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace faceswap::face {

enum class ModelFile { kLandmarks68, kFaceRecognition, kCnnDetector };

struct ModelFileSpec {
  ModelFile file;
  const char* name;     // file name as dlib.net and Debian ship it
  const char* purpose;  // one line for `faceswap info`
  uint64_t size;        // bytes: a cheap check against truncated or different files
  const char* env;      // environment variable naming another copy, or nullptr
  const char* get_it;   // how to get it, for the error message
};

// All of them, in ModelFile order.
const std::vector<ModelFileSpec>& ModelFileSpecs();
const ModelFileSpec& SpecOf(ModelFile file);

// $FACESWAP_MODELS, else $XDG_CACHE_HOME/faceswap/models, else ~/.cache/faceswap/models.
std::filesystem::path ModelCacheDir();
// The folders searched after the explicit path and the environment variable.
std::vector<std::filesystem::path> ModelSearchDirs();

struct ModelFileStatus {
  const ModelFileSpec* spec = nullptr;
  std::filesystem::path path;  // where it is, or where it was expected
  std::string problem;         // empty: usable
};

// Where `file` is and whether it is usable; never throws.
ModelFileStatus CheckModelFile(ModelFile file, const std::optional<std::filesystem::path>& explicit_path = {});

// The usable path of `file`; InputError "path: problem (how to get it)" otherwise.
std::filesystem::path ResolveModelFile(ModelFile file, const std::optional<std::filesystem::path>& explicit_path = {});

}  // namespace faceswap::face
