#include "faceswap/core/warp.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>

#include "test_support.h"

namespace faceswap::core {
namespace {

cv::Matx23d Similarity(double scale, double degrees, double tx, double ty) {
  const double a = degrees * CV_PI / 180.0;
  return {scale * std::cos(a), -scale * std::sin(a), tx, scale * std::sin(a), scale * std::cos(a), ty};
}

double MaxDifference(const cv::Mat& a, const cv::Mat& b) {
  double most = 0;
  cv::Mat d;
  cv::absdiff(a, b, d);
  cv::minMaxLoc(d.reshape(1), nullptr, &most);
  return most;
}

// OpenCV's cubic warp is the reference: the same kernel, OpenCV rounding positions to 1/32 of
// a pixel where WarpAffineCubic does not, so a few grey levels apart at most; on a real face
// at the scales and turns convert warps faces by, including output reaching past the picture
// (the edge replicated) on two sides.
TEST(WarpAffineCubic, MatchesOpenCvsCubicWarpOnARealFace) {
  FACESWAP_REQUIRE_SAMPLE(path, "images/obama-1080p.jpg");
  const cv::Mat photo = cv::imread(path.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(photo.empty()) << path;
  const cv::Mat face = photo(cv::Rect(760, 140, 300, 300)).clone();
  for (const double scale : {0.7, 1.0, 1.4, 1.9}) {
    for (const double degrees : {0.0, 7.0, -25.0}) {
      const cv::Matx23d m = Similarity(scale, degrees, -20.3, 15.7);
      const cv::Size size(static_cast<int>(300 * scale), static_cast<int>(300 * scale) + 13);
      cv::Mat ours, reference;
      WarpAffineCubic(face, ours, m, size);
      cv::warpAffine(face, reference, m, size, cv::INTER_CUBIC, cv::BORDER_REPLICATE);
      ASSERT_EQ(ours.size(), size);
      ASSERT_EQ(ours.type(), CV_8UC3);
      EXPECT_GE(cv::PSNR(ours, reference), 50.0) << "scale " << scale << ", " << degrees << " degrees";
      EXPECT_LE(MaxDifference(ours, reference), 8.0) << "scale " << scale << ", " << degrees << " degrees";
    }
  }
}

// A whole-pixel shift moves every pixel unchanged (the kernel is 1 at the tap, 0 at the
// others), edge pixels replicated beyond the picture.
TEST(WarpAffineCubic, WholePixelShiftCopiesPixels) {
  cv::Mat picture(61, 83, CV_8UC3);
  cv::RNG(7).fill(picture, cv::RNG::UNIFORM, 0, 256);
  cv::Mat shifted;
  WarpAffineCubic(picture, shifted, cv::Matx23d(1, 0, 5, 0, 1, -3), picture.size());
  cv::Mat expected;
  cv::copyMakeBorder(picture, expected, 0, 3, 5, 0, cv::BORDER_REPLICATE);
  expected = expected(cv::Rect(0, 3, picture.cols, picture.rows));
  EXPECT_EQ(cv::norm(shifted, expected, cv::NORM_INF), 0.0);
}

// Pictures other than 8-bit BGR are OpenCV's warp, unchanged; a warped picture written into
// an existing one of the right size reuses its pixels.
TEST(WarpAffineCubic, OtherPicturesAreOpenCvsAndOutputIsReused) {
  cv::Mat gray(40, 50, CV_8UC1), color(40, 50, CV_8UC3);
  cv::RNG(9).fill(gray, cv::RNG::UNIFORM, 0, 256);
  cv::RNG(9).fill(color, cv::RNG::UNIFORM, 0, 256);
  const cv::Matx23d m = Similarity(1.3, 11.0, 2.5, -4.25);
  cv::Mat ours, reference;
  WarpAffineCubic(gray, ours, m, {45, 47});
  cv::warpAffine(gray, reference, m, {45, 47}, cv::INTER_CUBIC, cv::BORDER_REPLICATE);
  EXPECT_EQ(cv::norm(ours, reference, cv::NORM_INF), 0.0);

  cv::Mat target(47, 45, CV_8UC3, cv::Scalar(1, 2, 3));
  const uchar* before = target.data;
  WarpAffineCubic(color, target, m, {45, 47});
  EXPECT_EQ(target.data, before);
  cv::warpAffine(color, reference, m, {45, 47}, cv::INTER_CUBIC, cv::BORDER_REPLICATE);
  EXPECT_GE(cv::PSNR(target, reference), 45.0);  // noise: the worst case for position rounding
}

}  // namespace
}  // namespace faceswap::core
