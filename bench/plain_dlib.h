#pragma once
// References for the face detector benchmarks: the same work done with dlib directly, as
// its examples do it (the image converted to gray, the HOG detector, the shape predictor),
// without face::Detector's scratch buffers or region-of-interest conversion.

#include <opencv2/core.hpp>

#include <filesystem>
#include <memory>

namespace faceswap::bench {

class PlainDlib {
 public:
  explicit PlainDlib(const std::filesystem::path& landmark_model);
  ~PlainDlib();

  // HOG boxes on `bgr` downscaled so its longer side is at most `max_side` (as the
  // detector does by default). Returns the number of faces found.
  size_t Boxes(const cv::Mat& bgr, int max_side);
  // Boxes, then the 68 landmarks of each at full resolution (the whole frame in gray).
  size_t BoxesAndLandmarks(const cv::Mat& bgr, int max_side);
  // The whole frame in gray, then the 68 landmarks in `box`. Returns landmark 30's x.
  long Landmarks(const cv::Mat& bgr, const cv::Rect2f& box);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faceswap::bench
