#include "faceswap/core/sharpness.h"

#include <opencv2/imgproc.hpp>

namespace faceswap::core {

double LaplacianVariance(const cv::Mat& bgr, const cv::Mat& mask) {
  if (!mask.empty() && cv::countNonZero(mask) == 0) return 0.0;
  cv::Mat grey, laplacian;
  if (bgr.channels() == 3) {
    cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  } else {
    grey = bgr;
  }
  cv::Laplacian(grey, laplacian, CV_32F, 1);
  cv::Scalar mean, stddev;
  cv::meanStdDev(laplacian, mean, stddev, mask);
  return stddev[0] * stddev[0];
}

double LaplacianVariance(const cv::Mat& bgr) { return LaplacianVariance(bgr, cv::Mat()); }

}  // namespace faceswap::core
