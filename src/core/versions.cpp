#include "faceswap/core/versions.h"

#include <nlohmann/json.hpp>
#include <opencv2/core/version.hpp>
#include <spdlog/version.h>

namespace faceswap::core {

LibraryVersions Versions() {
  auto dotted = [](int a, int b, int c) {
    return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c);
  };
  return {
      {"OpenCV", CV_VERSION},
      {"spdlog", dotted(SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH)},
      {"nlohmann_json", dotted(NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
                               NLOHMANN_JSON_VERSION_PATCH)},
  };
}

}  // namespace faceswap::core
