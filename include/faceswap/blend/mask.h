#pragma once
// Face masks for blending. OpenCV only: points are plain cv::Point2f so that this module
// needs nothing from face/.

#include <opencv2/core.hpp>
#include <vector>

namespace faceswap::blend {

struct MaskOptions {
  int erode = 0;         // pixels to shrink the hull by (negative grows it)
  int feather = 0;       // Gaussian feather width in pixels (0: hard edge)
  void Check() const;
};

// CV_32FC1 in [0, 1]: the convex hull of `points` (e.g. the 68 landmarks), eroded and
// feathered.
cv::Mat HullMask(const std::vector<cv::Point2f>& points, cv::Size size, const MaskOptions& options);
// The same into `mask`, which must already be CV_32FC1 of the wanted size (a reused buffer).
void HullMaskInto(const std::vector<cv::Point2f>& points, const MaskOptions& options, cv::Mat& mask);

// Combine a landmark mask and a learned mask: their per-pixel minimum.
cv::Mat CombineMasks(const cv::Mat& a, const cv::Mat& b);

}  // namespace faceswap::blend
