#include "faceswap/core/sharpness.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

namespace faceswap::core {
namespace {

TEST(Sharpness, LaplacianVarianceFallsWithBlurAndIsZeroOnFlat) {
  cv::Mat sharp(64, 64, CV_8UC3);
  cv::RNG(3).fill(sharp, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(sharp, sharp, cv::Size(3, 3), 0.7);
  cv::Mat blurred;
  cv::GaussianBlur(sharp, blurred, cv::Size(0, 0), 2.0);
  const cv::Mat all(sharp.size(), CV_8UC1, cv::Scalar(255));
  EXPECT_GT(LaplacianVariance(sharp, all), 4 * LaplacianVariance(blurred, all));
  EXPECT_DOUBLE_EQ(LaplacianVariance(sharp), LaplacianVariance(sharp, all));
  EXPECT_NEAR(LaplacianVariance(cv::Mat(sharp.size(), CV_8UC3, cv::Scalar(90, 90, 90))), 0.0, 1e-9);
  EXPECT_EQ(LaplacianVariance(sharp, cv::Mat::zeros(sharp.size(), CV_8UC1)), 0.0);
}

}  // namespace
}  // namespace faceswap::core
