#include "faceswap/video/versions.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

namespace faceswap::video {
namespace {
std::string Dotted(unsigned v) {
  return std::to_string(AV_VERSION_MAJOR(v)) + "." + std::to_string(AV_VERSION_MINOR(v)) + "." +
         std::to_string(AV_VERSION_MICRO(v));
}
}  // namespace

LibraryVersions Versions() {
  return {
      {"FFmpeg", av_version_info()},
      {"libavformat", Dotted(avformat_version())},
      {"libavcodec", Dotted(avcodec_version())},
      {"libavutil", Dotted(avutil_version())},
      {"libswscale", Dotted(swscale_version())},
      {"libswresample", Dotted(swresample_version())},
  };
}

}  // namespace faceswap::video
