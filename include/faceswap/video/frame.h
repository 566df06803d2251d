#pragma once
#include <opencv2/core.hpp>

#include <cstdint>

namespace faceswap::video {

// One decoded picture, upright (display rotation applied), 8-bit BGR.
struct Frame {
  cv::Mat bgr;             // CV_8UC3
  // The picture as the stream stored it, when the Reader was asked to keep it
  // (ReaderOptions::keep_yuv420) and it is upright, limited-range 8-bit 4:2:0 of even size:
  // I420 in one CV_8UC1 Mat of rows * 3 / 2 x cols (Y rows, then U, then V, as OpenCV's
  // COLOR_YUV2BGR_I420 reads it). A video Writer encodes it instead of `bgr`, so pixels
  // nobody changed keep their exact decoded values: whoever changes `bgr` of such a frame
  // must bring the change over (video::Yuv420Converter) or release it.
  cv::Mat yuv420;
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
