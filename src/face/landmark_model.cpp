#include "faceswap/face/landmark_model.h"

#include <dlib/revision.h>

#include <cstdlib>
#include <system_error>

#include "faceswap/core/error.h"

namespace faceswap::face {

std::filesystem::path ResolveLandmarkModel(const std::optional<std::filesystem::path>& override_path) {
  std::filesystem::path path = kDefaultLandmarkModel;
  if (override_path) {
    path = *override_path;
  } else if (const char* env = std::getenv("FACESWAP_LANDMARK_MODEL"); env && *env) {
    path = env;
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw InputError(path,
                     "68-point landmark model not found (install Debian's libdlib-data: "
                     "apt-get install libdlib-data, or pass --landmarks FILE)");
  }
  return path;
}

LibraryVersions Versions() {
  return {{"dlib", std::to_string(DLIB_MAJOR_VERSION) + "." + std::to_string(DLIB_MINOR_VERSION) +
                       "." + std::to_string(DLIB_PATCH_VERSION)}};
}

}  // namespace faceswap::face
