#pragma once
// Scratch buffers for per-frame work: a view of a kept buffer that grows when a frame needs
// more room and is reused otherwise, so that faces of slightly different sizes from frame
// to frame do not reallocate (and page-fault) every time.
//
//   cv::Mat roi = core::ScratchView(buffer_, roi_size, CV_32FC3);   // valid until the next call

#include <opencv2/core.hpp>

#include <algorithm>

namespace faceswap::core {

inline cv::Mat ScratchView(cv::Mat& storage, cv::Size size, int type) {
  if (storage.type() != type || storage.cols < size.width || storage.rows < size.height) {
    storage.create(std::max(size.height, storage.type() == type ? storage.rows : 0),
                   std::max(size.width, storage.type() == type ? storage.cols : 0), type);
  }
  return storage(cv::Rect(0, 0, size.width, size.height));
}

}  // namespace faceswap::core
