// The compositor's trust in the landmarks over the model's mask: a patch that the mask
// calls covered but that lies wholly inside an eye's or the mouth's region is the model's
// own drawing of it, and is kept as face; one that reaches past it is something in front.
// Along the hull's edge the landmarks say where the face is, but not through something that
// covers the face just inside it. A lowered part of the mask without a sizable core that
// the mask is sure of is the model's drawing too.

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <vector>

#include "faceswap/blend/mask.h"
#include "faceswap/face/align.h"
#include "faceswap/pipeline/composite.h"

namespace faceswap::pipeline {
namespace {

constexpr int kSide = 64;  // lite's crop

// The mean face's landmarks in a 64 px crop (the jaw, which the check does not use, at the
// crop's centre).
face::Landmarks MeanFaceInCrop() {
  face::AlignOptions options;
  options.size = kSide;
  face::Landmarks points;
  for (int i = 0; i < 68; ++i) {
    points[i] = i < face::kTemplateFirst ? cv::Point2f(kSide / 2.0f, kSide / 2.0f)
                                        : cv::Point2f(face::TemplatePointInCrop(i, options));
  }
  return points;
}

cv::Mat MaskWithHole(const cv::Point& centre, int radius) {
  cv::Mat mask(kSide, kSide, CV_32FC1, cv::Scalar(1.0));
  cv::circle(mask, centre, radius, cv::Scalar(0.0), cv::FILLED);
  return mask;
}

TEST(KeepFeaturesDrawn, PatchesInsideAnEyeOrTheMouthAreTheModelsDrawing) {
  const face::Landmarks points = MeanFaceInCrop();
  face::AlignOptions options;
  options.size = kSide;
  const cv::Point eye(face::TemplateRightEyeInCrop(options)), mouth((points[48] + points[54]) * 0.5f);
  FeatureScratch scratch;
  for (const cv::Point& centre : {eye, mouth}) {
    cv::Mat mask = MaskWithHole(centre, 2);
    KeepFeaturesDrawn(mask, points, scratch);
    EXPECT_EQ(cv::countNonZero(mask < 0.5f), 0) << "hole at " << centre;

    // With the soft fringe a mask has around such a patch: the fringe goes too (it would
    // leave a ring of the source's eye or lip), and nothing else changes.
    cv::Mat soft(kSide, kSide, CV_32FC1, cv::Scalar(1.0));
    cv::circle(soft, centre, 3, cv::Scalar(0.7), cv::FILLED);
    cv::circle(soft, centre, 2, cv::Scalar(0.0), cv::FILLED);
    KeepFeaturesDrawn(soft, points, scratch);
    EXPECT_EQ(cv::countNonZero(soft != 1.0f), 0) << "fringed hole at " << centre;
  }
}

TEST(KeepFeaturesDrawn, WhatReachesPastThemStaysCovered) {
  const face::Landmarks points = MeanFaceInCrop();
  face::AlignOptions options;
  options.size = kSide;
  const cv::Point eye(face::TemplateRightEyeInCrop(options));
  FeatureScratch scratch;

  // A bar across the eye, out to the crop's edge: all of it stays covered, over the eye too.
  cv::Mat bar(kSide, kSide, CV_32FC1, cv::Scalar(1.0));
  cv::line(bar, {0, eye.y}, {kSide - 1, eye.y}, cv::Scalar(0.0), 3);
  const int covered = cv::countNonZero(bar < 0.5f);
  KeepFeaturesDrawn(bar, points, scratch);
  EXPECT_EQ(cv::countNonZero(bar < 0.5f), covered);
  EXPECT_LT(bar.at<float>(eye.y, eye.x), 0.5f);

  // With a one-pixel hole just below it in the eye: the hole goes, and its fringe stops at
  // the bar.
  bar.at<float>(eye.y + 4, eye.x) = 0.0f;
  KeepFeaturesDrawn(bar, points, scratch);
  EXPECT_EQ(bar.at<float>(eye.y + 4, eye.x), 1.0f);
  EXPECT_EQ(cv::countNonZero(bar < 0.5f), covered);

  // A patch on the forehead, far from the eyes and the mouth.
  cv::Mat forehead = MaskWithHole({kSide / 2, 4}, 3);
  const int patch = cv::countNonZero(forehead < 0.5f);
  KeepFeaturesDrawn(forehead, points, scratch);
  EXPECT_EQ(cv::countNonZero(forehead < 0.5f), patch);

  // Nothing covered: nothing changes.
  cv::Mat clear(kSide, kSide, CV_32FC1, cv::Scalar(0.8));
  KeepFeaturesDrawn(clear, points, scratch);
  EXPECT_EQ(cv::countNonZero(clear != 0.8f), 0);
}

TEST(DropUnsureCovers, SpecksAndUnsurePatchesAreFaceASureCoverKeepsItsRim) {
  const int min_core = static_cast<int>(std::ceil(kMinSureCore * kSide * kSide));
  CoverScratch scratch;
  cv::Mat mask(kSide, kSide, CV_32FC1, cv::Scalar(1.0));
  // A cover: a sure core well over the minimum, with an unsure rim around it.
  cv::circle(mask, {20, 40}, 9, cv::Scalar(0.6), cv::FILLED);
  cv::circle(mask, {20, 40}, 6, cv::Scalar(0.0), cv::FILLED);
  ASSERT_GT(cv::countNonZero(mask < kSureCovered), min_core);
  const cv::Mat cover = mask.clone();
  // A sure speck under the minimum, and a wide patch the mask is unsure of, both apart from it.
  cv::Mat with_others = mask.clone();
  cv::circle(with_others, {48, 12}, 2, cv::Scalar(0.0), cv::FILLED);
  ASSERT_LT(cv::countNonZero(with_others < kSureCovered) - cv::countNonZero(cover < kSureCovered), min_core);
  cv::rectangle(with_others, cv::Rect(40, 34, 14, 14), cv::Scalar(0.3), cv::FILLED);
  DropUnsureCovers(with_others, scratch);
  EXPECT_EQ(cv::countNonZero(with_others != cover), 0);

  // A core just under the minimum is dropped with its rim; at the minimum it stays.
  for (const int core : {min_core - 1, min_core}) {
    cv::Mat patch(kSide, kSide, CV_32FC1, cv::Scalar(1.0));
    cv::rectangle(patch, cv::Rect(10, 10, 20, 20), cv::Scalar(0.5), cv::FILLED);
    for (int i = 0; i < core; ++i) patch.at<float>(12 + i / 16, 12 + i % 16) = 0.0f;
    const cv::Mat before = patch.clone();
    DropUnsureCovers(patch, scratch);
    if (core < min_core) {
      EXPECT_EQ(cv::countNonZero(patch != 1.0f), 0) << core;
    } else {
      EXPECT_EQ(cv::countNonZero(patch != before), 0) << core;
    }
  }
}

TEST(PrepareModelMask, TheHullsEdgeIsFaceOnlyWhereTheFaceInsideItIs) {
  const face::Landmarks points = MeanFaceInCrop();
  face::AlignedFace aligned;
  aligned.crop = cv::Mat(kSide, kSide, CV_8UC3, cv::Scalar(120, 140, 190));
  aligned.crop_points = points;
  const std::vector<cv::Point2f> hull_points(points.begin(), points.end());
  cv::Mat inside(kSide, kSide, CV_32FC1), core(kSide, kSide, CV_32FC1);
  blend::HullMaskInto(hull_points, {}, inside);
  blend::HullMaskInto(hull_points, {static_cast<int>(std::lround(kHullEdgeBand * kSide)), 0}, core);
  const cv::Mat band = (inside > 0.5f) & ~(core > 0.5f);
  ASSERT_GT(cv::countNonZero(band), 20);
  ModelMaskScratch scratch;

  // The model's blurred guess at the face's outline, a ring of "covered" outside the core:
  // on the band the hull's edge wins.
  cv::Mat ring(kSide, kSide, CV_32FC1, cv::Scalar(1.0));
  ring.setTo(0.0f, ~(core > 0.5f));
  PrepareModelMask(ring, aligned, scratch);
  EXPECT_EQ(cv::countNonZero(band & (ring < 0.5f)), 0);

  // A bar reaching in from the crop's left edge to the nose (a finger, a microphone): it
  // stays covered across the band too, not cut by a stripe of face.
  const cv::Point nose(points[30]);
  cv::Mat bar(kSide, kSide, CV_32FC1, cv::Scalar(1.0));
  cv::line(bar, {0, nose.y}, nose, cv::Scalar(0.0), 5);
  const cv::Mat bar_on_band = band & (bar < 0.5f);
  ASSERT_GT(cv::countNonZero(bar_on_band), 0);
  PrepareModelMask(bar, aligned, scratch);
  EXPECT_EQ(cv::countNonZero(bar_on_band & (bar < 0.5f)), cv::countNonZero(bar_on_band));
}

}  // namespace
}  // namespace faceswap::pipeline
