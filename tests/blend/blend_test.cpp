#include "faceswap/blend/blend.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "faceswap/blend/color.h"
#include "faceswap/blend/mask.h"
#include "faceswap/blend/multiband.h"
#include "faceswap/core/error.h"
#include "test_support.h"

namespace faceswap::blend {
namespace {

cv::Mat Ellipse(cv::Size size, int feather) {
  std::vector<cv::Point2f> points;
  for (int i = 0; i < 40; ++i) {
    const double a = 2 * CV_PI * i / 40;
    points.emplace_back(static_cast<float>(size.width / 2 + size.width * 0.3 * std::cos(a)),
                        static_cast<float>(size.height / 2 + size.height * 0.35 * std::sin(a)));
  }
  return HullMask(points, size, {0, feather});
}

// A 256 px region of a real photo (texture and light of a real face), or a skip.
cv::Mat PhotoRegion(const std::filesystem::path& file) {
  const cv::Mat photo = cv::imread(file.string());
  return photo(cv::Rect(photo.cols / 2 - 128, photo.rows / 3 - 64, 256, 256)).clone();
}

TEST(Mask, HullErodedAndFeathered) {
  const cv::Mat hard = Ellipse({200, 200}, 0);
  const cv::Mat soft = Ellipse({200, 200}, 15);
  EXPECT_FLOAT_EQ(hard.at<float>(100, 100), 1.0f);
  EXPECT_FLOAT_EQ(hard.at<float>(2, 2), 0.0f);
  // Feathering makes intermediate values along the border.
  EXPECT_GT(cv::countNonZero((soft > 0.1f) & (soft < 0.9f)), cv::countNonZero((hard > 0.1f) & (hard < 0.9f)) * 3);
  std::vector<cv::Point2f> square = {{50, 50}, {150, 50}, {150, 150}, {50, 150}};
  const double full = cv::sum(HullMask(square, {200, 200}, {0, 0}))[0];
  const double eroded = cv::sum(HullMask(square, {200, 200}, {10, 0}))[0];
  EXPECT_NEAR(eroded / full, (80.0 * 80.0) / (100.0 * 100.0), 0.05);
  EXPECT_FLOAT_EQ(CombineMasks(hard, soft).at<float>(100, 100), std::min(hard.at<float>(100, 100), soft.at<float>(100, 100)));
}

TEST(Blend, ZeroAndFullMasksGiveFrameAndFace) {
  cv::Mat face(96, 120, CV_8UC3), frame(96, 120, CV_8UC3);
  cv::randu(face, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::randu(frame, cv::Scalar::all(0), cv::Scalar::all(255));
  const cv::Mat zero = cv::Mat::zeros(frame.size(), CV_32FC1), one = cv::Mat::ones(frame.size(), CV_32FC1);
  EXPECT_EQ(cv::norm(AlphaBlend(face, frame, zero), frame, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(AlphaBlend(face, frame, one), face, cv::NORM_INF), 0.0);
  // Multi-band reconstructs each pyramid exactly up to float rounding (sizes not powers of 2).
  EXPECT_LE(cv::norm(MultiBandBlend(face, frame, zero, 4), frame, cv::NORM_INF), 1.0);
  EXPECT_LE(cv::norm(MultiBandBlend(face, frame, one, 4), face, cv::NORM_INF), 1.0);
  EXPECT_THROW(AlphaBlend(face, frame(cv::Rect(0, 0, 10, 10)), zero), UsageError);
}

// The textbook form of the multi-band blend, as this project computed it before
// blend::MultiBand: Laplacian pyramids of face and frame joined with the mask's Gaussian
// pyramid, then collapsed. The reference that MultiBand's one-pyramid form must match.
cv::Mat TwoPyramidBlend(const cv::Mat& face, const cv::Mat& frame, const cv::Mat& mask, int levels, int frame_low) {
  const int unit = 1 << levels;
  const int w = (frame.cols + unit - 1) / unit * unit, h = (frame.rows + unit - 1) / unit * unit;
  cv::Mat f, g, m;
  cv::copyMakeBorder(face, f, 0, h - face.rows, 0, w - face.cols, cv::BORDER_REFLECT);
  cv::copyMakeBorder(frame, g, 0, h - frame.rows, 0, w - frame.cols, cv::BORDER_REFLECT);
  cv::copyMakeBorder(mask, m, 0, h - mask.rows, 0, w - mask.cols, cv::BORDER_REFLECT);
  f.convertTo(f, CV_32FC3);
  g.convertTo(g, CV_32FC3);
  std::vector<cv::Mat> gf{f}, gg{g}, gm{m};
  for (int i = 0; i < levels; ++i) {
    cv::Mat a, b, c;
    cv::pyrDown(gf.back(), a);
    cv::pyrDown(gg.back(), b);
    cv::pyrDown(gm.back(), c);
    gf.push_back(a);
    gg.push_back(b);
    gm.push_back(c);
  }
  auto join = [](const cv::Mat& a, const cv::Mat& b, const cv::Mat& weight) {
    cv::Mat w3;
    cv::merge(std::vector<cv::Mat>{weight, weight, weight}, w3);
    return cv::Mat(b + w3.mul(a - b));
  };
  cv::Mat result = frame_low > 0 ? gg[levels] : join(gf[levels], gg[levels], gm[levels]);
  for (int i = levels - 1; i >= 0; --i) {
    cv::Mat up_f, up_g, up;
    cv::pyrUp(gf[i + 1], up_f, gf[i].size());
    cv::pyrUp(gg[i + 1], up_g, gg[i].size());
    const cv::Mat lap_f = gf[i] - up_f, lap_g = gg[i] - up_g;
    const bool from_frame = i >= levels - frame_low + 1;
    cv::pyrUp(result, up, gf[i].size());
    result = up + (from_frame ? lap_g : join(lap_f, lap_g, gm[i]));
  }
  cv::Mat out;
  result(cv::Rect(0, 0, frame.cols, frame.rows)).convertTo(out, CV_8UC3);
  return out;
}

TEST(Blend, MultiBandEqualsTheTwoPyramidFormOnARealPhoto) {
  FACESWAP_REQUIRE_SAMPLE(file, "images/obama-1080p.jpg");
  const cv::Mat photo = cv::imread(file.string());
  MultiBand blender;  // one blender for every size: its buffers are reused and regrown
  for (const cv::Size size : {cv::Size(256, 256), cv::Size(301, 277), cv::Size(180, 211), cv::Size(400, 390)}) {
    const cv::Mat frame = photo(cv::Rect(photo.cols / 2 - size.width / 2, photo.rows / 3 - 64, size.width, size.height)).clone();
    cv::Mat face;
    cv::GaussianBlur(frame, face, cv::Size(9, 9), 3);  // a soft generated face, brighter
    face.convertTo(face, -1, 1.1, 20);
    const cv::Mat mask = Ellipse(size, 12);
    for (const int frame_low : {0, 2}) {
      const int levels = LevelsForFaceSize(size.width);
      cv::Mat blended = frame.clone();
      blender.Blend(face, mask, levels, frame_low, blended);
      const cv::Mat reference = TwoPyramidBlend(face, frame, mask, levels, frame_low);
      // Float rounding only: a few pixels one level apart.
      EXPECT_LE(cv::norm(blended, reference, cv::NORM_INF), 1.0) << size << " frame_low " << frame_low;
      EXPECT_GT(cv::PSNR(blended, reference), 60.0) << size << " frame_low " << frame_low;
      EXPECT_GT(cv::norm(blended, frame, cv::NORM_INF), 10.0) << "the face must have gone in";
      // Face and mask as views into larger buffers (as convert's reused buffers are): what
      // lies around the views must not leak in.
      cv::Mat face_store(size.height + 40, size.width + 40, CV_8UC3, cv::Scalar::all(255));
      cv::Mat mask_store(size.height + 40, size.width + 40, CV_32FC1, cv::Scalar(1.0f));
      cv::Mat face_view = face_store(cv::Rect(0, 0, size.width, size.height)), mask_view = mask_store(cv::Rect(0, 0, size.width, size.height));
      face.copyTo(face_view);
      mask.copyTo(mask_view);
      cv::Mat from_views = frame.clone();
      blender.Blend(face_view, mask_view, levels, frame_low, from_views);
      EXPECT_EQ(cv::norm(from_views, blended, cv::NORM_INF), 0.0) << size;
    }
  }
}

TEST(Blend, LevelsGrowWithFaceSize) {
  EXPECT_EQ(LevelsForFaceSize(16), 1);
  EXPECT_LT(LevelsForFaceSize(64), LevelsForFaceSize(512));
  EXPECT_LE(LevelsForFaceSize(100000), 8);
}

TEST(Blend, MultiBandLeavesASmallerSeamThanAlphaOnARealPhoto) {
  FACESWAP_REQUIRE_SAMPLE(file, "images/obama-1080p.jpg");
  const cv::Mat frame = PhotoRegion(file);
  // The "face": the same region, brighter and warmer, as a badly lit generated face would be.
  cv::Mat face;
  frame.convertTo(face, -1, 1.1, 25);
  const cv::Mat mask = Ellipse(frame.size(), 3);
  const double alpha = SeamScore(AlphaBlend(face, frame, mask), frame, mask);
  const double multiband = SeamScore(MultiBandBlend(face, frame, mask, LevelsForFaceSize(256)), frame, mask);
  const double poisson = SeamScore(PoissonBlend(face, frame, mask), frame, mask);
  EXPECT_GT(alpha, 1.2) << "the alpha blend should show the brightness step";
  EXPECT_LT(multiband, alpha);
  EXPECT_LT(poisson, alpha);
  // Taking the two coarsest levels from the frame keeps the frame's light inside the face.
  const cv::Mat plate_lit = MultiBandBlend(face, frame, mask, 6, 2);
  const cv::Mat inside = mask > 0.9f;
  EXPECT_LT(std::abs(cv::mean(plate_lit, inside)[1] - cv::mean(frame, inside)[1]),
            std::abs(cv::mean(face, inside)[1] - cv::mean(frame, inside)[1]) / 2);
}

TEST(Color, ReinhardTransferMatchesMeanAndSpreadInsideTheMask) {
  FACESWAP_REQUIRE_SAMPLE(file, "images/obama-1080p.jpg");
  const cv::Mat reference = PhotoRegion(file);
  cv::Mat face;
  reference.convertTo(face, -1, 0.7, 40);  // lower contrast, brighter
  cv::Mat hue_shift;
  cv::add(face, cv::Scalar(30, 0, -20), face);
  const cv::Mat mask = Ellipse(reference.size(), 0);
  const cv::Mat inside = mask > 0.5f;
  auto lab_stats = [&](const cv::Mat& bgr) {
    cv::Mat lab;
    cv::cvtColor(bgr, lab, cv::COLOR_BGR2Lab);
    cv::Scalar mean, stddev;
    cv::meanStdDev(lab, mean, stddev, inside);
    return std::make_pair(mean, stddev);
  };
  const auto [ref_mean, ref_std] = lab_stats(reference);
  for (ColorMethod method : {ColorMethod::kRct, ColorMethod::kHist}) {
    cv::Mat matched = face.clone();
    TransferColor(method, matched, reference, mask);
    const auto [mean, stddev] = lab_stats(matched);
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(mean[c], ref_mean[c], 2.5) << "channel " << c;
      EXPECT_NEAR(stddev[c], ref_std[c], 0.15 * ref_std[c] + 1.0) << "channel " << c;
    }
  }
  cv::Mat untouched = face.clone();
  TransferColor(ColorMethod::kNone, untouched, reference, mask);
  EXPECT_EQ(cv::norm(untouched, face, cv::NORM_INF), 0.0);
  EXPECT_THROW(ParseColorMethod("lab"), UsageError);
}

}  // namespace
}  // namespace faceswap::blend
