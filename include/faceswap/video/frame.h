#pragma once
#include <opencv2/core.hpp>

#include <cstdint>

namespace faceswap::video {

// One decoded picture, upright (display rotation applied), 8-bit BGR.
struct Frame {
  cv::Mat bgr;             // CV_8UC3
  int64_t index = 0;       // 0-based position in decode order after seeking
  int64_t pts = 0;         // presentation timestamp in the stream's time base
  double seconds = 0.0;    // the same timestamp in seconds from the stream start
};

// A rational number like FFmpeg's AVRational, without pulling FFmpeg into public headers.
struct Rational {
  int num = 0;
  int den = 1;
  double value() const { return den ? static_cast<double>(num) / den : 0.0; }
};

}  // namespace faceswap::video
