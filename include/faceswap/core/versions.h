#pragma once
// Each module reports the versions of the libraries it wraps, for `faceswap info` and
// for the model.json that records what a model was trained with.

#include <string>
#include <utility>
#include <vector>

namespace faceswap {

using LibraryVersions = std::vector<std::pair<std::string, std::string>>;  // name, version

namespace core {
// OpenCV, spdlog, CLI11 is header-only and reported by the CLI itself.
LibraryVersions Versions();
}  // namespace core

}  // namespace faceswap
