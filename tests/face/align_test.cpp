// Alignment: Umeyama fit, template geometry, and the crop -> frame round trip.

#include "faceswap/face/align.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <cmath>

#include "faceswap/core/error.h"
#include "faceswap/face/detector.h"
#include "faceswap/video/reader.h"
#include "test_support.h"

namespace faceswap::test {
namespace {

TEST(Umeyama, RecoversAKnownSimilarity) {
  // Points of the template moved by a known rotation, scale and shift: the fit must give
  // that transform back (least squares is exact on noise-free data).
  const double angle = 0.3, scale = 2.5, tx = 40, ty = -12;
  std::vector<cv::Point2d> from, to;
  for (const auto& p : face::MeanFaceTemplate()) {
    from.push_back(p * 100.0);
    const cv::Point2d q = p * 100.0;
    to.emplace_back(scale * (std::cos(angle) * q.x - std::sin(angle) * q.y) + tx,
                    scale * (std::sin(angle) * q.x + std::cos(angle) * q.y) + ty);
  }
  const cv::Matx23d m = face::UmeyamaSimilarity(from, to);
  EXPECT_NEAR(m(0, 0), scale * std::cos(angle), 1e-9);
  EXPECT_NEAR(m(1, 0), scale * std::sin(angle), 1e-9);
  EXPECT_NEAR(m(0, 1), -scale * std::sin(angle), 1e-9);
  EXPECT_NEAR(m(0, 2), tx, 1e-7);
  EXPECT_NEAR(m(1, 2), ty, 1e-7);
}

TEST(Umeyama, IsLeastSquaresUnderNoise) {
  // With noise, the fitted transform's residual is no larger than that of the true one.
  cv::RNG rng(7);
  std::vector<cv::Point2d> from, to;
  const cv::Matx23d truth(1.5, -0.2, 10, 0.2, 1.5, 5);
  for (const auto& p : face::MeanFaceTemplate()) {
    const cv::Point2d q = p * 200.0;
    from.push_back(q);
    to.emplace_back(truth(0, 0) * q.x + truth(0, 1) * q.y + truth(0, 2) + rng.gaussian(2.0),
                    truth(1, 0) * q.x + truth(1, 1) * q.y + truth(1, 2) + rng.gaussian(2.0));
  }
  auto residual = [&](const cv::Matx23d& m) {
    double sum = 0;
    for (size_t i = 0; i < from.size(); ++i) {
      const cv::Point2d r(m(0, 0) * from[i].x + m(0, 1) * from[i].y + m(0, 2) - to[i].x,
                          m(1, 0) * from[i].x + m(1, 1) * from[i].y + m(1, 2) - to[i].y);
      sum += r.dot(r);
    }
    return sum;
  };
  const cv::Matx23d fit = face::UmeyamaSimilarity(from, to);
  EXPECT_LE(residual(fit), residual(truth));
  EXPECT_NEAR(fit(0, 0), fit(1, 1), 1e-12);  // a similarity: no shear
  EXPECT_NEAR(fit(0, 1), -fit(1, 0), 1e-12);
}

TEST(Align, TemplateEyesAreLevelAndCentred) {
  face::AlignOptions options;
  const cv::Point2d r = face::TemplateRightEyeInCrop(options), l = face::TemplateLeftEyeInCrop(options);
  EXPECT_NEAR(r.y, l.y, 1e-9);
  EXPECT_NEAR((r.x + l.x) / 2, options.size * 0.4901, 1.0);
  // More coverage shows more around the face: the eyes come closer together.
  face::AlignOptions wide = options;
  wide.coverage = 2.0;
  EXPECT_LT(face::TemplateLeftEyeInCrop(wide).x - face::TemplateRightEyeInCrop(wide).x, l.x - r.x);
}

TEST(Align, OptionsCheck) {
  face::AlignOptions options;
  options.size = 4;
  EXPECT_THROW(options.Check(), UsageError);
  options = {};
  options.coverage = 0.1;
  EXPECT_THROW(options.Check(), UsageError);
}

// PSNR over the pixels where `mask` is set, all channels.
double PsnrInside(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask) {
  cv::Mat da, db;
  a.convertTo(da, CV_64F);
  b.convertTo(db, CV_64F);
  cv::Mat sq = (da - db).mul(da - db);
  const cv::Scalar per_channel = cv::mean(sq, mask);
  double mse = 0;
  for (int c = 0; c < a.channels(); ++c) mse += per_channel[c];
  mse /= a.channels();
  return 10.0 * std::log10(255.0 * 255.0 / std::max(mse, 1e-12));
}

class AlignOnImage : public ::testing::TestWithParam<const char*> {};

TEST_P(AlignOnImage, RoundTripPsnrInsideFaceAtLeast30dB) {
  FACESWAP_REQUIRE_SAMPLE(path, GetParam());
  video::Reader reader(path);
  video::Frame frame;
  ASSERT_TRUE(reader.Next(frame));
  static face::Detector detector{face::DetectorOptions{}};  // the model loads once (~1.5 s)
  const auto faces = detector.Detect(frame.bgr);
  ASSERT_FALSE(faces.empty());
  face::AlignOptions options;  // default size and coverage, as extract writes them
  const face::AlignedFace aligned = face::Align(frame.bgr, faces[0].points, options);
  ASSERT_EQ(aligned.crop.size(), cv::Size(options.size, options.size));

  // The crop's landmarks sit where the transform says, and the eyes near the template's.
  EXPECT_LT(cv::norm(cv::Point2d(face::RightEyeCentre(aligned.crop_points)) - face::TemplateRightEyeInCrop(options)),
            0.03 * options.size);
  EXPECT_LT(cv::norm(cv::Point2d(face::LeftEyeCentre(aligned.crop_points)) - face::TemplateLeftEyeInCrop(options)),
            0.03 * options.size);

  cv::Mat pasted, mask;
  face::WarpToFrame(aligned.crop, cv::Mat(), aligned.to_frame, frame.bgr.size(), pasted, mask);
  ASSERT_EQ(pasted.size(), frame.bgr.size());
  // The face region: the convex hull of the 68 landmarks.
  std::vector<cv::Point> hull_points;
  for (const auto& p : faces[0].points) hull_points.emplace_back(cvRound(p.x), cvRound(p.y));
  std::vector<cv::Point> hull;
  cv::convexHull(hull_points, hull);
  cv::Mat region(frame.bgr.size(), CV_8U, cv::Scalar(0));
  cv::fillConvexPoly(region, hull, cv::Scalar(255));
  // Where the crop has data at all (mask 1): the whole hull for a face inside the frame.
  cv::Mat covered = mask > 0.999f;
  cv::bitwise_and(region, covered, region);
  ASSERT_GT(cv::countNonZero(region), 1000);
  const double psnr = PsnrInside(pasted, frame.bgr, region);
  RecordProperty("psnr_db", std::to_string(psnr));
  std::printf("round-trip PSNR inside the face (%s): %.2f dB\n", GetParam(), psnr);
  EXPECT_GE(psnr, 30.0);
}

TEST_P(AlignOnImage, ResizedCropKeepsItsTransformAndPoints) {
  // A 256 px crop brought to 64 px (how convert judges a 64 px network's mask under a face
  // drawn at 256): the new transform maps the frame's landmarks onto the new points, its
  // inverse goes back, and warping the frame with it draws the resized crop.
  FACESWAP_REQUIRE_SAMPLE(path, GetParam());
  video::Reader reader(path);
  video::Frame frame;
  ASSERT_TRUE(reader.Next(frame));
  static face::Detector detector{face::DetectorOptions{}};
  const auto faces = detector.Detect(frame.bgr);
  ASSERT_FALSE(faces.empty());
  const face::AlignedFace aligned = face::Align(frame.bgr, faces[0].points, face::AlignOptions{});
  face::AlignedFace small;
  face::ResizeAligned(aligned, 64, small);
  ASSERT_EQ(small.crop.size(), cv::Size(64, 64));
  for (size_t i = 0; i < faces[0].points.size(); ++i) {
    const cv::Point2f p = face::ApplyTransform(small.to_crop, faces[0].points[i]);
    EXPECT_NEAR(p.x, small.crop_points[i].x, 1e-3);
    EXPECT_NEAR(p.y, small.crop_points[i].y, 1e-3);
    const cv::Point2f back = face::ApplyTransform(small.to_frame, small.crop_points[i]);
    EXPECT_NEAR(back.x, faces[0].points[i].x, 1e-2);
    EXPECT_NEAR(back.y, faces[0].points[i].y, 1e-2);
  }
  // Pixel (u, v) of the 64 px crop is the average of 256 px pixels 4u..4u+3 (cv::resize's
  // area average), centred at 4u + 1.5: the new transform puts it in the frame there.
  for (const cv::Point2f uv : {cv::Point2f(0, 0), cv::Point2f(31, 17), cv::Point2f(63, 63)}) {
    const cv::Point2f in_frame = face::ApplyTransform(small.to_frame, uv);
    const cv::Point2f expected = face::ApplyTransform(aligned.to_frame, uv * 4.0f + cv::Point2f(1.5f, 1.5f));
    EXPECT_NEAR(in_frame.x, expected.x, 1e-3);
    EXPECT_NEAR(in_frame.y, expected.y, 1e-3);
  }
  cv::Mat area;
  cv::resize(aligned.crop, area, {64, 64}, 0, 0, cv::INTER_AREA);
  EXPECT_EQ(cv::norm(area, small.crop, cv::NORM_INF), 0.0);
}

INSTANTIATE_TEST_SUITE_P(Images, AlignOnImage,
                         ::testing::Values("images/lin-manuel-miranda.png", "images/two_people.jpg",
                                           "images/obama-1080p.jpg"));

}  // namespace
}  // namespace faceswap::test
