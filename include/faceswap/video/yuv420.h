#pragma once
// Brings changes of a frame's BGR picture over to its kept 4:2:0 picture (Frame::yuv420),
// region by region, with the matrix and range the Writer uses for whole frames. convert
// rewrites only the faces, so only their regions are converted back: the rest of the frame
// keeps the decoded pixels exactly, and the encoder is not fed a BGR round trip's rounding
// noise (13% more bits and x264 time on the shared clips, measured with the ffmpeg program).

#include <opencv2/core.hpp>

#include <memory>
#include <string>

namespace faceswap::video {

class Yuv420Converter {
 public:
  // `color_space`: the stream's (MediaInfo::color_space; empty: unspecified, BT.601).
  explicit Yuv420Converter(const std::string& color_space);
  ~Yuv420Converter();
  Yuv420Converter(Yuv420Converter&&) noexcept;
  Yuv420Converter& operator=(Yuv420Converter&&) noexcept;

  // Converts `region` of `bgr` (CV_8UC3, full range as the Reader gives it) into the same
  // pixels of `yuv420` (Frame::yuv420 of a frame of bgr's size, limited range). The region
  // is grown to even bounds, as 4:2:0 chroma covers 2x2 pixels, and cut to the frame.
  // Throws std::invalid_argument when the two pictures do not match in size.
  void Convert(const cv::Mat& bgr, cv::Rect region, cv::Mat& yuv420);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faceswap::video
