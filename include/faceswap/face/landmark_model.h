#pragma once
// Where the 68-point landmark model lives and which dlib we run.

#include <filesystem>
#include <optional>

#include "faceswap/core/versions.h"

namespace faceswap::face {

// Installed by Debian's libdlib-data package.
inline const std::filesystem::path kDefaultLandmarkModel =
    "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";

// The model to use: `override_path` when given, else $FACESWAP_LANDMARK_MODEL, else the
// Debian path. Throws InputError naming the file and the package when it is missing.
std::filesystem::path ResolveLandmarkModel(const std::optional<std::filesystem::path>& override_path = {});

LibraryVersions Versions();

}  // namespace faceswap::face
