#include "faceswap/blend/color_evidence.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.h"

namespace faceswap::blend {
namespace {

// A real face (the shared photo's, 128 px) with a patch pasted over its left cheek, and a
// mask as the model gives one: surely covered on the patch's left half, doubtful (0.5) on
// its right half and on a strip of the visible face far from it, surely face elsewhere.
struct Scene {
  cv::Mat image, region, mask;
  cv::Rect sure_cover{24, 50, 14, 40}, doubtful_cover{38, 50, 14, 40}, doubtful_face{80, 40, 14, 40};
};

Scene MakeScene(const cv::Mat& photo, const cv::Mat& patch) {
  Scene s;
  cv::resize(photo(cv::Rect(photo.cols / 2 - 200, 80, 400, 400)), s.image, cv::Size(128, 128), 0, 0, cv::INTER_AREA);
  const cv::Rect cover(24, 50, 28, 40);
  cv::resize(patch, s.image(cover), cover.size(), 0, 0, cv::INTER_AREA);
  s.region = cv::Mat::zeros(s.image.size(), CV_8UC1);
  cv::ellipse(s.region, cv::Point(64, 68), cv::Size(44, 54), 0, 0, 360, cv::Scalar(255), cv::FILLED);
  s.mask = cv::Mat::ones(s.image.size(), CV_32FC1);
  s.mask(s.sure_cover).setTo(0.0f);
  s.mask(s.doubtful_cover).setTo(0.5f);
  s.mask(s.doubtful_face).setTo(0.5f);
  return s;
}

double MeanIn(const cv::Mat& mask, const cv::Rect& r) { return cv::mean(mask(r))[0]; }

TEST(DecideByColor, AColourTheFaceLacksIsCoveredAndTheFacesColourLeansToFace) {
  FACESWAP_REQUIRE_SAMPLE(file, "images/obama-1080p.jpg");
  const cv::Mat photo = cv::imread(file.string());
  Scene s = MakeScene(photo, photo(cv::Rect(1150, 650, 100, 140)));  // the dark blue suit
  ColorScratch scratch;
  DecideByColor(s.mask, s.image, s.region, scratch);
  EXPECT_LT(MeanIn(s.mask, s.doubtful_cover), 0.2);
  EXPECT_GT(MeanIn(s.mask, s.doubtful_face), 0.6);  // odds of at most 2.7:1 for the face's colours
  // What the mask was sure of stays.
  EXPECT_EQ(MeanIn(s.mask, s.sure_cover), 0.0);
  EXPECT_EQ(cv::countNonZero(s.mask(cv::Rect(60, 90, 20, 20)) != 1.0f), 0);
}

TEST(DecideByColor, ASkinColouredCoverIsLeftToTheMask) {
  FACESWAP_REQUIRE_SAMPLE(file, "images/obama-1080p.jpg");
  const cv::Mat photo = cv::imread(file.string());
  // The cover is a piece of the same face's skin (forehead and cheek): colour cannot tell.
  Scene s = MakeScene(photo, photo(cv::Rect(photo.cols / 2 - 60, 200, 70, 100)));
  const cv::Mat before = s.mask.clone();
  ColorScratch scratch;
  DecideByColor(s.mask, s.image, s.region, scratch);
  EXPECT_GT(MeanIn(s.mask, s.doubtful_cover), 0.2);
  EXPECT_LT(MeanIn(s.mask, s.doubtful_cover), 0.8);
  EXPECT_EQ(cv::norm(s.mask(s.sure_cover), before(s.sure_cover), cv::NORM_INF), 0.0);
}

TEST(DecideByColor, NothingSurelyCoveredChangesNothing) {
  FACESWAP_REQUIRE_SAMPLE(file, "images/obama-1080p.jpg");
  const cv::Mat photo = cv::imread(file.string());
  Scene s = MakeScene(photo, photo(cv::Rect(1150, 650, 100, 140)));
  s.mask(s.sure_cover).setTo(0.5f);  // the model is sure of no cover: nothing to learn it from
  const cv::Mat before = s.mask.clone();
  ColorScratch scratch;
  DecideByColor(s.mask, s.image, s.region, scratch);
  EXPECT_EQ(cv::norm(s.mask, before, cv::NORM_INF), 0.0);
}

}  // namespace
}  // namespace faceswap::blend
