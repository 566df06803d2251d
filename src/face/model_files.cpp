#include "faceswap/face/model_files.h"

#include <dlib/revision.h>

#include <cstdlib>
#include <system_error>

#include "faceswap/core/error.h"
#include "faceswap/face/versions.h"

namespace fs = std::filesystem;

namespace faceswap::face {
namespace {

constexpr const char* kFetch =
    "fetch it with scripts/fetch_models.sh from the faceswap sources, "
    "or download FILE.bz2 from http://dlib.net/files/ and unpack it into CACHE";

std::string HowToGet(const ModelFileSpec& spec) {
  std::string text = spec.get_it;
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"FILE", spec.name},
                                   std::pair<std::string, std::string>{"CACHE", ModelCacheDir().string()}}) {
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size())) {
      text.replace(at, key.size(), value);
    }
  }
  return text;
}

}  // namespace

const std::vector<ModelFileSpec>& ModelFileSpecs() {
  // Sizes of the files in Debian 12: libdlib-data 19.24 and dlib_19.24+dfsg.orig-dlib-models.tar.bz2.
  static const std::vector<ModelFileSpec> specs = {
      {ModelFile::kLandmarks68, "shape_predictor_68_face_landmarks.dat", "68-point landmarks (iBUG 300-W)", 99693937,
       "FACESWAP_LANDMARK_MODEL",
       "install Debian's libdlib-data (apt-get install libdlib-data), pass --landmarks FILE, "
       "or download FILE.bz2 from http://dlib.net/files/ and unpack it into CACHE"},
      {ModelFile::kFaceRecognition, "dlib_face_recognition_resnet_model_v1.dat",
       "face recognition ResNet (128-D descriptors)", 22466066, nullptr, kFetch},
      {ModelFile::kCnnDetector, "mmod_human_face_detector.dat", "CNN face detector (MMOD)", 729940, nullptr, kFetch},
  };
  return specs;
}

const ModelFileSpec& SpecOf(ModelFile file) { return ModelFileSpecs().at(static_cast<size_t>(file)); }

fs::path ModelCacheDir() {
  if (const char* dir = std::getenv("FACESWAP_MODELS"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "faceswap" / "models";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "faceswap" / "models";
  return fs::path(".cache") / "faceswap" / "models";
}

std::vector<fs::path> ModelSearchDirs() { return {ModelCacheDir(), "/usr/share/dlib"}; }

ModelFileStatus CheckModelFile(ModelFile file, const std::optional<fs::path>& explicit_path) {
  ModelFileStatus status;
  status.spec = &SpecOf(file);
  const ModelFileSpec& spec = *status.spec;
  std::error_code ec;
  const char* env = spec.env ? std::getenv(spec.env) : nullptr;
  if (explicit_path) {
    status.path = *explicit_path;
  } else if (env && *env) {
    status.path = env;
  } else {
    std::string looked;
    for (const fs::path& dir : ModelSearchDirs()) {
      if (fs::is_regular_file(dir / spec.name, ec)) {
        status.path = dir / spec.name;
        break;
      }
      looked += (looked.empty() ? "" : ", ") + dir.string();
    }
    if (status.path.empty()) {
      status.path = spec.name;
      status.problem = std::string(spec.purpose) + " not found in " + looked + "; " + HowToGet(spec);
      return status;
    }
  }
  if (!fs::is_regular_file(status.path, ec)) {
    status.problem = std::string(spec.purpose) + " not found; " + HowToGet(spec);
    return status;
  }
  // Another size is allowed for an explicitly named file (a retrained model); a file found
  // by name must be the one this build was written for.
  const uint64_t size = fs::file_size(status.path, ec);
  if (!explicit_path && !(env && *env) && size != spec.size) {
    status.problem = std::string(spec.purpose) + ": " + std::to_string(size) + " bytes, expected " +
                     std::to_string(spec.size) + " (damaged or a different file); " + HowToGet(spec);
  }
  return status;
}

fs::path ResolveModelFile(ModelFile file, const std::optional<fs::path>& explicit_path) {
  const ModelFileStatus status = CheckModelFile(file, explicit_path);
  if (!status.problem.empty()) throw InputError(status.path, status.problem);
  return status.path;
}

LibraryVersions Versions() {
  return {{"dlib", std::to_string(DLIB_MAJOR_VERSION) + "." + std::to_string(DLIB_MINOR_VERSION) + "." +
                       std::to_string(DLIB_PATCH_VERSION)}};
}

}  // namespace faceswap::face
