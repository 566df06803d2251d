#include "faceswap/blend/occluder.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdlib>

#include "test_support.h"

namespace faceswap::blend {
namespace {

// A face-sized ellipse in the middle of a 128 px picture.
cv::Mat FaceRegion() {
  cv::Mat face = cv::Mat::zeros(128, 128, CV_32FC1);
  cv::ellipse(face, cv::Point(64, 68), cv::Size(40, 50), 0, 0, 360, cv::Scalar(1.0), cv::FILLED);
  return face;
}

TEST(Occluder, CoversPartOfTheFaceAndLeavesTheRestUntouched) {
  FACESWAP_REQUIRE_SAMPLE(file, "images/obama-1080p.jpg");
  const cv::Mat photo = cv::imread(file.string());
  cv::Mat picture;
  cv::resize(photo(cv::Rect(photo.cols / 2 - 200, 80, 400, 400)), picture, cv::Size(128, 128), 0, 0, cv::INTER_AREA);
  const cv::Mat face = FaceRegion();
  const double face_pixels = cv::countNonZero(face);
  std::vector<cv::Mat> tiles;
  double smallest = 1.0, largest = 0.0;
  for (int seed = 1; seed <= 64; ++seed) {
    cv::Mat image = picture.clone();
    cv::RNG rng(static_cast<uint64_t>(seed));
    const cv::Mat coverage = PasteOccluder(image, face, seed % 2 ? photo : cv::Mat(), rng);
    ASSERT_EQ(coverage.type(), CV_32FC1);
    ASSERT_EQ(coverage.size(), image.size());
    double lo = 0, hi = 0;
    cv::minMaxLoc(coverage, &lo, &hi);
    EXPECT_GE(lo, 0.0);
    EXPECT_LE(hi, 1.0 + 1e-6);
    // Every occluder covers some of the face, none all of the picture.
    const double on_face = cv::countNonZero((coverage > 0.5f) & (face > 0.5f)) / face_pixels;
    EXPECT_GT(on_face, 0.0) << "seed " << seed;
    smallest = std::min(smallest, on_face);
    largest = std::max(largest, on_face);
    // Pixels it does not cover keep their values exactly.
    cv::Mat diff;
    cv::absdiff(image, picture, diff);
    cv::Mat changed;
    cv::cvtColor(diff, changed, cv::COLOR_BGR2GRAY);
    EXPECT_EQ(cv::countNonZero((changed > 0) & (coverage == 0.0f)), 0) << "seed " << seed;
    // The same seed draws the same occluder.
    cv::Mat again = picture.clone();
    cv::RNG same(static_cast<uint64_t>(seed));
    PasteOccluder(again, face, seed % 2 ? photo : cv::Mat(), same);
    EXPECT_EQ(cv::norm(again, image, cv::NORM_INF), 0.0);
    tiles.push_back(image);
  }
  // Thin strands and bars cover little, hands and blobs a lot.
  EXPECT_LT(smallest, 0.1);
  EXPECT_GT(largest, 0.3);
  // FACESWAP_OCCLUDER_SHEET=FILE.png: the 64 occluded pictures in one sheet, to look at.
  if (const char* sheet = std::getenv("FACESWAP_OCCLUDER_SHEET")) {
    std::vector<cv::Mat> rows;
    for (size_t r = 0; r < 8; ++r) {
      cv::Mat row;
      cv::hconcat(std::vector<cv::Mat>(tiles.begin() + static_cast<long>(r * 8), tiles.begin() + static_cast<long>(r * 8 + 8)), row);
      rows.push_back(row);
    }
    cv::Mat all;
    cv::vconcat(rows, all);
    cv::imwrite(sheet, all);
  }
}

TEST(Occluder, RejectsAFaceMaskOfAnotherSize) {
  cv::Mat image(64, 64, CV_8UC3, cv::Scalar::all(128));
  cv::RNG rng(1);
  EXPECT_ANY_THROW(PasteOccluder(image, FaceRegion(), cv::Mat(), rng));
}

}  // namespace
}  // namespace faceswap::blend
