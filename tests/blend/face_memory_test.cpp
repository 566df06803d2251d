#include "faceswap/blend/face_memory.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.h"

namespace faceswap::blend {
namespace {

// A real face (the shared photo's, 64 px as `lite` draws it) seen over a few frames with a
// little sensor noise; from frame `kCovered` on, two things cover its left cheek side by
// side: a patch of the photo's dark suit, which the model's mask finds (0 there), and beside
// it a piece of the same face (its eye and brow), which the model's mask misses (1 there),
// as it misses a hand that looks like skin.
constexpr int kSide = 64;
constexpr int kCovered = 6;
const cv::Rect kFound(8, 28, 10, 22), kMissed(18, 28, 10, 22);

struct Scene {
  cv::Mat face, suit, piece, region;
};

Scene MakeScene(const cv::Mat& photo) {
  Scene s;
  cv::resize(photo(cv::Rect(photo.cols / 2 - 200, 80, 400, 400)), s.face, cv::Size(kSide, kSide), 0, 0,
             cv::INTER_AREA);
  cv::resize(photo(cv::Rect(1150, 650, 100, 140)), s.suit, kFound.size(), 0, 0, cv::INTER_AREA);
  s.face(cv::Rect(36, 20, 10, 22)).copyTo(s.piece);
  s.region = cv::Mat::zeros(s.face.size(), CV_8UC1);
  cv::ellipse(s.region, cv::Point(32, 34), cv::Size(24, 28), 0, 0, 360, cv::Scalar(255), cv::FILLED);
  return s;
}

// Frame `i`'s crop: the face with noise, covered from kCovered on (the suit only when
// `with_suit`).
cv::Mat Crop(const Scene& s, int i, bool with_suit) {
  cv::Mat crop = s.face.clone(), noise(crop.size(), CV_16SC3);
  cv::RNG rng(static_cast<uint64_t>(i) + 1);
  rng.fill(noise, cv::RNG::UNIFORM, -2, 3);
  cv::Mat noisy;
  crop.convertTo(noisy, CV_16SC3);
  noisy += noise;
  noisy.convertTo(crop, CV_8UC3);
  if (i >= kCovered) {
    if (with_suit) s.suit.copyTo(crop(kFound));
    s.piece.copyTo(crop(kMissed));
  }
  return crop;
}

// The model's mask of frame `i`: it finds the suit, nothing else.
cv::Mat ModelMask(int i, bool with_suit) {
  cv::Mat mask = cv::Mat::ones(kSide, kSide, CV_32FC1);
  if (i >= kCovered && with_suit) mask(kFound).setTo(0.0f);
  return mask;
}

double MeanIn(const cv::Mat& mask, const cv::Rect& r) { return cv::mean(mask(r))[0]; }

// The face's region away from the two pieces and their blurred edges.
cv::Mat AwayFromPieces(const Scene& s) {
  cv::Mat rest = s.region.clone();
  rest(cv::Rect(kFound.x - 4, kFound.y - 4, kFound.width + kMissed.width + 8, kFound.height + 8)).setTo(0);
  return rest;
}

TEST(FaceMemory, AChangeJoinedToACoverTheModelFoundIsCoveredToo) {
  FACESWAP_REQUIRE_SAMPLE(file, "images/obama-1080p.jpg");
  const Scene s = MakeScene(cv::imread(file.string()));
  FaceMemory memory;
  cv::Mat mask;
  for (int i = 0; i <= kCovered; ++i) {
    mask = ModelMask(i, true);
    memory.Apply(0, i / 30.0, Crop(s, i, true), s.region, mask);
    if (i < kCovered) {
      EXPECT_EQ(cv::countNonZero(mask != 1.0f), 0) << "frame " << i << ": a still face, nothing covers it";
    }
  }
  EXPECT_LT(MeanIn(mask, kMissed), 0.3);
  EXPECT_EQ(MeanIn(mask, kFound), 0.0);
  // The rest of the face is left as the model said (away from the pieces' blurred edges).
  const cv::Mat rest = AwayFromPieces(s);
  EXPECT_EQ(cv::countNonZero((mask != 1.0f) & rest), 0);
}

// The aligned crop jumps when a cover arrives (the landmark fit leans on what it can see):
// here by 2 px right and 1 down with a slight turn. The memory is moved onto the new crop
// before the comparison, so the face's own features do not read as changed, and the piece
// beside the suit is still found.
TEST(FaceMemory, ACropThatJumpsWithTheCoverIsComparedInPlace) {
  FACESWAP_REQUIRE_SAMPLE(file, "images/obama-1080p.jpg");
  const Scene s = MakeScene(cv::imread(file.string()));
  FaceMemory memory;
  cv::Mat mask;
  for (int i = 0; i <= kCovered; ++i) {
    mask = ModelMask(i, true);
    cv::Mat crop = Crop(s, i, false);
    if (i >= kCovered) {
      cv::Matx23d jump = cv::getRotationMatrix2D_({32, 32}, 2.0, 1.0);
      jump(0, 2) += 2;
      jump(1, 2) += 1;
      cv::warpAffine(crop, crop, jump, crop.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
      s.suit.copyTo(crop(kFound));
      s.piece.copyTo(crop(kMissed));
    }
    memory.Apply(0, i / 30.0, crop, s.region, mask);
  }
  EXPECT_LT(MeanIn(mask, kMissed), 0.3);
  const cv::Mat rest = AwayFromPieces(s);
  EXPECT_LT(cv::countNonZero((mask < 0.5f) & rest), 10) << "the face's own features, moved, read as covered";
}

TEST(FaceMemory, AChangeAloneStartsNoCover) {
  FACESWAP_REQUIRE_SAMPLE(file, "images/obama-1080p.jpg");
  const Scene s = MakeScene(cv::imread(file.string()));
  FaceMemory memory;
  for (int i = 0; i <= kCovered; ++i) {
    cv::Mat mask = ModelMask(i, false);
    memory.Apply(0, i / 30.0, Crop(s, i, false), s.region, mask);
    EXPECT_EQ(cv::countNonZero(mask != 1.0f), 0) << "frame " << i;  // a blink or a smile changes a face too
  }
}

TEST(FaceMemory, AChangeThatStaysIsLearntWithinSeconds) {
  FACESWAP_REQUIRE_SAMPLE(file, "images/obama-1080p.jpg");
  const Scene s = MakeScene(cv::imread(file.string()));
  FaceMemory memory;
  std::vector<double> missed;
  for (int i = 0; i < kCovered + 150; ++i) {
    cv::Mat mask = ModelMask(i, true);
    memory.Apply(0, i / 30.0, Crop(s, i, true), s.region, mask);
    missed.push_back(MeanIn(mask, kMissed));
  }
  // Most of the piece differs from the cheek it covers (the rest is skin like it): covered
  // at first, still mostly a sixth of a second on, taken for the face after five seconds
  // (three before the picture learnt only slowly next to a cover: the piece lies beside the
  // suit, which stays covered; 0.76 after three seconds now).
  EXPECT_LT(missed[kCovered], 0.3);
  EXPECT_LT(missed[kCovered + 5], 0.6);
  EXPECT_GT(missed.back(), 0.9);
}

TEST(FaceMemory, EachTrackAndEachReturnStartsItsOwnMemory) {
  FACESWAP_REQUIRE_SAMPLE(file, "images/obama-1080p.jpg");
  const Scene s = MakeScene(cv::imread(file.string()));
  FaceMemory memory;
  for (int i = 0; i < kCovered; ++i) {
    cv::Mat mask = ModelMask(i, true);
    memory.Apply(0, i / 30.0, Crop(s, i, true), s.region, mask);
  }
  // Another track's first covered crop, and track 0's after two seconds unseen: nothing to
  // compare them with yet.
  cv::Mat other = ModelMask(kCovered, true);
  memory.Apply(1, kCovered / 30.0, Crop(s, kCovered, true), s.region, other);
  EXPECT_EQ(MeanIn(other, kMissed), 1.0);
  cv::Mat back = ModelMask(kCovered, true);
  memory.Apply(0, kCovered / 30.0 + 2.0, Crop(s, kCovered, true), s.region, back);
  EXPECT_EQ(MeanIn(back, kMissed), 1.0);
}

}  // namespace
}  // namespace faceswap::blend
