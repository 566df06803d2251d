#pragma once
#include "faceswap/core/versions.h"

namespace faceswap::video {
// FFmpeg's release and the versions of the libav* libraries actually loaded.
LibraryVersions Versions();
}  // namespace faceswap::video
