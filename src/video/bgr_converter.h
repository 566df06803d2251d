#pragma once
// Internal: decoded AVFrame (any pixel format) -> upright 8-bit BGR cv::Mat.

#include <opencv2/core.hpp>

#include "ffmpeg_util.h"

namespace faceswap::video::detail {

class BgrConverter {
 public:
  // Converts `frame` to BGR, turned clockwise by `rotation_degrees` (0/90/180/270), into
  // `out`. `out`'s buffer is reused when it has the right size and nobody else holds it;
  // a buffer still shared with an earlier frame is never written over.
  void Convert(const AVFrame* frame, int rotation_degrees, cv::Mat& out);

 private:
  SwsPtr sws_;
  int src_width_ = 0, src_height_ = 0, src_format_ = -1, src_colorspace_ = -1, src_range_ = -1;
  cv::Mat unrotated_;  // scratch for frames that need turning
};

// Makes `mat` an unshared, continuous rows x cols buffer of `type`, reusing it when possible
// (else a buffer from core::FrameBufferAllocator, as frames are made and freed every frame).
void PrepareExclusive(cv::Mat& mat, int rows, int cols, int type = CV_8UC3);

}  // namespace faceswap::video::detail
