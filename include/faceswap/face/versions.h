#pragma once
#include "faceswap/core/versions.h"

namespace faceswap::face {
// The dlib this build runs.
LibraryVersions Versions();
}  // namespace faceswap::face
